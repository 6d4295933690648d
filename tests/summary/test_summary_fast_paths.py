"""The summary's fast paths (issue 11) change no figure.

- Live data is read as lean records (``registry.summary.records``): every figure equals the
  one computed from complete export records, for a varied data set and many filters.
- A computed summary is cached per version of the public data: the page, the downloads and
  the API share one computation, and any committed change (or an uncommitted one in the
  same session) gives a new computation.
"""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from registry.database import utcnow
from registry.exports.records import live_initiatives
from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.models import Obstacle
from registry.submissions.services import ContactData, ObstacleData
from registry.summary import services
from registry.summary.services import compute_summary, create_snapshot
from registry.taxonomy.constants import InitiativeState
from tests.exports import data as testdata
from tests.factories import make_initiative

AREAS = ["examineren", "diplomeren", "kwalificeren", "valideren", "certificeren", "overig"]
RULES = ["Examenbesluit", "  examenbesluit. ", "WEB art. 7.4.6", "Wet op het primair onderwijs",
         "", "   ", "Één regel met accenten"]
ASKS = ["Ruimte om te experimenteren", "ruimte  om te experimenteren", "Flexibele examens", ""]
KEYS = ("totals", "areas", "themes", "categories", "top_rules", "policy_asks", "quotes",
        "quarters", "changes", "entries")


def flt(**args) -> InitiativeFilter:
    return InitiativeFilter.from_args(MultiDict(args))


def build_varied(rnd: random.Random, count: int = 70) -> list[Theme]:
    """Initiatives over all areas, themes with rules at several levels (and none), rules and
    asks in several spellings, consents, unknown provinces, unpublished ones, erased contacts."""
    themes = []
    for i, level in enumerate(["wet", "sectorafspraak", "bestuur", None, "amvb"]):
        theme = Theme(area_code=AREAS[i], title=f"Thema {i}",
                      rules=[ThemeRule(title=f"Regel {i}", level=level)] if level else [])
        db.session.add(theme)
        themes.append(theme)
    db.session.commit()
    for n in range(count):
        obstacles = [
            ObstacleData(area=rnd.choice(AREAS), title=f"K{n}.{i}", severity=rnd.randint(1, 4),
                         status=rnd.choice(["open", "omzeild", "opgelost"]),
                         description=rnd.choice(["", "Een citaat.", "  Nog een citaat  "]),
                         rule=rnd.choice(RULES), policy_ask=rnd.choice(ASKS))
            for i in range(rnd.randint(1, 4))]
        state = (InitiativeState.PUBLISHED if rnd.random() < 0.85
                 else rnd.choice([InitiativeState.PENDING, InitiativeState.WITHDRAWN]))
        initiative = make_initiative(
            state=state, commit=False, obstacles=obstacles, sector=rnd.choice(["po", "vo", "mbo"]),
            learners_count=rnd.choice([None, 0, 25, 300]), phase=rnd.choice(["pilot", "idee"]),
            brin=rnd.choice(["11AA", "22bb", "33CC"]),
            contact=ContactData(name=f"C{n}", email=f"c{n}@example.org",
                                consent_quotes=rnd.random() < 0.5))
        initiative.organisation.location_number = rnd.choice(["01", "02", None])
        initiative.organisation.province = rnd.choice(["Utrecht", "Gelderland", None, ""])
        if rnd.random() < 0.1:  # erased: no quotes even with consent
            initiative.contact.erased_at = utcnow()
            initiative.contact.consent_quotes = True
        for obstacle in initiative.obstacles:
            if rnd.random() < 0.6:
                obstacle.theme_id = rnd.choice(themes).id
            obstacle.created_at = utcnow() - timedelta(days=rnd.randint(0, 400))
        if state == InitiativeState.PUBLISHED:
            initiative.published_at = utcnow() - timedelta(days=rnd.randint(0, 400))
        db.session.commit()
    return themes


def reference_aggregate(records, flt_, themes):
    """``aggregate`` as it was before issue 11 (one lookup per obstacle for everything)."""
    from collections import Counter, defaultdict
    from datetime import datetime

    from registry.exports.records import obstacle_in_scope
    from registry.summary.services import Tally, _normalise_rule, theme_category

    def quarter_of(iso):
        if not iso:
            return None
        value = datetime.fromisoformat(iso)
        return f"{value.year}-K{(value.month - 1) // 3 + 1}"

    theme_by_id = {t["id"]: t for t in themes}
    totals = Tally()
    areas, per_theme, categories = defaultdict(Tally), defaultdict(Tally), defaultdict(Tally)
    rules, asks, quotes = {}, defaultdict(dict), []
    quarters = defaultdict(Counter)
    obstacle_status, theme_ids, provinces, entries = {}, set(), set(), []
    for rec in records:
        in_scope = [o for o in rec["obstacles"] if obstacle_in_scope(flt_, o)]
        school = rec["school"]
        quarter = quarter_of(rec["published_at"])
        if quarter:
            quarters[quarter]["initiatives"] += 1
        if school["province"]:
            provinces.add(school["province"])
        entries.append({
            "id": rec["id"], "reference": rec["reference"], "title": rec["title"],
            "school": school["name"], "sector": school["sector"],
            "province": school["province"], "obstacles": len(in_scope),
        })
        for o in in_scope:
            totals.add(rec, o)
            areas[o["area"]].add(rec, o)
            theme = theme_by_id.get(o["theme_id"]) if o["theme_id"] is not None else None
            if theme is not None:
                per_theme[theme["id"]].add(rec, o)
                categories[theme_category(theme)].add(rec, o)
                theme_ids.add(theme["id"])
            else:
                categories["onbekend"].add(rec, o)
            obstacle_status[o["id"]] = o["status"]
            oq = quarter_of(o["reported_at"])
            if oq:
                quarters[oq]["obstacles"] += 1
            if o["rule"].strip():
                key = _normalise_rule(o["rule"])
                entry = rules.setdefault(key, {"rule": " ".join(o["rule"].split()),
                                               "obstacles": 0, "initiatives": set()})
                entry["obstacles"] += 1
                entry["initiatives"].add(rec["id"])
            if o["policy_ask"].strip():
                group = asks[theme["id"] if theme is not None else None]
                text = " ".join(o["policy_ask"].split())
                item = group.setdefault(text.casefold(), {"text": text, "count": 0})
                item["count"] += 1
            if (rec["consent_quotes"] and o["description"].strip()
                    and len(quotes) < services.MAX_QUOTES):
                quotes.append({
                    "text": o["description"].strip(), "area": o["area"],
                    "theme_id": theme["id"] if theme is not None else None,
                    "sector": school["sector"], "province": school["province"],
                })
    return {
        "totals": totals, "areas": areas, "themes": per_theme, "categories": categories,
        "rules": rules, "asks": asks, "quotes": quotes, "quarters": quarters,
        "obstacle_status": obstacle_status, "theme_ids": theme_ids, "provinces": provinces,
        "entries": entries,
    }


@pytest.fixture
def varied(app):
    app.config["SUMMARY_CACHE"] = False
    themes = build_varied(random.Random(4))
    create_snapshot()  # so that "changes" compares with a previous snapshot
    db.session.commit()
    rnd = random.Random(5)
    for obstacle in db.session.scalars(select(Obstacle).order_by(Obstacle.id)):
        if rnd.random() < 0.2:
            obstacle.status = "opgelost"
    build_varied(rnd, count=15)
    return themes


def test_fast_path_gives_the_same_summary_as_before(varied, monkeypatch):
    """Lean records and the streamlined ``aggregate`` against complete records and the
    original loop, with no cut-off on quotes, rules or asks (so every one is compared)."""
    monkeypatch.setattr(services, "MAX_QUOTES", 10_000)
    monkeypatch.setattr(services, "TOP_RULES", 10_000)
    monkeypatch.setattr(services, "MAX_ASKS_PER_THEME", 10_000)
    t0, t1 = varied[0].id, varied[3].id
    filters = [{}, {"area": "examineren"}, {"theme": str(t0)}, {"theme": str(t1)},
               {"sector": "mbo", "area": "diplomeren"}, {"province": "Utrecht"},
               {"phase": "idee"}, {"q": "K1"}, {"dimension": "doelen", "min_level": "2"}]
    for args in filters:
        for exact in (False, True):
            fast = compute_summary(flt(**args), exact=exact)
            with monkeypatch.context() as m:
                m.setattr(services, "summary_records", live_initiatives)
                m.setattr(services, "aggregate", reference_aggregate)
                before = compute_summary(flt(**args), exact=exact)
            for key in KEYS:
                assert fast[key] == before[key], (args, key)
    everything = compute_summary(InitiativeFilter.empty())
    assert everything["changes"]["previous"] and everything["changes"]["solved_obstacles"] > 0
    assert len(everything["quotes"]) > 30 and len(everything["top_rules"]) >= 4
    assert any(len(group["asks"]) < 3 for group in everything["policy_asks"])  # merged forms


@pytest.fixture
def counted(app, monkeypatch):
    """Counts computations (calls of ``aggregate`` on live data)."""
    calls: list[int] = []
    aggregate = services.aggregate

    def counting(*args, **kwargs):
        calls.append(1)
        return aggregate(*args, **kwargs)

    monkeypatch.setattr(services, "aggregate", counting)
    services.summary_cache.clear()
    yield calls
    services.summary_cache.clear()


def test_cached_summary_is_replaced_after_a_change(app, counted):
    data = testdata.build()
    first = compute_summary(InitiativeFilter.empty(), exact=True)
    again = compute_summary(InitiativeFilter.empty(), exact=True)
    assert len(counted) == 1
    assert {k: again[k] for k in KEYS} == {k: first[k] for k in KEYS}
    assert again["meta"]["generated_at"] >= first["meta"]["generated_at"]
    # Other filters, exactness and thresholds are computed (and cached) on their own.
    compute_summary(InitiativeFilter.empty(), exact=False)
    compute_summary(flt(area="examineren"), exact=True)
    assert len(counted) == 3

    obstacle = data.a.obstacles[0]
    assert obstacle.status != "opgelost"
    obstacle.status = "opgelost"
    db.session.commit()
    changed = compute_summary(InitiativeFilter.empty(), exact=True)
    assert len(counted) == 4
    assert changed["totals"]["solved"] == first["totals"]["solved"] + 1

    make_initiative(obstacles=[ObstacleData(area="overig", title="Nieuw", severity=1)])
    grown = compute_summary(InitiativeFilter.empty(), exact=True)
    assert len(counted) == 5
    assert grown["totals"]["initiatives"] == changed["totals"]["initiatives"] + 1


def test_uncommitted_changes_are_not_served_from_the_cache(app, counted):
    data = testdata.build()
    before = compute_summary(InitiativeFilter.empty(), exact=True)
    data.a.obstacles[0].status = "opgelost"
    db.session.flush()  # flushed, not committed: the data version is still the old one
    during = compute_summary(InitiativeFilter.empty(), exact=True)
    assert during["totals"]["solved"] == before["totals"]["solved"] + 1
    db.session.rollback()
    assert compute_summary(InitiativeFilter.empty(), exact=True)["totals"] == before["totals"]


def test_page_downloads_and_api_share_one_computation(client, counted):
    testdata.build()
    assert client.get("/knelpunten").status_code == 200
    for path in ("/knelpunten/knelpuntenoverzicht.docx", "/knelpunten/knelpuntenoverzicht.xlsx",
                 "/api/v1/statistics"):
        assert client.get(path).status_code == 200, path
    assert len(counted) == 1
