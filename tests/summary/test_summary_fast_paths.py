"""The summary's fast paths (issue 11) change no figure.

- Every figure of ``compute_summary`` (lean records, the streamlined ``aggregate``) equals an
  independent recomputation from plain SQL rows (tests/summary/oracle.py), for a varied data
  set, many filters, public and exact figures, live data and a snapshot, with the changes
  since the previous snapshot.
- A computed summary is cached per version of the public data: the page, the downloads and
  the API share one computation, and any committed change (or an uncommitted one in the
  same session) gives a new computation - whose figures are again the oracle's.
"""
from __future__ import annotations

import random

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import MultiDict

from registry.extensions import db
from registry.moderation.models import Theme
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import create_snapshot
from registry.published.sources import PUBLISHED, SnapshotSource
from registry.submissions.models import Obstacle
from registry.submissions.services import ObstacleData
from registry.summary import figures, services
from registry.summary.services import compute_summary
from tests.exports import data as testdata
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES, make_initiative
from tests.summary import oracle
from tests.summary.oracle import PROVINCES, Args
from tests.summary.varied import build_varied

QUERIES = ["École", "een", "FRYSLAN", "straße", "ﬁets", "100%", "maat_2", "Examen", "k", ""]


def flt(args: Args) -> InitiativeFilter:
    return InitiativeFilter.from_args(MultiDict(args.query_string()))


def random_filters(rnd: random.Random, theme_ids: list[int], n: int) -> list[Args]:
    def some(values, most=2):
        return rnd.sample(list(values), rnd.randint(0, most)) if rnd.random() < 0.4 else []

    out = []
    for _ in range(n):
        dimension = rnd.choice(DIMENSION_CODES) if rnd.random() < 0.3 else None
        out.append(Args.of(
            sector=some(SECTOR_CODES, 3), area=some(AREA_CODES), theme=some(theme_ids),
            province=some(PROVINCES, 3), phase=some(PHASE_CODES), dimension=dimension,
            min_level=rnd.choice("0123"), q=rnd.choice(QUERIES) if rnd.random() < 0.3 else ""))
    return out


@pytest.fixture
def varied(app):
    """The varied data, a snapshot of it (and its plain rows), then changes: solved
    obstacles, a new theme, more initiatives."""
    app.config["SUMMARY_CACHE"] = False
    themes = build_varied(random.Random(4))
    snapshot = create_snapshot()  # so that "changes" compares with a previous snapshot
    db.session.commit()
    before = oracle.load(db.session)
    rnd = random.Random(5)
    for obstacle in db.session.scalars(select(Obstacle).order_by(Obstacle.id)):
        if rnd.random() < 0.2:
            obstacle.status = "opgelost"
    new_theme = Theme(area_code="overig", title="Thema na de momentopname")
    db.session.add(new_theme)
    db.session.flush()
    build_varied(rnd, count=15, themes=[*themes, new_theme])
    return {"themes": [t.id for t in themes] + [new_theme.id], "snapshot": snapshot,
            "before": before}


def test_summary_figures_match_an_independent_recomputation(app, varied):
    rows = oracle.load(db.session)
    t0, t3 = varied["themes"][0], varied["themes"][3]
    fixed = [Args.of(a) for a in (
        {}, {"area": "examineren"}, {"theme": t0}, {"theme": t3}, {"theme": [t0, t3]},
        {"sector": "mbo", "area": "diplomeren"}, {"province": "Utrecht"},
        {"province": "Fryslân"}, {"phase": "idee"}, {"q": "École"}, {"q": "EEN"},
        {"dimension": "doelen", "min_level": "2"}, {"dimension": "tempo", "min_level": "0"},
        {"area": ["examineren", "overig"], "sector": ["po", "vo", "mbo"]},
    )]
    cases = fixed + random_filters(random.Random(6), varied["themes"], 26)
    snap = SnapshotSource(varied["snapshot"])
    nonempty = 0
    for args in cases:
        for exact in (False, True):
            live = compute_summary(flt(args), PUBLISHED, exact=exact)
            expected = oracle.summary(rows, args,
                                      previous=varied["before"])
            for key, value in oracle.comparable(live).items():
                assert value == expected[key], (args, exact, key)
            frozen = compute_summary(flt(args), snap, exact=exact)
            expected = oracle.summary(varied["before"], args)
            for key, value in oracle.comparable(frozen).items():
                assert value == expected[key], ("snapshot", args, exact, key)
            nonempty += bool(live["entries"])
    assert nonempty > len(cases)  # most filters select something
    everything = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    changes = everything["changes"]
    assert changes["previous"] == varied["snapshot"].code
    assert changes["solved_obstacles"] > 0
    assert changes["new_obstacles"] > 0
    assert {"id": varied["themes"][-1], "title": "Thema na de momentopname"} in (
        changes["new_themes"])
    # The data reaches every cut-off and merges spellings.
    assert len(everything["quotes"]) == oracle.MAX_QUOTES
    assert len(everything["top_rules"]) >= 4
    assert any(g["asks"] and len(g["asks"]) < 4 for g in everything["policy_asks"])
    # Every origin row counts reports; a report counts at each level of its theme.
    origins = {o["level"]: o for o in everything["origins"]}
    assert all(o["obstacles"] for o in everything["origins"])
    assert sum(o["obstacles"] for o in everything["origins"]) > everything["totals"]["obstacles"]
    assert origins["toezicht"]["mixed_themes"] == origins["toezicht"]["themes"] == 1
    key = everything["key_message"]
    assert len(key["themes"]) == oracle.TOP_THEMES
    assert [t["schools"] for t in key["themes"]] == sorted(
        (t["schools"] for t in key["themes"]), reverse=True)
    assert all(t["schools_change"] is not None for t in key["themes"])
    assert any(t["schools_change"] for t in key["themes"])
    assert any(t["quote"] for t in key["themes"])
    assert key["new_themes"] == changes["new_themes"]


def test_no_cut_off_every_rule_ask_and_quote_is_the_oracles(app, varied, monkeypatch):
    """Without the cut-offs every rule, ask and quote is compared (not only the first)."""
    for module, names in ((services, ("MAX_QUOTES", "TOP_RULES", "MAX_ASKS_PER_THEME")),
                          (oracle, ("MAX_QUOTES", "TOP_RULES", "MAX_ASKS"))):
        for name in names:
            monkeypatch.setattr(module, name, 10_000)
    rows = oracle.load(db.session)
    for args in [Args(), Args.of(area="examineren"), Args.of(q="een", sector=["po", "mbo"])]:
        live = compute_summary(flt(args), PUBLISHED, exact=True)
        expected = oracle.summary(rows, args, previous=varied["before"])
        for key in ("top_rules", "policy_asks", "quotes"):
            assert live[key] == expected[key], (args, key)
    assert len(compute_summary(InitiativeFilter.empty(), PUBLISHED)["quotes"]) > 30


def test_columns_read_in_many_slices_give_the_oracles_figures(app, varied, monkeypatch):
    """On PostgreSQL the facts come in slices of ``CHUNK`` ids, one result row each (a
    single row of every value kept 20 MB in each pooled connection): with slices of three
    ids, every figure is still the oracle's, read from the slices (not the row-by-row
    fallback)."""
    monkeypatch.setattr(figures, "CHUNK", 3)

    def no_fallback(*_args, **_kwargs):
        raise AssertionError("the columns were read row by row")

    monkeypatch.setattr(figures, "_fetch_rows", no_fallback)
    grouped: list[int] = []

    def count_rows(conn, cursor, statement, parameters, context, executemany):
        if "string_agg" in statement and "GROUP BY" in statement:
            grouped.append(cursor.rowcount)

    event.listen(db.engine, "after_cursor_execute", count_rows)
    try:
        rows = oracle.load(db.session)
        for args in [Args(), Args.of(area="examineren"), Args.of(q="een", sector=["po", "mbo"])]:
            for exact in (False, True):
                live = compute_summary(flt(args), PUBLISHED, exact=exact)
                expected = oracle.summary(rows, args, previous=varied["before"])
                for key, value in oracle.comparable(live).items():
                    assert value == expected[key], (args, exact, key)
    finally:
        event.remove(db.engine, "after_cursor_execute", count_rows)
    if db.engine.dialect.name == "postgresql":
        assert grouped
        assert max(grouped) > 10  # many slices, each a row of its own
    else:
        assert grouped == []  # SQLite: one row, no grouping (it would sort every row)


# --- the cache ------------------------------------------------------------------------------

@pytest.fixture
def counted(app, monkeypatch):
    """Counts computations (calls of ``aggregate``)."""
    calls: list[int] = []
    aggregate = services.aggregate

    def counting(*args, **kwargs):
        calls.append(1)
        return aggregate(*args, **kwargs)

    monkeypatch.setattr(services, "aggregate", counting)
    services.summary_cache.clear()
    yield calls
    services.summary_cache.clear()


def expected_summary(app, args: Args | None = None, *, exact: bool) -> dict:
    rows = oracle.load(db.session)
    return oracle.summary(rows, args or Args())


def assert_oracle(app, computed: dict, args: Args | None = None, *, exact: bool) -> None:
    assert oracle.comparable(computed) == expected_summary(app, args, exact=exact)


def test_cached_summary_is_replaced_after_a_change(app, counted):
    data = testdata.build()
    first = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    again = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    # Staff figures are one computation; their texts and annex are the public summary's
    # (a second one, cached for the public).
    assert len(counted) == 2
    assert_oracle(app, again, exact=True)
    assert again["meta"]["generated_at"] >= first["meta"]["generated_at"]
    # Other filters, exactness and thresholds are computed (and cached) on their own.
    assert_oracle(app, compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=False),
                  exact=False)
    examineren = Args.of(area="examineren")
    assert_oracle(app, compute_summary(flt(examineren), PUBLISHED, exact=True), examineren,
                  exact=True)
    assert len(counted) == 4
    app.config["SMALL_NUMBER_THRESHOLD"] = 4
    assert_oracle(app, compute_summary(InitiativeFilter.empty(), PUBLISHED), exact=False)
    assert len(counted) == 5

    obstacle = data.a.obstacles[0]
    assert obstacle.status != "opgelost"
    obstacle.status = "opgelost"
    db.session.commit()
    changed = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert len(counted) == 7
    assert_oracle(app, changed, exact=True)
    assert changed["totals"]["solved"] == first["totals"]["solved"] + 1

    make_initiative(obstacles=[ObstacleData(area="overig", title="Nieuw", severity=1)])
    grown = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert len(counted) == 9
    assert_oracle(app, grown, exact=True)
    assert grown["totals"]["initiatives"] == changed["totals"]["initiatives"] + 1


def test_uncommitted_changes_are_not_served_from_the_cache(app, counted):
    data = testdata.build()
    before = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert_oracle(app, before, exact=True)
    data.a.obstacles[0].status = "opgelost"
    db.session.flush()  # flushed, not committed: the data version is still the old one
    during = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert_oracle(app, during, exact=True)  # the oracle reads the flushed rows too
    assert during["totals"]["solved"] == before["totals"]["solved"] + 1
    db.session.rollback()
    after = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert_oracle(app, after, exact=True)
    assert after["totals"] == before["totals"]


def test_page_downloads_and_api_share_one_computation(client, counted):
    testdata.build()
    assert client.get("/knelpunten").status_code == 200
    for path in ("/knelpunten/knelpuntenoverzicht.docx", "/knelpunten/knelpuntenoverzicht.xlsx",
                 "/api/v1/statistics"):
        assert client.get(path).status_code == 200, path
    assert len(counted) == 1
    expected = expected_summary(client.application, exact=False)
    assert client.get("/api/v1/statistics").get_json()["totals"] == expected["totals"]
    assert len(counted) == 1
