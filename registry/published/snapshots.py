"""Making and finding snapshots. A snapshot copies the published rows into the
``snapshot_*`` tables with ``INSERT ... SELECT`` through the live source's columns, so it
holds exactly what a live read would have returned at that moment."""
from __future__ import annotations

import re
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, literal, select, update

from registry.audit.services import record
from registry.cache import mark_public_change
from registry.database import utcnow
from registry.events import snapshot_created
from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.published.models import (
    Snapshot,
    SnapshotDimension,
    SnapshotInitiative,
    SnapshotObstacle,
    SnapshotTheme,
    SnapshotThemeRule,
)
from registry.published.sources import (
    DIMENSION_COLUMNS,
    INITIATIVE_FIELDS,
    OBSTACLE_COLUMNS,
    PUBLISHED,
    SnapshotSource,
    Source,
)
from registry.submissions.search import search_text
from registry.taxonomy.constants import CONFIDENTIAL, PUBLIC

SNAPSHOT_CODE = re.compile(r"^\d{4}-\d{2}-[a-z]{1,3}$")


def next_snapshot_code(now: datetime | None = None) -> str:
    """``YYYY-MM-a``, then ``-b`` ... ``-z``, ``-aa`` ... for the month of ``now``."""
    now = now or utcnow()
    prefix = f"{now.year:04d}-{now.month:02d}-"
    taken = set(db.session.scalars(select(Snapshot.code).where(Snapshot.code.like(prefix + "%"))))
    n = 0
    while True:
        suffix, k = "", n
        while True:
            suffix = chr(ord("a") + k % 26) + suffix
            k = k // 26 - 1
            if k < 0:
                break
        if prefix + suffix not in taken:
            return prefix + suffix
        n += 1


def _copy(snapshot_id: int) -> None:
    """Copy every published initiative, obstacle, dimension, theme and rule (one statement
    per table)."""
    src = PUBLISHED
    fields = (*INITIATIVE_FIELDS, "search_text")
    db.session.execute(insert(SnapshotInitiative).from_select(
        ["snapshot_id", *fields],
        select(literal(snapshot_id), *[src.col(name) for name in fields])
        .select_from(src.select_from(contact=True)).where(src.scope)))
    published_ids = select(src.col("id")).select_from(src.select_from()).where(src.scope)
    ob = src.obstacle.c
    db.session.execute(insert(SnapshotObstacle).from_select(
        ["snapshot_id", *OBSTACLE_COLUMNS, "position"],
        select(literal(snapshot_id), *[ob[c] for c in OBSTACLE_COLUMNS], ob.position)
        .where(ob.initiative_id.in_(published_ids))))
    dim = src.dimension.c
    db.session.execute(insert(SnapshotDimension).from_select(
        ["snapshot_id", *DIMENSION_COLUMNS],
        select(literal(snapshot_id), *[dim[c] for c in DIMENSION_COLUMNS])
        .where(dim.initiative_id.in_(published_ids))))
    db.session.execute(insert(SnapshotTheme).from_select(
        ["snapshot_id", "id", "area_code", "title", "description", "ask"],
        select(literal(snapshot_id), Theme.id, Theme.area_code, Theme.title,
               Theme.description, Theme.ask)))
    rules = db.session.execute(select(ThemeRule.theme_id, ThemeRule.title, ThemeRule.level,
                                      ThemeRule.source_url, ThemeRule.existing_room)
                               .order_by(ThemeRule.theme_id, ThemeRule.id)).all()
    positions: dict[int, int] = {}
    values = []
    for theme_id, title, level, source_url, existing_room in rules:
        positions[theme_id] = positions.get(theme_id, -1) + 1
        values.append({"snapshot_id": snapshot_id, "theme_id": theme_id,
                       "position": positions[theme_id], "title": title, "level": level,
                       "source_url": source_url or "", "existing_room": existing_room or ""})
    if values:
        db.session.execute(insert(SnapshotThemeRule), values)


def create_snapshot(*, note: str = "", actor=None) -> Snapshot:
    """Freeze every published record and theme (the caller commits)."""
    snap = Snapshot(
        code=next_snapshot_code(),
        created_at=utcnow(),
        created_by_id=getattr(actor, "id", None),
        created_by_label=getattr(actor, "email", None)
        or (actor if isinstance(actor, str) else "system"),
        note=note.strip(),
    )
    db.session.add(snap)
    db.session.flush()
    _copy(snap.id)
    snap.initiative_count = db.session.scalar(
        select(func.count()).select_from(SnapshotInitiative)
        .where(SnapshotInitiative.snapshot_id == snap.id)) or 0
    snap.obstacle_count = db.session.scalar(
        select(func.count()).select_from(SnapshotObstacle)
        .where(SnapshotObstacle.snapshot_id == snap.id)) or 0
    db.session.flush()
    record("snapshot.create", target_type="snapshot", target_id=snap.id,
           after={"code": snap.code, "initiatives": snap.initiative_count,
                  "obstacles": snap.obstacle_count}, reason=snap.note, actor=actor)
    snapshot_created.send(snap)
    return snap


# --------------------------------------------------------------- privacy (issue 16)
# A snapshot freezes figures, not people: what a school withdraws, erases or makes
# confidential later reaches every snapshot at once.

_SI = cast(Table, SnapshotInitiative.__table__)
_SO = cast(Table, SnapshotObstacle.__table__)


def _refresh_search_text(initiative_ids: list[int]) -> None:
    """Recompute the searchable text of these initiatives in every snapshot from the
    snapshot's own rows (public obstacle titles only)."""
    si, so = _SI, _SO
    rows = db.session.execute(
        select(si.c.snapshot_id, si.c.id, si.c.title, si.c.summary, si.c.school_name,
               si.c.city, si.c.withdrawn).where(si.c.id.in_(initiative_ids))).all()
    for snapshot_id, initiative_id, title, summary, school, city, withdrawn in rows:
        titles = db.session.scalars(
            select(so.c.title).where(so.c.snapshot_id == snapshot_id,
                                     so.c.initiative_id == initiative_id,
                                     so.c.visibility == PUBLIC)
            .order_by(so.c.position, so.c.id)).all()
        text = "" if withdrawn else search_text(title, summary, school, city, titles)
        db.session.execute(update(si).where(si.c.snapshot_id == snapshot_id,
                                            si.c.id == initiative_id).values(search_text=text))


def make_confidential_in_snapshots(obstacle_ids: list[int]) -> int:
    """These obstacles were made confidential: so they are in every snapshot that holds
    them (their texts leave its public outputs; they still count in its national figures).
    Returns how many snapshot rows changed."""
    if not obstacle_ids:
        return 0
    so = _SO
    public = [so.c.id.in_(obstacle_ids), so.c.visibility != CONFIDENTIAL]
    affected = sorted(set(db.session.scalars(select(so.c.initiative_id).where(*public))))
    if not affected:
        return 0
    changed = db.session.scalar(select(func.count()).select_from(so).where(*public)) or 0
    db.session.execute(update(so).where(*public).values(visibility=CONFIDENTIAL))
    _refresh_search_text(affected)
    mark_public_change()
    return changed


def withdraw_from_snapshots(initiative_id: int) -> int:
    """The entry was withdrawn: its texts, school name and address leave every snapshot
    (the row stays, marked withdrawn, so the frozen figures do not change). Returns how
    many snapshots held it."""
    si, so = _SI, _SO
    changed = db.session.scalar(select(func.count()).select_from(si)
                                .where(si.c.id == initiative_id)) or 0
    if not changed:
        return 0
    db.session.execute(
        update(si).where(si.c.id == initiative_id)
        .values(withdrawn=True, reference=None, title="", summary="", description="",
                ict="", search_text="", school_name="", website="", postcode="", city="",
                latitude=None, longitude=None, contact_name=None, consent_quotes=False))
    db.session.execute(
        update(so).where(so.c.initiative_id == initiative_id)
        .values(title="", description="", rule="", workaround="", policy_ask=""))
    mark_public_change()
    return changed


def erase_contact_from_snapshots(initiative_id: int) -> None:
    """AVG art. 17: the contact's name and consent to quotes leave every snapshot."""
    si = _SI
    db.session.execute(update(si).where(si.c.id == initiative_id)
                       .values(contact_name=None, consent_quotes=False))
    mark_public_change()


def withdrawn_since(snapshot: Snapshot) -> int:
    """How many of the snapshot's entries were withdrawn after it was made."""
    si = _SI
    return db.session.scalar(
        select(func.count()).select_from(si)
        .where(si.c.snapshot_id == snapshot.id, si.c.withdrawn.is_(True))) or 0


def withdrawn_counts() -> dict[int, int]:
    """Per snapshot id: how many of its entries were withdrawn since."""
    si = _SI
    rows = db.session.execute(
        select(si.c.snapshot_id, func.count()).where(si.c.withdrawn.is_(True))
        .group_by(si.c.snapshot_id)).all()
    return {snapshot_id: count for snapshot_id, count in rows}


def list_snapshots() -> list[Snapshot]:
    """Snapshots newest first."""
    return list(db.session.scalars(
        select(Snapshot).order_by(Snapshot.created_at.desc(), Snapshot.id.desc())))


def get_snapshot(code: str | None) -> Snapshot | None:
    if not code or not SNAPSHOT_CODE.match(code):
        return None
    return db.session.scalar(select(Snapshot).where(Snapshot.code == code))


def snapshot_count() -> int:
    return db.session.scalar(select(func.count(Snapshot.id))) or 0


def previous_snapshot(snapshot: Snapshot | None) -> Snapshot | None:
    """The snapshot before ``snapshot`` (or the latest one, for live data)."""
    stmt = select(Snapshot).order_by(Snapshot.created_at.desc(), Snapshot.id.desc())
    if snapshot is not None:
        stmt = stmt.where(Snapshot.created_at < snapshot.created_at)
    return db.session.scalars(stmt.limit(1)).first()


def source_for(code: str | None) -> Source | None:
    """The live source for no code, a snapshot's source for a known code, else None."""
    if not code:
        return PUBLISHED
    snapshot = get_snapshot(code)
    return SnapshotSource(snapshot) if snapshot is not None else None
