"""The one record path: published initiatives (live or from a snapshot) as plain records.

Exports, the obstacle summary and its documents, the API and the map's GeoJSON all read
records from here, selected by the one filter (``registry.published.filters``) on a
``registry.published.sources.Source``. A record::

    {"id", "reference", "title", "summary", "description", "phase", "start_year",
     "learners_count", "staff_count", "ict", "language", "published_at", "updated_at",
     "school": {"name", "brin", "location_number", "sector", "levels", "qualification_codes",
                "city", "municipality", "province", "postcode", "latitude", "longitude",
                "website", "geo_precision"},
     "contact_name": str | None,   # only when the contact consented to publication
     "consent_quotes": bool,       # the contact allows anonymised quotes
     "dimensions": {code: [current, ambition]},
     "obstacles": [{"id", "area", "title", "description", "rule", "severity", "status",
                    "workaround", "policy_ask", "theme_id", "reported_at"}]}

Datetimes are timezone-aware (UTC). A reader that needs only some fields asks for them
(``fields`` / ``obstacle_fields``): the record then has only those keys (the summary reads
a fraction of each record, and at 100,000 initiatives building the rest took most of its
time). Records stream in keyset-paginated batches of plain column rows, so memory stays flat.

No e-mail address, phone number or unconsented name ever enters a record.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, literal, select

from registry.database import joined_text
from registry.extensions import db
from registry.published.filters import InitiativeFilter
from registry.published.sources import (
    INITIATIVE_FIELDS,
    OBSTACLE_COLUMNS,
    SCHOOL_FIELDS,
    Source,
)
from registry.submissions.models import Initiative, Organisation

BATCH_SIZE = 1000
# Record keys of obstacles (``area`` is
# ``area_code``) in the order of OBSTACLE_COLUMNS.
OBSTACLE_KEYS = {
    "id": "id", "initiative_id": "initiative_id", "area_code": "area", "title": "title",
    "description": "description", "rule": "rule", "severity": "severity", "status": "status",
    "workaround": "workaround", "policy_ask": "policy_ask", "theme_id": "theme_id",
    "created_at": "created_at", "visibility": "visibility", "reported_at": "reported_at",
}
_TEXT = {"description", "ict", "levels", "qualification_codes", "city", "postcode", "website",
         "rule", "workaround", "policy_ask"}
_DATES = {"published_at", "updated_at", "created_at", "reported_at"}


def _utc(value: datetime | None) -> datetime | None:
    """In UTC: SQLite gives naive datetimes (stored as UTC), PostgreSQL aware ones in the
    session's time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# Separators of the dimension levels joined per initiative (codes never hold control
# characters: taxonomy codes are slugs).
_ITEM, _FIELD = "\x1f", "\x1e"


def _levels(packed: str) -> dict[str, list[int]]:
    """{code: [current, ambition]} in code order, from "code\x1ecurrent\x1eambition" items
    joined by \x1f."""
    out: dict[str, list[int]] = {}
    for item in sorted(packed.split(_ITEM)):
        code, current, ambition = item.split(_FIELD)
        out[code] = [int(current), int(ambition)]
    return out


def _text(value: str | None) -> str:
    return "" if value is None else value


def _upper(value: str | None) -> str:
    return "" if value is None else value.upper()


def _converter(name: str):
    """How a column's value becomes a record value (None: as it comes)."""
    if name in _TEXT:
        return _text
    if name in _DATES:
        return _utc
    if name == "brin":
        return _upper
    if name == "consent_quotes":
        return bool
    return None


def _clean(name: str, value: Any) -> Any:
    convert = _converter(name)
    return value if convert is None else convert(value)


class _Shape:
    """How selected columns become a record (computed once per call, used per row: this
    loop runs once per initiative and once per obstacle)."""

    def __init__(self, fields: Sequence[str] | None, obstacle_fields: Sequence[str] | None):
        names = list(INITIATIVE_FIELDS if fields is None else fields)
        if "id" not in names:
            names.insert(0, "id")
        self.fields = names
        self.top = [(i, n, _converter(n)) for i, n in enumerate(names)
                    if n not in SCHOOL_FIELDS]
        self.school = [(i, SCHOOL_FIELDS[n], _converter(n)) for i, n in enumerate(names)
                       if n in SCHOOL_FIELDS]
        ob = list(OBSTACLE_COLUMNS if obstacle_fields is None else obstacle_fields)
        for required in ("initiative_id", "id"):
            if required not in ob:
                ob.insert(0, required)
        self.obstacle_columns = ob
        self.obstacle_keys = [(i, OBSTACLE_KEYS[c], _converter(c)) for i, c in enumerate(ob)
                              if c != "initiative_id"]
        self.obstacle_initiative = ob.index("initiative_id")

    def record(self, row: Sequence[Any]) -> dict[str, Any]:
        rec = {name: row[i] if convert is None else convert(row[i])
               for i, name, convert in self.top}
        if self.school:
            rec["school"] = {key: row[i] if convert is None else convert(row[i])
                             for i, key, convert in self.school}
        return rec

    def obstacle(self, row: Sequence[Any]) -> dict[str, Any]:
        return {key: row[i] if convert is None else convert(row[i])
                for i, key, convert in self.obstacle_keys}


def initiatives(src: Source, flt: InitiativeFilter | None = None, *,
                ids: Iterable[int] | None = None,
                fields: Sequence[str] | None = None,
                obstacle_fields: Sequence[str] | None = None,
                obstacles: str = "filter",
                dimensions: bool = True) -> Iterator[dict[str, Any]]:
    """Stream the initiatives of ``src`` matching ``flt`` (and ``ids``, when given) as
    records, in id order.

    ``obstacles``: "filter" (the obstacles that count under the filter: those in its areas
    and themes), "all" (every obstacle of the initiative) or "none" (no ``obstacles`` key).
    ``dimensions=False`` leaves out the ``dimensions`` key (one query per batch less).
    """
    flt = flt or InitiativeFilter.empty()
    shape = _Shape(fields, obstacle_fields)
    conn = db.session.connection()
    id_col = src.col("id")
    columns = [src.col(name).label(name) for name in shape.fields]
    base = (select(*columns).select_from(src.select_from(contact="contact_name" in shape.fields
                                                         or "consent_quotes" in shape.fields))
            .where(src.scope, *flt.where(src)))
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return
        base = base.where(id_col.in_(wanted))
    ob = src.obstacle.c
    obstacle_cols = [ob[name] for name in shape.obstacle_columns]
    obstacle_scope = (flt.obstacle_where(src) if obstacles == "filter"
                      else [src.obstacle_scope()])
    dim = src.dimension.c
    last_id = 0
    while True:
        rows = conn.execute(base.where(id_col > last_id).order_by(id_col)
                            .limit(BATCH_SIZE)).all()
        if not rows:
            return
        batch = [row[0] for row in rows]
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if obstacles != "none":
            position = ob.position
            for row in conn.execute(
                select(*obstacle_cols).where(ob.initiative_id.in_(batch), *obstacle_scope)
                .order_by(ob.initiative_id, position, ob.id)
            ).all():
                found[row[shape.obstacle_initiative]].append(shape.obstacle(row))
        levels: dict[int, dict[str, list[int]]] = {}
        if dimensions:
            # One row per initiative, its levels joined (issue 20: a row per level was 680,000
            # rows at 100,000 initiatives, and building them cost more than the export's SQL)
            for initiative_id, packed in conn.execute(
                select(dim.initiative_id, joined_text(
                    dim.dimension_code + literal(_FIELD) + cast(dim.current_level, String)
                    + literal(_FIELD) + cast(dim.ambition_level, String), _ITEM,
                    postgresql=conn.dialect.name == "postgresql"))
                .where(dim.initiative_id.in_(batch), src.dimension_scope())
                .group_by(dim.initiative_id)
            ).all():
                levels[initiative_id] = _levels(packed)
        for row in rows:
            rec = shape.record(row)
            if obstacles != "none":
                rec["obstacles"] = found.pop(row[0], [])
            if dimensions:
                rec["dimensions"] = levels.pop(row[0], {})
            yield rec
        last_id = batch[-1]


def initiative(src: Source, initiative_id: int) -> dict[str, Any] | None:
    """One initiative of ``src`` with all its obstacles and dimensions, or None."""
    return next(initiatives(src, ids=[initiative_id], obstacles="all"), None)


def count(src: Source, flt: InitiativeFilter) -> int:
    """How many initiatives of ``src`` match ``flt``."""
    return db.session.scalar(
        select(func.count()).select_from(flt.select_ids(src).subquery())) or 0


def page_ids(src: Source, flt: InitiativeFilter, *, page: int, per_page: int) -> list[int]:
    """The ids of one page of matching initiatives, in id order."""
    return list(db.session.scalars(
        flt.select_ids(src).order_by(src.col("id")).limit(per_page)
        .offset((page - 1) * per_page)))


def obstacle_page(src: Source, flt: InitiativeFilter, *, severity: Sequence[int] = (),
                  status: Sequence[str] = (), page: int, per_page: int
                  ) -> tuple[int, list[dict[str, Any]]]:
    """(total, obstacles of one page): the obstacles that count under ``flt`` of matching
    initiatives, narrowed to ``severity`` and ``status`` when given, in id order. Each
    obstacle record also has ``initiative_id``."""
    ob = src.obstacle.c
    conditions = [ob.initiative_id.in_(flt.select_ids(src)), *flt.obstacle_where(src)]
    if severity:
        conditions.append(ob.severity.in_(list(severity)))
    if status:
        conditions.append(ob.status.in_(list(status)))
    total = db.session.scalar(
        select(func.count()).select_from(src.obstacle).where(*conditions)) or 0
    rows = db.session.execute(
        select(*[ob[c] for c in OBSTACLE_COLUMNS]).where(*conditions).order_by(ob.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    items = [{OBSTACLE_KEYS[c]: _clean(c, row[i]) for i, c in enumerate(OBSTACLE_COLUMNS)}
             for row in rows]
    return total, items


def themes(src: Source) -> list[dict[str, Any]]:
    """The curated themes of ``src`` as records (see ``Source.themes``)."""
    return src.themes(db.session)


def last_change(src: Source) -> datetime | None:
    """When the data of ``src`` last changed (informative metadata, stable between changes)."""
    return _utc(db.session.scalar(
        select(func.max(src.col("updated_at"))).select_from(src.select_from())
        .where(src.scope)))


def school_key(src: Source) -> ColumnElement[str]:
    """SQL: the school an initiative of ``src`` counts as, for "schools" figures.

    A school is its institution code (BRIN, upper case) with its location number. A school
    that is not in DUO's list (typed by hand, ``brin`` "") has no code: it is its own school,
    named by its organisation row (live data). A snapshot keeps no organisation id; there
    the initiative stands for it (every entry has an organisation row of its own:
    ``registry.submissions.services.build_initiative``). The location number is kept apart
    from a missing one ("#01" / ""), as the records' ``(brin, location_number)`` pair is.
    """
    brin = src.col("brin")
    linked = (func.upper(brin) + literal("/")
              + func.coalesce(literal("#") + src.col("location_number"), literal("")))
    if src.is_live:
        unlinked = literal("org:") + cast(Organisation.__table__.c.id, String)
    else:
        unlinked = literal("ini:") + cast(src.col("id"), String)
    return case((func.coalesce(brin, literal("")) == literal(""), unlinked), else_=linked)


def matching_from(src: Source, flt: InitiativeFilter, *, school: bool = False) -> Any:
    """The FROM clause for the initiatives of ``src`` matching ``flt`` (with
    ``src.scope`` and ``flt.where(src)``): live data without the school's table when neither
    the filter nor the caller (``school``) needs it (one row read less per initiative)."""
    if src.is_live and not (school or flt.sector or flt.province):
        return Initiative.__table__
    return src.select_from()
