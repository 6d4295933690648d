"""The moderator's request to export contact details (needs a stated purpose)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import DataRequired, Length


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ContactExportForm(FlaskForm):
    purpose = TextAreaField(
        _l("Doel van deze export"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Beschrijf waarvoor u de contactgegevens nodig heeft.")),
            Length(min=10, max=1000,
                   message=_l("Beschrijf het doel in 10 tot 1000 tekens.")),
        ],
    )
    format = RadioField(
        _l("Bestandsformaat"),
        choices=[SelectChoice("xlsx", _l("Excel (XLSX)")),
                 SelectChoice("csv", _l("CSV (puntkomma, voor Excel)"))],
        default="xlsx",
        validators=[DataRequired(message=_l("Kies een bestandsformaat."))],
    )
