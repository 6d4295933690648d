"""Login and password forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from registry.auth.passwords import MAX_LENGTH, password_problems
from registry.submissions.validation import strip_filter


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), filters=[strip_filter],
                       validators=[DataRequired(message=_l("Vul uw e-mailadres in.")),
                                   Length(max=254)])
    password = PasswordField(_l("Wachtwoord"),
                             validators=[DataRequired(message=_l("Vul uw wachtwoord in.")),
                                         Length(max=MAX_LENGTH)])
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField(_l("Code uit uw authenticator-app"), filters=[strip_filter],
                       validators=[DataRequired(message=_l("Vul de code van 6 cijfers in.")),
                                   Length(max=10)])


class _NewPasswordMixin:
    email_for_check = ""

    def validate_password(self, field):
        problems = password_problems(field.data or "", email=self.email_for_check)
        if problems:
            raise ValidationError(" ".join(problems))


class SetPasswordForm(_NewPasswordMixin, FlaskForm):
    password = PasswordField(_l("Nieuw wachtwoord"),
                             validators=[DataRequired(message=_l("Kies een wachtwoord."))])
    confirm = PasswordField(_l("Herhaal het nieuwe wachtwoord"), validators=[
        DataRequired(message=_l("Herhaal het wachtwoord.")),
        EqualTo("password", message=_l("De wachtwoorden zijn niet gelijk.")),
    ])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Huidig wachtwoord"),
                            validators=[DataRequired(message=_l("Vul uw huidige wachtwoord in."))])
