"""``flask --app registry import-initiatives FILE [--dry-run] [--source NAME]``: the same checks
and storing as the web pages, with a progress bar; a bad file stores nothing."""
from __future__ import annotations

import json

from sqlalchemy import text

from registry.extensions import db
from tests.imports.helpers import csv_bytes, network_row, xlsx_bytes


def count(sql: str) -> int:
    return db.session.execute(text(sql)).scalar_one()


def test_dry_run_checks_and_stores_nothing(runner, tmp_path):
    path = tmp_path / "lijst.csv"
    path.write_bytes(csv_bytes([network_row(0), network_row(1, Postcode="12345")]))
    result = runner.invoke(args=["import-initiatives", str(path), "--dry-run",
                                 "--source", "Netwerk Zuid"])
    assert result.exit_code == 0, result.output
    assert "'Naam school' -> Naam van de school" in result.output
    assert "row 3: invalid - Postcode: Vul een geldige postcode in, bijvoorbeeld 1234 AB." \
        in result.output
    assert "invalid: 1, rows: 2, valid: 1" in result.output
    assert "Dry run: nothing was stored." in result.output
    for table in ("initiative", "import_row", "import_job", "audit_event", "outbox_message"):
        assert count(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608


def test_import_stores_the_valid_rows_once(runner, tmp_path):
    path = tmp_path / "lijst.xlsx"
    rows = [network_row(0, **{"Contactpersoon": "Anne", "E-mail": "anne@school.example"}),
            network_row(1), network_row(2, Ernst="hoog")]
    path.write_bytes(xlsx_bytes([list(r.values()) for r in rows]))
    result = runner.invoke(args=["import-initiatives", str(path), "--source", "Regio Oost"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 of 3 rows" in result.output
    assert "row 4: invalid - " in result.output
    assert "Knelpunt 1: Ernst: Kies hoe ernstig het knelpunt is." in result.output
    assert count("SELECT count(*) FROM initiative WHERE state = 'pending'") == 2
    assert count("SELECT count(*) FROM outbox_message WHERE kind = 'import.invitation'") == 1
    audit = db.session.execute(text(
        "SELECT actor_label, after FROM audit_event WHERE action = 'initiative.import'")).one()
    after = audit.after if isinstance(audit.after, dict) else json.loads(audit.after)
    assert audit.actor_label == "cli"
    assert (after["file"], after["source"], after["imported"], after["invalid"]) == (
        "lijst.xlsx", "Regio Oost", 2, 1)
    # again: nothing new
    result = runner.invoke(args=["import-initiatives", str(path), "--source", "Regio Oost"])
    assert "Imported 0 of 3 rows" in result.output
    assert count("SELECT count(*) FROM initiative") == 2


def test_a_bad_file_fails_with_a_dutch_message(runner, tmp_path):
    path = tmp_path / "lijst.csv"
    path.write_bytes(b"\x00\x01binary")
    result = runner.invoke(args=["import-initiatives", str(path)])
    assert result.exit_code == 1
    assert "Dit bestand is geen tekst- of Excel-bestand." in result.output
    assert count("SELECT count(*) FROM import_job") == 0

