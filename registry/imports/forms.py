"""The import pages' forms: the upload, the column mapping and the import itself."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import DataRequired, Length

from registry.exports.xlsx import column_letters
from registry.imports.fields import Target
from registry.localized import interface_language
from registry.security.hygiene import CleanInputMixin
from registry.submissions.validation import strip_filter


class UploadForm(CleanInputMixin, FlaskForm):
    file = FileField(_l("Bestand (CSV of Excel)"),
                     validators=[FileRequired(message=_l("Kies het bestand met de lijst."))])
    obstacles_file = FileField(_l("Knelpuntenbestand"))
    source = StringField(
        _l("Bron van de lijst"), filters=[strip_filter],
        validators=[DataRequired(message=_l(
            "Vul de bron van de lijst in, bijvoorbeeld de naam van het netwerk of de regio.")),
            Length(max=100, message=_l("Gebruik maximaal %(max)d tekens."))])


class ImportForm(FlaskForm):
    include_duplicates = BooleanField(_l(
        "Ook de rijen importeren die mogelijk dubbel zijn (de moderatoren zien ze dan als "
        "'mogelijk dubbel' in de wachtrij)"))


class ActionForm(FlaskForm):
    """A button (discard, start again): only the CSRF token."""


def column_names(headers: list[str]) -> list[tuple[str, str]]:
    """(letter, name) per column: "C", "Plaats" (the letter as the spreadsheet shows it)."""
    return [(column_letters(i), header) for i, header in enumerate(headers)]


def mapping_form(targets: list[Target], headers: list[str], chosen: dict[str, str],
                 formdata: Any = None) -> FlaskForm:
    """One select per target field: a column of the file (by its position) or none. An
    option shows the column's letter and its name in the file, which is the list's own
    (Dutch) text: marked ``lang="nl"`` in the English interface."""
    dutch = {"lang": "nl"} if interface_language() != "nl" else {}
    choices = [SelectChoice("", _l("Niet inlezen"))] + [
        SelectChoice(str(i), f"{letter}: {name}" if name else letter,
                     render_kw=dict(dutch) if name else None)
        for i, (letter, name) in enumerate(column_names(headers))]

    class MappingForm(FlaskForm):
        pass

    for target in targets:
        setattr(MappingForm, target.key, SelectField(
            target.label, choices=choices, default=_position(headers, chosen.get(target.key))))
    return MappingForm(formdata=formdata) if formdata is not None else MappingForm()


def _position(headers: list[str], header: str | None) -> str:
    if header is None:
        return ""
    wanted = header.strip().casefold()
    for i, name in enumerate(headers):
        if name.strip().casefold() == wanted:
            return str(i)
    return ""


def mapping_from(form: FlaskForm, targets: list[Target], headers: list[str]) -> dict[str, str]:
    """{target key: header} of the chosen columns."""
    out = {}
    for target in targets:
        value = form[target.key].data
        if value and value.isdigit() and int(value) < len(headers):
            out[target.key] = headers[int(value)]
    return out
