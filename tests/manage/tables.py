"""Every row of every table, read with plain SQL from the reflected schema (not the models):
an oracle for "this value is nowhere in the database any more" and "nothing changed"."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import MetaData, select

from registry.extensions import db


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def everything() -> dict[str, list[tuple]]:
    """Every row of every table (all columns), as text, in a stable order."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    out = {}
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(*table.columns)).all()
            out[table.name] = sorted(tuple(_text(v) for v in row) for row in rows)
    return out


def where_found(*needles: str) -> list[tuple[str, str, str]]:
    """(needle, table, row) for each value found in any column of any row (any letter case)."""
    found = []
    for table, rows in everything().items():
        for row in rows:
            text = " | ".join(row).lower()
            for needle in needles:
                if needle.lower() in text:
                    found.append((needle, table, text[:300]))
    return found
