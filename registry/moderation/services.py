"""Moderation operations: publish, reject, ask for changes, edit, merge, themes.

Plain functions taking model objects and data; they write the audit log in the same
transaction, announce what happened (``registry.events``: the history, mail to the contact
and digests react there) and never commit (the view or CLI command does).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from rapidfuzz import fuzz
from sqlalchemy import func, or_, select

from registry import events
from registry.audit.services import record
from registry.database import utcnow
from registry.events import EntryChange, MergeChange, RevisionDecision
from registry.extensions import db
from registry.history import services as history
from registry.history.labels import change_label
from registry.history.models import Revision
from registry.moderation.duplicates import ACTIVE_STATES, get_flag, pair
from registry.moderation.models import (
    RULE_LEVELS,
    DuplicateFlag,
    MergeOperation,
    Theme,
    ThemeRule,
)
from registry.published.filters import InitiativeFilter
from registry.published.sources import ALL_ENTRIES, PUBLISHED
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.submissions.services import OBSTACLE_FIELDS, apply_initiative_data
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState
from registry.taxonomy.models import ObstacleArea

logger = logging.getLogger(__name__)


class ModerationError(ValueError):
    """An operation that is not allowed in the entry's current state (Dutch message)."""


def _state_change(initiative: Initiative, action: str, new_state: str, actor, signal,
                  reason: str = "") -> None:
    """Set the state, log it and announce it (the history records the revision)."""
    before = history.snapshot(initiative)
    old_state = initiative.state
    initiative.state = new_state
    record(action, target_type="initiative", target_id=initiative.id,
           before={"state": str(old_state)}, after={"state": str(new_state)}, reason=reason,
           actor=actor)
    signal.send(EntryChange(initiative, action.split(".", 1)[1], "moderator", actor=actor,
                            before=before, reason=reason,
                            extra={"was_public": old_state == InitiativeState.PUBLISHED}))


def has_contact_address(initiative: Initiative) -> bool:
    contact = initiative.contact
    return bool(contact is not None and contact.erased_at is None and contact.email)


# --- the basic actions -----------------------------------------------------------------------

def publish(initiative: Initiative, *, actor) -> None:
    if initiative.state not in (InitiativeState.PENDING, InitiativeState.REJECTED):
        raise ModerationError(_("Alleen een aanmelding die wacht op moderatie kan worden "
                                "gepubliceerd."))
    if initiative.published_at is None:
        initiative.published_at = utcnow()
    _state_change(initiative, "initiative.publish", InitiativeState.PUBLISHED, actor,
                  events.entry_published)


def reject(initiative: Initiative, reason: str, *, actor) -> None:
    """Reject (also a published entry: it leaves the public pages); the contact is mailed
    the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Geef een reden voor de afwijzing."))
    if initiative.state not in (InitiativeState.PENDING, InitiativeState.PUBLISHED):
        raise ModerationError(_("Deze aanmelding kan niet (meer) worden afgewezen."))
    _state_change(initiative, "initiative.reject", InitiativeState.REJECTED, actor,
                  events.entry_rejected, reason)


def request_changes(initiative: Initiative, message: str, *, actor) -> None:
    """Ask the contact to change something; they get the message and a manage link."""
    message = (message or "").strip()
    if not message:
        raise ModerationError(_("Schrijf wat de contactpersoon moet aanpassen."))
    if not has_contact_address(initiative):
        raise ModerationError(_("Deze aanmelding heeft geen contactpersoon om te mailen."))
    record("initiative.request_changes", target_type="initiative", target_id=initiative.id,
           reason=message, actor=actor)
    events.changes_requested.send(EntryChange(initiative, "request_changes", "moderator",
                                              actor=actor, reason=message))


def bulk_decide(ids: list[int], action: str, reason: str, *, actor) -> tuple[int, list[str]]:
    """Publish or reject (with one reason) several entries; returns how many were done and
    the references of those skipped because their state does not allow it."""
    done, skipped = 0, []
    for initiative in db.session.scalars(select(Initiative).where(Initiative.id.in_(ids))
                                         .order_by(Initiative.id)):
        try:
            if action == "publish":
                publish(initiative, actor=actor)
            else:
                reject(initiative, reason, actor=actor)
            done += 1
        except ModerationError:
            skipped.append(initiative.reference or str(initiative.id))
    return done, skipped


class StaleEntryError(ModerationError):
    pass


def check_version(initiative: Initiative, expected_version: int | None) -> None:
    if expected_version is None or int(expected_version) != initiative.version_id:
        raise StaleEntryError(_(
            "Iemand anders heeft deze aanmelding intussen gewijzigd. Uw wijzigingen zijn niet "
            "opgeslagen. Bekijk de nieuwe versie en voer uw wijzigingen opnieuw in."))


def edit(initiative: Initiative, data, *, expected_version: int | None,
         actor) -> list[tuple[Obstacle, Theme]]:
    """Apply InitiativeData; refuse when someone else saved in between (optimistic lock).

    Returns the obstacles whose area changed away from their theme's area, and the theme
    each was unlinked from (``unlink_themes_of_other_areas``), to tell the moderator."""
    check_version(initiative, expected_version)
    before = history.snapshot(initiative)
    areas = {o.id: o.area_code for o in initiative.obstacles}
    apply_initiative_data(initiative, data)
    initiative.updated_at = utcnow()  # always bump the version, also for obstacle-only edits
    unlinked = unlink_themes_of_other_areas(
        [o for o in initiative.obstacles if o.id in areas and areas[o.id] != o.area_code],
        actor=actor)
    db.session.flush()
    changes = history.diff(before, history.snapshot(initiative))
    record("initiative.edit", target_type="initiative", target_id=initiative.id,
           before={k: v[0] for k, v in changes.items()},
           after={k: v[1] for k, v in changes.items()}, actor=actor)
    events.entry_edited.send(EntryChange(initiative, "edit", "moderator", actor=actor,
                                         before=before))
    return unlinked


def unlink_themes_of_other_areas(obstacles, *, actor) -> list[tuple[Obstacle, Theme]]:
    """Unlink each obstacle from its theme when the theme belongs to another area than the
    obstacle (after its area changed): a theme's figures count only reports of its own area,
    so the figures per area and per theme under it agree (issue 18). Returns (obstacle,
    theme it was unlinked from) pairs."""
    unlinked = []
    for obstacle in obstacles:
        theme = (db.session.get(Theme, obstacle.theme_id) if obstacle.theme_id is not None
                 else None)
        if theme is not None and theme.area_code != obstacle.area_code:
            link_obstacle(obstacle, None, actor=actor)
            obstacle.theme = None  # the relationship too, not only the column
            unlinked.append((obstacle, theme))
    return unlinked


def reclassify_obstacle(obstacle: Obstacle, area_code: str, *, actor) -> Theme | None:
    """Move an obstacle to another area. A theme of the old area no longer fits: it is
    unlinked, and returned so the moderator can be told and offered the new area's themes."""
    if db.session.get(ObstacleArea, area_code) is None:
        raise ModerationError(_("Kies een bestaand gebied."))
    if obstacle.area_code == area_code:
        return None
    initiative = obstacle.initiative
    before = history.snapshot(initiative)
    old = obstacle.area_code
    obstacle.area_code = area_code
    initiative.updated_at = utcnow()  # bumps the version: open edit forms become stale
    record("obstacle.reclassify", target_type="obstacle", target_id=obstacle.id,
           before={"area": old}, after={"area": area_code}, actor=actor)
    unlinked = unlink_themes_of_other_areas([obstacle], actor=actor)
    events.entry_edited.send(EntryChange(initiative, "reclassify", "moderator", actor=actor,
                                         before=before))
    return unlinked[0][1] if unlinked else None


def approve_revision(revision: Revision, *, actor) -> list[tuple[Obstacle, Theme]]:
    """Apply a contact's proposed change; an obstacle whose area changed leaves a theme of
    its old area (returned, as by ``edit``)."""
    initiative = revision.initiative
    areas = {o.id: o.area_code for o in initiative.obstacles}
    history.approve_revision(revision, actor)
    unlinked = unlink_themes_of_other_areas(
        [o for o in initiative.obstacles if o.id in areas and areas[o.id] != o.area_code],
        actor=actor)
    record("revision.approve", target_type="initiative", target_id=revision.initiative_id,
           after={"revision": revision.id}, actor=actor)
    events.edit_approved.send(RevisionDecision(revision.initiative, revision, actor))
    return unlinked


def discard_revision(revision: Revision, reason: str, *, actor) -> None:
    history.discard_revision(revision, actor, reason)
    record("revision.discard", target_type="initiative", target_id=revision.initiative_id,
           after={"revision": revision.id}, reason=reason, actor=actor)
    events.edit_discarded.send(RevisionDecision(revision.initiative, revision, actor, reason))


def reveal_contact(initiative: Initiative, *, actor) -> None:
    """A staff member asked to see the contact's personal data: written to the audit log."""
    if initiative.contact is not None:
        record("contact.view", target_type="initiative", target_id=initiative.id, actor=actor)


# --- confidential obstacles (issue 16) ------------------------------------------------------
# A school may report an obstacle confidentially: it is never shown in public, only to staff,
# and every staff screen that shows its texts writes one audit event per view and entry.

CONFIDENTIAL_VIEW = "obstacle.confidential_view"


def confidential_obstacle_ids(initiative: Initiative,
                              revision: Revision | None = None) -> tuple[list[int], int]:
    """(ids of the entry's confidential obstacles, how many new confidential obstacles the
    pending ``revision`` adds): what a staff screen showing the entry (and its revision diff)
    shows of confidential reports. Includes obstacles the revision would make confidential."""
    ids = {o.id for o in initiative.obstacles if o.visibility == CONFIDENTIAL}
    new = 0
    if revision is not None:
        for item in (revision.data or {}).get("obstacles", []):
            if item.get("visibility") != CONFIDENTIAL:
                continue
            if item.get("id") is None:
                new += 1
            else:
                ids.add(item["id"])
    return sorted(ids), new


def record_confidential_view(initiative_id: int, obstacle_ids: list[int], *, actor,
                             new: int = 0, page: str = ""):
    """Log that ``actor`` saw these confidential obstacles of an entry (on ``page``, a
    path); nothing when there are none. Not committed (the view commits: an access record,
    allowed on a GET like ``contact.view``)."""
    if not obstacle_ids and not new:
        return None
    after: dict = {"obstacles": sorted(obstacle_ids)}
    if new:
        after["new_obstacles"] = new
    return record(CONFIDENTIAL_VIEW, target_type="initiative", target_id=initiative_id,
                  after=after, reason=page, actor=actor)


def record_confidential_obstacles_view(obstacles, *, actor, page: str = "") -> int:
    """One audit event per entry for the confidential ones among ``obstacles`` (a list
    mixing entries, such as a theme page); returns how many events were written."""
    by_entry: dict[int, list[int]] = {}
    for o in obstacles:
        if o.visibility == CONFIDENTIAL:
            by_entry.setdefault(o.initiative_id, []).append(o.id)
    for initiative_id, ids in sorted(by_entry.items()):
        record_confidential_view(initiative_id, ids, actor=actor, page=page)
    return len(by_entry)


# --- the queue -------------------------------------------------------------------------------

QUEUE_STATES = ("pending", "revision", "unconfirmed", "published", "rejected", "withdrawn",
                "merged", "all")


def queue_select(filters: InitiativeFilter, state: str = "pending"):
    """Select Initiative rows for the moderation queue, oldest first.

    ``state``: 'pending' = new entries and entries with a pending revision (the default),
    'revision' = only entries with a pending revision, or one InitiativeState.
    """
    stmt = select(Initiative).join(Organisation, Initiative.organisation_id == Organisation.id)
    has_revision = Initiative.id.in_(
        select(Revision.initiative_id).where(Revision.status == "pending"))
    if state == "pending":
        stmt = stmt.where(or_(Initiative.state == InitiativeState.PENDING, has_revision))
    elif state == "revision":
        stmt = stmt.where(has_revision)
    elif state in {s.value for s in InitiativeState}:
        stmt = stmt.where(Initiative.state == state)
    stmt = stmt.where(*filters.where(ALL_ENTRIES))
    return stmt.order_by(func.coalesce(Initiative.submitted_at, Initiative.created_at),
                         Initiative.id)


# --- merging duplicates ---------------------------------------------------------------------

# Fields a moderator chooses between when merging (label msgids are translated in the view).
MERGE_FIELDS: dict[str, tuple[str, str]] = {
    # name: (object, attribute)
    "school_name": ("organisation", "name"),
    "brin": ("organisation", "brin"),
    "location_number": ("organisation", "location_number"),
    "sector": ("organisation", "sector"),
    "levels": ("organisation", "levels"),
    "street": ("organisation", "street"),
    "postcode": ("organisation", "postcode"),
    "city": ("organisation", "city"),
    "website": ("organisation", "website"),
    "title": ("initiative", "title"),
    "summary": ("initiative", "summary"),
    "description": ("initiative", "description"),
    "start_year": ("initiative", "start_year"),
    "phase": ("initiative", "phase"),
    "learners_count": ("initiative", "learners_count"),
    "staff_count": ("initiative", "staff_count"),
    "ict": ("initiative", "ict"),
}
# The school's resolved location: restored with its address when a merge is undone.
GEO_FIELDS = ("latitude", "longitude", "municipality", "province", "geo_source",
              "geo_precision", "geo_status")


def merge_value(initiative: Initiative, name: str):
    owner, attr = MERGE_FIELDS[name]
    target = initiative.organisation if owner == "organisation" else initiative
    return getattr(target, attr)


def differing_fields(keep: Initiative, other: Initiative) -> list[str]:
    return [name for name in MERGE_FIELDS if merge_value(keep, name) != merge_value(other, name)]


def raised_dimensions(keep: Initiative, other: Initiative) -> list[tuple[str, list, list]]:
    """The kept entry's dimensions whose level a merge raises: (code, levels now, levels
    after), levels as [current, ambition] (a merge takes the higher of both entries)."""
    theirs = {d.dimension_code: d for d in other.dimensions}
    out = []
    for dim in keep.dimensions:
        match = theirs.get(dim.dimension_code)
        if match is None:
            continue
        now = [dim.current_level, dim.ambition_level]
        after = [max(dim.current_level, match.current_level),
                 max(dim.ambition_level, match.ambition_level)]
        if after != now:
            out.append((dim.dimension_code, now, after))
    return out


def _obstacle_content(obstacle: Obstacle) -> dict:
    """An obstacle's content as the history stores it: what an edit can change."""
    return {"area": obstacle.area_code,
            **{name: getattr(obstacle, name) for name in OBSTACLE_FIELDS}}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _flag_state(flag: DuplicateFlag | None) -> dict | None:
    if flag is None:
        return None
    return {"status": flag.status, "kept_id": flag.kept_id,
            "decided_at": _iso(flag.decided_at), "decided_by_id": flag.decided_by_id}


def _refuse_pending_revisions(*entries: Initiative) -> None:
    """A proposal stored before a merge (or its undo) would, once approved, overwrite what the
    merge moved: the moderator decides on it first."""
    for entry in entries:
        if history.pending_revision(entry) is not None:
            raise ModerationError(_(
                "%(ref)s heeft een voorgestelde wijziging die nog beoordeeld moet worden. "
                "Keur die eerst goed of verwerp die.", ref=entry.reference or entry.id))


def merge(keep: Initiative, other: Initiative, take_from_other: set[str], *, actor,
          expected_other_version: int | None = None) -> MergeOperation:
    """Merge ``other`` into ``keep``, as one operation that can be undone (``undo_merge``).

    Fields named in ``take_from_other`` get the other entry's value; every obstacle of the
    other entry moves to ``keep`` (theme links included); dimensions take the higher level.
    ``other`` keeps its own history and contact and gets the state 'merged'; the flag records
    which entry was kept, so both histories stay reachable from the kept entry. Both entries'
    versions go up, so a form opened before the merge is refused as stale (409) instead of
    saving over it. A ``MergeOperation`` keeps everything the merge changed, as it was.
    """
    if keep.id == other.id:
        raise ModerationError(_("Een aanmelding kan niet met zichzelf worden samengevoegd."))
    if other.state not in ACTIVE_STATES or keep.state not in ACTIVE_STATES:
        raise ModerationError(_("Alleen aanmeldingen die wachten of gepubliceerd zijn, kunnen "
                                "worden samengevoegd."))
    if expected_other_version is not None:
        check_version(other, expected_other_version)
    unknown = set(take_from_other) - set(MERGE_FIELDS)
    if unknown:
        raise ModerationError(_("Onbekend veld: %(name)s", name=", ".join(sorted(unknown))))
    _refuse_pending_revisions(keep, other)
    before_keep, before_other = history.snapshot(keep), history.snapshot(other)
    flag = get_flag(keep.id, other.id)
    org = keep.organisation
    fields: dict[str, list] = {}
    dimensions: dict[str, list] = {}
    obstacles: list[dict] = []
    state: dict = {
        "keep": {"state": str(keep.state), "fields": fields, "dimensions": dimensions},
        "other": {"state": str(other.state)},
        "obstacles": obstacles,
        "flag": _flag_state(flag),
    }
    if any(MERGE_FIELDS[name][0] == "organisation" for name in take_from_other):
        state["keep"]["geo"] = {name: getattr(org, name) for name in GEO_FIELDS}
    taken = {}
    for name in sorted(take_from_other):
        owner, attr = MERGE_FIELDS[name]
        old, value = merge_value(keep, name), merge_value(other, name)
        setattr(org if owner == "organisation" else keep, attr, value)
        taken[name] = value
        fields[name] = [old, value]
    by_code = {d.dimension_code: d for d in keep.dimensions}
    for dim in other.dimensions:
        mine = by_code.get(dim.dimension_code)
        if mine is not None:
            old_levels = [mine.current_level, mine.ambition_level]
            new_levels = [max(mine.current_level, dim.current_level),
                          max(mine.ambition_level, dim.ambition_level)]
            if new_levels != old_levels:
                mine.current_level, mine.ambition_level = new_levels
                dimensions[dim.dimension_code] = [old_levels, new_levels]
    moved = []
    position = max((o.position for o in keep.obstacles), default=-1) + 1
    for obstacle in list(other.obstacles):
        obstacles.append({"id": obstacle.id, "initiative_id": other.id,
                          "position": obstacle.position, "moved_position": position,
                          "content": _obstacle_content(obstacle)})
        other.obstacles.remove(obstacle)
        obstacle.position = position
        position += 1
        keep.obstacles.append(obstacle)
        moved.append(obstacle.id)
    if "postcode" in take_from_other or "brin" in take_from_other:
        org.geo_status = "todo"
    other.state = InitiativeState.MERGED
    # Raise both versions, also when only obstacles or dimensions changed: a form opened
    # before the merge is stale now and is refused instead of saving over the merge.
    keep.updated_at = other.updated_at = utcnow()
    if flag is None:
        first, second = pair(keep.id, other.id)
        flag = DuplicateFlag(first_id=first, second_id=second, reasons=[], score=0.0)
        db.session.add(flag)
    flag.status = "merged"
    flag.kept_id = keep.id
    flag.decided_at = utcnow()
    flag.decided_by_id = getattr(actor, "id", None)
    operation = MergeOperation(kept_id=keep.id, merged_id=other.id, state=state,
                               created_by_id=getattr(actor, "id", None))
    db.session.add(operation)
    db.session.flush()
    events.entries_merged.send(MergeChange(keep, other, actor, before_keep, before_other))
    record("initiative.merge", target_type="initiative", target_id=keep.id,
           before={"other": other.id, "other_reference": other.reference},
           after={"fields_from_other": taken, "obstacles_moved": moved,
                  "merge_operation": operation.id}, actor=actor)
    return operation


def merge_operations(initiative: Initiative) -> list[MergeOperation]:
    """The merges this entry took part in (kept or merged), newest first."""
    return list(db.session.scalars(
        select(MergeOperation)
        .where(or_(MergeOperation.kept_id == initiative.id,
                   MergeOperation.merged_id == initiative.id))
        .order_by(MergeOperation.created_at.desc(), MergeOperation.id.desc())))


def undo_blockers(operation: MergeOperation) -> list[str]:
    """Why this merge cannot be undone (Dutch sentences); empty when it can.

    The rule: undo restores exactly what the merge changed, and only while none of that has
    changed since. It is refused when the merged entry is no longer 'merged', the duplicate
    decision changed, a field taken from the merged entry or a dimension level the merge
    raised was changed since, a moved obstacle was deleted, edited or moved on (a later
    merge: undo that one first), or either entry has a proposed change waiting (decide on it
    first). Everything else done to the kept entry since (other fields, its own obstacles,
    its state, theme links) stays as it is."""
    if operation.undone_at is not None:
        return [_("Dit samenvoegen is al ongedaan gemaakt.")]
    keep, other = operation.kept, operation.merged
    state = operation.state or {}
    ref = keep.reference or str(keep.id)
    blockers = []
    if other.state != InitiativeState.MERGED:
        blockers.append(_("%(ref)s heeft niet meer de status ‘samengevoegd’.",
                          ref=other.reference or other.id))
    flag = get_flag(keep.id, other.id)
    if flag is None or flag.status != "merged" or flag.kept_id != keep.id:
        blockers.append(_("Het besluit over deze mogelijk dubbele aanmeldingen is intussen "
                          "gewijzigd."))
    kept_state = state.get("keep", {})
    for name, (_old, value) in sorted(kept_state.get("fields", {}).items()):
        if merge_value(keep, name) != value:
            owner, attr = MERGE_FIELDS[name]
            blockers.append(_("Het veld ‘%(field)s’ van %(ref)s is na het samenvoegen "
                              "gewijzigd.", field=change_label(f"{owner}.{attr}"), ref=ref))
    levels = {d.dimension_code: [d.current_level, d.ambition_level] for d in keep.dimensions}
    for code, (_old, value) in sorted(kept_state.get("dimensions", {}).items()):
        if levels.get(code) != value:
            blockers.append(_("Het niveau van ‘%(dimension)s’ van %(ref)s is na het "
                              "samenvoegen gewijzigd.",
                              dimension=change_label(f"dimensions.{code}"), ref=ref))
    for item in state.get("obstacles", []):
        title = item["content"]["title"]
        obstacle = db.session.get(Obstacle, item["id"])
        if obstacle is None:
            blockers.append(_("Het knelpunt ‘%(title)s’ is na het samenvoegen verwijderd.",
                              title=title))
        elif obstacle.initiative_id != keep.id:
            blockers.append(_("Het knelpunt ‘%(title)s’ hoort niet meer bij %(ref)s (het is "
                              "later opnieuw samengevoegd; maak dat eerst ongedaan).",
                              title=title, ref=ref))
        elif _obstacle_content(obstacle) != item["content"]:
            blockers.append(_("Het knelpunt ‘%(title)s’ is na het samenvoegen bewerkt.",
                              title=title))
    for entry in (keep, other):
        if history.pending_revision(entry) is not None:
            blockers.append(_("%(ref)s heeft een voorgestelde wijziging die nog beoordeeld "
                              "moet worden. Keur die eerst goed of verwerp die.",
                              ref=entry.reference or entry.id))
    return blockers


class UndoBlockedError(ModerationError):
    """The merge cannot be undone; ``reasons`` says what blocks it (Dutch sentences)."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def undo_merge(operation: MergeOperation, *, actor) -> None:
    """Undo a merge: both entries, the moved obstacles (back to the other entry, at their
    positions), the dimension levels, the duplicate flag and the other entry's state are as
    they were before it (see ``undo_blockers`` for when it is refused, and what stays).

    Both versions go up (forms opened before are stale); each entry's history gets an
    'unmerge' revision and the audit log a record. ``entry_edited`` is announced for both
    (snapshots and duplicate checks follow; caches notice the rows)."""
    blockers = undo_blockers(operation)
    if blockers:
        raise UndoBlockedError(blockers)
    keep, other = operation.kept, operation.merged
    state = operation.state
    before_keep, before_other = history.snapshot(keep), history.snapshot(other)
    kept_state = state["keep"]
    org = keep.organisation
    for name, (old, _value) in kept_state.get("fields", {}).items():
        owner, attr = MERGE_FIELDS[name]
        setattr(org if owner == "organisation" else keep, attr, old)
    for name, value in kept_state.get("geo", {}).items():
        setattr(org, name, value)
    by_code = {d.dimension_code: d for d in keep.dimensions}
    for code, (old, _value) in kept_state.get("dimensions", {}).items():
        by_code[code].current_level, by_code[code].ambition_level = old
    on_keep = {o.id: o for o in keep.obstacles}  # every moved one (checked by the blockers)
    for item in state["obstacles"]:
        obstacle = on_keep[item["id"]]
        keep.obstacles.remove(obstacle)
        obstacle.position = item["position"]
        other.obstacles.append(obstacle)
    other.obstacles.sort(key=lambda o: o.position)
    other.state = state["other"]["state"]
    keep.updated_at = other.updated_at = utcnow()  # both versions go up
    flag = get_flag(keep.id, other.id)  # the merge's decision (checked by the blockers)
    previous = state.get("flag")
    if flag is not None and previous is None:  # the merge created the flag
        db.session.delete(flag)
    elif flag is not None and previous is not None:
        flag.status = previous["status"]
        flag.kept_id = previous["kept_id"]
        flag.decided_at = (datetime.fromisoformat(previous["decided_at"])
                           if previous["decided_at"] else None)
        flag.decided_by_id = previous["decided_by_id"]
    operation.undone_at = utcnow()
    operation.undone_by_id = getattr(actor, "id", None)
    db.session.flush()
    moved = [item["id"] for item in state["obstacles"]]
    for entry, before, other_entry in ((keep, before_keep, other), (other, before_other, keep)):
        record("initiative.merge_undo", target_type="initiative", target_id=entry.id,
               before={"merge_operation": operation.id, "kept": keep.id, "merged": other.id},
               after={"state": str(entry.state), "obstacles_moved_back": moved,
                      "other_reference": other_entry.reference}, actor=actor)
        events.entry_edited.send(EntryChange(entry, "unmerge", "moderator", actor=actor,
                                             before=before))


# --- themes ----------------------------------------------------------------------------------

@dataclass
class RuleData:
    title: str
    level: str
    source_url: str = ""
    existing_room: str = ""
    title_en: str = ""  # optional English texts (issue 19)
    existing_room_en: str = ""


@dataclass
class ThemeData:
    area: str
    title: str
    description: str = ""
    rules: list[RuleData] | None = None
    ask: str = ""  # the one ask to OCW
    experiment_provisions: str = ""  # existing room to experiment (pilot dossiers)
    # Optional English texts (issue 19): the English interface shows them, else the Dutch.
    title_en: str = ""
    description_en: str = ""
    ask_en: str = ""


def _theme_state(theme: Theme) -> dict:
    return {"area": theme.area_code, "title": theme.title, "description": theme.description,
            "ask": theme.ask or "", "experiment_provisions": theme.experiment_provisions or "",
            "title_en": theme.title_en or "", "description_en": theme.description_en or "",
            "ask_en": theme.ask_en or "",
            "rules": [{"title": r.title, "level": r.level, "source_url": r.source_url,
                       "existing_room": r.existing_room, "title_en": r.title_en or "",
                       "existing_room_en": r.existing_room_en or ""} for r in theme.rules]}


def save_theme(theme: Theme | None, data: ThemeData, *, actor,
               expected_version: int | None = None) -> Theme:
    creating = theme is None
    before: dict | None = None
    if theme is None:
        theme = Theme(area_code=data.area, title=data.title)
        db.session.add(theme)
    else:
        if expected_version is not None and int(expected_version) != theme.version_id:
            raise StaleEntryError(_(
                "Iemand anders heeft dit thema intussen gewijzigd. Uw wijzigingen zijn niet "
                "opgeslagen. Bekijk de nieuwe versie en voer uw wijzigingen opnieuw in."))
        before = _theme_state(theme)
    for rule in data.rules or []:
        if rule.level not in RULE_LEVELS:
            raise ModerationError(_("Kies waar de regel vandaan komt."))
    moved = not creating and theme.area_code != data.area
    theme.area_code = data.area
    theme.title = data.title
    theme.description = data.description
    theme.ask = data.ask
    theme.experiment_provisions = data.experiment_provisions
    theme.title_en = data.title_en
    theme.description_en = data.description_en
    theme.ask_en = data.ask_en
    theme.rules[:] = [ThemeRule(title=r.title, level=r.level, source_url=r.source_url,
                                existing_room=r.existing_room, title_en=r.title_en,
                                existing_room_en=r.existing_room_en)
                      for r in (data.rules or [])]
    db.session.flush()
    if moved:
        # A theme belongs to one area: its reports move with it, so the figures per area and
        # per theme under it agree (issue 18); each move is a recorded reclassification.
        for obstacle in db.session.scalars(select(Obstacle).where(
                Obstacle.theme_id == theme.id, Obstacle.area_code != theme.area_code)):
            reclassify_obstacle(obstacle, theme.area_code, actor=actor)
    record("theme.create" if creating else "theme.edit", target_type="theme",
           target_id=theme.id, before=before, after=_theme_state(theme), actor=actor)
    events.theme_changed.send(theme)
    return theme


def delete_theme(theme: Theme, *, actor) -> None:
    before = _theme_state(theme)
    for obstacle in db.session.scalars(select(Obstacle).where(Obstacle.theme_id == theme.id)):
        obstacle.theme_id = None
    record("theme.delete", target_type="theme", target_id=theme.id, before=before, actor=actor)
    events.theme_changed.send(theme)
    db.session.delete(theme)


def link_obstacle(obstacle: Obstacle, theme: Theme | None, *, actor) -> str | None:
    """Link an obstacle to a theme (or unlink it: ``theme`` None).

    A theme groups reports of its own area, so that the figures per area and per theme
    under it agree (issue 18): linking a report to a theme of another area moves the report
    to the theme's area (logged as a reclassification). Returns the report's old area when
    it moved, for the moderator to be told; otherwise None."""
    old = obstacle.theme_id
    new = theme.id if theme is not None else None
    if old == new:
        return None
    moved = None
    if theme is not None and theme.area_code != obstacle.area_code:
        moved = obstacle.area_code
        reclassify_obstacle(obstacle, theme.area_code, actor=actor)
        old = obstacle.theme_id  # None if the old theme was unlinked with the move
    obstacle.theme_id = new
    record("obstacle.link_theme" if new else "obstacle.unlink_theme", target_type="obstacle",
           target_id=obstacle.id, before={"theme": old}, after={"theme": new}, actor=actor)
    events.obstacle_linked.send(obstacle, theme=theme)
    return moved


def theme_obstacles(theme: Theme) -> list[Obstacle]:
    return list(db.session.scalars(
        select(Obstacle).join(Initiative).where(Obstacle.theme_id == theme.id)
        .order_by(Initiative.id, Obstacle.position)))


def suggest_obstacles(
    theme: Theme, limit: int = 10, min_score: int = 55
) -> list[tuple[Obstacle, int]]:
    """Unlinked obstacles whose text resembles the theme or its linked obstacles."""
    linked = theme_obstacles(theme)
    texts = [f"{theme.title} {theme.description}"] + [f"{o.title} {o.description}" for o in linked]
    texts = [t.lower() for t in texts if t.strip()]
    candidates = db.session.scalars(
        select(Obstacle).join(Initiative).where(
            Obstacle.theme_id.is_(None),
            Initiative.state.in_(ACTIVE_STATES),
        )).all()
    scored = []
    for obstacle in candidates:
        text = f"{obstacle.title} {obstacle.description} {obstacle.rule}".lower()
        score = max((fuzz.token_set_ratio(text, t) for t in texts), default=0)
        if obstacle.area_code == theme.area_code:
            score = min(100, score + 10)
        if score >= min_score:
            scored.append((obstacle, int(score)))
    scored.sort(key=lambda item: (-item[1], item[0].id))
    return scored[:limit]


@dataclass
class ThemeStats:
    initiatives: int
    schools: int
    learners: int
    sectors: list[str]
    provinces: list[str]
    obstacles: int


def theme_stats(theme: Theme, *, published_only: bool = False) -> ThemeStats:
    """How many initiatives, schools, learners, sectors and provinces a theme affects.

    ``published_only``: what the public source holds (``PUBLISHED``): published entries and
    their public obstacles only; otherwise every active entry and every obstacle,
    confidential ones included (staff figures)."""
    if published_only:
        in_scope = [PUBLISHED.scope, PUBLISHED.obstacle_scope()]
    else:
        in_scope = [Initiative.state.in_(ACTIVE_STATES)]
    rows = db.session.execute(
        select(Initiative.id, Initiative.learners_count, Organisation.brin,
               Organisation.location_number, Organisation.id, Organisation.sector,
               Organisation.province)
        .join(Obstacle, Obstacle.initiative_id == Initiative.id)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Obstacle.theme_id == theme.id, *in_scope)
    ).all()
    initiatives: dict[int, int] = {}
    schools, sectors, provinces = set(), set(), set()
    for iid, learners, brin, location, org_id, sector, province in rows:
        initiatives[iid] = learners or 0
        # a school without an institution code (not in DUO's list) is a school of its own
        schools.add((brin.upper(), location or "") if brin else ("org", str(org_id)))
        sectors.add(sector)
        if province:
            provinces.add(province)
    return ThemeStats(
        initiatives=len(initiatives), schools=len(schools),
        learners=sum(initiatives.values()), sectors=sorted(sectors),
        provinces=sorted(provinces), obstacles=len(rows),
    )


def all_themes() -> list[Theme]:
    return list(db.session.scalars(select(Theme).order_by(Theme.area_code, Theme.title)))


def themes_for_area(area_code: str) -> list[Theme]:
    return list(db.session.scalars(select(Theme).where(Theme.area_code == area_code)
                                   .order_by(Theme.title)))

