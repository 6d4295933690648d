"""The summary computed by the database and numpy (issue 20), checked three ways:

- against the independent oracle (tests/summary/oracle.py: plain SQL rows, brute-force
  Python) for filters hypothesis chooses, public and staff figures, live data and a
  snapshot, on data with confidential reports and schools without an institution code;
- the national table (staff: exact) against a brute-force recount written here;
- computed once per data version for every worker: a second app on the same database,
  with its own process caches empty, reads the stored result and computes nothing; a
  public change makes both compute anew.
"""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text

from registry import create_app
from registry.cache import clear_shared_results
from registry.extensions import db
from registry.moderation.models import Theme
from registry.moderation.services import theme_stats
from registry.pilots.services import dossier
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import create_snapshot
from registry.published.sources import PUBLISHED, SnapshotSource
from registry.submissions.models import Initiative, Obstacle
from registry.submissions.services import ObstacleData
from registry.summary import figures, services
from registry.summary.services import compute_summary, national
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.summary import oracle
from tests.summary.oracle import Args
from tests.summary.test_live_vs_snapshot import filters, to_multidict
from tests.summary.varied import build_varied

SEVERITIES = ("1", "2", "3", "4")


def unlink_some(rnd: random.Random, share: float) -> list[int]:
    """Make some schools typed-by-hand ones (no institution code): returns their ids."""
    changed = []
    for initiative in db.session.scalars(select(Initiative).order_by(Initiative.id)):
        if rnd.random() < share:
            initiative.organisation.brin = ""
            initiative.organisation.location_number = None
            changed.append(initiative.organisation.id)
    return changed


def make_confidential(rnd: random.Random, share: float) -> None:
    for obstacle in db.session.scalars(select(Obstacle).order_by(Obstacle.id)):
        if rnd.random() < share:
            obstacle.visibility = "confidential"


@pytest.fixture
def world(app):
    """Varied data with typed-by-hand schools and confidential reports, a snapshot of it,
    then changes (solved reports, new entries)."""
    app.config["SUMMARY_CACHE"] = False
    rnd = random.Random(2020)
    build_varied(rnd, count=45)
    unlink_some(rnd, 0.3)
    make_confidential(rnd, 0.2)
    db.session.commit()
    snapshot = create_snapshot(note="issue 20")
    db.session.commit()
    before = {"public": oracle.load(db.session),
              "all": oracle.load(db.session, confidential=True)}
    for obstacle in db.session.scalars(select(Obstacle).order_by(Obstacle.id)):
        if rnd.random() < 0.25:
            obstacle.status = "opgelost"
    themes = list(db.session.scalars(select(Theme)))
    build_varied(rnd, count=12, themes=themes)
    unlink_some(rnd, 0.1)
    db.session.commit()
    return {"themes": [t.id for t in themes], "snapshot": snapshot, "before": before,
            "public": oracle.load(db.session),
            "all": oracle.load(db.session, confidential=True)}


def expected(world: dict[str, Any], args: Args, *, exact: bool, frozen: bool) -> dict:
    now = world["before"] if frozen else world
    previous = None if frozen else world["before"]["all" if exact else "public"]
    if exact:
        return oracle.summary(now["all"], args, previous=previous, public=now["public"])
    return oracle.summary(now["public"], args, previous=previous)


def test_summary_matches_the_oracle_for_any_filter(world):
    snap = SnapshotSource(world["snapshot"])
    seen = {"some": 0, "none": 0}

    @given(args=filters(world["themes"]), exact=st.booleans())
    @settings(max_examples=25, deadline=None, database=None)
    @example(args={}, exact=False)
    @example(args={}, exact=True)
    @example(args={"area": ["examineren"], "theme": [world["themes"][0]]}, exact=True)
    @example(args={"sector": ["po", "vo"], "province": ["Utrecht"]}, exact=False)
    def run(args, exact):
        if exact:
            # The search text holds the titles of public reports only (a confidential one
            # must not make its school findable); the oracle searches all rows it has.
            args = {k: v for k, v in args.items() if k != "q"}
        flt = InitiativeFilter.from_args(to_multidict(args))
        want = Args.of(args)
        live = compute_summary(flt, PUBLISHED, exact=exact)
        assert oracle.comparable(live) == expected(world, want, exact=exact, frozen=False), (
            args, exact)
        frozen = compute_summary(flt, snap, exact=exact)
        assert oracle.comparable(frozen) == expected(world, want, exact=exact, frozen=True), (
            "snapshot", args, exact)
        seen["some" if live["entries"] else "none"] += 1

    run()
    assert seen["some"] >= 10, seen


# --- the national table, recounted -------------------------------------------------------

def recount_national() -> dict[tuple, dict[str, int]]:
    """Every national figure by brute force over plain SQL rows (staff: nothing hidden)."""
    themes = {r[0] for r in db.session.execute(text("SELECT id FROM theme"))}
    reports = [dict(r._mapping) for r in db.session.execute(text(
        "SELECT o.initiative_id, o.area_code, o.theme_id, o.severity, o.visibility, "
        "i.learners_count, g.brin, g.location_number, g.id AS organisation_id "
        "FROM obstacle o JOIN initiative i ON i.id = o.initiative_id "
        "JOIN organisation g ON g.id = i.organisation_id WHERE i.state = 'published'"))]
    rows: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in reports:
        r["school"] = oracle.school_of(r)
        theme = ("theme", r["theme_id"]) if r["theme_id"] in themes else ("unthemed",)
        for key in (("total",), ("area", r["area_code"]), theme):
            rows[key].append(r)
    out = {}
    for key, items in rows.items():
        learners = {r["initiative_id"]: r["learners_count"] or 0 for r in items}
        out[key] = {"initiatives": len(learners), "learners": sum(learners.values()),
                    "schools": len({r["school"] for r in items}), "reports": len(items),
                    "confidential": sum(r["visibility"] == "confidential" for r in items),
                    **{f"severity:{k}": sum(str(r["severity"]) == k for r in items)
                       for k in SEVERITIES}}
    return out


def test_national_table_counts_every_report_and_school(world):
    truth = recount_national()
    table = national(PUBLISHED, exact=True)
    shown = {}
    for row in table["rows"]:
        key = {"total": ("total",), "unthemed": ("unthemed",)}.get(row["kind"]) or (
            (row["kind"], row["area"]) if row["kind"] == "area"
            else (row["kind"], row["theme_id"]))
        shown[key] = {**{f: row[f] for f in ("initiatives", "learners", "schools", "reports",
                                              "confidential")},
                      **{f"severity:{k}": row["severity"][k] for k in SEVERITIES}}
    for key, values in shown.items():
        assert values == truth.get(key, dict.fromkeys(values, 0)), key
    assert set(truth) <= set(shown)


# --- schools without an institution code -------------------------------------------------------

def test_two_schools_without_an_institution_code_are_two_schools(app):
    app.config["SUMMARY_CACHE"] = False
    theme = Theme(area_code="examineren", title="Vaste examenmomenten")
    db.session.add(theme)
    db.session.flush()

    def report(confidential: bool = False) -> list[ObstacleData]:
        return [ObstacleData(area="examineren", title="Juni", severity=3, pilot_interest=True,
                             visibility="confidential" if confidential else "public")]

    # Two schools not in DUO's list (typed by hand, the same name even), and one school
    # with an institution code that has two initiatives at the same location.
    for _ in range(2):
        make_initiative(commit=False, brin="", school_name="De Vrije School",
                        obstacles=report())
    for _ in range(2):
        make_initiative(commit=False, brin="12AB", obstacles=report())
    make_initiative(commit=False, brin="", obstacles=report(confidential=True))
    for obstacle in db.session.scalars(select(Obstacle)):
        obstacle.theme_id = theme.id
    db.session.commit()

    public = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    assert public["totals"]["initiatives"] == 4
    assert public["totals"]["schools"] == 3  # two without a code, one with
    assert public["themes"][0]["schools"] == 3
    staff = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert staff["totals"]["schools"] == 4
    rows = oracle.load(db.session)
    assert oracle.comparable(public) == oracle.summary(rows, Args())
    total = next(r for r in national(PUBLISHED, exact=True)["rows"] if r["kind"] == "total")
    assert total["schools"] == 4
    assert theme_stats(theme, published_only=True).schools == 3
    assert theme_stats(theme).schools == 4
    assert dossier(theme).schools == 4  # every volunteer (the confidential one unnamed)
    # A snapshot keeps no organisation: each entry there is its own school as well.
    snapshot = create_snapshot(note="scholen")
    db.session.commit()
    frozen = compute_summary(InitiativeFilter.empty(), SnapshotSource(snapshot))
    assert frozen["totals"]["schools"] == 3


# --- one computation per data version for every worker ------------------------------------------

def test_a_second_app_reads_the_stored_summary_and_a_change_computes_anew(app, monkeypatch):
    app.config["SUMMARY_CACHE"] = True
    services.summary_cache.clear()
    clear_shared_results()
    rnd = random.Random(7)
    build_varied(rnd, count=25)
    make_confidential(rnd, 0.2)
    db.session.commit()
    computed: list[str] = []
    compute = services._compute_summary

    def counting(flt, src, exact, *args, **kwargs):
        computed.append(f"{flt.cache_key()} exact={exact}")
        return compute(flt, src, exact, *args, **kwargs)

    monkeypatch.setattr(services, "_compute_summary", counting)
    utrecht = InitiativeFilter.from_args(to_multidict({"province": ["Utrecht"]}))
    first = {(key, exact): compute_summary(flt, PUBLISHED, exact=exact)
             for key, flt in (("all", InitiativeFilter.empty()), ("utrecht", utrecht))
             for exact in (False, True)}
    assert len(computed) == 4
    version = db.session.scalar(text("SELECT token FROM data_version WHERE name = 'public'"))
    stored = db.session.scalar(text("SELECT count(*) FROM shared_result WHERE version = :v"),
                               {"v": version})
    assert stored >= 5  # four summaries and the national tables

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       SUMMARY_CACHE=True)
    try:
        with other.app_context():
            services.summary_cache.clear()  # this worker has nothing in memory
            for (key, exact), summary in first.items():
                flt = InitiativeFilter.empty() if key == "all" else utrecht
                again = compute_summary(flt, PUBLISHED, exact=exact)
                assert {k: v for k, v in again.items() if k != "meta"} == {
                    k: v for k, v in summary.items() if k != "meta"}, (key, exact)
                assert again["meta"]["exact"] == exact
            assert len(computed) == 4  # read, not computed
            db.session.remove()

        # A public change: a new version, computed once more (and stored for the others).
        obstacle = db.session.scalars(
            select(Obstacle).join(Initiative, Obstacle.initiative_id == Initiative.id)
            .where(Initiative.state == InitiativeState.PUBLISHED,
                   Obstacle.visibility == "public", Obstacle.status != "opgelost")
            .order_by(Obstacle.id)).first()
        obstacle.status = "opgelost"
        db.session.commit()
        changed = compute_summary(InitiativeFilter.empty(), PUBLISHED)
        assert len(computed) == 5
        assert changed["totals"]["solved"] == first[("all", False)]["totals"]["solved"] + 1
        assert oracle.comparable(changed) == oracle.summary(oracle.load(db.session), Args())
        with other.app_context():
            assert compute_summary(InitiativeFilter.empty(), PUBLISHED)["totals"] == (
                changed["totals"])
            assert len(computed) == 5
            db.session.remove()
    finally:
        with other.app_context():
            db.engine.dispose()


def test_the_previous_snapshot_is_read_once_per_lineage(app, make_user):
    """The changes since the previous snapshot are compared with a basis read from the
    snapshot's rows once per lineage (issue 20: a second full read per change). A
    publication leaves it in place; an edit moves the lineage and it is read again. The
    figures are the oracle's every time."""
    from registry.moderation import services as moderation

    app.config["SUMMARY_CACHE"] = True
    services.summary_cache.clear()
    services.basis_cache.clear()
    clear_shared_results()
    rnd = random.Random(11)
    build_varied(rnd, count=20)
    make_confidential(rnd, 0.2)
    create_snapshot()
    db.session.commit()
    before = {"public": oracle.load(db.session),
              "all": oracle.load(db.session, confidential=True)}
    pending = make_initiative(state=InitiativeState.PENDING, title="Wacht op publicatie")
    second = make_initiative(state=InitiativeState.PENDING, title="Wacht ook")
    db.session.commit()
    moderator = make_user("moderator")
    snapshot_reads: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "snapshot_obstacle" in statement:
            snapshot_reads.append(statement)

    def summaries() -> None:
        now = {"public": oracle.load(db.session),
               "all": oracle.load(db.session, confidential=True)}
        for exact in (False, True):
            got = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=exact)
            want = (oracle.summary(now["all"], Args(), previous=before["all"],
                                   public=now["public"]) if exact
                    else oracle.summary(now["public"], Args(), previous=before["public"]))
            assert oracle.comparable(got) == want, exact

    event.listen(db.engine, "after_cursor_execute", note)
    try:
        summaries()
        assert snapshot_reads  # the first computation reads the snapshot
        snapshot_reads.clear()
        moderation.publish(pending, actor=moderator)
        db.session.commit()
        summaries()
        assert snapshot_reads == []  # a publication: the basis is kept
        moderation.publish(second, actor=moderator)
        db.session.commit()
        services.summary_cache.clear()  # another worker, nothing in memory: it reads the
        services.basis_cache.clear()  # stored basis
        summaries()
        assert snapshot_reads == []
        obstacle = db.session.scalars(
            select(Obstacle).join(Initiative, Obstacle.initiative_id == Initiative.id)
            .where(Initiative.state == InitiativeState.PUBLISHED,
                   Obstacle.status != "opgelost").order_by(Obstacle.id)).first()
        obstacle.status = "opgelost"
        db.session.commit()
        summaries()
        assert snapshot_reads  # the lineage moved: read again
    finally:
        event.remove(db.engine, "after_cursor_execute", note)


def test_after_a_publication_only_the_new_entries_are_read(app, make_user, monkeypatch):
    """The public national summary's facts are kept by the process that read them and stored
    for the others; after a publication (nothing taken away: the lineage holds) only the
    newly published entries are read and merged in. Each summary so made equals the
    oracle's and a computation from scratch (national table included); an edit moves the
    lineage and everything is read."""
    from registry.moderation import services as moderation

    app.config["SUMMARY_CACHE"] = True
    for cache in (services.summary_cache, services.basis_cache, services.facts_cache):
        cache.clear()
    clear_shared_results()
    rnd = random.Random(12)
    build_varied(rnd, count=40)
    unlink_some(rnd, 0.2)
    make_confidential(rnd, 0.25)
    db.session.commit()
    pending = list(db.session.scalars(
        select(Initiative).where(Initiative.state.in_([InitiativeState.PENDING,
                                                       InitiativeState.UNCONFIRMED]))
        .order_by(Initiative.id)))[:4]
    for initiative in pending:  # in the moderation queue
        initiative.state = InitiativeState.PENDING
    extra = make_initiative(state=InitiativeState.PENDING, brin="", school_name="Eigen school",
                            commit=False)  # typed by hand: a school of its own
    extra.organisation.province = "Buiten de provincies"  # a place text no one had
    db.session.commit()
    assert len(pending) >= 2
    moderator = make_user("moderator")
    loads: list[Any] = []
    real = figures.load_facts

    def recording(*args, **kwargs):
        loads.append(kwargs.get("only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, "load_facts", recording)

    def national_summary() -> dict[str, Any]:
        got = compute_summary(InitiativeFilter.empty(), PUBLISHED)
        assert oracle.comparable(got) == oracle.summary(oracle.load(db.session), Args())
        return got

    national_summary()
    assert loads == [None]  # the first time: everything
    batches = [pending[:2], *[[p] for p in pending[2:]], [extra]]  # first: two at once
    published: list[int] = []
    for i, batch in enumerate(batches):
        loads.clear()
        for initiative in batch:
            moderation.publish(initiative, actor=moderator)
        db.session.commit()
        published += [initiative.id for initiative in batch]
        new = [initiative.id for initiative in batch]
        if i == 2:  # another worker, no facts of its own: it starts from the stored ones,
            services.facts_cache.clear()  # read in full at the start, and reads every
            new = published  # entry published since
        merged = national_summary()
        assert [sorted(only) if only is not None else None for only in loads] == [sorted(new)]
        loads.clear()
        app.config["SUMMARY_CACHE"] = False  # the same summary from scratch
        scratch = compute_summary(InitiativeFilter.empty(), PUBLISHED)
        app.config["SUMMARY_CACHE"] = True
        assert loads == [None]
        assert {k: v for k, v in merged.items() if k != "meta"} == {
            k: v for k, v in scratch.items() if k != "meta"}
    loads.clear()
    obstacle = db.session.scalars(
        select(Obstacle).join(Initiative, Obstacle.initiative_id == Initiative.id)
        .where(Initiative.state == InitiativeState.PUBLISHED).order_by(Obstacle.id)).first()
    obstacle.severity = 1 if obstacle.severity != 1 else 2
    db.session.commit()
    national_summary()
    assert loads == [None]  # an edit: the lineage moved, everything is read again
