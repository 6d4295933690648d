"""Which databases the suite runs on, and how a database is emptied between tests."""
from __future__ import annotations

from sqlalchemy import MetaData, delete

from registry.cache import reset_table_check
from registry.extensions import db

# The taxonomies are seeded by the migrations and kept between tests (a test that changes
# them restores them itself).
KEEP_TABLES = {"obstacle_area", "dimension", "sector", "phase", "alembic_version"}


def database_urls() -> list[tuple[str, str]]:
    """SQLite always; PostgreSQL when available (see tests/fixtures/postgres.py).

    Called while the tests are collected (``pytest_generate_tests`` in tests/conftest.py
    parametrises the ``database`` fixture with it); the throwaway server was started - once per
    test process, i.e. per xdist worker - when the run was configured (tests/fixtures/postgres.py).
    """
    from tests.pgserver import postgres_url

    urls = [("sqlite", "sqlite-file")]
    pg = postgres_url()
    if pg:
        urls.append(("postgresql", pg))
    return urls


def reset_database() -> None:
    """Delete every row except the taxonomies (which the migrations seeded)."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEEP_TABLES:
            db.session.execute(delete(table))
    db.session.commit()


def drop_everything() -> None:
    """Drop every table of the database, whatever created it (models or migrations)."""
    db.session.remove()
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    metadata.drop_all(bind=db.engine)
    reset_table_check()
