"""Published data as plain, JSON-serialisable records - the one source of every export.

Records come either from the live database (streamed in keyset-paginated batches of plain
column rows: memory stays flat) or from a frozen snapshot
(``registry.summary.models.Snapshot.data``). Both have exactly the same shape, so an export
or a summary taken from a snapshot months later gives the numbers it gave on the day.

Initiative record::

    {"id", "reference", "title", "summary", "description", "phase", "start_year",
     "learners_count", "staff_count", "ict", "published_at", "updated_at",
     "school": {"name", "brin", "location_number", "sector", "levels", "city",
                "municipality", "province", "postcode", "latitude", "longitude", "website"},
     "contact_name": str | None,        # only when the contact consented to publication
     "consent_quotes": bool,            # the contact allows anonymised quotes
     "dimensions": {code: [current, ambition]},
     "obstacles": [{"id", "area", "title", "description", "rule", "severity", "status",
                    "workaround", "policy_ask", "theme_id", "reported_at"}]}

Theme record: ``{"id", "area", "title", "description",
"rules": [{"title", "level", "source_url", "existing_room"}]}``.

No e-mail address, phone number or unconsented name ever enters a record.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.moderation.models import Theme
from registry.submissions.models import (
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.constants import InitiativeState

RECORD_VERSION = 1
BATCH_SIZE = 500


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes: UTC (as ``as_utc``)
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def theme_record(theme: Theme) -> dict[str, Any]:
    return {
        "id": theme.id,
        "area": theme.area_code,
        "title": theme.title,
        "description": theme.description or "",
        "rules": [
            {"title": r.title, "level": r.level, "source_url": r.source_url or "",
             "existing_room": r.existing_room or ""}
            for r in theme.rules
        ],
    }


def live_initiatives(flt: InitiativeFilter, *, dimensions: bool = True
                     ) -> Iterator[dict[str, Any]]:
    """Stream the published initiatives matching ``flt`` as records, in id order.

    ``dimensions=False``: leave every record's ``dimensions`` empty (one query per batch
    less) for consumers that never read them, such as the obstacle rows.

    Keyset pagination in batches of ``BATCH_SIZE`` with plain column queries (no ORM objects):
    memory does not grow with the number of rows and 100,000 obstacles take seconds. The
    queries go through the session's Core connection and rows are unpacked as tuples: the ORM
    result layer and per-attribute row access were a third of an export's time (issue 11).
    """
    conn = db.session.connection()
    last_id = 0
    while True:
        stmt = (
            flt.apply(select(*_INITIATIVE_COLUMNS))
            .join(Organisation, Initiative.organisation_id == Organisation.id)
            .outerjoin(Contact, Contact.initiative_id == Initiative.id)
            .where(Initiative.id > last_id)
            .order_by(Initiative.id)
            .limit(BATCH_SIZE)
        )
        rows = conn.execute(stmt).all()
        if not rows:
            return
        ids = [row[0] for row in rows]
        obstacles: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for (oid, initiative_id, area, title, description, rule, severity, status, workaround,
             policy_ask, theme_id, created_at) in conn.execute(
            select(*_OBSTACLE_COLUMNS).where(Obstacle.initiative_id.in_(ids))
            .order_by(Obstacle.initiative_id, Obstacle.position, Obstacle.id)
        ):
            obstacles[initiative_id].append({
                "id": oid, "area": area, "title": title,
                "description": description or "", "rule": rule or "",
                "severity": severity, "status": status, "workaround": workaround or "",
                "policy_ask": policy_ask or "", "theme_id": theme_id,
                "reported_at": _iso(created_at),
            })
        levels: dict[int, dict[str, list[int]]] = defaultdict(dict)
        if dimensions:
            for initiative_id, code, current, ambition in conn.execute(
                select(InitiativeDimension.initiative_id, InitiativeDimension.dimension_code,
                       InitiativeDimension.current_level, InitiativeDimension.ambition_level)
                .where(InitiativeDimension.initiative_id.in_(ids))
                .order_by(InitiativeDimension.id)
            ):
                levels[initiative_id][code] = [current, ambition]
        for row in rows:
            yield _record_from_row(row, obstacles[row[0]], levels[row[0]])
        last_id = ids[-1]


_INITIATIVE_COLUMNS = (
    Initiative.id, Initiative.reference, Initiative.title, Initiative.summary,
    Initiative.description, Initiative.phase, Initiative.start_year, Initiative.learners_count,
    Initiative.staff_count, Initiative.ict, Initiative.published_at, Initiative.updated_at,
    Organisation.name.label("org_name"), Organisation.brin, Organisation.location_number,
    Organisation.sector, Organisation.levels, Organisation.city, Organisation.municipality,
    Organisation.province, Organisation.postcode, Organisation.latitude, Organisation.longitude,
    Organisation.website,
    Contact.name.label("contact_name"), Contact.consent_publish_name, Contact.consent_quotes,
    Contact.erased_at,
)
_OBSTACLE_COLUMNS = (
    Obstacle.id, Obstacle.initiative_id, Obstacle.area_code, Obstacle.title,
    Obstacle.description, Obstacle.rule, Obstacle.severity, Obstacle.status, Obstacle.workaround,
    Obstacle.policy_ask, Obstacle.theme_id, Obstacle.created_at,
)


def _record_from_row(row, obstacles: list[dict[str, Any]],
                     dimensions: dict[str, list[int]]) -> dict[str, Any]:
    """One initiative as a plain record (the shape exports, snapshots and the summary use).

    ``row`` holds the values of ``_INITIATIVE_COLUMNS`` in that order."""
    (initiative_id, reference, title, summary, description, phase, start_year, learners_count,
     staff_count, ict, published_at, updated_at, org_name, brin, location_number, sector,
     levels, city, municipality, province, postcode, latitude, longitude, website,
     contact_name, consent_publish_name, consent_quotes, erased_at) = row
    active = contact_name is not None and erased_at is None
    return {
        "id": initiative_id,
        "reference": reference,
        "title": title,
        "summary": summary,
        "description": description or "",
        "phase": phase,
        "start_year": start_year,
        "learners_count": learners_count,
        "staff_count": staff_count,
        "ict": ict or "",
        "published_at": _iso(published_at),
        "updated_at": _iso(updated_at),
        "school": {
            "name": org_name,
            "brin": (brin or "").upper(),
            "location_number": location_number or "",
            "sector": sector,
            "levels": levels or "",
            "city": city or "",
            "municipality": municipality or "",
            "province": province or "",
            "postcode": postcode or "",
            "latitude": latitude,
            "longitude": longitude,
            "website": website or "",
        },
        "contact_name": contact_name if active and consent_publish_name else None,
        "consent_quotes": bool(active and consent_quotes),
        "dimensions": dimensions,
        "obstacles": obstacles,
    }


def live_themes() -> list[dict[str, Any]]:
    themes = db.session.scalars(
        select(Theme).options(selectinload(Theme.rules)).order_by(Theme.area_code, Theme.id)
    )
    return [theme_record(t) for t in themes]


def live_data_date() -> datetime:
    """The moment live data was read (exports say 'live, as of ...')."""
    return utcnow()


def last_change() -> datetime | None:
    """When published data last changed (informative metadata)."""
    return as_utc(db.session.scalar(
        select(func.max(Initiative.updated_at)).where(
            Initiative.state == InitiativeState.PUBLISHED)
    ))


def freeze() -> dict[str, Any]:
    """Every published record and every theme, for a snapshot."""
    return {
        "version": RECORD_VERSION,
        "data_date": _iso(utcnow()),
        "initiatives": list(live_initiatives(InitiativeFilter.empty())),
        "themes": live_themes(),
    }


# --- the shared filter applied to records (same semantics as InitiativeFilter.apply) ---

def matches(flt: InitiativeFilter, rec: dict[str, Any]) -> bool:
    """True when an initiative record passes ``flt`` (mirrors ``InitiativeFilter.apply``)."""
    school = rec["school"]
    if flt.sector and school["sector"] not in flt.sector:
        return False
    if flt.province and school["province"] not in flt.province:
        return False
    if flt.phase and rec["phase"] not in flt.phase:
        return False
    obstacles = rec["obstacles"]
    if flt.area and not any(o["area"] in flt.area for o in obstacles):
        return False
    if flt.theme and not any(o["theme_id"] in flt.theme for o in obstacles):
        return False
    if flt.dimension:
        levels = rec["dimensions"].get(flt.dimension)
        if not levels or max(levels) < flt.min_level:
            return False
    if flt.q:
        needle = flt.q.casefold()
        haystack = [rec["title"], rec["summary"], school["name"], school["city"]]
        haystack += [o["title"] for o in obstacles]
        if not any(needle in (h or "").casefold() for h in haystack):
            return False
    return True


def filter_records(flt: InitiativeFilter, records: Iterable[dict[str, Any]]
                   ) -> Iterator[dict[str, Any]]:
    return (rec for rec in records if matches(flt, rec))


def obstacle_in_scope(flt: InitiativeFilter, obstacle: dict[str, Any]) -> bool:
    """Obstacle-level rows keep only the areas/themes filtered on (all when none given)."""
    if flt.area and obstacle["area"] not in flt.area:
        return False
    if flt.theme and obstacle["theme_id"] not in flt.theme:
        return False
    return True


class DataSource:
    """Where records come from: live published data, or a frozen snapshot.

    Every export and summary says which (``label``, ``snapshot_code``, ``data_date``).
    """

    def __init__(self, snapshot=None):
        self.snapshot = snapshot
        if snapshot is None:
            self.data_date = live_data_date()
            self.snapshot_code: str | None = None
        else:
            self.data_date = as_utc(snapshot.created_at)
            self.snapshot_code = snapshot.code

    @property
    def is_live(self) -> bool:
        return self.snapshot is None

    @property
    def label(self) -> str:
        return "live" if self.snapshot is None else f"snapshot {self.snapshot_code}"

    def initiatives(self, flt: InitiativeFilter, *, dimensions: bool = True
                    ) -> Iterator[dict[str, Any]]:
        """Records matching ``flt``; ``dimensions=False`` may leave their dimensions empty."""
        if self.snapshot is None:
            return live_initiatives(flt, dimensions=dimensions)
        return filter_records(flt, self.snapshot.data.get("initiatives", []))

    def themes(self) -> list[dict[str, Any]]:
        if self.snapshot is None:
            return live_themes()
        return list(self.snapshot.data.get("themes", []))

    def meta(self, flt: InitiativeFilter) -> dict[str, Any]:
        return {
            "source": "live" if self.snapshot is None else "snapshot",
            "snapshot": self.snapshot_code,
            "data_date": _iso(self.data_date),
            "filter": flt.describe(),
            "filter_args": flt.to_args(),
        }
