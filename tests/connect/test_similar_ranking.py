"""The staged ranking of similar initiatives gives exactly the results of scoring everyone.

``services._best_ids`` ranks growing candidate sets and stops early (issue 11). The reference
below is the original query that scores every candidate in one go; both must agree for every
initiative of a varied fixture, for small and large limits (a large limit runs through every
stage), on SQLite and PostgreSQL.
"""
from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlalchemy import and_, case, distinct, func, or_, select

from registry.connect import services
from registry.database import utcnow
from registry.extensions import db
from registry.moderation.models import Theme
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative

AREAS = ["examineren", "diplomeren", "kwalificeren", "valideren", "certificeren", "overig"]
SECTORS = ["po", "vo", "mbo"]
# Utrecht, Amersfoort (~20 km), Amsterdam (~35 km), Groningen (far), and "not located".
PLACES = [(52.09, 5.12), (52.16, 5.39), (52.37, 4.90), (53.22, 6.57), (None, None)]


def reference_ids(initiative: Initiative, limit: int) -> list[int]:
    """The original single query (before issue 11): every candidate scored by the database."""
    themes = {o.theme_id for o in initiative.obstacles if o.theme_id is not None}
    areas = {o.area_code for o in initiative.obstacles}
    agg = (
        select(
            Obstacle.initiative_id.label("iid"),
            func.count(distinct(case((Obstacle.theme_id.in_(themes), Obstacle.theme_id))))
            .label("t"),
            func.count(distinct(case((Obstacle.area_code.in_(areas), Obstacle.area_code))))
            .label("a"),
        )
        .where(or_(Obstacle.area_code.in_(areas), Obstacle.theme_id.in_(themes)))
        .group_by(Obstacle.initiative_id)
        .subquery()
    )
    org = initiative.organisation
    score = 3 * agg.c.t + agg.c.a + case((Organisation.sector == org.sector, 1), else_=0)
    if org.latitude is not None and org.longitude is not None:
        km_lat = 111.195
        km_lon = km_lat * math.cos(math.radians(org.latitude))
        dy = (Organisation.latitude - org.latitude) * km_lat
        dx = (Organisation.longitude - org.longitude) * km_lon
        score = score + case(
            (and_(Organisation.latitude.is_not(None), Organisation.longitude.is_not(None),
                  dy * dy + dx * dx <= services.NEARBY_KM * services.NEARBY_KM), 2),
            else_=0)
    return list(db.session.execute(
        select(Initiative.id)
        .join(agg, agg.c.iid == Initiative.id)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.state == InitiativeState.PUBLISHED, Initiative.id != initiative.id)
        .order_by(score.desc(), Initiative.published_at.desc().nulls_last(), Initiative.id)
        .limit(limit)
    ).scalars())


def build_registry(seed: int, n_themes: int, areas: list[str], places: list, sectors: list[str],
                   days: int) -> list[Initiative]:
    """``60`` initiatives with 1-4 obstacles, about 60% linked to a theme, at ``places``
    (jittered by a few km; None: not located), 85% published over ``days`` days (ties)."""
    rnd = random.Random(seed)
    themes = []
    for i in range(n_themes):
        theme = Theme(area_code=areas[i % len(areas)], title=f"Thema {i}")
        db.session.add(theme)
        themes.append(theme)
    db.session.commit()
    base = utcnow()
    for n in range(60):
        count = rnd.choice([1, 1, 2, 2, 3, 4])
        obstacles = [ObstacleData(area=rnd.choice(areas), title=f"K{n}.{i}", severity=2)
                     for i in range(count)]
        state = (InitiativeState.PUBLISHED if rnd.random() < 0.85
                 else rnd.choice([InitiativeState.PENDING, InitiativeState.WITHDRAWN]))
        initiative = make_initiative(state=state, commit=False, obstacles=obstacles,
                                     sector=rnd.choice(sectors))
        for obstacle in initiative.obstacles:
            if rnd.random() < 0.6:
                theme = rnd.choice(themes)
                obstacle.theme_id = theme.id
                obstacle.area_code = theme.area_code if rnd.random() < 0.9 else obstacle.area_code
        lat, lon = rnd.choice(places)
        if lat is not None:
            lat, lon = lat + rnd.uniform(-0.05, 0.05), lon + rnd.uniform(-0.05, 0.05)
        initiative.organisation.latitude, initiative.organisation.longitude = lat, lon
        if state == InitiativeState.PUBLISHED:
            initiative.published_at = base - timedelta(days=rnd.randint(0, days))
        db.session.commit()
    return db.session.scalars(select(Initiative).order_by(Initiative.id)).all()


REGISTRIES = {
    # Varied: 5 themes over 6 areas, near and far places, 3 sectors.
    "varied": dict(seed=11, n_themes=5, areas=AREAS, places=PLACES, sectors=SECTORS, days=6),
    # Crowded: few themes, areas and places, so many equal scores decided by date and id.
    "crowded": dict(seed=5, n_themes=2, areas=AREAS[:3], places=PLACES[:2] + [(None, None)],
                    sectors=SECTORS[:2], days=2),
    "mixed": dict(seed=7, n_themes=3, areas=AREAS[:4], places=PLACES, sectors=SECTORS, days=3),
    # Mostly not located: no "nearby" groups for most.
    "unlocated": dict(seed=3, n_themes=3, areas=AREAS[:2], places=[PLACES[0]] + [(None, None)] * 3,
                      sectors=SECTORS[:2], days=1),
}


@pytest.fixture
def varied_registry(app):
    return build_registry(**REGISTRIES["varied"])


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_staged_ranking_equals_scoring_everyone(app, registry):
    initiatives = build_registry(**REGISTRIES[registry])
    for initiative in initiatives:
        themes = sorted({o.theme_id for o in initiative.obstacles if o.theme_id is not None})
        areas = sorted({o.area_code for o in initiative.obstacles})
        for limit in (1, 2, 3, services.MAX_SIMILAR, 60):
            assert services._best_ids(initiative, themes, areas, limit) == \
                reference_ids(initiative, limit), (initiative.id, limit)
        found = [s.initiative.id for s in services.similar_initiatives(initiative)]
        assert found == reference_ids(initiative, services.MAX_SIMILAR)


def test_each_group_decides_somewhere(varied_registry, monkeypatch):
    """The fixture reaches every stop: a group sharing themes, a nearby group without a
    shared theme, and the full query (so the equivalence test above covers them all)."""
    executed: list[int] = []
    merged: list[int] = []
    execute, merge = db.session.execute, services._merge

    def counting_execute(stmt, *args, **kwargs):
        executed.append(1)
        return execute(stmt, *args, **kwargs)

    def counting_merge(*args):
        merged.append(1)
        return merge(*args)

    monkeypatch.setattr(services, "_merge", counting_merge)
    stops = set()
    for initiative in varied_registry:
        themes = sorted({o.theme_id for o in initiative.obstacles if o.theme_id is not None})
        areas = sorted({o.area_code for o in initiative.obstacles})
        theme_groups = len(themes) * (2 if initiative.organisation.latitude is not None else 1)
        executed.clear()
        merged.clear()
        monkeypatch.setattr(db.session, "execute", counting_execute)
        services._best_ids(initiative, themes, areas, 3)
        monkeypatch.setattr(db.session, "execute", execute)
        # Each group ranked is one query and one merge; sharing two or more themes is
        # counted in one query beforehand; the full query is the one left.
        full = len(executed) - len(merged) - (1 if len(themes) > 1 else 0)
        assert full in (0, 1)
        stops.add("all" if full else "theme" if len(merged) <= theme_groups else "nearby")
    assert stops == {"theme", "nearby", "all"}


def test_long_id_lists_stay_in_the_database(varied_registry, monkeypatch):
    """Past MAX_ID_PARAMETERS the ids sharing k themes are selected in SQL: same results."""
    monkeypatch.setattr(services, "MAX_ID_PARAMETERS", 0)
    for initiative in varied_registry:
        themes = sorted({o.theme_id for o in initiative.obstacles if o.theme_id is not None})
        areas = sorted({o.area_code for o in initiative.obstacles})
        for limit in (1, services.MAX_SIMILAR):
            assert services._best_ids(initiative, themes, areas, limit) == \
                reference_ids(initiative, limit), (initiative.id, limit)


def test_equal_score_in_a_later_group_wins_on_date(app):
    """Stopping needs a strictly higher score than the next group can reach: here an older
    initiative sharing both themes (but no area) and a newer one sharing one theme, both
    areas and the sector score the same, and the newer one comes first."""
    first, second = Theme(area_code="examineren", title="T1"), Theme(area_code="diplomeren",
                                                                     title="T2")
    db.session.add_all([first, second])
    db.session.commit()

    def make(sector, areas, themes, days_ago):
        initiative = make_initiative(commit=False, sector=sector, obstacles=[
            ObstacleData(area=area, title=area, severity=2) for area in areas])
        for obstacle, theme in zip(initiative.obstacles, themes, strict=True):
            obstacle.theme_id = theme.id if theme else None
        initiative.organisation.latitude = initiative.organisation.longitude = None
        initiative.published_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()
        return initiative

    me = make("po", ["examineren", "diplomeren"], [first, second], 0)
    both_themes = make("vo", ["kwalificeren", "kwalificeren"], [first, second], 5)  # 3+3 = 6
    newer = make("po", ["examineren", "diplomeren"], [first, None], 1)  # 3 + 2 + 1 = 6
    assert services._best_ids(me, [first.id, second.id], ["diplomeren", "examineren"], 1) \
        == reference_ids(me, 1) == [newer.id]
    assert reference_ids(me, 2) == [newer.id, both_themes.id]
