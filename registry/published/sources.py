"""Where published records come from: live data or a frozen snapshot.

A ``Source`` names, for one place the data can be read from, the column behind every
initiative-level field (``col``), the tables of obstacles, dimensions and themes, and the
condition that says which rows belong to it (``scope``). The live source is where
"published" is defined, once: ``Initiative.state == published``. A snapshot source reads the
``snapshot_*`` tables of one snapshot, whose columns have the same names. The filter
(``registry.published.filters``) and the record builder (``registry.published.records``)
only talk to a ``Source``, so live data and snapshots are selected by the same SQL.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Table,
    and_,
    case,
    false,
    literal,
    select,
    true,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from registry.database import as_utc, utcnow
from registry.moderation.models import Theme, ThemeRule
from registry.published.models import (
    Snapshot,
    SnapshotDimension,
    SnapshotInitiative,
    SnapshotObstacle,
    SnapshotTheme,
    SnapshotThemeRule,
)
from registry.submissions.models import (
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.constants import PUBLIC, InitiativeState

# Initiative-level fields in record order. Fields from ``SCHOOL_FIELDS`` go into a record's
# ``school`` dict under the name given there; the rest are top-level keys.
INITIATIVE_FIELDS = (
    "id", "reference", "title", "summary", "description", "phase", "start_year",
    "learners_count", "staff_count", "ict", "language", "published_at", "updated_at",
    "school_name", "brin", "location_number", "sector", "levels", "qualification_codes",
    "city", "municipality", "province", "postcode", "latitude", "longitude", "website",
    "geo_precision", "contact_name", "consent_quotes",
)
SCHOOL_FIELDS = {
    "school_name": "name", "brin": "brin", "location_number": "location_number",
    "sector": "sector", "levels": "levels", "qualification_codes": "qualification_codes",
    "city": "city", "municipality": "municipality", "province": "province",
    "postcode": "postcode", "latitude": "latitude", "longitude": "longitude",
    "website": "website", "geo_precision": "geo_precision",
}
# Obstacle columns (the same names in ``obstacle`` and ``snapshot_obstacle``).
OBSTACLE_COLUMNS = (
    "id", "initiative_id", "area_code", "title", "description", "rule", "severity", "status",
    "workaround", "policy_ask", "theme_id", "created_at", "visibility", "reported_at",
)
DIMENSION_COLUMNS = ("initiative_id", "dimension_code", "current_level", "ambition_level")


class Source:
    """Base class; see the module docstring."""

    kind: str  # "live" | "snapshot"
    snapshot: Snapshot | None = None
    obstacle: Table
    dimension: Table

    def col(self, name: str) -> ColumnElement[Any]:
        """The column (or expression) behind an initiative-level field."""
        raise NotImplementedError

    def select_from(self, *, contact: bool = False) -> FromClause:
        """The FROM clause of initiative-level queries (with the contact when asked)."""
        raise NotImplementedError

    @property
    def scope(self) -> ColumnElement[bool]:
        """Which initiative rows belong to this source."""
        raise NotImplementedError

    # Which obstacles the source holds: "public" (what anyone may see) or "all" (with the
    # confidential ones, for staff and the national figures; registry.summary.disclosure).
    visibility: str = "public"

    def with_confidential(self) -> Source:
        """The same rows with every obstacle, confidential ones included (staff, and the
        national figures of registry.summary.disclosure)."""
        raise NotImplementedError

    def for_aggregates(self) -> Source:
        """The rows aggregates count (a snapshot: with the entries withdrawn since)."""
        raise NotImplementedError

    def obstacle_scope(self) -> ColumnElement[bool]:
        if self.visibility == "all":
            return true()
        return self.obstacle.c.visibility == PUBLIC

    def dimension_scope(self) -> ColumnElement[bool]:
        return true()

    def themes(self, session) -> list[dict[str, Any]]:
        """Theme records ``{id, area, title, description, ask, rules[{title, level,
        source_url, existing_room}]}`` ordered by area and id."""
        raise NotImplementedError

    # -- what exports and documents say about their data ----------------------------------
    @property
    def is_live(self) -> bool:
        return self.kind == "live"

    @property
    def code(self) -> str | None:
        return self.snapshot.code if self.snapshot is not None else None

    @property
    def label(self) -> str:
        return "live" if self.snapshot is None else f"snapshot {self.snapshot.code}"

    @property
    def data_date(self) -> datetime:
        if self.snapshot is None:
            return utcnow()
        return as_utc(self.snapshot.created_at) or utcnow()

    def meta(self, flt) -> dict[str, Any]:
        return {
            "source": self.kind,
            "snapshot": self.code,
            "data_date": self.data_date.isoformat(),
            "filter": flt.describe(),
            "filter_args": flt.to_args(),
        }


def _theme_records(rows, rules) -> list[dict[str, Any]]:
    """Theme records with their optional English texts (``*_en``, "" when there is none:
    ``registry.localized`` falls back to the Dutch text)."""
    by_theme: dict[int, list[dict[str, Any]]] = {}
    for theme_id, title, level, source_url, existing_room, title_en, room_en in rules:
        by_theme.setdefault(theme_id, []).append({
            "title": title, "level": level, "source_url": source_url or "",
            "existing_room": existing_room or "", "title_en": title_en or "",
            "existing_room_en": room_en or ""})
    return [{"id": tid, "area": area, "title": title, "description": description or "",
             "ask": ask or "", "title_en": title_en or "",
             "description_en": description_en or "", "ask_en": ask_en or "",
             "rules": by_theme.get(tid, [])}
            for tid, area, title, description, ask, title_en, description_en, ask_en in rows]


class LiveSource(Source):
    """Live data. ``states``: the entry states in scope (default: published only; None:
    every entry, for staff screens such as the moderation queue)."""

    kind = "live"
    obstacle = cast(Table, Obstacle.__table__)  # typed as a FromClause; a model's is a Table
    dimension = cast(Table, InitiativeDimension.__table__)

    _COLUMNS: dict[str, Any] = {
        **{name: getattr(Initiative, name) for name in (
            "id", "reference", "title", "summary", "description", "phase", "start_year",
            "learners_count", "staff_count", "ict", "language", "published_at", "updated_at",
            "search_text")},
        "school_name": Organisation.name,
        **{name: getattr(Organisation, name) for name in (
            "brin", "location_number", "sector", "levels", "qualification_codes", "city",
            "municipality", "province", "postcode", "latitude", "longitude", "website",
            "geo_precision")},
        # Personal data never leaves the database unless the contact consented, and never
        # after erasure: the name only with consent to publish it.
        "contact_name": case(
            (and_(Contact.erased_at.is_(None), Contact.consent_publish_name.is_(True)),
             Contact.name),
            else_=None),
        "consent_quotes": case(
            (and_(Contact.erased_at.is_(None), Contact.consent_quotes.is_(True)), true()),
            else_=false()),
        "withdrawn": false(),
    }

    def __init__(self, states: tuple[str, ...] | None = (InitiativeState.PUBLISHED,), *,
                 visibility: str = "public"):
        self.states = states
        self.visibility = visibility

    def with_confidential(self) -> LiveSource:
        """The same entries with every obstacle, confidential ones included (staff only)."""
        return LiveSource(self.states, visibility="all")

    def for_aggregates(self) -> Source:
        """The rows the frozen aggregates count (live: the same rows)."""
        return self

    def col(self, name: str) -> ColumnElement[Any]:
        return self._COLUMNS[name]

    def select_from(self, *, contact: bool = False) -> FromClause:
        joined = Initiative.__table__.join(
            Organisation.__table__, Initiative.organisation_id == Organisation.id)
        if contact:
            joined = joined.outerjoin(Contact.__table__, Contact.initiative_id == Initiative.id)
        return joined

    @property
    def scope(self) -> ColumnElement[bool]:
        if self.states is None:
            return true()
        if len(self.states) == 1:
            return Initiative.state == self.states[0]
        return Initiative.state.in_(self.states)

    def themes(self, session) -> list[dict[str, Any]]:
        rows = session.execute(select(Theme.id, Theme.area_code, Theme.title, Theme.description,
                                      Theme.ask, Theme.title_en, Theme.description_en,
                                      Theme.ask_en)
                               .order_by(Theme.area_code, Theme.id)).all()
        rules = session.execute(select(ThemeRule.theme_id, ThemeRule.title, ThemeRule.level,
                                       ThemeRule.source_url, ThemeRule.existing_room,
                                       ThemeRule.title_en, ThemeRule.existing_room_en)
                                .order_by(ThemeRule.theme_id, ThemeRule.id)).all()
        return _theme_records(rows, rules)


class SnapshotSource(Source):
    """The rows of one snapshot."""

    kind = "snapshot"
    obstacle = cast(Table, SnapshotObstacle.__table__)
    dimension = cast(Table, SnapshotDimension.__table__)

    def __init__(self, snapshot: Snapshot, *, visibility: str = "public",
                 withdrawn: bool = False):
        self.snapshot = self._snapshot = snapshot
        self.snapshot_id = snapshot.id
        self.visibility = visibility
        # Rows withdrawn since the snapshot: only in its aggregates (``for_aggregates``).
        self.withdrawn = withdrawn
        table = SnapshotInitiative.__table__
        self._columns: dict[str, KeyedColumnElement[Any]] = dict(table.c.items())

    def with_confidential(self) -> SnapshotSource:
        return SnapshotSource(self._snapshot, visibility="all", withdrawn=self.withdrawn)

    def for_aggregates(self) -> SnapshotSource:
        """With the rows withdrawn since the snapshot: its figures stay as they were frozen
        (those rows have no texts, school name or address left)."""
        return SnapshotSource(self._snapshot, visibility=self.visibility, withdrawn=True)

    def col(self, name: str) -> ColumnElement[Any]:
        return self._columns[name]

    def select_from(self, *, contact: bool = False) -> FromClause:
        return SnapshotInitiative.__table__

    @property
    def scope(self) -> ColumnElement[bool]:
        table = SnapshotInitiative.__table__
        if self.withdrawn:
            return table.c.snapshot_id == self.snapshot_id
        return and_(table.c.snapshot_id == self.snapshot_id, table.c.withdrawn.is_(False))

    def obstacle_scope(self) -> ColumnElement[bool]:
        in_snapshot = self.obstacle.c.snapshot_id == self.snapshot_id
        if self.visibility == "all":
            return in_snapshot
        return and_(in_snapshot, self.obstacle.c.visibility == PUBLIC)

    def dimension_scope(self) -> ColumnElement[bool]:
        return self.dimension.c.snapshot_id == self.snapshot_id

    def themes(self, session) -> list[dict[str, Any]]:
        t, r = SnapshotTheme.__table__, SnapshotThemeRule.__table__
        # Snapshots keep the Dutch texts only (no English columns): "" falls back to them.
        def none(name: str):
            return literal("").label(name)

        rows = session.execute(select(t.c.id, t.c.area_code, t.c.title, t.c.description,
                                      t.c.ask, none("title_en"), none("description_en"),
                                      none("ask_en"))
                               .where(t.c.snapshot_id == self.snapshot_id)
                               .order_by(t.c.area_code, t.c.id)).all()
        rules = session.execute(select(r.c.theme_id, r.c.title, r.c.level, r.c.source_url,
                                       r.c.existing_room, none("title_en"),
                                       none("existing_room_en"))
                                .where(r.c.snapshot_id == self.snapshot_id)
                                .order_by(r.c.theme_id, r.c.position)).all()
        return _theme_records(rows, rules)


# What the public sees (published entries, public obstacles), and what staff screens see
# (every entry, every obstacle).
PUBLISHED = LiveSource()
ALL_ENTRIES = LiveSource(states=None, visibility="all")
