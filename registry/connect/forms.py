"""Forms of the connect pages: a message to another school, a reply, a digest subscription."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from registry.security.antispam import AntiSpamMixin
from registry.security.hygiene import CleanInputMixin
from registry.submissions.validation import strip_filter

STRIP = [strip_filter]
EMAIL_VALIDATORS = [
    DataRequired(message=_l("Vul uw e-mailadres in.")),
    Length(max=254, message=_l("Gebruik maximaal %(max)d tekens.")),
    Email(message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
          check_deliverability=False),
]


class MessageForm(AntiSpamMixin, FlaskForm):
    """A visitor's message, relayed by mail to the contact of an initiative."""

    name = StringField(_l("Uw naam"), filters=STRIP, validators=[
        DataRequired(message=_l("Vul uw naam in.")),
        Length(max=200, message=_l("Gebruik maximaal %(max)d tekens.")),
    ])
    school = StringField(_l("Uw school of organisatie"), filters=STRIP, validators=[
        Optional(), Length(max=200, message=_l("Gebruik maximaal %(max)d tekens.")),
    ])
    email = EmailField(_l("Uw e-mailadres"), filters=STRIP, validators=EMAIL_VALIDATORS)
    message = TextAreaField(_l("Uw bericht"), filters=STRIP, validators=[
        DataRequired(message=_l("Schrijf uw bericht.")),
        Length(min=20, max=3000,
               message=_l("Schrijf een bericht van %(min)d tot %(max)d tekens.")),
    ])
    consent = BooleanField(
        _l("Ik begrijp dat mijn naam, school en bericht worden doorgestuurd naar de "
           "contactpersoon van dit initiatief, en mijn e-mailadres pas als die antwoordt."),
        validators=[DataRequired(message=_l(
            "Geef toestemming om uw bericht door te sturen; anders kunnen we het niet "
            "versturen."))],
    )


class ReplyForm(CleanInputMixin, FlaskForm):
    message = TextAreaField(_l("Uw antwoord"), filters=STRIP, validators=[
        DataRequired(message=_l("Schrijf uw antwoord.")),
        Length(max=5000, message=_l("Gebruik maximaal %(max)d tekens.")),
    ])


class ConfirmForm(FlaskForm):
    """Only a CSRF token: a button that confirms an action from a link in a mail."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubscribeForm(AntiSpamMixin, FlaskForm):
    email = EmailField(_l("Uw e-mailadres"), filters=STRIP, validators=EMAIL_VALIDATORS)
    themes = MultiCheckboxField(_l("Thema's (knelpunten)"), coerce=int, validate_choice=True)
    areas = MultiCheckboxField(_l("Gebieden"), validate_choice=True)

    def validate_areas(self, field):
        if not (self.themes.data or field.data):
            raise ValidationError(_l("Kies ten minste één thema of gebied."))
