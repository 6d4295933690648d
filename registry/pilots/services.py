"""Pilot dossiers (issue 18): per theme, what an advisor hands the ministry of OCW.

The dossier says which rules would have to be relaxed (with their level and legal source),
what room already exists (per rule, and the experiment provisions a moderator records on the
theme), the one ask to OCW, and which schools volunteer: published entries with an obstacle in
the theme whose school ticked "we want to take part in a pilot or experiment"
(``Obstacle.pilot_interest``), public or confidential.

Naming (DOMAIN.md, "Pilots and experiments" and "Reporting a rule you bend"): a volunteering
school is named (name and place) only when the contact of each of its volunteering entries
consented to be named to OCW (``Contact.consent_name_to_ocw``) and was not erased, and when the
school reported nothing confidential in this theme. Every other volunteering school is only
counted ("en 3 andere scholen"). Policy asks are quoted from public reports only; confidential
ones are counted. Sectors, provinces and learners are totals over all volunteering schools.

``dossier`` computes the content; ``to_docx`` renders it (python-docx, A4, built-in Heading
styles so the document stays editable and gets a navigation pane).
"""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from registry.database import utcnow
from registry.extensions import db
from registry.localized import as_language, docx_language, localized
from registry.moderation.models import RULE_LEVEL_LABELS, Theme
from registry.submissions.models import Contact, Initiative, Obstacle, Organisation
from registry.summary.documents import add_hyperlink
from registry.summary.labels import area_label, sector_label
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState

# Page size of the dossier: A4 portrait, 2.5 cm margins (millimetres)
A4_WIDTH_MM, A4_HEIGHT_MM, MARGIN_MM = 210, 297, 25


@dataclass
class DossierRule:
    title: str
    level: str
    level_label: str
    source_url: str
    existing_room: str


@dataclass
class NamedSchool:
    name: str
    place: str


@dataclass
class Dossier:
    theme_id: int
    title: str
    area: str
    problem: str
    ask: str
    experiment_provisions: str
    rules: list[DossierRule]
    named: list[NamedSchool]  # sorted by name
    unnamed: int  # volunteering schools that are only counted
    initiatives: int
    learners: int
    reports: int  # volunteering reports (obstacles with pilot interest), both visibilities
    sectors: dict[str, int]  # sector code -> volunteering schools, most first
    provinces: dict[str, int]  # province -> volunteering schools ("" = not known)
    asks: list[tuple[str, int]]  # public policy asks: (text, how many reports), most first
    confidential_asks: int  # confidential reports with a policy ask (texts not shown)
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def schools(self) -> int:
        return len(self.named) + self.unnamed


def _school_key(brin: str, location: str | None, organisation_id: int) -> tuple[str, str]:
    """A school: institution code and location; one without a code (not in DUO's list,
    typed by hand) is a school of its own, its organisation row."""
    if not brin:
        return "org", str(organisation_id)
    return brin.upper(), location or ""


def dossier(theme: Theme) -> Dossier:
    """The content of the pilot dossier of ``theme`` (live data; nothing is written)."""
    rows = db.session.execute(
        select(Initiative.id, Initiative.learners_count, Organisation.brin,
               Organisation.location_number, Organisation.id, Organisation.name,
               Organisation.city, Organisation.municipality, Organisation.sector,
               Organisation.province, Obstacle.visibility, Obstacle.policy_ask,
               Contact.consent_name_to_ocw, Contact.erased_at)
        .select_from(Obstacle)
        .join(Initiative, Obstacle.initiative_id == Initiative.id)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .outerjoin(Contact, Contact.initiative_id == Initiative.id)
        .where(Obstacle.theme_id == theme.id, Obstacle.pilot_interest.is_(True),
               Initiative.state == InitiativeState.PUBLISHED)
        .order_by(Initiative.id, Obstacle.position, Obstacle.id)
    ).all()
    # A school that reported anything confidential in this theme (any entry of it, in any
    # state) is never named: its name next to the theme could point at that report.
    confidential_schools = {
        _school_key(brin, location, org_id) for brin, location, org_id in db.session.execute(
            select(Organisation.brin, Organisation.location_number, Organisation.id)
            .select_from(Organisation)
            .join(Initiative, Initiative.organisation_id == Organisation.id)
            .join(Obstacle, Obstacle.initiative_id == Initiative.id)
            .where(Obstacle.theme_id == theme.id, Obstacle.visibility == CONFIDENTIAL))
    }

    learners: dict[int, int] = {}
    schools: dict[tuple[str, str], dict] = {}
    public_asks: Counter[str] = Counter()
    first_spelling: dict[str, str] = {}
    confidential_asks = 0
    for (iid, learners_count, brin, location, org_id, name, city, municipality, sector,
         province, visibility, policy_ask, consent, erased_at) in rows:
        learners[iid] = learners_count or 0
        key = _school_key(brin, location, org_id)
        school = schools.setdefault(key, {"names": set(), "places": set(), "sectors": set(),
                                          "provinces": set(), "may_name": True})
        school["names"].add(name)
        school["places"].add(city or municipality or "")
        school["sectors"].add(sector)
        school["provinces"].add(province or "")
        if not consent or erased_at is not None or visibility == CONFIDENTIAL:
            school["may_name"] = False
        text = (policy_ask or "").strip()
        if text:
            if visibility == CONFIDENTIAL:
                confidential_asks += 1
            else:
                folded = " ".join(text.split()).casefold()
                first_spelling.setdefault(folded, text)
                public_asks[folded] += 1

    named: list[NamedSchool] = []
    unnamed = 0
    sectors: Counter[str] = Counter()
    provinces: Counter[str] = Counter()
    for key, school in schools.items():
        for sector in school["sectors"]:
            sectors[sector] += 1
        for province in school["provinces"]:
            provinces[province] += 1
        # one clear name: several entries of a school under different names are not named
        if (school["may_name"] and key not in confidential_schools
                and len(school["names"]) == 1):
            places = sorted(p for p in school["places"] if p)
            named.append(NamedSchool(name=next(iter(school["names"])),
                                     place=", ".join(places)))
        else:
            unnamed += 1
    named.sort(key=lambda s: (s.name.casefold(), s.place))

    # The theme's texts in the interface language (Dutch when no English was written;
    # ``to_docx`` marks such a text as Dutch). The experiment provisions are Dutch only.
    return Dossier(
        theme_id=theme.id, title=localized(theme, "title"), area=theme.area_code,
        problem=localized(theme, "description"), ask=localized(theme, "ask"),
        experiment_provisions=as_language(theme.experiment_provisions),
        rules=[DossierRule(title=localized(r, "title"), level=r.level,
                           level_label=str(RULE_LEVEL_LABELS.get(r.level, r.level)),
                           source_url=r.source_url or "",
                           existing_room=localized(r, "existing_room"))
               for r in theme.rules],
        named=named, unnamed=unnamed, initiatives=len(learners),
        learners=sum(learners.values()), reports=len(rows),
        sectors=dict(sorted(sectors.items(), key=lambda kv: (-kv[1], kv[0]))),
        provinces=dict(sorted(provinces.items(), key=lambda kv: (-kv[1], kv[0] or "\uffff"))),
        asks=sorted(((first_spelling[k], n) for k, n in public_asks.items()),
                    key=lambda item: (-item[1], item[0].casefold())),
        confidential_asks=confidential_asks,
    )


def filename(d: Dossier) -> str:
    return f"pilotdossier-thema-{d.theme_id}.docx"


# --- DOCX ------------------------------------------------------------------------------------

def _number(n: int) -> str:
    """1234 as "1.234" (Dutch thousands separator, also in the English document)."""
    return f"{n:,}".replace(",", ".")


def schools_sentence(d: Dossier) -> str:
    """How many schools volunteer, in one sentence."""
    if not d.schools:
        return _("Nog geen school heeft bij dit thema aangegeven mee te willen doen aan een "
                 "pilot of experiment.")
    sentence = ngettext(
        "%(num)d school wil meedoen aan een pilot of experiment rond dit thema.",
        "%(num)d scholen willen meedoen aan een pilot of experiment rond dit thema.",
        d.schools)
    if not d.named:
        sentence += " " + ngettext("De school wordt niet bij naam genoemd.",
                                   "Ze worden niet bij naam genoemd.", d.schools)
    return sentence


def others_line(d: Dossier) -> str:
    """After the named schools: "en 3 andere scholen"."""
    return ngettext("en %(num)d andere school", "en %(num)d andere scholen", d.unnamed)


def _table(doc, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    doc.add_paragraph()


def to_docx(d: Dossier) -> bytes:
    """The dossier as an editable Word document on A4."""
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document()
    for section in doc.sections:
        section.page_width, section.page_height = Mm(A4_WIDTH_MM), Mm(A4_HEIGHT_MM)
        section.left_margin = section.right_margin = Mm(MARGIN_MM)
        section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
    doc.styles["Normal"].font.size = Pt(10.5)
    title = _("Pilotdossier: %(theme)s", theme=d.title)
    doc.core_properties.title = title[:255]
    doc.core_properties.subject = _("Scholen die willen meedoen aan een pilot of experiment")
    doc.core_properties.author = "Register gepersonaliseerd leren"
    doc.core_properties.language = str(get_locale() or "nl")

    doc.add_heading(title, level=0)
    doc.add_paragraph(_("Gebied: %(area)s. Register gepersonaliseerd leren, gemaakt op "
                        "%(date)s uit de actuele gegevens.", area=area_label(d.area),
                        date=d.generated_at.strftime("%d-%m-%Y")))
    doc.add_paragraph(_("Niet openbaar. Dit dossier is bedoeld voor het gesprek met het "
                        "ministerie van OCW over een pilot of experiment rond dit thema."))

    doc.add_heading(_("Het knelpunt"), level=1)
    if d.problem:
        docx_language(doc.add_paragraph(d.problem), d.problem)
    else:
        doc.add_paragraph(_("Nog geen beschrijving vastgelegd."))

    doc.add_heading(_("Regels die ruimte zouden moeten geven"), level=1)
    if not d.rules:
        doc.add_paragraph(_("Nog geen regels vastgelegd."))
    for rule in d.rules:
        docx_language(doc.add_heading(rule.title, level=2), rule.title)
        doc.add_paragraph(_("Herkomst: %(level)s", level=rule.level_label))
        if rule.source_url:
            source = doc.add_paragraph(_("Bron:") + " ")
            add_hyperlink(source, rule.source_url, rule.source_url)

    doc.add_heading(_("Ruimte die er al is"), level=1)
    rooms = [r for r in d.rules if r.existing_room]
    if rooms:
        for rule in rooms:
            item = doc.add_paragraph(style="List Bullet")
            docx_language(item.add_run(rule.title), rule.title)
            item.add_run(": ")
            docx_language(item.add_run(rule.existing_room), rule.existing_room)
    else:
        doc.add_paragraph(_("Bij de regels is nog geen bestaande ruimte vastgelegd."))
    doc.add_heading(_("Bestaande experimenteerruimte"), level=2)
    if d.experiment_provisions:
        docx_language(doc.add_paragraph(d.experiment_provisions), d.experiment_provisions)
    else:
        doc.add_paragraph(_("Nog geen experimenteerruimte vastgelegd."))

    doc.add_heading(_("Vraag aan OCW"), level=1)
    if d.ask:
        docx_language(doc.add_paragraph(d.ask), d.ask)
    else:
        doc.add_paragraph(_("Nog geen vraag aan OCW vastgelegd."))

    doc.add_heading(_("Scholen die willen meedoen"), level=1)
    doc.add_paragraph(schools_sentence(d))
    for school in d.named:
        doc.add_paragraph(f"{school.name}, {school.place}" if school.place else school.name,
                          style="List Bullet")
    if d.named and d.unnamed:
        doc.add_paragraph(others_line(d))
    doc.add_paragraph(_(
        "Een school staat hier alleen met naam als de contactpersoon toestemming gaf om de "
        "school bij naam te noemen aan het ministerie van OCW. Een school die bij dit thema "
        "iets vertrouwelijk meldde, wordt nooit genoemd; die telt alleen mee."))
    if d.schools:
        _table(doc, [_("Kerncijfer"), _("Aantal")], [
            [_("Scholen"), _number(d.schools)],
            [_("Initiatieven"), _number(d.initiatives)],
            [_("Lerenden"), _number(d.learners)],
            [_("Meldingen met interesse in een pilot"), _number(d.reports)],
        ])
        doc.add_heading(_("Sectoren"), level=2)
        _table(doc, [_("Sector"), _("Scholen")],
               [[sector_label(code), _number(n)] for code, n in d.sectors.items()])
        doc.add_heading(_("Provincies"), level=2)
        _table(doc, [_("Provincie"), _("Scholen")],
               [[name or _("onbekend"), _number(n)] for name, n in d.provinces.items()])

    doc.add_heading(_("Wat deze scholen van beleid vragen"), level=1)
    if d.asks:
        for text, count in d.asks:
            doc.add_paragraph(f"{text} ({count}x)" if count > 1 else text, style="List Bullet")
    elif not d.confidential_asks:
        doc.add_paragraph(_("Geen vragen aan beleid gemeld."))
    if d.confidential_asks:
        doc.add_paragraph(ngettext(
            "Daarnaast stelt %(num)d vertrouwelijke melding een vraag aan beleid; die tekst "
            "staat niet in dit dossier.",
            "Daarnaast stellen %(num)d vertrouwelijke meldingen een vraag aan beleid; die "
            "teksten staan niet in dit dossier.", d.confidential_asks))

    doc.add_heading(_("Over dit dossier"), level=1)
    doc.add_paragraph(_(
        "Scholen melden hun initiatief en de knelpunten waar ze tegenaan lopen in het "
        "register. Moderatoren bundelen vergelijkbare knelpunten in een thema en leggen per "
        "thema de regels vast, waar die vandaan komen en welke ruimte er al is. Bij elk "
        "knelpunt kan een school aangeven mee te willen doen aan een pilot of experiment. "
        "Dit dossier telt alleen gepubliceerde initiatieven."))

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
