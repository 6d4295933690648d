"""Likely duplicates: entries that look like the same initiative, and what moderators decided.

Flags are written when an entry is confirmed (it then arrives in the moderation queue), by a
receiver of ``registry.events.entry_confirmed``; pages only read them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from registry.audit.services import record
from registry.database import utcnow
from registry.extensions import db
from registry.moderation.models import DuplicateFlag
from registry.submissions.models import Initiative, Organisation
from registry.taxonomy.constants import InitiativeState

# States in which an entry can still be somebody's duplicate.
ACTIVE_STATES = (InitiativeState.PENDING, InitiativeState.PUBLISHED)

NAME_THRESHOLD = 85
TITLE_THRESHOLD = 80
BATCH_SIZE = 10_000  # entries read and scored at a time


@dataclass
class DuplicateCandidate:
    initiative: Initiative
    reasons: list[str]
    score: float


def _compact_postcode(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def find_duplicates(initiative: Initiative) -> list[DuplicateCandidate]:
    """Other active entries that look like the same initiative (most likely first).

    Signals: same institution code (BRIN) and location number; same postcode; similar school
    name and initiative title (rapidfuzz).
    """
    org = initiative.organisation
    school_name, title = org.name.lower(), initiative.title.lower()
    postcode = _compact_postcode(org.postcode)
    found: list[tuple[int, list[str], float]] = []
    # Read a batch at a time (issue 20: all 100,000 rows at once took some 50 MB per worker).
    batches = db.session.execute(
        select(Initiative.id, Initiative.title, Organisation.name, Organisation.brin,
               Organisation.location_number, Organisation.postcode)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.id != initiative.id, Initiative.state.in_(ACTIVE_STATES))
        .execution_options(yield_per=BATCH_SIZE)
    ).partitions()
    for rows in batches:
        # Every name and title of a batch scored in one call each (rapidfuzz's C++ loop; the
        # same scorer as fuzz.token_set_ratio): a Python loop over 100,000 entries took a
        # second per publication.
        school_scores = process.cdist([school_name], [(r[2] or "").lower() for r in rows],
                                      scorer=fuzz.token_set_ratio, dtype=np.float64)[0]
        title_scores = process.cdist([title], [(r[1] or "").lower() for r in rows],
                                     scorer=fuzz.token_set_ratio, dtype=np.float64)[0]
        names = (school_scores >= NAME_THRESHOLD) & (title_scores >= TITLE_THRESHOLD)
        for k, (other_id, _title, _school, brin, location, other_postcode) in enumerate(rows):
            reasons = []
            if (org.brin and brin == org.brin
                    and (location or "") == (org.location_number or "")):
                reasons.append("brin_location")
            if postcode and _compact_postcode(other_postcode) == postcode:
                reasons.append("postcode")
            if names[k]:
                reasons.append("names")
            if reasons:
                score = max(float(school_scores[k]), float(title_scores[k])) / 100 + len(reasons)
                found.append((other_id, reasons, score))
    found.sort(key=lambda item: -item[2])
    return [DuplicateCandidate(other, reasons, round(score, 3))
            for oid, reasons, score in found
            if (other := db.session.get(Initiative, oid)) is not None]


def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def get_flag(a: int, b: int) -> DuplicateFlag | None:
    first, second = pair(a, b)
    return db.session.scalar(select(DuplicateFlag).where(
        DuplicateFlag.first_id == first, DuplicateFlag.second_id == second))


def flag_duplicates(initiative: Initiative) -> list[DuplicateFlag]:
    """Store a flag for every likely duplicate not flagged before (call on arrival).

    Idempotent; decisions already taken (not a duplicate, merged) are kept.
    """
    if initiative.id is None:
        db.session.flush()
    new = []
    for candidate in find_duplicates(initiative):
        flag = get_flag(initiative.id, candidate.initiative.id)
        if flag is None:
            first, second = pair(initiative.id, candidate.initiative.id)
            flag = DuplicateFlag(first_id=first, second_id=second, reasons=candidate.reasons,
                                 score=candidate.score, status="open")
            db.session.add(flag)
            new.append(flag)
        elif flag.status == "open" and flag.reasons != candidate.reasons:
            flag.reasons, flag.score = candidate.reasons, candidate.score
    if new:
        db.session.flush()
    return new


def open_flags(initiative: Initiative) -> list[DuplicateFlag]:
    flags = db.session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.status == "open",
        or_(DuplicateFlag.first_id == initiative.id, DuplicateFlag.second_id == initiative.id),
    ).order_by(DuplicateFlag.score.desc())).all()
    return [f for f in flags if f.other(initiative.id).state in ACTIVE_STATES]


def initiatives_with_open_flags(ids: list[int]) -> set[int]:
    """Which of these entries have a likely duplicate to decide on: an open flag with both
    entries still active (pending or published), as the entry page offers its decisions
    ("Geen dubbele", merge). The queue's tag comes and goes with those decisions."""
    if not ids:
        return set()
    first, second = aliased(Initiative), aliased(Initiative)
    rows = db.session.execute(
        select(DuplicateFlag.first_id, DuplicateFlag.second_id, first.state, second.state)
        .join(first, first.id == DuplicateFlag.first_id)
        .join(second, second.id == DuplicateFlag.second_id)
        .where(DuplicateFlag.status == "open",
               or_(DuplicateFlag.first_id.in_(ids), DuplicateFlag.second_id.in_(ids)))).all()
    found: set[int] = set()
    for first_id, second_id, first_state, second_state in rows:
        if first_state in ACTIVE_STATES and second_state in ACTIVE_STATES:
            found.update(i for i in (first_id, second_id) if i in ids)
    return found


def mark_not_duplicate(a: Initiative, b: Initiative, *, actor) -> DuplicateFlag:
    flag = get_flag(a.id, b.id)
    if flag is None:
        first, second = pair(a.id, b.id)
        flag = DuplicateFlag(first_id=first, second_id=second, reasons=[], score=0.0)
        db.session.add(flag)
    elif flag.status == "merged":
        raise ValueError("a merged pair is undone from the history, not marked")
    flag.status = "not_duplicate"
    flag.decided_at = utcnow()
    flag.decided_by_id = getattr(actor, "id", None)
    db.session.flush()
    record("duplicate.not_duplicate", target_type="initiative", target_id=a.id,
           after={"other": b.id}, actor=actor)
    return flag


def not_duplicate_flags(initiative: Initiative) -> list[DuplicateFlag]:
    """The pairs with this entry that a moderator decided are not duplicates, newest first."""
    return list(db.session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.status == "not_duplicate",
        or_(DuplicateFlag.first_id == initiative.id, DuplicateFlag.second_id == initiative.id),
    ).order_by(DuplicateFlag.decided_at.desc(), DuplicateFlag.id.desc())))


def reopen_flag(a: Initiative, b: Initiative, *, actor) -> DuplicateFlag | None:
    """Revert a "not a duplicate" decision: the pair is a likely duplicate again (open, in
    the queue with its tag). None when there is no such decision to revert."""
    flag = get_flag(a.id, b.id)
    if flag is None or flag.status != "not_duplicate":
        return None
    before = {"status": flag.status, "decided_at": flag.decided_at.isoformat()
              if flag.decided_at else None, "decided_by": flag.decided_by_id}
    flag.status = "open"
    flag.decided_at = None
    flag.decided_by_id = None
    db.session.flush()
    record("duplicate.not_duplicate_revert", target_type="initiative", target_id=a.id,
           before=before, after={"other": b.id, "status": "open"}, actor=actor)
    return flag


def merged_into(initiative: Initiative) -> list[Initiative]:
    """Entries that were merged into ``initiative`` (their histories belong to it too)."""
    flags = db.session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.status == "merged", DuplicateFlag.kept_id == initiative.id)).all()
    return [f.other(initiative.id) for f in flags]


def kept_instead(initiative: Initiative) -> Initiative | None:
    flag = db.session.scalar(select(DuplicateFlag).where(
        DuplicateFlag.status == "merged",
        or_(DuplicateFlag.first_id == initiative.id, DuplicateFlag.second_id == initiative.id),
        DuplicateFlag.kept_id != initiative.id))
    return flag.other(initiative.id) if flag else None
