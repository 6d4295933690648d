"""Forms of the geo domain: coordinates typed or set by the map, and the moderator's fix."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import Length, Optional, ValidationError

from registry.geo.directory import directory
from registry.taxonomy import constants


def parse_coordinate(value: str | None) -> float | None:
    """A decimal degree, with a dot or a Dutch decimal comma; None when empty or invalid."""
    if value is None:
        return None
    text = str(value).strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or abs(number) > 180:  # NaN or nonsense
        return None
    return number


def validate_point(latitude: str | None, longitude: str | None) -> tuple[float, float] | None:
    """Both empty -> None; both valid and inside the Netherlands -> (lat, lon); else ValueError."""
    if not (latitude or "").strip() and not (longitude or "").strip():
        return None
    lat, lon = parse_coordinate(latitude), parse_coordinate(longitude)
    if lat is None or lon is None:
        raise ValueError("invalid")
    if not directory().in_netherlands(lat, lon):
        raise ValueError("outside")
    return lat, lon


class LocationForm(FlaskForm):
    """The moderator's location page: move the pin (map or typed) and fix the province."""

    latitude = StringField(_l("Breedtegraad"), validators=[Optional(), Length(max=20)])
    longitude = StringField(_l("Lengtegraad"), validators=[Optional(), Length(max=20)])
    province = SelectField(
        _l("Provincie"),
        choices=[SelectChoice("", _l("Volgens de kaartgrenzen"))]
        + [SelectChoice(p, p) for p in constants.PROVINCES],
        validators=[Optional()],
    )
    reason = StringField(_l("Reden van de wijziging"), validators=[Optional(), Length(max=500)])

    def validate_latitude(self, field):
        try:
            point = validate_point(field.data, self.longitude.data)
        except ValueError as exc:
            if str(exc) == "outside":
                raise ValidationError(_l("Deze plek ligt niet in Nederland.")) from None
            raise ValidationError(_l(
                "Vul breedte- en lengtegraad in als decimale getallen, bijvoorbeeld 52,09 en 5,12."
            )) from None
        if point is None:
            raise ValidationError(_l("Zet de speld op de kaart of vul breedte- en lengtegraad in."))
        self.point = point


class LinkSchoolForm(FlaskForm):
    """The moderator's choice of a DUO school for an entry (``registry.geo.linking``).

    ``code`` holds a vestigingscode (or an mbo institution's BRIN) from the results list; it
    is checked against the directory, so no list of choices is needed."""

    code = StringField(_l("School uit het scholenregister"), validators=[Length(max=6)])
    keep_name = BooleanField(_l("Naam behouden zoals de school die opgaf"))
    keep_pin = BooleanField(_l("Met de hand gezette speld behouden"))
    reason = StringField(_l("Toelichting"), validators=[Optional(), Length(max=500)])
    version_id = HiddenField()
    q = HiddenField()

    def validate_code(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Kies een school uit de lijst."))
        if directory().school_by_vestigingscode(field.data) is None:
            raise ValidationError(_l("Deze school staat niet (meer) in het scholenregister. "
                                     "Zoek opnieuw en kies een school uit de lijst."))
