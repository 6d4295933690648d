"""Revision history of initiatives. Plain functions; they never commit (the caller does).

The snapshot format (``snapshot``; also stored in ``Revision.data``)::

    {"state": "published",
     "organisation": {"name": ..., "brin": ..., ...},       # ORGANISATION_FIELDS
     "initiative": {"title": ..., "summary": ..., ...},      # INITIATIVE_FIELDS
     "dimensions": {"tempo": [current, ambition], ...},
     "obstacles": [{"id": 12 | None, "area": ..., "title": ..., "status": ..., ...}, ...]}

The diff format (``diff``; stored in ``Revision.changes``) is flat, ``{key: [old, new]}``:

    "state"                      ["published", "withdrawn"]
    "organisation.<field>"       [old, new]
    "initiative.<field>"         [old, new]
    "dimensions.<code>"          [[current, ambition] | None, [current, ambition] | None]
    "obstacles.<id>.<field>"     [old, new]          an existing obstacle changed
    "obstacles.<id>"             [{...}, None]       an obstacle removed
    "obstacles.new-<n>"          [None, {...}]       an obstacle added (n = position, 1-based)

Public interface used by moderation: snapshot, diff, record_change, propose_revision,
approve_revision, discard_revision, pending_revision (and data_from_snapshot).
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from registry.database import utcnow
from registry.extensions import db
from registry.history.models import ACTOR_TYPES, Revision
from registry.submissions.models import Initiative
from registry.submissions.services import (
    INITIATIVE_FIELDS,
    OBSTACLE_FIELDS,
    ORGANISATION_FIELDS,
    InitiativeData,
    ObstacleData,
    OrganisationData,
    apply_initiative_data,
)

logger = logging.getLogger(__name__)

OBSTACLE_KEYS = ("area", *OBSTACLE_FIELDS)
# Values of obstacle fields added later, for snapshots stored before them (no false change)
_OBSTACLE_DEFAULTS = {"pilot_interest": False}


def snapshot(initiative: Initiative) -> dict[str, Any]:
    """The entry's public content (no contact data) as a JSON-serialisable dict."""
    org = initiative.organisation
    return {
        "state": str(initiative.state),
        "organisation": {name: getattr(org, name) for name in ORGANISATION_FIELDS},
        "initiative": {name: getattr(initiative, name) for name in INITIATIVE_FIELDS},
        "dimensions": {
            d.dimension_code: [d.current_level, d.ambition_level] for d in initiative.dimensions
        },
        "obstacles": [
            {"id": o.id, "area": o.area_code,
             **{name: getattr(o, name) for name in OBSTACLE_FIELDS}}
            for o in initiative.obstacles
        ],
    }


def snapshot_from_data(data: InitiativeData, state: str) -> dict[str, Any]:
    """The snapshot an initiative would have after ``apply_initiative_data(data)``."""
    return {
        "state": str(state),
        "organisation": {name: getattr(data.organisation, name) for name in ORGANISATION_FIELDS},
        "initiative": {name: getattr(data, name) for name in INITIATIVE_FIELDS},
        "dimensions": {code: [cur, amb] for code, (cur, amb) in data.dimensions.items()},
        "obstacles": [
            {"id": o.id, "area": o.area, **{name: getattr(o, name) for name in OBSTACLE_FIELDS}}
            for o in data.obstacles
        ],
    }


def data_from_snapshot(data: dict[str, Any], language: str = "nl") -> InitiativeData:
    """Turn a snapshot back into the service layer's InitiativeData (without contact)."""
    org = data.get("organisation", {})
    ini = data.get("initiative", {})
    return InitiativeData(
        organisation=OrganisationData(**{name: org.get(name) for name in ORGANISATION_FIELDS}),
        **{name: ini.get(name) for name in INITIATIVE_FIELDS},
        dimensions={code: (int(v[0]), int(v[1])) for code, v in data.get("dimensions", {}).items()},
        obstacles=[
            ObstacleData(id=o.get("id"), **{name: o[name] for name in OBSTACLE_KEYS
                                            if name in o})
            for o in data.get("obstacles", [])
        ],
        contact=None,
        language=language,
    )


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list]:
    """Field-level differences between two snapshots (see the module docstring)."""
    old, new = old or {}, new or {}
    changes: dict[str, list] = {}
    if old.get("state") != new.get("state") and (old or new.get("state")):
        changes["state"] = [old.get("state"), new.get("state")]
    for section in ("organisation", "initiative"):
        before, after = old.get(section, {}), new.get(section, {})
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                changes[f"{section}.{name}"] = [before.get(name), after.get(name)]
    before, after = old.get("dimensions", {}), new.get("dimensions", {})
    for code in sorted(set(before) | set(after)):
        b, a = before.get(code), after.get(code)
        if (list(b) if b else None) != (list(a) if a else None):
            changes[f"dimensions.{code}"] = [b, a]
    old_obstacles = {o["id"]: o for o in old.get("obstacles", []) if o.get("id") is not None}
    seen: set[int] = set()
    for position, obstacle in enumerate(new.get("obstacles", []), start=1):
        previous = old_obstacles.get(obstacle.get("id"))
        if previous is None:
            changes[f"obstacles.new-{position}"] = [None, obstacle]
            continue
        seen.add(obstacle["id"])
        for name in OBSTACLE_KEYS:
            default = _OBSTACLE_DEFAULTS.get(name)
            if previous.get(name, default) != obstacle.get(name, default):
                changes[f"obstacles.{obstacle['id']}.{name}"] = [
                    previous.get(name, default), obstacle.get(name, default)]
    for obstacle_id, obstacle in old_obstacles.items():
        if obstacle_id not in seen:
            changes[f"obstacles.{obstacle_id}"] = [obstacle, None]
    return changes


def _check_actor_type(actor_type: str) -> None:
    if actor_type not in ACTOR_TYPES:
        raise ValueError(f"unknown actor type {actor_type!r}")


def record_change(
    initiative: Initiative,
    actor_type: str,
    kind: str,
    before: dict[str, Any] | None,
    actor=None,
    extra_changes: dict[str, list] | None = None,
) -> Revision:
    """Record a change that has already been applied to ``initiative``.

    ``before`` is ``snapshot(initiative)`` taken before the change (None for a new entry).
    ``extra_changes`` adds entries that are not part of the snapshot, e.g.
    ``{"contact": ["present", "erased"]}``.
    """
    _check_actor_type(actor_type)
    if db.session.new:  # new obstacles get their ids (changes only to existing rows wait
        db.session.flush()  # for the caller's commit: one flush fewer per submission)
    after = snapshot(initiative)
    changes = diff(before, after)
    if extra_changes:
        changes.update(extra_changes)
    revision = Revision(
        initiative_id=initiative.id, actor_type=actor_type, actor_id=getattr(actor, "id", None),
        kind=kind, status="applied", data=after, changes=changes,
    )
    db.session.add(revision)
    return revision


def pending_revision(initiative: Initiative) -> Revision | None:
    """The newest revision awaiting moderation, if any."""
    return db.session.scalar(
        select(Revision)
        .where(Revision.initiative_id == initiative.id, Revision.status == "pending")
        .order_by(Revision.created_at.desc(), Revision.id.desc())
        .limit(1)
    )


def propose_revision(
    initiative: Initiative, data: InitiativeData, actor_type: str, actor=None
) -> Revision:
    """Store an edit as a pending revision; the entry's content is NOT changed.

    Used for published entries: the public keeps seeing the approved version until a
    moderator calls ``approve_revision``. An older pending revision is superseded
    (discarded with reason "superseded"), so there is at most one pending revision.
    """
    _check_actor_type(actor_type)
    for older in db.session.scalars(
        select(Revision).where(Revision.initiative_id == initiative.id,
                               Revision.status == "pending")
    ):
        older.status = "discarded"
        older.reason = "superseded"
        older.decided_at = utcnow()
    proposed = snapshot_from_data(data, initiative.state)
    revision = Revision(
        initiative_id=initiative.id, actor_type=actor_type, actor_id=getattr(actor, "id", None),
        kind="edit", status="pending", data=proposed,
        changes=diff(snapshot(initiative), proposed),
    )
    db.session.add(revision)
    return revision


def approve_revision(revision: Revision, actor) -> Revision:
    """Apply a pending revision to its initiative (the caller commits).

    ``changes`` is recomputed against the content at the moment of approval, so it says
    exactly what the public will see change.
    """
    if revision.status != "pending":
        raise ValueError("only a pending revision can be approved")
    initiative = revision.initiative
    before = snapshot(initiative)
    apply_initiative_data(initiative, data_from_snapshot(revision.data, initiative.language))
    db.session.flush()
    after = snapshot(initiative)
    revision.status = "approved"
    revision.data = after
    revision.changes = diff(before, after)
    revision.decided_at = utcnow()
    revision.decided_by_id = getattr(actor, "id", None)
    logger.info("Revision %s of initiative %s approved", revision.id, initiative.id)
    return revision


def discard_revision(revision: Revision, actor, reason: str = "") -> Revision:
    """Reject a pending revision; the entry stays as it is (the caller commits)."""
    if revision.status != "pending":
        raise ValueError("only a pending revision can be discarded")
    revision.status = "discarded"
    revision.reason = reason
    revision.decided_at = utcnow()
    revision.decided_by_id = getattr(actor, "id", None)
    return revision


def revisions_for(initiative: Initiative) -> list[Revision]:
    """Every revision of an initiative, oldest first."""
    return list(db.session.scalars(
        select(Revision).where(Revision.initiative_id == initiative.id)
        .order_by(Revision.created_at, Revision.id)
    ))
