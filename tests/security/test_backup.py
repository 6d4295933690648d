"""`flask backup` / `flask restore` round trip (SQLite online backup API; pg_dump on PostgreSQL)."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from registry.submissions.models import Initiative
from tests.factories import make_initiative
from tests.security.helpers import counts


def _snapshot(db):
    db.session.expire_all()
    return sorted((i.reference, i.title, i.organisation.name, i.contact.email,
                   [o.title for o in i.obstacles]) for i in db.session.scalars(select(Initiative)))


def test_backup_and_restore_round_trip(app, db, runner, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    tools = shutil.which("pg_dump") and shutil.which("pg_restore")
    if url.startswith("postgresql") and not tools:
        pytest.skip("pg_dump/pg_restore not installed")
    for n in range(3):
        make_initiative(title=f"Bewaard {n} – ‘citaat’ 🎓")
    before_rows, before_counts = _snapshot(db), counts(db)
    path = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output
    assert path.stat().st_size > 0

    # operator mistake after the backup: rows deleted, a new row added
    for initiative in db.session.scalars(select(Initiative)).all()[:2]:
        db.session.delete(initiative)
    make_initiative(title="Na de back-up")
    db.session.commit()
    assert counts(db) != before_counts
    db.session.remove()

    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert counts(db) == before_counts
    assert _snapshot(db) == before_rows


def test_backup_default_path_and_restore_refuses_garbage(app, db, runner, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite specifics")
    make_initiative()
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert "instance" in result.output
    assert ".sqlite3" in result.output
    import os
    os.unlink(result.output.split("Backup written to ", 1)[1].strip())
    garbage = tmp_path / "kapot.db"
    garbage.write_bytes(b"dit is geen database" * 100)
    result = runner.invoke(args=["restore", str(garbage), "--yes"])
    assert result.exit_code != 0
    assert "not a SQLite database" in result.output
    assert counts(db)["Initiative"] == 1  # untouched


def test_restore_asks_for_confirmation(app, db, runner, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite specifics")
    path = tmp_path / "b.db"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    result = runner.invoke(args=["restore", str(path)], input="n\n")
    assert result.exit_code != 0
    assert "Aborted" in result.output
