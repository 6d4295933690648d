"""Issue 18: rule origin per rule (not per theme), the key message, reports over time by the
date the school reported, and the filter in words - against the independent oracle."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from registry.extensions import db
from registry.moderation import services as moderation
from registry.moderation.models import Theme, ThemeRule
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import create_snapshot
from registry.published.sources import PUBLISHED
from registry.submissions.services import ContactData, ObstacleData
from registry.summary import services
from registry.summary.labels import filter_words
from registry.summary.services import compute_summary
from tests.factories import make_initiative
from tests.summary import oracle
from tests.summary.oracle import Args

QUOTE = "Wij moeten wachten op het vaste examenmoment."
SECRET = "Wij examineren stiekem op afroep."


def flt(**args) -> InitiativeFilter:
    return InitiativeFilter.from_args(MultiDict(args))


def obstacle(area="examineren", severity=3, **kw) -> ObstacleData:
    kw.setdefault("title", "Vaste examens")
    return ObstacleData(area=area, severity=severity, **kw)


def contact(n: int, quotes: bool = False) -> ContactData:
    return ContactData(name=f"Contact {n}", email=f"c{n}@example.org", consent_quotes=quotes)


@pytest.fixture
def world(app):
    """A mixed theme (wet + toezicht + bestuur) at three schools, a sector-agreement theme at
    two, a theme without rules at one, and an unthemed report. School 1 consents to quotes;
    school 3 also has a confidential report in the mixed theme, with consent."""
    app.config["SUMMARY_CACHE"] = False
    mixed = Theme(area_code="examineren", title="Examens op vaste momenten",
                  description="Lerenden wachten op vaste examenmomenten.",
                  ask="Sta examens op afroep toe in een pilot.", rules=[
                      ThemeRule(title="WEB art. 7.4.8", level="wet",
                                source_url="https://wetten.overheid.nl/BWBR0007625"),
                      ThemeRule(title="Onderzoekskader", level="toezicht"),
                      ThemeRule(title="Eigen examenreglement", level="bestuur",
                                existing_room="De examencommissie mag afroep toestaan.")])
    sector = Theme(area_code="kwalificeren", title="Starre kwalificatiedossiers",
                   rules=[ThemeRule(title="Kwalificatiedossier", level="sectorafspraak")])
    bare = Theme(area_code="overig", title="Roosters")
    db.session.add_all([mixed, sector, bare])
    db.session.flush()
    one = make_initiative(commit=False, brin="11AA", learners_count=100,
                          contact=contact(1, quotes=True), obstacles=[
                              obstacle(severity=4, description=QUOTE),
                              obstacle("kwalificeren", 2, description="Geen ruimte."),
                              obstacle("diplomeren", 1)])
    two = make_initiative(commit=False, brin="22BB", sector="vo", learners_count=50,
                          obstacles=[obstacle(severity=2, description="Niet geciteerd."),
                                     obstacle("kwalificeren", 3)])
    three = make_initiative(commit=False, brin="33CC", learners_count=10,
                            contact=contact(3, quotes=True), obstacles=[
                                obstacle(severity=1),
                                obstacle(severity=4, description=SECRET,
                                         visibility="confidential"),
                                obstacle("overig", 2)])
    one.obstacles[0].theme_id = two.obstacles[0].theme_id = mixed.id
    three.obstacles[0].theme_id = three.obstacles[1].theme_id = mixed.id
    one.obstacles[1].theme_id = two.obstacles[1].theme_id = sector.id
    three.obstacles[2].theme_id = bare.id
    db.session.commit()
    return {"mixed": mixed, "sector": sector, "bare": bare, "one": one, "two": two,
            "three": three}


def test_a_mixed_theme_counts_at_each_of_its_levels(app, world):
    s = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    assert oracle.comparable(s) == oracle.summary(oracle.load(db.session), Args())
    rows = {o["level"]: o for o in s["origins"]}
    mixed_reports = 3  # public reports in the mixed theme
    for level in ("wet", "toezicht", "bestuur"):
        assert rows[level]["obstacles"] == mixed_reports, level
        assert (rows[level]["themes"], rows[level]["mixed_themes"]) == (1, 1), level
    assert rows["toezicht"]["group"] == "toezicht_sector"
    assert rows["bestuur"]["group"] == "school"
    assert rows["sectorafspraak"]["obstacles"] == 2
    assert rows["sectorafspraak"]["group"] == "toezicht_sector"
    assert (rows["sectorafspraak"]["themes"], rows["sectorafspraak"]["mixed_themes"]) == (1, 0)
    assert rows["amvb"]["obstacles"] == rows["ministeriele_regeling"]["obstacles"] == 0
    # no theme (diplomeren) and a theme without rules (Roosters)
    assert (rows["onbekend"]["obstacles"], rows["onbekend"]["themes"]) == (2, 1)
    # a report counts at every level of its theme: the rows do not add up to the total
    assert sum(r["obstacles"] for r in s["origins"]) == 3 * 3 + 2 + 2
    assert s["totals"]["obstacles"] == 7
    theme = next(t for t in s["themes"] if t["id"] == world["mixed"].id)
    assert (theme["origins"], theme["mixed"]) == (["wet", "toezicht", "bestuur"], True)


def test_staff_origins_count_confidential_reports(app, world):
    staff = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    rows = {o["level"]: o for o in staff["origins"]}
    assert rows["toezicht"]["obstacles"] == 4
    expected = oracle.summary(oracle.load(db.session, confidential=True), Args(),
                              public=oracle.load(db.session))
    assert oracle.comparable(staff) == expected


def test_key_message(app, world):
    s = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    key = s["key_message"]
    assert key["figures"] == {"initiatives": 3, "schools": 3, "learners": 160, "reports": 7,
                              "themes": 3}
    assert [t["title"] for t in key["themes"]] == [
        "Examens op vaste momenten",  # 3 schools
        "Starre kwalificatiedossiers",  # 2 schools
        "Roosters"]
    top = key["themes"][0]
    assert top["problem"] == "Lerenden wachten op vaste examenmomenten."
    assert top["ask"] == "Sta examens op afroep toe in een pilot."
    assert top["rules"][0] == {"title": "WEB art. 7.4.8", "level": "wet",
                               "group": "regelgeving",
                               "source_url": "https://wetten.overheid.nl/BWBR0007625",
                               "existing_room": ""}
    assert [r["group"] for r in top["rules"]] == ["regelgeving", "toezicht_sector", "school"]
    assert top["rules"][2]["existing_room"] == "De examencommissie mag afroep toestaan."
    assert (top["origins"], top["mixed"]) == (["wet", "toezicht", "bestuur"], True)
    assert top["quote"] == {"text": QUOTE, "sector": "mbo",
                            "province": world["one"].organisation.province}
    assert (top["schools"], top["reports"], top["learners"]) == (3, 3, 160)
    assert top["severe_share"] == pytest.approx(1 / 3)
    assert top["sectors"] == {"vo": 1, "mbo": 2}
    assert top["schools_change"] is None  # no snapshot yet
    # each theme its own quote: school 1's report in that theme
    assert key["themes"][1]["quote"]["text"] == "Geen ruimte."
    assert key["themes"][1]["ask"] == ""
    assert key["themes"][2]["quote"] is None  # school 3 consents, but wrote no text
    assert key["new_themes"] == []


def test_key_message_for_staff_counts_confidential_reports_but_quotes_public_ones(app, world):
    """Staff figures include the confidential report; the quote never comes from it (not
    even when it is the only consented text of a theme)."""
    three = world["three"]
    three.obstacles[1].theme_id = world["bare"].id  # the confidential report alone...
    three.obstacles[1].area_code = "overig"
    three.obstacles[2].description = ""  # ...and the theme has no public text
    db.session.commit()
    staff = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    public = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    bare = next(t for t in staff["key_message"]["themes"] if t["title"] == "Roosters")
    assert bare["reports"] == 2
    assert bare["quote"] is None
    assert next(t for t in public["key_message"]["themes"]
                if t["title"] == "Roosters")["reports"] == 1
    for summary in (staff, public):
        assert SECRET not in str(summary["key_message"])
    rows, pub = oracle.load(db.session, confidential=True), oracle.load(db.session)
    assert oracle.comparable(staff) == oracle.summary(rows, Args(), public=pub)
    assert oracle.comparable(public) == oracle.summary(pub, Args())


def test_key_message_ranking_ties_and_many_filters(app, world):
    """Ties on schools are broken by the share of severity 3-4; the top five only; the same
    as the oracle under filters."""
    for n in range(6):
        theme = Theme(area_code="valideren", title=f"Thema {n}")
        db.session.add(theme)
        db.session.flush()
        item = make_initiative(commit=False, brin=f"{40 + n}VV", obstacles=[
            obstacle("valideren", severity=4 if n % 2 else 1)])
        item.obstacles[0].theme_id = theme.id
    db.session.commit()
    s = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    titles = [t["title"] for t in s["key_message"]["themes"]]
    assert len(titles) == services.TOP_THEMES == oracle.TOP_THEMES
    # after the two themes with more schools: the severe one-school themes, by title
    assert titles == ["Examens op vaste momenten", "Starre kwalificatiedossiers",
                      "Thema 1", "Thema 3", "Thema 5"]
    rows = oracle.load(db.session)
    for args in ({}, {"area": "examineren"}, {"sector": "vo"}, {"theme": str(world["mixed"].id)},
                 {"area": ["valideren", "overig"]}, {"q": "thema"}):
        expected = oracle.summary(rows, Args.of(args))
        got = compute_summary(flt(**args), PUBLISHED)
        assert got["key_message"] == expected["key_message"], args
        assert got["origins"] == expected["origins"], args


def test_key_message_says_what_changed_since_the_previous_snapshot(app, world):
    create_snapshot()
    db.session.commit()
    before = oracle.load(db.session)
    new_theme = Theme(area_code="certificeren", title="Geen certificaten",
                      rules=[ThemeRule(title="Regeling keuzedelen",
                                       level="ministeriele_regeling")])
    db.session.add(new_theme)
    db.session.flush()
    four = make_initiative(commit=False, brin="44DD", obstacles=[
        obstacle(), obstacle("certificeren")])
    four.obstacles[0].theme_id = world["mixed"].id
    four.obstacles[1].theme_id = new_theme.id
    db.session.commit()
    s = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    key = s["key_message"]
    assert key["new_themes"] == [{"id": new_theme.id, "title": "Geen certificaten"}]
    by_title = {t["title"]: t for t in key["themes"]}
    assert by_title["Examens op vaste momenten"]["schools_change"] == 1
    assert by_title["Starre kwalificatiedossiers"]["schools_change"] == 0
    assert by_title["Geen certificaten"]["schools_change"] == 1
    assert oracle.comparable(s) == oracle.summary(oracle.load(db.session), Args(),
                                                  previous=before)


def test_reports_over_time_use_the_date_the_school_reported(app, world):
    """An entry confirmed in 2025-K1 with an obstacle added in 2025-K4: each report counts in
    its own quarter, whatever the row's creation date."""
    item = make_initiative(commit=False, brin="55EE", title="Tijdlijn",
                           obstacles=[obstacle(), obstacle()])
    item.published_at = datetime(2025, 2, 10, tzinfo=UTC)
    item.obstacles[0].reported_at = datetime(2025, 2, 3, tzinfo=UTC)
    item.obstacles[1].reported_at = datetime(2025, 11, 20, tzinfo=UTC)
    for o in item.obstacles:
        o.created_at = datetime(2026, 1, 1, tzinfo=UTC)  # a row written later (a migration)
    db.session.commit()
    quarters = {q["quarter"]: q for q in compute_summary(
        flt(q=item.title), PUBLISHED)["quarters"]}
    assert quarters == {
        "2025-K1": {"quarter": "2025-K1", "initiatives": 1, "obstacles": 1},
        "2025-K4": {"quarter": "2025-K4", "initiatives": 0, "obstacles": 1}}
    # An obstacle a moderator adds later to the confirmed entry is reported now.
    from registry.history import services as history

    data = history.data_from_snapshot(history.snapshot(item), item.language)
    data.obstacles.append(obstacle("overig", title="Later gemeld"))
    moderation.edit(item, data, expected_version=item.version_id, actor=None)
    db.session.commit()
    added = next(o for o in item.obstacles if o.title == "Later gemeld")
    assert added.reported_at is not None
    assert datetime.now(UTC) - oracle._when(added.reported_at) < timedelta(minutes=5)
    s = compute_summary(flt(q=item.title), PUBLISHED)
    assert s["quarters"] == oracle.summary(oracle.load(db.session),
                                           Args.of(q=item.title))["quarters"]
    assert sum(q["obstacles"] for q in s["quarters"]) == 3


@pytest.mark.parametrize(("lang", "empty", "words"), [
    ("nl", "alle initiatieven",
     "Provincie: Limburg, Utrecht; Sector: mbo, vo; Gebied: Examineren; "
     "Thema: Examens op vaste momenten; Fase: Pilot; Dimensie: Leerdoelen (wat), niveau 2 of "
     "hoger (nu of als ambitie); Zoekterm: “eigen tempo”"),
    ("en", "all initiatives",
     "Province: Limburg, Utrecht; Sector: mbo, vo; Area: Examinations; "
     "Theme: Examens op vaste momenten; Phase: Pilot; Dimension: Learning goals (what), level "
     "2 or higher (now or as ambition); Search: “eigen tempo”"),
])
def test_filter_in_words(app, world, lang, empty, words):
    args = {"province": ["Utrecht", "Limburg"], "sector": ["vo", "mbo"], "area": "examineren",
            "theme": str(world["mixed"].id), "phase": "pilot", "dimension": "doelen",
            "min_level": "2", "q": "eigen tempo"}
    with app.app_context(), app.test_request_context(f"/?lang={lang}"):
        assert filter_words(InitiativeFilter.empty()) == empty
        got = filter_words(flt(**args), {world["mixed"].id: "Examens op vaste momenten"})
        summary = compute_summary(flt(**args), PUBLISHED)
    assert got == words
    assert summary["meta"]["filter_words"] == words


def test_filter_words_follow_the_language_of_a_cached_summary(app, world, monkeypatch):
    app.config["SUMMARY_CACHE"] = True
    services.summary_cache.clear()
    calls = []
    aggregate = services.aggregate
    monkeypatch.setattr(services, "aggregate",
                        lambda *a, **k: calls.append(1) or aggregate(*a, **k))
    # (a fresh application context each, as each request has: the locale is kept on it)
    with app.app_context(), app.test_request_context("/?lang=nl"):
        dutch = compute_summary(flt(province="Limburg"), PUBLISHED)
    with app.app_context(), app.test_request_context("/?lang=en"):
        english = compute_summary(flt(province="Limburg"), PUBLISHED)
    assert dutch["meta"]["filter_words"] == "Provincie: Limburg"
    assert english["meta"]["filter_words"] == "Province: Limburg"
    assert len(calls) == 1  # one computation, served in both languages
    assert "_theme_quotes" not in english
    assert "_filter_themes" not in english
    services.summary_cache.clear()
    # outside a request (the CLI): Dutch
    assert compute_summary(InitiativeFilter.empty(), PUBLISHED)["meta"]["filter_words"] == (
        "alle initiatieven")
