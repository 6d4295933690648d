"""The Alembic history produces exactly the models' schema, and round-trips."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text

from registry import create_app
from registry.extensions import db
from registry.taxonomy.constants import DIMENSIONS, OBSTACLE_AREAS
from tests.dbs import database_urls


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
    from registry.taxonomy.models import Dimension, ObstacleArea

    upgrade()
    areas = db.session.execute(
        select(ObstacleArea.code, ObstacleArea.label_nl, ObstacleArea.label_en)
        .order_by(ObstacleArea.position)
    ).all()
    assert [tuple(a) for a in areas] == [(c, nl, en) for c, nl, en, *_ in OBSTACLE_AREAS]
    dims = db.session.execute(
        select(Dimension.code, Dimension.label_nl, Dimension.label_en).order_by(Dimension.position)
    ).all()
    assert [tuple(d) for d in dims] == [tuple(d) for d in DIMENSIONS]
