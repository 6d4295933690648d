"""Small forms of the manage pages (the edit form is submissions.forms.EditInitiativeForm)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from registry.security.antispam import AntiSpamMixin
from registry.submissions.validation import strip_filter


class RequestLinkForm(AntiSpamMixin, FlaskForm):
    email = EmailField(
        _l("E-mailadres"), filters=[strip_filter],
        validators=[
            DataRequired(message=_l("Vul uw e-mailadres in.")),
            Length(max=254, message=_l("Gebruik maximaal %(max)d tekens.")),
            Email(message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
                  check_deliverability=False),
        ],
    )


class OpenManageForm(FlaskForm):
    """The code of a manage link (the part after ``#``), posted by the page's script or
    pasted by the contact; the whole link is accepted too (``tokens.code_from``)."""

    code = StringField(
        _l("Code uit de link"), filters=[strip_filter],
        validators=[
            DataRequired(message=_l("Plak de code uit de link in uw e-mail.")),
            Length(max=2000, message=_l("Gebruik maximaal %(max)d tekens.")),
        ],
    )


class ResendConfirmationForm(FlaskForm):
    token = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something (confirm, mark solved): only the CSRF token."""


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom trekt u de aanmelding in?"), filters=[strip_filter],
        validators=[Optional(), Length(max=2000, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    confirm = BooleanField(
        _l("Ja, trek mijn aanmelding in. Het initiatief verdwijnt direct uit het register."),
        validators=[DataRequired(message=_l("Vink aan dat u de aanmelding wilt intrekken."))],
    )


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("Ja, wis mijn contactgegevens. Ik begrijp dat dit niet ongedaan kan worden gemaakt."),
        validators=[DataRequired(message=_l("Vink aan dat u uw gegevens wilt laten wissen."))],
    )
