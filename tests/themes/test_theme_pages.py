"""Public theme pages (/knelpunten/thema/<id>, issue 18): every theme in both languages, figures
equal to a recomputation in plain SQL, confidential reports invisible, workarounds only with
quote consent, the relay and digest links, links from the detail page, the summary and the
map filters, 404 for unknown themes."""
from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from flask import url_for
from sqlalchemy import select, text

from registry.database import utcnow
from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.published.sources import PUBLISHED
from registry.submissions.models import Obstacle
from registry.submissions.services import ContactData, ObstacleData
from registry.summary.services import compute_summary
from registry.taxonomy.constants import OBSTACLE_STATUSES, PROVINCES, SEVERITIES, InitiativeState
from registry.taxonomy.services import current as current_taxonomy
from registry.themes.services import theme_filter
from tests.factories import make_initiative
from tests.summary.oracle import html_tables
from tests.summary.varied import build_varied

SECRET = ("GEHEIM-TITEL-7Q", "GEHEIM-BESCHRIJVING-7Q", "GEHEIM-WORKAROUND-7Q",
          "GEHEIM-VRAAG-7Q", "GEHEIM-REGEL-7Q")


def _page(client, theme_id: int) -> str:
    response = client.get(f"/knelpunten/thema/{theme_id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def world(app):
    """Two curated themes and entries around them:

    - open: published, public obstacle in theme one, consented to quotes, takes messages;
    - quiet: published, public obstacle in theme one, no quote consent, no messages;
    - erased: published, public obstacle in theme one, consent but contact erased;
    - secret: published, a confidential obstacle in theme one (its only tie to it) and a
      public one in theme two;
    - pending: a pending entry with a public obstacle in theme one.
    """
    one = Theme(area_code="examineren", title="Examens alleen op vaste momenten",
                description="Scholen mogen alleen op vaste momenten examineren.",
                ask="Sta examens op afroep toe in een experiment.")
    one.rules = [
        ThemeRule(title="Examen- en kwalificatiebesluit beroepsopleidingen WEB", level="amvb",
                  source_url="https://wetten.overheid.nl/BWBR0010283",
                  existing_room="Experiment flexibilisering: examens op maat."),
        ThemeRule(title="Eigen examenreglement", level="bestuur"),
    ]
    two = Theme(area_code="overig", title="Teldatum bekostiging", description="Eén teldatum.")
    db.session.add_all([one, two])
    db.session.flush()

    def entry(title, obstacles, state=InitiativeState.PUBLISHED, **contact):
        item = make_initiative(
            state=state, commit=False, title=title, school_name=f"School {title}",
            obstacles=obstacles,
            contact=ContactData(name=f"C {title}", email=f"{title.lower()}@example.org",
                                consent_contact=True, **contact))
        return item

    def obstacle(**kw):
        return ObstacleData(area=kw.pop("area", "examineren"), title=kw.pop("title", "Juni"),
                            severity=kw.pop("severity", 3), **kw)

    items = {
        "open": entry("Openhuis", [obstacle(status="omzeild",
                                            workaround="WORKAROUND-MET-TOESTEMMING")],
                      consent_quotes=True, accepts_messages=True),
        "quiet": entry("Stilte", [obstacle(severity=4,
                                           workaround="WORKAROUND-ZONDER-TOESTEMMING")]),
        "erased": entry("Gewist", [obstacle(severity=1, workaround="WORKAROUND-GEWIST")],
                        consent_quotes=True),
        "secret": entry("Geheimhouding", [
            obstacle(title=SECRET[0], description=SECRET[1], workaround=SECRET[2],
                     policy_ask=SECRET[3], rule=SECRET[4], visibility="confidential"),
            obstacle(area="overig", title="Teldatum", severity=2)], consent_quotes=True),
        "pending": entry("Wachtend", [obstacle(workaround="WORKAROUND-WACHTEND")],
                         state=InitiativeState.PENDING, consent_quotes=True),
    }
    db.session.flush()
    for item in items.values():
        for o in item.obstacles:
            o.theme_id = two.id if o.area_code == "overig" else one.id
    items["erased"].contact.erased_at = utcnow()
    db.session.commit()
    return {"one": one, "two": two, **items}


# -- the page ----------------------------------------------------------------------------------

def test_the_page_shows_problem_rules_origin_room_ask_and_follow(client, world):
    one = world["one"]
    html = _page(client, one.id)
    assert "Examens alleen op vaste momenten" in html
    assert "Scholen mogen alleen op vaste momenten examineren." in html
    assert "Sta examens op afroep toe in een experiment." in html
    assert 'href="https://wetten.overheid.nl/BWBR0010283"' in html
    assert "Experiment flexibilisering: examens op maat." in html
    assert "AMvB" in html
    assert "Bestuur of school" in html
    assert "meer dan één niveau" in html  # mixed origins
    assert f'href="/volgen?theme={one.id}"' in html
    for heading in ("Het probleem", "Ruimte die er al is", "De vraag aan OCW", "Cijfers",
                    "Hoe andere scholen ermee omgaan", "Dit thema volgen"):
        assert f">{heading}</h2>" in html


def test_initiatives_facing_the_theme_and_the_relay(client, world):
    html = _page(client, world["one"].id)
    assert "Openhuis" in html
    assert "Stilte" in html
    assert "Gewist" in html
    assert "Wachtend" not in html  # not published
    assert f'href="/initiatieven/{world["open"].id}/contact"' in html
    assert f'/initiatieven/{world["quiet"].id}/contact"' not in html
    # worked around first: the school to ask
    assert html.index("Openhuis") < html.index("Stilte")


def test_workarounds_only_with_quote_consent(client, world):
    html = _page(client, world["one"].id)
    assert "WORKAROUND-MET-TOESTEMMING" in html
    assert "WORKAROUND-ZONDER-TOESTEMMING" not in html
    assert "WORKAROUND-GEWIST" not in html  # consent ends with erasure
    assert "WORKAROUND-WACHTEND" not in html
    # shown like a quote: sector and province, not the school
    quote = re.search(r'<blockquote class="quote">(.*?)</blockquote>', html, re.S).group(1)
    assert "WORKAROUND-MET-TOESTEMMING" in quote
    assert "Openhuis" not in quote
    world["open"].contact.consent_quotes = False
    db.session.commit()
    assert "WORKAROUND-MET-TOESTEMMING" not in _page(client, world["one"].id)


def test_a_confidential_obstacle_never_shows_or_lists_its_initiative(client, world):
    one, two = world["one"], world["two"]
    pages = {"one": _page(client, one.id), "two": _page(client, two.id),
             "index": client.get("/knelpunten/thema/").get_data(as_text=True),
             "detail": client.get(f"/initiatieven/{world['secret'].id}").get_data(as_text=True)}
    for name, html in pages.items():
        for marker in SECRET:
            assert marker not in html, (name, marker)
    assert "Geheimhouding" not in pages["one"]
    assert "Geheimhouding" in pages["two"]  # its public obstacle is in theme two
    assert f"/knelpunten/thema/{one.id}\"" not in pages["detail"]
    figures = _figures(pages["one"])
    assert figures["initiatives"] == 3
    assert figures["obstacles"] == 3


def test_unknown_themes_are_404(client, world):
    assert client.get("/knelpunten/thema/999999").status_code == 404
    assert client.get("/knelpunten/thema/abc").status_code == 404


def test_the_index_lists_every_theme(client, world):
    html = client.get("/knelpunten/thema/").get_data(as_text=True)
    for theme in (world["one"], world["two"]):
        assert f'href="/knelpunten/thema/{theme.id}"' in html
    assert html.index("Examineren") < html.index("Overig")  # taxonomy order of the areas


# -- links to the page ------------------------------------------------------------------------

def test_links_from_the_detail_page_and_the_map_filters(client, world):
    one = world["one"]
    link = f'href="/knelpunten/thema/{one.id}"'
    assert link in client.get(f"/initiatieven/{world['open'].id}").get_data(as_text=True)
    assert link not in client.get("/kaart").get_data(as_text=True)  # only a chosen theme
    for page in ("/kaart", "/kaart/provincies", "/knelpunten"):
        assert link in client.get(f"{page}?theme={one.id}").get_data(as_text=True), page


def test_the_summary_links_to_the_theme_pages(client, world):
    html = client.get("/knelpunten").get_data(as_text=True)
    for theme in (world["one"], world["two"]):
        assert f'href="/knelpunten/thema/{theme.id}"' in html


# -- both languages ---------------------------------------------------------------------------

def test_every_theme_has_a_page_in_both_languages(client, app):
    build_varied(random.Random(18), count=30)
    theme_ids = list(db.session.scalars(select(Theme.id)))
    assert len(theme_ids) >= 5
    for theme_id in theme_ids:
        html = _page(client, theme_id)
        assert '<html lang="nl">' in html
        assert ' lang="nl"' not in html.split("<body", 1)[1]  # no marks in the Dutch interface
    client.get("/taal/en")
    for theme_id in theme_ids:
        title = db.session.get(Theme, theme_id).title
        html = _page(client, theme_id)
        assert '<html lang="en">' in html
        # the curated content stays Dutch and says so
        assert re.search(rf'<span lang="nl">{re.escape(title)}</span></h1>', html)
        assert ">The problem</h2>" in html
        assert ">Follow this theme</h2>" in html
    index = client.get("/knelpunten/thema/").get_data(as_text=True)
    assert '<html lang="en">' in index
    assert "<h1>Obstacles by theme</h1>" in index
    assert all(f'href="/knelpunten/thema/{i}" lang="nl">' in index for i in theme_ids)
    client.get("/taal/nl")
    assert '<html lang="nl">' in _page(client, theme_ids[0])


# -- figures: an independent recomputation ----------------------------------------------------

def _figures(html: str) -> dict[str, int]:
    """The four key figures of a theme page, read from its count list."""
    block = re.search(r'<ul class="count-list"[^>]*>(.*?)</ul>', html, re.S).group(1)
    numbers = [int(n) for n in re.findall(r'<span class="count-number">(\d+)</span>', block)]
    return dict(zip(("schools", "initiatives", "learners", "obstacles"), numbers, strict=True))


def _expected(theme_id: int) -> dict:
    """Plain SQL: public obstacles in the theme of published entries."""
    rows = db.session.execute(text(
        "SELECT i.id, i.learners_count, o.brin, o.location_number, o.sector, o.province, "
        "ob.severity, ob.status "
        "FROM obstacle ob JOIN initiative i ON i.id = ob.initiative_id "
        "JOIN organisation o ON o.id = i.organisation_id "
        "WHERE i.state = 'published' AND ob.visibility = 'public' AND ob.theme_id = :t"),
        {"t": theme_id}).all()
    initiatives: dict[int, tuple] = {}
    for r in rows:
        initiatives[r[0]] = r
    return {
        "initiatives": len(initiatives),
        "schools": len({((r[2] or "").upper(), r[3]) for r in initiatives.values()}),
        "learners": sum(r[1] or 0 for r in initiatives.values()),
        "obstacles": len(rows),
        "severity": Counter(str(r[6]) for r in rows),
        "status": Counter(r[7] for r in rows),
        "sectors": Counter(r[4] for r in initiatives.values()),
        "provinces": Counter(r[5] for r in initiatives.values() if r[5] in PROVINCES),
    }


def test_figures_equal_a_recomputation_in_plain_sql(client, app):
    themes = build_varied(random.Random(7), count=60)
    # some reports confidential: they must count nowhere on the page
    obstacles = list(db.session.scalars(select(Obstacle).where(Obstacle.theme_id.is_not(None))
                                         .order_by(Obstacle.id)))
    for o in obstacles[::4]:
        o.visibility = "confidential"
    db.session.commit()
    with app.test_request_context():  # the Dutch labels the page shows
        tax = current_taxonomy()
        severity_labels = {k: str(SEVERITIES[int(k)]) for k in "1234"}
        status_labels = {k: str(v) for k, v in OBSTACLE_STATUSES.items()}
        sector_labels = {c: tax.label("sectors", c) for c in tax.codes("sectors")}
    checked = 0
    for theme in themes:
        expected = _expected(theme.id)
        html = _page(client, theme.id)
        assert _figures(html) == {k: expected[k] for k in
                                  ("schools", "initiatives", "learners", "obstacles")}
        tables = html_tables(html)
        by_severity = {row[0]: row[1] for row in tables["Meldingen naar ernst en status"][1:]}
        for k in "1234":
            assert by_severity[f"Ernst: {severity_labels[k]}"] == str(expected["severity"][k])
        for k in ("open", "omzeild", "opgelost"):
            assert by_severity[f"Status: {status_labels[k]}"] == str(expected["status"][k])
        sectors = {row[0]: int(row[1]) for row in tables.get("Initiatieven per sector", [[]])[1:]}
        assert sectors == {sector_labels[c]: n for c, n in expected["sectors"].items()}
        provinces = {row[0]: int(row[1])
                     for row in tables.get("Initiatieven per provincie", [[]])[1:]}
        assert provinces == dict(expected["provinces"])
        # the listed initiatives are exactly those with a public report in the theme
        listed = {int(i) for i in re.findall(
            r'<h3 class="card-title"><a href="/initiatieven/(\d+)"', html)}
        assert len(listed) == expected["initiatives"]
        checked += expected["obstacles"] > 0
    assert checked >= 4


def test_figures_equal_the_summary_for_the_theme(client, app):
    themes = build_varied(random.Random(3), count=30)
    for theme in themes:
        totals = compute_summary(theme_filter(theme.id), PUBLISHED)["totals"]
        figures = _figures(_page(client, theme.id))
        assert figures == {k: totals[k] for k in figures}


# -- staff -------------------------------------------------------------------------------------

def test_pilot_dossier_link_only_for_advisors(app, world, login):
    public = app.test_client()
    assert "/pilotdossier" not in _page(public, world["one"].id)
    assert "Voor adviseurs" not in _page(public, world["one"].id)
    advisor = app.test_client()
    login(advisor, "advisor")
    html = _page(advisor, world["one"].id)
    assert "Voor adviseurs" in html
    with app.test_request_context():
        assert f'href="{url_for("pilots.dossier", theme_id=world["one"].id)}"' in html
