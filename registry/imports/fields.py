"""What a column of an imported list can hold, and a row as the submission form's data.

The targets are the fields of the public submission form (school, initiative, the levels of
each dimension, one obstacle, the contact), labelled as the form labels them. The
registry's own exports (``/export/initiatieven.*`` with ``knelpunten``) are recognised by
their column names and need no mapping; any other file is mapped column by column, with
suggestions from the similarity of its headers to the targets' names (rapidfuzz) or the
mapping saved for its source.

Values are passed to the form as typed, with three conveniences a person filling in the
form would not need: a choice may be given by its label as well as its code ("Voortgezet
onderwijs" for ``vo``, "3 - blokkeert een deel" for ``3``), an empty dimension level is the
form's default (0), and a number may carry thousands separators ("1.200").
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from rapidfuzz import fuzz
from werkzeug.datastructures import MultiDict

from registry.history.labels import form_label
from registry.imports.reader import FormulaText, formula_like
from registry.submissions.forms import ContactForm, DimensionForm, InitiativeForm, ObstacleForm
from registry.taxonomy import constants
from registry.taxonomy.services import Taxonomy

SCHOOL, INITIATIVE, DIMENSIONS, OBSTACLE, CONTACT = (
    "school", "initiative", "dimensions", "obstacle", "contact")
GROUP_LABELS = {
    SCHOOL: _l("School"), INITIATIVE: _l("Initiatief"),
    DIMENSIONS: _l("Dimensies van personalisering"), OBSTACLE: _l("Knelpunt"),
    CONTACT: _l("Contactpersoon"),
}
# What the form requires of every row (the city only without an institution code, a
# contact's address only with a contact, one dimension above 0 of the sixteen levels)
REQUIRED_TARGETS = frozenset({"school_name", "sector", "postcode", "title", "summary", "phase",
                              "obstacle_area", "obstacle_title", "obstacle_description",
                              "obstacle_severity"})
# How a value is read: text as it is; a choice by code or label; a number; a level 0-3.
TEXT, SECTOR, PHASE, AREA, SEVERITY, STATUS, LEVEL, NUMBER = (
    "text", "sectors", "phases", "areas", "severity", "status", "level", "number")

# Form field name -> (kind, extra names a column may have, the registry's export column)
_SCHOOL = [
    ("school_name", TEXT, ("school", "schoolnaam", "naam school", "instelling"), "school_naam"),
    ("brin", TEXT, ("brin", "brin code", "instellingscode"), "brin"),
    ("location_number", TEXT, ("vestiging", "vestigingsnummer"), "vestiging"),
    ("sector", SECTOR, ("sector", "onderwijssector"), "sector"),
    ("levels", TEXT, ("niveaus", "niveau", "opleidingen"), "niveaus"),
    ("qualification_codes", TEXT, ("crebo", "crebo codes"), None),
    ("street", TEXT, ("straat", "adres", "straat en huisnummer"), None),
    ("postcode", TEXT, ("postcode",), "postcode"),
    ("city", TEXT, ("plaats", "woonplaats", "vestigingsplaats"), "plaats"),
    ("website", TEXT, ("website", "url", "site"), "website"),
]
_INITIATIVE = [
    ("title", TEXT, ("titel", "naam initiatief", "initiatief"), "titel"),
    ("summary", TEXT, ("samenvatting", "korte beschrijving"), "samenvatting"),
    ("description", TEXT, ("beschrijving", "omschrijving", "toelichting"), "beschrijving"),
    ("start_year", NUMBER, ("startjaar", "sinds", "gestart in"), "startjaar"),
    ("phase", PHASE, ("fase", "stadium"), "fase"),
    ("learners_count", NUMBER, ("aantal lerenden", "leerlingen", "studenten"),
     "aantal_lerenden"),
    ("staff_count", NUMBER, ("aantal medewerkers", "medewerkers", "docenten"),
     "aantal_medewerkers"),
    ("ict", TEXT, ("ict", "systemen"), "ict"),
]
_OBSTACLE = [
    ("area", AREA, ("gebied", "knelpunt gebied"), "gebied"),
    ("title", TEXT, ("knelpunt", "titel knelpunt"), "titel"),
    ("description", TEXT, ("beschrijving knelpunt", "knelpunt beschrijving"), "beschrijving"),
    ("rule", TEXT, ("regel", "regelgeving", "wet"), "regel"),
    ("severity", SEVERITY, ("ernst",), "ernst"),
    ("status", STATUS, ("status", "status knelpunt"), "status"),
    ("workaround", TEXT, ("workaround", "omzeiling"), "workaround"),
    ("policy_ask", TEXT, ("vraag aan beleid", "vraag"), "vraag_aan_beleid"),
]
_CONTACT = [
    ("name", TEXT, ("contactpersoon", "naam contactpersoon", "contact naam"), None),
    ("role", TEXT, ("functie", "rol", "functie contactpersoon"), None),
    ("email", TEXT, ("email", "e mail", "e mailadres", "mail", "contact email"), None),
    ("phone", TEXT, ("telefoon", "telefoonnummer", "tel"), None),
]


@dataclass(frozen=True)
class Target:
    """A field a column can be mapped to."""

    key: str  # stable name in a saved mapping, e.g. "school_name", "obstacle_title"
    group: str
    form_name: str  # the field's name in the form data, e.g. "obstacles-0-title"
    kind: str
    label: Any
    names: tuple[str, ...]  # names a column for it may have (for suggestions)
    export_column: str | None = None

    @property
    def group_label(self) -> Any:
        return GROUP_LABELS[self.group]


def targets(tax: Taxonomy) -> list[Target]:
    """Every field a column can be mapped to, in the order of the form."""
    out = []
    for group, fields in ((SCHOOL, _SCHOOL), (INITIATIVE, _INITIATIVE)):
        for name, kind, names, column in fields:
            out.append(Target(name, group, name, kind, form_label(InitiativeForm, name),
                              (name, *names), column))
    for term in tax.dimensions:
        for suffix, form_field, column_suffix in (("now", "current_level", "nu"),
                                                  ("ambition", "ambition_level", "ambitie")):
            label = _DimensionLabel(term.code, form_label(DimensionForm, form_field), tax)
            out.append(Target(f"dim_{term.code}_{suffix}", DIMENSIONS, f"{term.code}:{form_field}",
                              LEVEL, label,
                              (f"{term.label_nl} {column_suffix}", f"{term.code} {column_suffix}"),
                              f"dimensie_{term.code}_{column_suffix}"))
    for name, kind, names, column in _OBSTACLE:
        out.append(Target(f"obstacle_{name}", OBSTACLE, f"obstacles-0-{name}", kind,
                          form_label(ObstacleForm, name), names, column))
    for name, kind, names, column in _CONTACT:
        out.append(Target(f"contact_{name}", CONTACT, f"contact-{name}", kind,
                          form_label(ContactForm, name), (f"contact_{name}", *names), column))
    return out


class _DimensionLabel:
    """"Leerdoelen (wat): Nu", in the interface language when shown."""

    def __init__(self, code: str, level_label: Any, tax: Taxonomy) -> None:
        self.code, self.level_label, self.tax = code, level_label, tax

    def __str__(self) -> str:
        return f"{self.tax.label('dimensions', self.code)}: {self.level_label}"

    def __html__(self) -> str:
        return str(escape(str(self)))


# --------------------------------------------------------------------------- the own exports

def export_layout(headers: Iterable[str], tax: Taxonomy) -> str | None:
    """"initiatieven" or "knelpunten" when ``headers`` are those of the registry's own
    export of that dataset, else None."""
    names = {h.strip().casefold() for h in headers}
    initiative_columns = {t.export_column for t in targets(tax)
                          if t.group in (SCHOOL, INITIATIVE, DIMENSIONS) and t.export_column}
    if {"initiatief_id", "referentie"} <= names and initiative_columns <= names:
        return "initiatieven"
    obstacle_columns = {t.export_column for t in targets(tax) if t.group == OBSTACLE}
    if {"knelpunt_id", "initiatief_id"} <= names and obstacle_columns <= names:
        return "knelpunten"
    return None


def export_mapping(tax: Taxonomy) -> dict[str, str]:
    """{target key: column} of the initiatives export (obstacles come from ``knelpunten``)."""
    return {t.key: t.export_column for t in targets(tax)
            if t.group in (SCHOOL, INITIATIVE, DIMENSIONS) and t.export_column}


def export_obstacle_columns(tax: Taxonomy) -> dict[str, str]:
    """{obstacle form field: column} of the obstacles export."""
    return {t.form_name.rsplit("-", 1)[1]: t.export_column for t in targets(tax)
            if t.group == OBSTACLE and t.export_column}


# --------------------------------------------------------------------------- suggestions

def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


SUGGEST_THRESHOLD = 80


def suggest_mapping(headers: list[str], tax: Taxonomy,
                    saved: Mapping[str, str] | None = None) -> dict[str, str]:
    """{target key: header}: the saved mapping of the source where its columns still exist,
    then the most similar header per target (rapidfuzz, at least SUGGEST_THRESHOLD), each
    header used once, the best pairs first."""
    available = [h for h in headers if h.strip()]
    mapping = {key: column for key, column in (saved or {}).items() if column in available}
    used = set(mapping.values())
    scored = []
    for target in targets(tax):
        if target.key in mapping:
            continue
        names = {_normal(n) for n in (*target.names, str(target.label), target.key)}
        for header in available:
            if header in used:
                continue
            normal = _normal(header)
            score = max(fuzz.ratio(normal, n) for n in names if n)
            if score >= SUGGEST_THRESHOLD:
                scored.append((score, target.key, header))
    for _score, key, header in sorted(scored, key=lambda s: -s[0]):
        if key not in mapping and header not in used:
            mapping[key] = header
            used.add(header)
    return mapping


# --------------------------------------------------------------------------- values

_LEADING_DIGIT = re.compile(r"^\s*([0-9])(?:\s|$|[-–.:)])")
_THOUSANDS = re.compile(r"^\d{1,3}(?:[. ]\d{3})+$")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


class Choices:
    """Codes by their labels (Dutch and English, case-insensitive), per kind."""

    def __init__(self, tax: Taxonomy) -> None:
        self.by_kind: dict[str, dict[str, str]] = {}
        for kind in (SECTOR, PHASE, AREA):
            table: dict[str, str] = {}
            for term in getattr(tax, kind):
                for text in (term.code, term.label_nl, term.label_en, term.short_nl,
                             term.short_en):
                    if text:  # "Voortgezet onderwijs (vo)" and "Voortgezet onderwijs"
                        table.setdefault(text.casefold().strip(), term.code)
                        table.setdefault(_PARENTHESES.sub("", text).casefold().strip(),
                                         term.code)
            self.by_kind[kind] = table
        statuses: dict[str, str] = {}
        for language in ("nl", "en"):
            with force_locale(language):
                for code, label in constants.OBSTACLE_STATUSES.items():
                    statuses.setdefault(str(label).casefold(), code)
                    statuses.setdefault(code, code)
        self.by_kind[STATUS] = statuses

    def value(self, kind: str, text: str) -> str:
        text = text.strip()
        if not text:
            return text
        if kind in self.by_kind:
            return self.by_kind[kind].get(text.casefold(), text)
        if kind in (SEVERITY, LEVEL):
            match = _LEADING_DIGIT.match(text)
            return match.group(1) if match else text
        if kind == NUMBER and _THOUSANDS.match(text):
            return re.sub(r"[. ]", "", text)
        return text


# --------------------------------------------------------------------------- rows

@dataclass
class Row:
    """One row of a file, ready for the form."""

    number: int
    formdata: MultiDict
    obstacles: int
    has_contact: bool
    identity: list[str]
    problems: list[tuple[Any, Any]] = field(default_factory=list)  # (label, message)
    title: str = ""
    school: str = ""
    dropped_name: bool = False  # a contact name without an e-mail address (not stored)


FORMULA_MESSAGE = _l(
    "Deze cel bevat een formule of begint als een formule (%(start)s). Het register leest "
    "geen formules: zet de waarde zelf in de cel, of zet er een apostrof (') voor als het "
    "tekst is.")
# The registry's exports (and a spreadsheet's text mark) put an apostrophe before these
_NEUTRALISED = re.compile(r"^'[=+\-@\t\r]")


class RowBuilder:
    """Turns the cells of a row into the submission form's data, by a mapping."""

    def __init__(self, tax: Taxonomy, headers: list[str], mapping: Mapping[str, str],
                 *, identity_column: str | None = None, typed: bool = False) -> None:
        self.tax = tax
        self.typed = typed
        self.choices = Choices(tax)
        self.targets = targets(tax)
        position: dict[str, int] = {}
        for index, header in enumerate(headers):
            position.setdefault(_column(header), index)
        self.columns = [(t, position[_column(mapping[t.key])]) for t in self.targets
                        if _column(mapping.get(t.key) or "") in position]
        self.dimension_codes = tax.codes("dimensions")
        self.identity_index = (position.get(_column(identity_column)) if identity_column
                               else None)
        self.obstacle_targets = {t.form_name.rsplit("-", 1)[1]: t for t in self.targets
                                 if t.group == OBSTACLE}

    def build(self, number: int, cells: list[str],
              obstacles: list[dict[str, str]] | None = None) -> Row:
        """The row's form data; ``obstacles`` (the registry's own exports) replace the one
        obstacle a mapped row can hold."""
        values: dict[Target, str] = {}
        problems: list[tuple[Any, Any]] = []
        for target, index in self.columns:
            text, formula = self.cell(cells[index] if index < len(cells) else "")
            if formula:
                problems.append((target.label, FORMULA_MESSAGE % {"start": text[:1]}))
            values[target] = self.choices.value(target.kind, text)
        data: MultiDict = MultiDict()
        levels: dict[str, str] = {}
        own_obstacle: dict[str, str] = {}
        contact: dict[str, str] = {}
        for target, value in values.items():
            if target.group in (SCHOOL, INITIATIVE):
                data[target.form_name] = value
            elif target.group == DIMENSIONS:
                levels[target.form_name] = value
            elif target.group == OBSTACLE:
                own_obstacle[target.form_name.rsplit("-", 1)[1]] = value
            else:
                contact[target.form_name] = value
        for i, code in enumerate(self.dimension_codes):
            data[f"dimensions-{i}-code"] = code
            for form_field in ("current_level", "ambition_level"):
                data[f"dimensions-{i}-{form_field}"] = levels.get(f"{code}:{form_field}") or "0"
        rows = obstacles if obstacles is not None else (
            [own_obstacle] if any(v.strip() for v in own_obstacle.values()) else [])
        for i, item in enumerate(rows):
            for name, value in item.items():
                column = self.obstacle_targets.get(name)
                if column is not None and obstacles is not None:
                    value, formula = self.cell(value)
                    if formula:
                        problems.append((_obstacle_label(i, column.label),
                                         FORMULA_MESSAGE % {"start": value[:1]}))
                    value = self.choices.value(column.kind, value)
                data[f"obstacles-{i}-{name}"] = value
            data[f"obstacles-{i}-visibility"] = constants.PUBLIC
        if not rows:  # the form's one empty row: "Meld minstens één knelpunt."
            data["obstacles-0-title"] = ""
        has_contact = bool(contact.get("contact-email", "").strip())
        if has_contact:
            data.update(contact)
        identity = self._identity(cells, data)
        return Row(number=number, formdata=data, obstacles=max(1, len(rows)),
                   has_contact=has_contact, identity=identity, problems=problems,
                   title=data.get("title", ""), school=data.get("school_name", ""),
                   dropped_name=bool(contact.get("contact-name", "").strip()) and not has_contact)

    def cell(self, text: str) -> tuple[str, bool]:
        """(the cell's text, whether it is a formula and so not read)."""
        if isinstance(text, FormulaText):
            return str(text), True
        if _NEUTRALISED.match(text):
            return text[1:], False
        return text, not self.typed and formula_like(text)

    def _identity(self, cells: list[str], data: MultiDict) -> list[str]:
        """What identifies the row within its source: the registry's reference when the file
        is one of its exports, else the school and the initiative's title."""
        if self.identity_index is not None and self.identity_index < len(cells):
            reference = cells[self.identity_index].strip()
            if reference:
                return ["referentie", reference]
        return [_fold(data.get("school_name", "")), _fold(data.get("brin", "")),
                _fold(data.get("location_number", "")),
                "".join(data.get("postcode", "").split()).upper(), _fold(data.get("title", ""))]


def _column(header: str) -> str:
    return header.strip().casefold()


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _obstacle_label(index: int, label: Any) -> str:
    return f"{_l('Knelpunt')} {index + 1}: {label}"


def row_key(source: str, identity: list[str]) -> str:
    """The stable key of a row within its source (SHA-256 of the source's name and the row's
    identifying fields, case and spacing ignored)."""
    text = "\x1f".join([_fold(source), *identity])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
