"""Export formats as pure functions over rows: CSV, XLSX, JSON, GeoJSON.

Column names are stable identifiers documented in the data dictionary (``datasets()``, page
/export/woordenboek and the ``woordenboek`` sheet); the columns that depend on the taxonomy
(one pair per dimension, the lists of codes) are built from it. Rows are dicts keyed by
those names; builders turn the records of ``registry.published.records`` into rows lazily,
so every format streams.
"""
from __future__ import annotations

import csv
import io
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from flask_babel import lazy_gettext as _l

from registry.exports.xlsx import XlsxBook
from registry.published.filters import InitiativeFilter
from registry.summary.services import Tally, theme_origin_groups, themes_in_scope
from registry.taxonomy.services import Taxonomy


@dataclass(frozen=True)
class Column:
    """A column of a dataset. Descriptions mark codes (values as they appear in the data)
    with backticks: the dictionary page shows them as code, the XLSX sheet without the
    backticks (``plain``)."""

    name: str
    type: str  # tekst | geheel getal | decimaal getal | datum | datum-tijd | url
    label_nl: str
    label_en: str
    description_nl: str
    description_en: str
    width: int = 16


def _c(name, type_, label_nl, label_en, desc_nl, desc_en, width=16) -> Column:
    return Column(name, type_, label_nl, label_en, desc_nl, desc_en, width)


TEXT, INT, FLOAT, DATE, DATETIME, URL = (
    "tekst", "geheel getal", "decimaal getal", "datum", "datum-tijd", "url")
# The types in words, in the interface language (the XLSX sheet keeps the codes above).
TYPE_LABELS = {
    TEXT: _l("tekst"), INT: _l("geheel getal"), FLOAT: _l("decimaal getal"),
    DATE: _l("datum"), DATETIME: _l("datum en tijd"), URL: _l("link (URL)"),
}


def plain(description: str) -> str:
    """A description without the backticks that mark its codes."""
    return description.replace("`", "")


def _codes(tax: Taxonomy, kind: str) -> str:
    return "Code: " + ", ".join(f"`{code}`" for code in tax.codes(kind)) + "."


def school_columns(tax: Taxonomy) -> list[Column]:
    return [
        _c("school_naam", TEXT, "School", "School", "Naam van de school (vestiging).",
           "Name of the school (location).", 30),
        _c("brin", TEXT, "Instellingscode", "Institution code",
           "Instellingscode (BRIN), vier tekens.", "Institution code (BRIN), four characters.", 10),
        _c("vestiging", TEXT, "Vestiging", "Location number",
           "Vestigingsnummer, twee cijfers (leeg als onbekend).",
           "Two-digit location number (empty when unknown).", 9),
        _c("sector", TEXT, "Sector", "Sector", _codes(tax, "sectors"), _codes(tax, "sectors"), 8),
        _c("provincie", TEXT, "Provincie", "Province",
           "Provincie, afgeleid van de locatie van de school.",
           "Province, derived from the school's location.", 14),
    ]


def initiative_columns(tax: Taxonomy) -> list[Column]:
    return [
        _c("initiatief_id", INT, "Id", "Id", "Vast nummer van het initiatief in het register.",
           "Stable number of the initiative in the registry.", 8),
        _c("referentie", TEXT, "Referentie", "Reference", "Referentie, bijvoorbeeld GL-2026-00042.",
           "Reference, e.g. GL-2026-00042.", 15),
        _c("titel", TEXT, "Titel", "Title", "Titel van het initiatief.", "Title of the initiative.",
           40),
        _c("samenvatting", TEXT, "Samenvatting", "Summary", "Korte samenvatting.",
           "Short summary.", 50),
        _c("beschrijving", TEXT, "Beschrijving", "Description", "Uitgebreide beschrijving.",
           "Full description.", 50),
        _c("fase", TEXT, "Fase", "Phase", _codes(tax, "phases"), _codes(tax, "phases"), 11),
        _c("startjaar", INT, "Startjaar", "Start year", "Jaar waarin het initiatief begon.",
           "Year the initiative started.", 9),
        _c("aantal_lerenden", INT, "Lerenden", "Learners",
           "Aantal lerenden dat meedoet (opgave van de school).",
           "Number of learners taking part (as reported by the school).", 10),
        _c("aantal_medewerkers", INT, "Medewerkers", "Staff", "Aantal betrokken medewerkers.",
           "Number of staff involved.", 10),
        _c("ict", TEXT, "ICT", "ICT", "Ondersteunende ICT.", "Supporting ICT.", 30),
        *school_columns(tax),
        _c("niveaus", TEXT, "Niveaus en opleidingen", "Levels and programmes",
           "Niveaus, leerwegen of opleidingen.", "Levels, tracks or programmes.", 20),
        _c("plaats", TEXT, "Plaats", "Place", "Plaats van de school.", "Town of the school.", 16),
        _c("gemeente", TEXT, "Gemeente", "Municipality", "Gemeente van de school.",
           "Municipality of the school.", 16),
        _c("postcode", TEXT, "Postcode", "Postcode", "Postcode van de school (1234 AB).",
           "Postcode of the school (1234 AB).", 9),
        _c("breedtegraad", FLOAT, "Breedtegraad", "Latitude", "WGS84-breedtegraad van de school.",
           "WGS84 latitude of the school.", 11),
        _c("lengtegraad", FLOAT, "Lengtegraad", "Longitude", "WGS84-lengtegraad van de school.",
           "WGS84 longitude of the school.", 11),
        _c("website", URL, "Website", "Website", "Website van de school.", "School website.", 25),
        _c("contactpersoon", TEXT, "Contactpersoon", "Contact person",
           "Naam van de contactpersoon, alleen als die toestemming gaf voor publicatie.",
           "Name of the contact person, only when they consented to publication.", 20),
        _c("aantal_knelpunten", INT, "Knelpunten", "Obstacles",
           "Aantal gemelde knelpunten (binnen het filter op gebied/thema).",
           "Number of reported obstacles (within the area/theme filter).", 10),
        _c("knelpunt_gebieden", TEXT, "Gebieden", "Areas",
           "Codes van de gebieden met knelpunten, gescheiden door komma's.",
           "Codes of the areas with obstacles, comma-separated.", 20),
        *[
            col
            for d in tax.dimensions
            for col in (
                _c(f"dimensie_{d.code}_nu", INT, f"{d.label_nl}: nu", f"{d.label_en}: now",
                   f"Niveau nu (0-3) op de dimensie {d.label_nl}.",
                   f"Current level (0-3) on {d.label_en}.", 8),
                _c(f"dimensie_{d.code}_ambitie", INT, f"{d.label_nl}: ambitie",
                   f"{d.label_en}: ambition", f"Ambitie (0-3) op de dimensie {d.label_nl}.",
                   f"Ambition (0-3) on {d.label_en}.", 8),
            )
        ],
        _c("gepubliceerd_op", DATE, "Gepubliceerd op", "Published on", "Datum van publicatie.",
           "Date of publication.", 12),
        _c("bijgewerkt_op", DATE, "Bijgewerkt op", "Updated on", "Datum van de laatste wijziging.",
           "Date of the last change.", 12),
        _c("url", URL, "Link", "Link", "Openbare pagina van het initiatief.",
           "Public page of the initiative.", 35),
    ]


def obstacle_columns(tax: Taxonomy) -> list[Column]:
    return [
        _c("knelpunt_id", INT, "Id", "Id", "Vast nummer van de knelpuntmelding.",
           "Stable number of the obstacle report.", 8),
        _c("initiatief_id", INT, "Initiatief-id", "Initiative id", "Id van het initiatief.",
           "Id of the initiative.", 8),
        _c("referentie", TEXT, "Referentie", "Reference", "Referentie van het initiatief.",
           "Reference of the initiative.", 15),
        _c("initiatief_titel", TEXT, "Initiatief", "Initiative", "Titel van het initiatief.",
           "Title of the initiative.", 30),
        *school_columns(tax),
        _c("aantal_lerenden", INT, "Lerenden", "Learners",
           "Aantal lerenden van het initiatief.", "Number of learners of the initiative.", 10),
        _c("gebied", TEXT, "Gebied", "Area", _codes(tax, "areas"), _codes(tax, "areas"), 13),
        _c("titel", TEXT, "Knelpunt", "Obstacle", "Korte titel van het knelpunt.",
           "Short title of the obstacle.", 35),
        _c("beschrijving", TEXT, "Beschrijving", "Description", "Beschrijving door de school.",
           "Description by the school.", 50),
        _c("regel", TEXT, "Regel", "Rule", "De regel waar de school tegenaan loopt.",
           "The rule the school runs into.", 30),
        _c("ernst", INT, "Ernst", "Severity",
           "1 hindert, 2 vertraagt, 3 blokkeert een deel, 4 blokkeert het initiatief.",
           "1 hinders, 2 slows down, 3 blocks a part, 4 blocks the initiative.", 7),
        _c("status", TEXT, "Status", "Status", "Code: `open`, `omzeild`, `opgelost`.",
           "Code: `open`, `omzeild` (worked around), `opgelost` (solved).", 10),
        _c("workaround", TEXT, "Workaround", "Workaround", "Hoe de school het omzeilt.",
           "How the school works around it.", 30),
        _c("vraag_aan_beleid", TEXT, "Vraag aan beleid", "Policy ask",
           "Wat de school van beleid vraagt.", "What the school asks of policy.", 30),
        _c("thema_id", INT, "Thema-id", "Theme id", "Id van het thema (knelpunt) waarin een "
           "moderator de melding indeelde; leeg als nog niet ingedeeld.",
           "Id of the curated theme; empty when not yet grouped.", 8),
        _c("thema_titel", TEXT, "Thema", "Theme", "Titel van het thema.", "Title of the theme.",
           30),
        _c("gemeld_op", DATE, "Gemeld op", "Reported on", "Datum van de melding.",
           "Date of the report.", 12),
        _c("url", URL, "Link", "Link", "Openbare pagina van het initiatief.",
           "Public page of the initiative.", 35),
    ]


THEME_COLUMNS = [
    _c("thema_id", INT, "Id", "Id", "Vast nummer van het thema.", "Stable theme number.", 8),
    _c("gebied", TEXT, "Gebied", "Area", "Code van het gebied.", "Area code.", 13),
    _c("titel", TEXT, "Thema", "Theme", "Titel van het thema (knelpunt).",
       "Title of the theme.", 35),
    _c("beschrijving", TEXT, "Beschrijving", "Description", "Vastgestelde beschrijving.",
       "Canonical description.", 50),
    _c("titel_en", TEXT, "Thema (Engels)", "Theme (English)",
       "Engelse titel van het thema; leeg als de moderator er geen schreef.",
       "English title of the theme; empty when the moderator wrote none.", 35),
    _c("beschrijving_en", TEXT, "Beschrijving (Engels)", "Description (English)",
       "Engelse beschrijving; leeg als de moderator er geen schreef.",
       "English description; empty when the moderator wrote none.", 50),
    _c("regels", TEXT, "Regels", "Rules",
       "Betrokken regels met hun niveau tussen haken, gescheiden door ' | '.",
       "Rules involved with their level in brackets, separated by ' | '.", 40),
    _c("regelniveaus", TEXT, "Niveaus", "Levels",
       "Niveaus: `wet`, `amvb`, `ministeriele_regeling`, `toezicht`, `sectorafspraak`, "
       "`bestuur`.",
       "Levels: `wet` (act), `amvb` (order in council), `ministeriele_regeling` (ministerial "
       "regulation), `toezicht` (inspection), `sectorafspraak` (sector agreement), `bestuur` "
       "(board/school).", 20),
    _c("herkomst", TEXT, "Wat is nodig", "What is needed",
       "Herkomst van de regels, per groep, gescheiden door komma's: `regelgeving` "
       "(wet/AMvB/ministeriële regeling: wijziging van wet- of regelgeving nodig), "
       "`toezicht_sector` (toezicht/sectorafspraak), `school` (bestuur: informatie of "
       "wijziging bij school/bestuur), `onbekend`. Meer dan één groep: `gemengd`.",
       "Origin of the rules, per group, separated by commas: `regelgeving` (act/order in "
       "council/ministerial regulation: a change of law or regulation is needed), "
       "`toezicht_sector` (inspection/sector agreement), `school` (board: information or a "
       "change at the school/board), `onbekend` (unknown). More than one group: `gemengd` "
       "(mixed).", 16),
    _c("bronnen", URL, "Bronnen", "Sources", "Links naar de bronnen van de regels.",
       "Links to the sources of the rules.", 35),
    _c("aantal_knelpunten", INT, "Meldingen", "Reports", "Aantal knelpuntmeldingen.",
       "Number of obstacle reports.", 10),
    _c("aantal_initiatieven", INT, "Initiatieven", "Initiatives", "Aantal initiatieven.",
       "Number of initiatives.", 10),
    _c("aantal_scholen", INT, "Scholen", "Schools",
       "Aantal scholen (instellingscode + vestiging) met een openbare melding in dit thema.",
       "Number of schools (institution code + location) with a public report in this "
       "theme.", 9),
    _c("aantal_lerenden", INT, "Lerenden", "Learners", "Som van de lerenden.",
       "Sum of learners.", 10),
    _c("sectoren", TEXT, "Sectoren", "Sectors", "Sector: aantal initiatieven.",
       "Sector: number of initiatives.", 20),
    _c("provincies", TEXT, "Provincies", "Provinces", "Provincie: aantal initiatieven.",
       "Province: number of initiatives.", 25),
    _c("opgelost", INT, "Opgelost", "Solved", "Aantal opgeloste meldingen.",
       "Number of solved reports.", 9),
    _c("omzeild", INT, "Omzeild", "Worked around", "Aantal omzeilde meldingen.",
       "Number of reports worked around.", 9),
]

CONTACT_COLUMNS = [
    _c("initiatief_id", INT, "Id", "Id", "Id van het initiatief.", "Initiative id.", 8),
    _c("referentie", TEXT, "Referentie", "Reference", "Referentie.", "Reference.", 15),
    _c("titel", TEXT, "Titel", "Title", "Titel van het initiatief.", "Title.", 35),
    _c("school_naam", TEXT, "School", "School", "School.", "School.", 30),
    _c("contact_naam", TEXT, "Naam", "Name", "Naam contactpersoon.", "Contact name.", 20),
    _c("contact_rol", TEXT, "Rol", "Role", "Rol contactpersoon.", "Contact role.", 15),
    _c("contact_email", TEXT, "E-mail", "E-mail", "E-mailadres.", "E-mail address.", 28),
    _c("contact_telefoon", TEXT, "Telefoon", "Phone", "Telefoonnummer.", "Phone number.", 14),
    _c("toestemming_contact", TEXT, "Mag benaderd worden", "May be contacted", "`ja`/`nee`",
       "`ja`/`nee` (yes/no)", 10),
    _c("toestemming_naam", TEXT, "Naam publiceren", "Publish name", "`ja`/`nee`",
       "`ja`/`nee` (yes/no)", 10),
    _c("toestemming_citaten", TEXT, "Citaten", "Quotes", "`ja`/`nee`", "`ja`/`nee` (yes/no)",
       10),
]

DATASET_NAMES = ("initiatieven", "knelpunten", "themas")


def datasets(tax: Taxonomy) -> dict[str, list[Column]]:
    """The public datasets and their columns for the current taxonomy."""
    return {
        "initiatieven": initiative_columns(tax),
        "knelpunten": obstacle_columns(tax),
        "themas": THEME_COLUMNS,
    }


# --- rows ---

# The record fields the rows (and the theme tallies) read: records are read with only these
# (issue 20: every other column was fetched and converted for nothing).
RECORD_FIELDS = ("id", "reference", "title", "summary", "description", "phase", "start_year",
                 "learners_count", "staff_count", "ict", "published_at", "updated_at",
                 "school_name", "brin", "location_number", "sector", "levels", "city",
                 "municipality", "province", "postcode", "latitude", "longitude", "website",
                 "contact_name")
OBSTACLE_FIELDS = ("id", "area_code", "title", "description", "rule", "severity", "status",
                   "workaround", "policy_ask", "theme_id", "reported_at")


def _date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


class Rows:
    """Turns published records into the rows of the datasets (one instance per export).

    Records carry the obstacles that count under the filter (the record path narrows them),
    so every obstacle of a record becomes a row and is counted."""

    def __init__(self, tax: Taxonomy, themes: list[dict[str, Any]],
                 link: Callable[[int], str]) -> None:
        self.area_codes = tax.codes("areas")
        self.dimension_codes = tax.codes("dimensions")
        self.titles = {t["id"]: t["title"] for t in themes}
        self.link = link

    def initiative(self, rec: dict[str, Any]) -> dict[str, Any]:
        school = rec["school"]
        obstacles = rec["obstacles"]
        areas = {o["area"] for o in obstacles}
        row = {
            "initiatief_id": rec["id"], "referentie": rec["reference"], "titel": rec["title"],
            "samenvatting": rec["summary"], "beschrijving": rec["description"],
            "fase": rec["phase"], "startjaar": rec["start_year"],
            "aantal_lerenden": rec["learners_count"], "aantal_medewerkers": rec["staff_count"],
            "ict": rec["ict"], **_school(school),
            "niveaus": school["levels"], "plaats": school["city"],
            "gemeente": school["municipality"] or "", "postcode": school["postcode"],
            "breedtegraad": school["latitude"], "lengtegraad": school["longitude"],
            "website": school["website"], "contactpersoon": rec["contact_name"] or "",
            "aantal_knelpunten": len(obstacles),
            "knelpunt_gebieden": ",".join(c for c in self.area_codes if c in areas),
        }
        dimensions = rec["dimensions"]
        for code in self.dimension_codes:
            now, ambition = dimensions.get(code, [None, None])
            row[f"dimensie_{code}_nu"] = now
            row[f"dimensie_{code}_ambitie"] = ambition
        row["gepubliceerd_op"] = _date(rec["published_at"])
        row["bijgewerkt_op"] = _date(rec["updated_at"])
        row["url"] = self.link(rec["id"])
        return row

    def initiatives(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for rec in records:
            yield self.initiative(rec)

    def obstacles_of(self, rec: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The obstacle rows of one initiative record."""
        school = _school(rec["school"])
        url = self.link(rec["id"])
        titles = self.titles
        for o in rec["obstacles"]:
            yield {
                "knelpunt_id": o["id"], "initiatief_id": rec["id"],
                "referentie": rec["reference"], "initiatief_titel": rec["title"], **school,
                "aantal_lerenden": rec["learners_count"], "gebied": o["area"],
                "titel": o["title"], "beschrijving": o["description"], "regel": o["rule"],
                "ernst": o["severity"], "status": o["status"], "workaround": o["workaround"],
                "vraag_aan_beleid": o["policy_ask"], "thema_id": o["theme_id"],
                "thema_titel": titles.get(o["theme_id"], "") if o["theme_id"] else "",
                "gemeld_op": _date(o["reported_at"]), "url": url,
            }

    def obstacles(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for rec in records:
            yield from self.obstacles_of(rec)


def _school(school: dict[str, Any]) -> dict[str, Any]:
    return {"school_naam": school["name"], "brin": school["brin"],
            "vestiging": school["location_number"] or "", "sector": school["sector"],
            "provincie": school["province"] or ""}


class ThemeTallies:
    """Per-theme counts, fed one initiative record at a time.

    Exactly the per-theme part of ``registry.summary.services.aggregate`` (the same ``Tally``),
    without the summary's other aggregates: the themes sheet of a workbook needs only these,
    and the full aggregate held ~300 MB at 100,000 initiatives (issue 11).
    """

    def __init__(self, themes: list[dict[str, Any]]) -> None:
        self.theme_ids = {t["id"] for t in themes}
        self.tallies: dict[int, Tally] = {}

    def add(self, rec: dict[str, Any]) -> None:
        theme_ids, tallies = self.theme_ids, self.tallies
        for o in rec["obstacles"]:
            theme_id = o["theme_id"]
            if theme_id is None or theme_id not in theme_ids:
                continue
            tally = tallies.get(theme_id)
            if tally is None:
                tally = tallies[theme_id] = Tally()
            tally.add(rec, o)


def theme_rows(records: Iterable[dict[str, Any]], flt: InitiativeFilter, tax: Taxonomy,
               themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per theme in scope, with the same counts as the summary."""
    tallies = ThemeTallies(themes)
    for rec in records:
        tallies.add(rec)
    return theme_rows_from(tallies, flt, tax, themes)


def theme_rows_from(tallies: ThemeTallies, flt: InitiativeFilter, tax: Taxonomy,
                    themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sector_order = tax.codes("sectors")
    rows = []
    for theme in themes_in_scope(flt, themes):
        tally = tallies.tallies.get(theme["id"])
        counts = tally.as_dict(sector_order) if tally is not None else None
        rows.append({
            "thema_id": theme["id"], "gebied": theme["area"], "titel": theme["title"],
            "beschrijving": theme["description"],
            "titel_en": theme["title_en"], "beschrijving_en": theme["description_en"],
            "regels": " | ".join(f"{r['title']} [{r['level']}]" for r in theme["rules"]),
            "regelniveaus": ",".join(dict.fromkeys(r["level"] for r in theme["rules"])),
            "herkomst": ",".join(theme_origin_groups(theme)),
            "bronnen": " ".join(r["source_url"] for r in theme["rules"] if r["source_url"]),
            "aantal_knelpunten": counts["obstacles"] if counts else 0,
            "aantal_initiatieven": counts["initiatives"] if counts else 0,
            "aantal_scholen": counts["schools"] if counts else 0,
            "aantal_lerenden": counts["learners"] if counts else 0,
            "sectoren": ", ".join(f"{k}: {v}" for k, v in counts["sectors"].items())
            if counts else "",
            "provincies": ", ".join(f"{k}: {v}" for k, v in counts["provinces"].items())
            if counts else "",
            "opgelost": counts["solved"] if counts else 0,
            "omzeild": counts["worked_around"] if counts else 0,
        })
    return rows


def contact_rows(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Rows for the moderator export with contact details (ORM initiatives with contact)."""
    def yn(flag: bool) -> str:
        return "ja" if flag else "nee"

    for item in items:
        c = item.contact
        if c is None or c.erased_at is not None:
            continue
        yield {
            "initiatief_id": item.id, "referentie": item.reference, "titel": item.title,
            "school_naam": item.organisation.name, "contact_naam": c.name,
            "contact_rol": c.role, "contact_email": c.email, "contact_telefoon": c.phone,
            "toestemming_contact": yn(c.consent_contact),
            "toestemming_naam": yn(c.consent_publish_name),
            "toestemming_citaten": yn(c.consent_quotes),
        }


# --- formats ---

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a quote to text that a spreadsheet would run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_DANGEROUS) else value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


# Values the csv module already writes exactly as ``_cell_text`` would (None -> "", str(int),
# repr(float), str(date) == date.isoformat()): passed through untouched.
_CSV_AS_IS = frozenset({type(None), int, float, bool, date})
_DANGEROUS_FIRST = frozenset(_DANGEROUS)


def to_csv(rows: Iterable[dict[str, Any]], columns: list[Column], *, sep: str = ",",
           bom: bool = True, batch: int = 500) -> Iterator[bytes]:
    """UTF-8 CSV (with BOM for Excel), header row of stable column names, streamed.

    Rows are written ``batch`` at a time with ``writerows``; only text (neutralised) and
    datetimes are converted in Python, the csv module formats the rest (issue 11: the
    per-cell conversion was a quarter of the export's time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    names = [c.name for c in columns]
    writer.writerow(names)
    first = ("\ufeff" if bom else "") + buffer.getvalue()
    yield first.encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pick = operator.itemgetter(*names) if len(names) > 1 else (lambda r: (r[names[0]],))
    as_is, dangerous = _CSV_AS_IS, _DANGEROUS_FIRST
    pending = []
    for row in rows:
        try:
            values = pick(row)
        except KeyError:  # a row without some column: empty, as before
            values = [row.get(name) for name in names]
        pending.append([
            ("'" + v if v[:1] in dangerous else v) if type(v) is str
            else v if type(v) in as_is else _cell_text(v)
            for v in values
        ])
        if len(pending) >= batch:
            writer.writerows(pending)
            pending.clear()
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if pending:
        writer.writerows(pending)
        yield buffer.getvalue().encode("utf-8")


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value)!r}")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def to_json(rows: Iterable[dict[str, Any]], meta: dict[str, Any]) -> Iterator[bytes]:
    """``{"meta": {...}, "data": [row, ...]}``, streamed one row at a time."""
    yield ('{"meta": ' + _dump(meta) + ', "data": [').encode()
    first = True
    for row in rows:
        yield (("" if first else ",\n") + _dump(row)).encode()
        first = False
    yield b"]}\n"


def to_geojson(features: Iterable[dict[str, Any]], meta: dict[str, Any]) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (RFC 7946) with a ``meta`` foreign member, streamed."""
    yield ('{"type": "FeatureCollection", "meta": ' + _dump(meta) + ', "features": [').encode()
    first = True
    for feature in features:
        yield (("" if first else ",\n") + _dump(feature)).encode()
        first = False
    yield b"]}\n"


def point_features(rows: Iterable[dict[str, Any]], id_key: str) -> Iterator[dict[str, Any]]:
    """One Point feature per row at the school (geometry null when not located)."""
    for row in rows:
        lat, lon = row.get("breedtegraad"), row.get("lengtegraad")
        geometry = ({"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
                    if lat is not None and lon is not None else None)
        yield {"type": "Feature", "id": row[id_key], "geometry": geometry, "properties": row}


def theme_features(rows: list[dict[str, Any]], locations: dict[int, list[list[float]]]
                   ) -> Iterator[dict[str, Any]]:
    """One MultiPoint feature per theme: the schools where it was reported."""
    for row in rows:
        points = locations.get(row["thema_id"], [])
        geometry = {"type": "MultiPoint", "coordinates": points} if points else None
        yield {"type": "Feature", "id": row["thema_id"], "geometry": geometry,
               "properties": row}


def dictionary_rows(datasets: dict[str, list[Column]]) -> Iterator[dict[str, Any]]:
    for dataset, columns in datasets.items():
        for col in columns:
            yield {"dataset": dataset, "kolom": col.name, "type": col.type,
                   "label_nl": col.label_nl, "label_en": col.label_en,
                   "omschrijving_nl": plain(col.description_nl),
                   "omschrijving_en": plain(col.description_en)}


DICTIONARY_COLUMNS = [
    _c("dataset", TEXT, "Dataset", "Dataset", "", "", 14),
    _c("kolom", TEXT, "Kolom", "Column", "", "", 24),
    _c("type", TEXT, "Type", "Type", "", "", 14),
    _c("label_nl", TEXT, "Label (NL)", "Label (NL)", "", "", 24),
    _c("label_en", TEXT, "Label (EN)", "Label (EN)", "", "", 24),
    _c("omschrijving_nl", TEXT, "Omschrijving (NL)", "Description (NL)", "", "", 60),
    _c("omschrijving_en", TEXT, "Omschrijving (EN)", "Description (EN)", "", "", 60),
]
META_COLUMNS = [
    _c("sleutel", TEXT, "Sleutel", "Key", "", "", 18),
    _c("waarde", TEXT, "Waarde", "Value", "", "", 70),
]


def _finish(book: XlsxBook, used: list[str], all_datasets: dict[str, list[Column]],
            meta: dict[str, Any], title: str) -> IO[bytes]:
    """The data dictionary and the 'over' sheet, document properties; close and rewind."""
    used_datasets = {name: all_datasets[name] for name in used if name in all_datasets}
    sheet = book.add_sheet("woordenboek", DICTIONARY_COLUMNS)
    for row in dictionary_rows(used_datasets or all_datasets):
        sheet.write(row)
    sheet.close()
    sheet = book.add_sheet("over", META_COLUMNS)
    for key, value in meta.items():
        sheet.write({"sleutel": key, "waarde": _cell_text(value)})
    sheet.close()
    return book.finish(title=title, subject=f"bron={meta.get('source')}; "
                                            f"filter={meta.get('filter')}",
                       comments=_dump(meta), keywords=str(meta.get("filter", "")))


def to_xlsx(sheets: list[tuple[str, list[Column], Iterable[dict[str, Any]]]],
            meta: dict[str, Any], *, title: str) -> IO[bytes]:
    """A workbook (constant memory: rows go to disk as they come) with the given sheets, the
    data dictionary and an 'over' sheet with the metadata; also in the document properties.
    Returns a rewound temporary file for the view to stream."""
    book = XlsxBook()
    for name, columns, rows in sheets:
        sheet = book.add_sheet(name, columns)
        for row in rows:
            sheet.write(row)
        sheet.close()
    return _finish(book, [name for name, _, _ in sheets],
                   {name: columns for name, columns, _ in sheets}, meta, title)


def datasets_to_xlsx(order: list[str], records: Iterable[dict[str, Any]],
                     flt: InitiativeFilter, tax: Taxonomy, themes: list[dict[str, Any]],
                     link: Callable[[int], str], meta: dict[str, Any], *,
                     title: str) -> IO[bytes]:
    """The workbook of the public datasets (sheets in ``order``), filled in ONE pass over
    the records: each record's obstacle rows and initiative row go to their sheets as it
    comes and its obstacles are counted per theme; the themes sheet is written at the end
    (issue 11: three passes over every record were a third of the time)."""
    all_datasets = datasets(tax)
    book = XlsxBook()
    sheets = {name: book.add_sheet(name, all_datasets[name]) for name in order}
    obstacles, initiatives = sheets.get("knelpunten"), sheets.get("initiatieven")
    tallies = ThemeTallies(themes) if "themas" in sheets else None
    rows = Rows(tax, themes, link)
    for rec in records:
        if obstacles is not None:
            for row in rows.obstacles_of(rec):
                obstacles.write(row)
        if initiatives is not None:
            initiatives.write(rows.initiative(rec))
        if tallies is not None:
            tallies.add(rec)
    if tallies is not None:
        for row in theme_rows_from(tallies, flt, tax, themes):
            sheets["themas"].write(row)
    for sheet in sheets.values():
        sheet.close()
    return _finish(book, list(order), all_datasets, meta, title)


# --- file names ---

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def file_name(dataset: str, meta: dict[str, Any], ext: str) -> str:
    """e.g. ``knelpunten_2026-11-26_live_sector-mbo_area-examineren.csv``."""
    day = (meta.get("data_date") or "")[:10]
    source = "live" if meta.get("source") == "live" else f"snapshot-{meta.get('snapshot')}"
    flt = meta.get("filter") or "alle"
    flt = _UNSAFE.sub("-", flt.replace("=", "-").replace(";", "_")).strip("-")[:80] or "alle"
    return f"{dataset}_{day}_{source}_{flt}.{ext}"
