"""Issue 18: the pilot dossier per theme (``/knelpunten/thema/<id>/pilotdossier.docx``).

Advisors and up download an editable A4 Word document with the rules to relax (level and
legal source), the room that exists, the ask to OCW and the volunteering schools: published
entries with an obstacle in the theme whose school wants to take part in a pilot. A school is
named only with its contact's consent to be named to OCW (not erased), never when it reported
something confidential in the theme; the others are counted. Every download is audited."""
from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from docx.shared import Mm
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.database import utcnow
from registry.extensions import db as _db
from registry.moderation import services as moderation
from registry.submissions.services import ContactData, ObstacleData
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState
from tests.auth.test_access import staff_routes
from tests.factories import make_initiative

URL = "/knelpunten/thema/{}/pilotdossier.docx"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ASK = "Sta examens op elk moment toe als de examencommissie dat goedkeurt."
PROVISIONS = "Experiment flexibel examineren (Besluit experimenten mbo)."
RULE_URL = "https://wetten.overheid.nl/BWBR0019939/2024-01-01#Artikel3"
PUBLIC_ASK = "Laat ons examineren wanneer een student er klaar voor is."
CONFIDENTIAL_ASK = "Geheime vraag: wij plannen nu al extra herkansingen."


def contact(n: int, consent: bool) -> ContactData:
    return ContactData(name=f"Contact {n}", email=f"c{n}@example.org", consent_contact=True,
                       consent_name_to_ocw=consent)


def obstacle(title: str, *, pilot: bool = True, visibility: str = "public",
             policy_ask: str = "") -> ObstacleData:
    return ObstacleData(area="examineren", title=title, severity=3, description="Tekst.",
                        pilot_interest=pilot, visibility=visibility, policy_ask=policy_ask)


def school(name: str, n: int, *, consent: bool = True, obstacles=None, state=None,
           **overrides):
    return make_initiative(
        state=state or InitiativeState.PUBLISHED, school_name=name, brin=f"{10 + n}AB",
        city=f"Plaats {name}", contact=contact(n, consent), learners_count=10 * n,
        obstacles=obstacles or [obstacle(f"Knelpunt van {name}", policy_ask=PUBLIC_ASK)],
        **overrides)


@pytest.fixture
def theme(app):
    """A theme with schools that do and do not volunteer, consent or report confidentially."""
    theme = moderation.save_theme(None, moderation.ThemeData(
        area="examineren", title="Examens alleen op vaste momenten",
        description="Examens mogen alleen in vaste periodes worden afgenomen.",
        ask=ASK, experiment_provisions=PROVISIONS,
        rules=[moderation.RuleData(title="Examen- en kwalificatiebesluit WEB art. 3",
                                   level="amvb", source_url=RULE_URL,
                                   existing_room="Een extra examenmoment als herkansing"),
               moderation.RuleData(title="Eigen examenreglement", level="bestuur")]),
        actor=None)
    other_theme = moderation.save_theme(None, moderation.ThemeData(
        area="examineren", title="Ander thema"), actor=None)
    entries = {
        # named: consent, published, public pilot obstacle
        "Alfa College": school("Alfa College", 1),
        # counted: no consent
        "Bravo Lyceum": school("Bravo Lyceum", 2, consent=False, sector="vo"),
        # counted, never named: the pilot obstacle is confidential
        "Charlie School": school("Charlie School", 3, obstacles=[
            obstacle("Geheim knelpunt Charlie", visibility=CONFIDENTIAL,
                     policy_ask=CONFIDENTIAL_ASK)]),
        # counted, never named: a public pilot obstacle, and a confidential one in the theme
        "Delta College": school("Delta College", 4, obstacles=[
            obstacle("Knelpunt van Delta"),
            obstacle("Geheim knelpunt Delta", pilot=False, visibility=CONFIDENTIAL)]),
        # counted: consent, but the contact was erased
        "Echo Campus": school("Echo Campus", 5),
        # not in the dossier: not published
        "Foxtrot Wacht": school("Foxtrot Wacht", 6, state=InitiativeState.PENDING),
        # not in the dossier: no pilot interest
        "Golf Academie": school("Golf Academie", 7, obstacles=[
            obstacle("Geen pilot", pilot=False)]),
        # not in the dossier: pilot interest in another theme
        "Hotel School": school("Hotel School", 8, obstacles=[obstacle("Ander knelpunt")]),
    }
    entries["Echo Campus"].contact.erased_at = utcnow()
    for name, entry in entries.items():
        for o in entry.obstacles:
            moderation.link_obstacle(o, other_theme if name == "Hotel School" else theme,
                                     actor=None)
    _db.session.commit()
    return theme


def document_text(body: bytes) -> str:
    doc = Document(io.BytesIO(body))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def all_xml(body: bytes) -> str:
    """Every part of the DOCX package, for "never anywhere in the file" checks."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return "\n".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())


# --------------------------------------------------------------------------- access
def test_anonymous_users_are_sent_to_the_login(client, theme):
    response = client.get(URL.format(theme.id))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    as_json = client.get(URL.format(theme.id), headers={"Accept": "application/json"})
    assert as_json.status_code == 401
    assert _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "pilot.dossier")) is None


def test_the_route_is_a_staff_route_for_advisors(app):
    routes = {(endpoint, method): role for endpoint, method, _url, role in staff_routes(app)}
    assert routes[("pilots.dossier", "GET")] == "advisor"
    # every route of the blueprint has a role check
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("pilots."):
            assert any(e == rule.endpoint for e, _m in routes), rule.endpoint


def test_an_unknown_theme_is_not_found(client, login, app):
    login(client, "advisor")
    assert client.get(URL.format(999)).status_code == 404


# --------------------------------------------------------------------------- the document
def test_an_advisor_gets_an_a4_word_document_with_headings(client, login, theme):
    login(client, "advisor")
    response = client.get(URL.format(theme.id))
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert "attachment" in response.headers["Content-Disposition"]
    assert f"pilotdossier-thema-{theme.id}.docx" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    doc = Document(io.BytesIO(response.data))
    for section in doc.sections:
        assert abs(section.page_width - Mm(210)) < Mm(1)
        assert abs(section.page_height - Mm(297)) < Mm(1)
    styles = [(p.style.name, p.text) for p in doc.paragraphs if p.text]
    assert styles[0] == ("Title", "Pilotdossier: Examens alleen op vaste momenten")
    headings = [text for style, text in styles if style == "Heading 1"]
    assert headings == ["Het knelpunt", "Regels die ruimte zouden moeten geven",
                        "Ruimte die er al is", "Vraag aan OCW", "Scholen die willen meedoen",
                        "Wat deze scholen van beleid vragen", "Over dit dossier"]
    assert ("Heading 2", "Examen- en kwalificatiebesluit WEB art. 3") in styles
    text = document_text(response.data)
    assert "Examens mogen alleen in vaste periodes worden afgenomen." in text  # the problem
    assert "Herkomst: AMvB" in text
    assert "Herkomst: Bestuur of school" in text
    assert RULE_URL in text
    assert RULE_URL in all_xml(response.data)  # a real link (relationship target)
    assert "Een extra examenmoment als herkansing" in text  # existing room per rule
    assert PROVISIONS in text
    assert ASK in text


def test_only_consenting_schools_are_named_and_the_others_counted(client, login, theme):
    login(client, "advisor")
    body = client.get(URL.format(theme.id)).data
    text = document_text(body)
    xml = all_xml(body)
    assert "5 scholen willen meedoen aan een pilot of experiment rond dit thema." in text
    assert "Alfa College, Plaats Alfa College" in text
    assert "en 4 andere scholen" in text
    # never named: no consent, a confidential report, an erased contact; not in the dossier
    for name in ("Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"):
        assert name not in xml, name
    # the confidential report's texts are never in it; its policy ask is only counted
    assert "Geheim" not in xml
    assert CONFIDENTIAL_ASK not in xml
    assert "Daarnaast stelt 1 vertrouwelijke melding een vraag aan beleid" in text
    assert f"{PUBLIC_ASK} (3x)" in text  # Alfa, Bravo and Echo; Delta asked nothing
    # totals over every volunteering school (Alfa..Echo: 10+20+30+40+50 learners)
    doc = Document(io.BytesIO(body))
    figures = {row.cells[0].text: row.cells[1].text for t in doc.tables for row in t.rows}
    assert figures["Scholen"] == "5"
    assert figures["Initiatieven"] == "5"
    assert figures["Lerenden"] == "150"
    assert figures["Meldingen met interesse in een pilot"] == "5"
    assert figures["mbo"] == "4"
    assert figures["vo"] == "1"


def test_a_school_with_a_confidential_obstacle_is_never_named_even_with_consent(
        client, login, app):
    theme = moderation.save_theme(None, moderation.ThemeData(area="examineren", title="T"),
                                  actor=None)
    entry = school("Alleen Vertrouwelijk", 1, obstacles=[
        obstacle("Vertrouwelijk knelpunt", visibility=CONFIDENTIAL)])
    moderation.link_obstacle(entry.obstacles[0], theme, actor=None)
    _db.session.commit()
    login(client, "advisor")
    body = client.get(URL.format(theme.id)).data
    assert "Alleen Vertrouwelijk" not in all_xml(body)
    text = document_text(body)
    assert "1 school wil meedoen aan een pilot of experiment rond dit thema. De school wordt " \
           "niet bij naam genoemd." in text


def test_a_theme_without_volunteers_says_so(client, login, app):
    theme = moderation.save_theme(None, moderation.ThemeData(area="overig", title="Urennorm"),
                                  actor=None)
    _db.session.commit()
    login(client, "advisor")
    text = document_text(client.get(URL.format(theme.id)).data)
    assert "Nog geen school heeft bij dit thema aangegeven mee te willen doen" in text
    assert "Nog geen vraag aan OCW vastgelegd." in text
    assert "Nog geen regels vastgelegd." in text


def test_the_dossier_is_in_english_for_an_english_advisor(client, login, theme):
    login(client, "advisor")
    response = client.get(URL.format(theme.id) + "?lang=en")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.data))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert "Room that already exists" in headings  # the interface language
    assert doc.core_properties.language == "en"


# --------------------------------------------------------------------------- audit
def test_every_download_is_audited(client, login, theme):
    user = login(client, "moderator")
    assert client.get(URL.format(theme.id)).status_code == 200
    assert client.get(URL.format(theme.id)).status_code == 200
    events = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "pilot.dossier")).all()
    assert len(events) == 2
    event = events[0]
    assert (event.target_type, event.target_id, event.actor_id) == ("theme", theme.id, user.id)
    assert event.after == {"schools": 5, "named": 1, "counted": 4, "reports": 5}


def test_the_staff_theme_page_links_to_the_dossier(client, login, theme):
    login(client, "moderator")
    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert f'href="{URL.format(theme.id)}"' in page
