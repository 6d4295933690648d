"""The Alembic history produces exactly the models' schema, and round-trips."""
from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text
from werkzeug.datastructures import MultiDict

from registry import create_app
from registry.extensions import db
from registry.published.filters import InitiativeFilter
from registry.published.records import initiatives, themes
from registry.published.snapshots import source_for
from registry.taxonomy.models import Dimension, ObstacleArea, Phase, Sector
from tests.dbs import database_urls
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES


def _fresh_url(name: str, url: str, tmp_path) -> str:
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    # a separate PostgreSQL database so the suite's own schema is not touched
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migration_check"))
        conn.execute(text("CREATE DATABASE migration_check"))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/migration_check"


@pytest.fixture(params=database_urls(), ids=lambda p: p[0])
def migrated_app(request, tmp_path):
    name, url = request.param
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=_fresh_url(name, url, tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _diff(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_head_matches_models(migrated_app):
    upgrade()
    assert _diff(migrated_app) == []


def test_upgrade_downgrade_upgrade(migrated_app):
    upgrade()
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert _diff(migrated_app) == []


def test_migrations_seed_the_taxonomies(migrated_app):
    upgrade()

    def codes(model):
        return list(db.session.scalars(select(model.code).order_by(model.position)))

    # The vocabularies of DOMAIN.md, in its order.
    assert codes(ObstacleArea) == list(AREA_CODES)
    assert codes(Dimension) == list(DIMENSION_CODES)
    assert codes(Sector) == list(SECTOR_CODES)
    assert codes(Phase) == list(PHASE_CODES)
    labels = dict(db.session.execute(select(ObstacleArea.code, ObstacleArea.label_en)).all())
    assert labels["examineren"] == "Examinations"
    sector = db.session.get(Sector, "overig")
    assert (sector.label_nl, sector.short_nl, sector.short_en) == ("Anders", "anders", "other")


# A snapshot as the previous revision stored it: JSON records in ``snapshot.data``.
OLD_SNAPSHOT = {
    "version": 1,
    "data_date": "2026-11-02T10:00:00+00:00",
    "initiatives": [{
        "id": 7, "reference": "GL-2026-00007", "title": "École zonder klassen",
        "summary": "Leren in eigen tempo.", "description": "", "phase": "pilot",
        "start_year": 2024, "learners_count": 40, "staff_count": 5, "ict": "",
        "published_at": "2026-10-01T09:00:00+00:00", "updated_at": "2026-10-02T09:00:00+00:00",
        "school": {"name": "Lyceum Één", "brin": "12AB", "location_number": "01",
                   "sector": "vo", "levels": "havo", "city": "Zwolle",
                   "municipality": "Zwolle", "province": "Overijssel", "postcode": "8011 AB",
                   "latitude": 52.5, "longitude": 6.1, "website": ""},
        "contact_name": None, "consent_quotes": True,
        "dimensions": {"tempo": [2, 3], "doelen": [1, 2]},
        "obstacles": [{"id": 70, "area": "examineren", "title": "Vaste examendata",
                       "description": "Alleen in mei.", "rule": "Eindexamenbesluit VO",
                       "severity": 3, "status": "omzeild", "workaround": "Herkansing",
                       "policy_ask": "Ruimte", "theme_id": 3,
                       "reported_at": "2026-09-30T08:00:00+00:00"}],
    }],
    "themes": [{"id": 3, "area": "examineren", "title": "Examens op vaste momenten",
                "description": "", "rules": [{"title": "Eindexamenbesluit VO",
                                               "level": "amvb", "source_url": "",
                                               "existing_room": ""}]}],
}


def test_upgrade_moves_json_snapshots_into_rows_and_back(migrated_app):
    upgrade(revision="b1c2d3e4f5a6")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO snapshot (code, created_at, created_by_label, note, initiative_count, "
            "obstacle_count, data) VALUES ('2026-11-a', '2026-11-02 10:00:00', 'cli', '', 1, 1, "
            ":data)"), {"data": json.dumps(OLD_SNAPSHOT)})
    upgrade()
    src = source_for("2026-11-a")
    assert src is not None
    assert src.snapshot is not None
    [rec] = list(initiatives(src, InitiativeFilter.empty()))
    assert (rec["id"], rec["title"], rec["school"]["name"], rec["school"]["province"]) == (
        7, "École zonder klassen", "Lyceum Één", "Overijssel")
    assert rec["dimensions"] == {"doelen": [1, 2], "tempo": [2, 3]}
    assert [(o["id"], o["area"], o["theme_id"], o["workaround"]) for o in rec["obstacles"]] == [
        (70, "examineren", 3, "Herkansing")]
    assert [(t["id"], t["rules"][0]["level"]) for t in themes(src)] == [(3, "amvb")]
    # The moved text is searchable like live text: accents and case do not matter.
    for q in ("ecole", "ÉCOLE", "een", "vaste examendata"):
        assert list(initiatives(src, InitiativeFilter.from_args(MultiDict({"q": q})))), q
    db.session.remove()
    downgrade(revision="b1c2d3e4f5a6")
    with db.engine.connect() as conn:
        data = conn.execute(text("SELECT data FROM snapshot")).scalar_one()
    data = json.loads(data) if isinstance(data, str) else data
    restored = data["initiatives"][0]
    assert restored["title"] == "École zonder klassen"
    assert restored["obstacles"][0]["reported_at"].startswith("2026-09-30T08:00:00")
    assert data["themes"][0]["rules"][0]["level"] == "amvb"
