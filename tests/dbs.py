"""Which databases the suite runs on, and how a database is emptied between tests."""
from __future__ import annotations

from sqlalchemy import delete

from registry.extensions import db

KEEP_TABLES = {"obstacle_area", "dimension", "alembic_version"}


def database_urls() -> list[tuple[str, str]]:
    """SQLite always; PostgreSQL when available (see tests/fixtures/postgres.py).

    Called while conftest.py is imported (the ``database`` fixture's params), so a throwaway
    server is started - once per run - before the tests are parametrised.
    """
    from tests.pgserver import postgres_url

    urls = [("sqlite", "sqlite-file")]
    pg = postgres_url()
    if pg:
        urls.append(("postgresql", pg))
    return urls


def reset_database() -> None:
    """Delete every row except the taxonomies, then make sure the taxonomies are present."""
    from registry.taxonomy.services import ensure_taxonomies

    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEEP_TABLES:
            db.session.execute(delete(table))
    ensure_taxonomies()
    db.session.commit()
