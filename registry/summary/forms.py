"""Creating a citable snapshot."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length


class SnapshotForm(FlaskForm):
    note = TextAreaField(
        _l("Toelichting"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Length(max=1000, message=_l("Gebruik hooguit 1000 tekens."))],
    )
