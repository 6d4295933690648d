"""The benchmark generator builds what it claims, through the service layer (no timing here)."""
from __future__ import annotations

from sqlalchemy import func, select

from bench.generate import THEMES, _load_project_pc4, load_pc4, populate
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.models import Contact, Initiative, InitiativeDimension, Obstacle
from registry.taxonomy.constants import PROVINCES, InitiativeState
from tests.factories import DIMENSION_CODES


def test_generator_builds_n_initiatives_with_two_to_four_obstacles(db):
    created = populate(40, seed=7, batch=15)

    assert created == 40
    assert db.session.scalar(select(func.count(Initiative.id))) == 40
    per_initiative = db.session.execute(
        select(func.count(Obstacle.id)).group_by(Obstacle.initiative_id)).scalars().all()
    assert len(per_initiative) == 40
    assert all(2 <= n <= 4 for n in per_initiative)
    dimensions = db.session.scalar(select(func.count(InitiativeDimension.id)))
    assert dimensions == 40 * len(DIMENSION_CODES)
    assert db.session.scalar(select(func.count(Contact.id))) == 40


def test_generated_initiatives_look_like_real_submissions(db):
    populate(60, seed=3)
    items = db.session.scalars(select(Initiative)).all()

    assert all(i.reference and i.reference.startswith("GL-") for i in items)
    published = [i for i in items if i.state == InitiativeState.PUBLISHED]
    assert published
    assert all(i.published_at for i in published)
    provinces = {i.organisation.province for i in items}
    assert provinces <= set(PROVINCES)
    assert len(provinces) >= 6
    assert all(i.organisation.latitude and 50.7 < i.organisation.latitude < 53.6 for i in items)
    assert all(3.3 < i.organisation.longitude < 7.3 for i in items)
    assert len({i.organisation.sector for i in items}) >= 4
    # curated themes with their rules, most reports linked to one of the same area
    assert db.session.scalar(select(func.count(Theme.id))) == len(THEMES) >= 30
    assert db.session.scalar(select(func.count(ThemeRule.id))) >= len(THEMES)
    linked = db.session.execute(
        select(Obstacle.area_code, Theme.area_code).join(Theme, Obstacle.theme_id == Theme.id)
    ).all()
    assert linked
    assert all(a == b for a, b in linked)


def test_pc4_table_maps_every_row_to_a_province():
    rows = load_pc4()
    assert len(rows) > 4000
    assert {r.province for r in rows} == set(PROVINCES)


def test_without_the_geonames_file_the_projects_own_pc4_data_is_used(app):
    rows = _load_project_pc4()
    assert len(rows) > 4000
    assert {r.province for r in rows} == set(PROVINCES)
    amsterdam = next(r for r in rows if r.code == "1012")
    assert amsterdam.province == "Noord-Holland"
    assert amsterdam.municipality == "Amsterdam"


def test_two_runs_at_once_share_one_complete_cached_file(tmp_path, monkeypatch):
    """Two benchmark runs that need the same data set must not write one file together
    (that once left a registry of 8,000 instead of 10,000 initiatives in the cache)."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from bench import generate

    monkeypatch.setattr(generate, "CACHE_DIR", tmp_path)
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: generate.generate_sqlite(30, 7, progress=False), range(2)))
    assert paths[0] == paths[1]
    assert paths[0].parent == tmp_path
    with sqlite3.connect(paths[0]) as conn:
        assert conn.execute("select count(*) from initiative").fetchone()[0] == 30
    assert not list(tmp_path.glob("*.tmp"))
