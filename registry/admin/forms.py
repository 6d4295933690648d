"""Administrator forms: inviting staff."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import DataRequired, Email, Length, Optional

from registry.submissions.validation import strip_filter

ROLE_LABELS = {
    "advisor": _l("Beleidsadviseur (alleen lezen: statistiek en exports, geen persoonsgegevens)"),
    "moderator": _l("Moderator (beoordelen, bewerken, samenvoegen, thema's)"),
    "admin": _l("Beheerder (ook accounts en auditlog)"),
}


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), filters=[strip_filter], validators=[
        DataRequired(message=_l("Vul het e-mailadres in.")),
        Length(max=254, message=_l("Gebruik maximaal %(max)d tekens.")),
        Email(message=_l("Vul een geldig e-mailadres in."), check_deliverability=False),
    ])
    name = StringField(_l("Naam"), filters=[strip_filter], validators=[
        Optional(), Length(max=200, message=_l("Gebruik maximaal %(max)d tekens."))])
    role = SelectField(_l("Rol"), default="moderator",
                       choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()])
