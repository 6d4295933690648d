"""The submitter's side: confirmation, manage links, edits, withdrawal and AVG rights.

Plain functions that never commit (views and CLI commands do); they announce what happened
(``registry.events``), and the mails to the contact are written by the receivers in
``registry.manage.notifications``.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from registry import events
from registry.audit.services import record
from registry.database import as_utc, utcnow
from registry.events import EntryChange
from registry.extensions import db
from registry.history import services as history
from registry.history.models import Revision
from registry.mail.models import OutboxMessage
from registry.manage import notifications
from registry.manage.erasure import contact_values, scrub_contact_traces
from registry.manage.models import ManageToken
from registry.manage.notifications import queue_manage_link_mail  # noqa: F401 - used by views
from registry.manage.tokens import (  # noqa: F401 - the manage domain's public interface
    check_confirmation,
    confirmation_token,
    hash_token,
    initiative_for_manage_token,
    issue_manage_link,
)
from registry.moderation.models import DuplicateFlag
from registry.published.snapshots import erase_contact_from_snapshots
from registry.submissions.models import Contact, Initiative, Obstacle, Organisation
from registry.submissions.services import InitiativeData, apply_initiative_data
from registry.taxonomy.constants import CONFIDENTIAL, PUBLIC, VISIBILITIES, InitiativeState

logger = logging.getLogger(__name__)

PURGE_AFTER_DAYS = 30


def confirm_initiative(initiative: Initiative) -> None:
    """Double opt-in done: the entry enters the moderation queue.

    The confirmation is the moment the school reports: every obstacle of the entry gets it as
    ``reported_at`` (the summary's reports over time; obstacles added later get their own,
    ``registry.submissions.services.apply_initiative_data``)."""
    if initiative.state != InitiativeState.UNCONFIRMED:
        raise ValueError("initiative is not unconfirmed")
    before = history.snapshot(initiative)
    initiative.state = InitiativeState.PENDING
    now = utcnow()
    for obstacle in initiative.obstacles:
        obstacle.reported_at = now
    record("initiative.confirm", target_type="initiative", target_id=initiative.id,
           actor="submitter")
    events.entry_confirmed.send(EntryChange(initiative, "confirm", "submitter", before=before))


# --------------------------------------------------------------------------- mail
def request_links(email: str) -> list[OutboxMessage]:
    """Mail a new link for every entry of this address (nothing happens for unknown ones)."""
    email = (email or "").strip().lower()
    if not email:
        return []
    initiatives = db.session.scalars(
        select(Initiative).join(Contact)
        .where(func.lower(Contact.email) == email, Contact.erased_at.is_(None))
        .order_by(Initiative.id)
    ).all()
    messages = [notifications.queue_manage_link_mail(i) for i in initiatives]
    return [m for m in messages if m is not None]


# --------------------------------------------------------------------------- editing
def editable(initiative: Initiative) -> bool:
    """Withdrawn entries and entries merged into another one are not changed any more (a
    merged entry's content lives on in the kept entry; a moderator can undo the merge)."""
    return initiative.state not in (InitiativeState.WITHDRAWN, InitiativeState.MERGED)


def merged_into(initiative: Initiative) -> Initiative | None:
    """Where a merged entry lives now: the entry it was merged into, followed along later
    merges of that one; None for an entry that is not merged."""
    current, seen = initiative, {initiative.id}
    while current.state == InitiativeState.MERGED:
        flag = db.session.scalar(
            select(DuplicateFlag).where(
                DuplicateFlag.status == "merged",
                or_(DuplicateFlag.first_id == current.id, DuplicateFlag.second_id == current.id),
                DuplicateFlag.kept_id != current.id)
            .order_by(DuplicateFlag.decided_at.desc(), DuplicateFlag.id.desc()).limit(1))
        kept = db.session.get(Initiative, flag.kept_id) if flag and flag.kept_id else None
        if kept is None or kept.id in seen:
            break
        seen.add(kept.id)
        current = kept
    return current if current is not initiative else None


def current_content(initiative: Initiative) -> dict:
    """What the submitter sees in the edit form: their pending proposal, else the entry."""
    pending = history.pending_revision(initiative)
    return pending.data if pending is not None else history.snapshot(initiative)


def submit_edit(initiative: Initiative, data: InitiativeData) -> str:
    """Apply a submitter's edit. Returns "pending" (published: a revision awaits moderation)
    or "applied" (not yet published: changed directly; a rejected entry goes back to the
    moderation queue).

    On a published entry, obstacles the edit makes confidential are made so at once (issue
    16); only the rest becomes the proposal ("applied" when nothing else changed).
    """
    if not editable(initiative):
        raise ValueError("a withdrawn entry cannot be edited")
    if initiative.state == InitiativeState.PUBLISHED:
        # Making an obstacle confidential only takes something away from the public pages:
        # that part of the edit takes effect at once; the rest waits for a moderator.
        live = {o.id: o for o in initiative.obstacles}
        hide = [live[o.id] for o in data.obstacles
                if o.id in live and o.visibility == CONFIDENTIAL
                and live[o.id].visibility != CONFIDENTIAL]
        if hide:
            _make_confidential(initiative, hide)
            if not history.diff(history.snapshot(initiative),
                                history.snapshot_from_data(data, initiative.state)):
                # nothing else changed: no proposal (an older one is superseded by this one)
                pending = history.pending_revision(initiative)
                if pending is not None:
                    history.discard_revision(pending, None, "superseded")
                return "applied"
        revision = history.propose_revision(initiative, data, "submitter")
        record("initiative.revision_proposed", target_type="initiative",
               target_id=initiative.id, actor="submitter", after={"revision": "pending"})
        db.session.flush()
        events.edit_proposed.send(events.RevisionDecision(initiative, revision, None))
        logger.info("Revision %s proposed for initiative %s", revision.id, initiative.id)
        return "pending"
    before = history.snapshot(initiative)
    was_public = {o["id"] for o in before["obstacles"] if o.get("visibility") != CONFIDENTIAL}
    apply_initiative_data(initiative, data)
    if initiative.state == InitiativeState.REJECTED:
        initiative.state = InitiativeState.PENDING
    record("initiative.edit", target_type="initiative", target_id=initiative.id,
           actor="submitter")
    hidden = [o.id for o in initiative.obstacles
              if o.id in was_public and o.visibility == CONFIDENTIAL]
    # (an entry published before may be in snapshots: registry.published.receivers makes
    # these obstacles confidential there too, on entry_edited)
    for obstacle_id in hidden:
        _record_visibility(initiative, obstacle_id, CONFIDENTIAL)
    events.entry_edited.send(EntryChange(initiative, "edit", "submitter", before=before))
    return "applied"


def mark_obstacle_solved(initiative: Initiative, obstacle_id: int) -> str | None:
    """Set one obstacle's status to "opgelost" (through ``submit_edit``); None if unknown."""
    content = current_content(initiative)
    data = history.data_from_snapshot(content, initiative.language)
    found = False
    obstacles = []
    for obstacle in data.obstacles:
        if obstacle.id == obstacle_id:
            obstacle = replace(obstacle, status="opgelost")
            found = True
        obstacles.append(obstacle)
    if not found:
        return None
    data.obstacles = obstacles
    return submit_edit(initiative, data)


def _record_visibility(initiative: Initiative, obstacle_id: int, visibility: str,
                       outcome: str = "applied") -> None:
    record("obstacle.visibility", target_type="initiative", target_id=initiative.id,
           actor="submitter",
           after={"obstacle": obstacle_id, "visibility": visibility, "outcome": outcome})


def _hide_in_pending(initiative: Initiative, ids: list[int]) -> None:
    """Make these obstacles confidential in the pending proposal too, so that approving a
    proposal made before cannot make them public again. A proposal left without changes
    is discarded."""
    pending = history.pending_revision(initiative)
    if pending is None:
        return
    proposed = copy.deepcopy(pending.data)
    for item in proposed.get("obstacles", []):
        if item.get("id") in ids:
            item["visibility"] = CONFIDENTIAL
    pending.data = proposed  # a new object: the JSON column sees the change
    pending.changes = history.diff(history.snapshot(initiative), proposed)
    if not pending.changes:
        history.discard_revision(pending, None, "no changes left")


def _make_confidential(initiative: Initiative, obstacles: list[Obstacle]) -> None:
    """Make live obstacles confidential now, without moderation (issue 16).

    The change reaches any pending proposal, and every snapshot at once (the receiver of
    ``entry_edited`` in registry.published.receivers); the history records it as an
    applied change ("visibility").
    """
    before = history.snapshot(initiative)
    ids = [o.id for o in obstacles]
    for obstacle in obstacles:
        obstacle.visibility = CONFIDENTIAL
    # Bumps the entry's version: a moderator's edit form opened before this change (which
    # still says "public") is refused as stale instead of making the obstacles public again.
    initiative.updated_at = utcnow()
    _hide_in_pending(initiative, ids)
    for obstacle_id in ids:
        _record_visibility(initiative, obstacle_id, CONFIDENTIAL)
    events.entry_edited.send(EntryChange(initiative, "visibility", "submitter", before=before))
    logger.info("Obstacles %s of initiative %s made confidential", ids, initiative.id)


def set_obstacle_visibility(initiative: Initiative, obstacle_id: int,
                            visibility: str) -> str | None:
    """The school makes one obstacle confidential or public (issue 16).

    Confidential takes effect at once, also on a published entry ("applied"). Public again
    is an ordinary edit (``submit_edit``): on a published entry it waits for a moderator
    ("pending"; the obstacle stays hidden until then). None if the entry has no such
    obstacle (for public: none in the version the school sees, ``current_content``).
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    if not editable(initiative):
        raise ValueError("a withdrawn entry cannot be edited")
    live = next((o for o in initiative.obstacles if o.id == obstacle_id), None)
    content = current_content(initiative)
    proposed = next((o for o in content["obstacles"] if o.get("id") == obstacle_id), None)
    if visibility == CONFIDENTIAL:
        if live is not None and live.visibility != CONFIDENTIAL:
            _make_confidential(initiative, [live])
        elif proposed is not None and proposed.get("visibility") != CONFIDENTIAL:
            # Public only in the pending proposal: the school changed its mind.
            _hide_in_pending(initiative, [obstacle_id])
            _record_visibility(initiative, obstacle_id, CONFIDENTIAL, "proposal")
        elif live is None and proposed is None:
            return None
        return "applied"
    if proposed is None:
        return None
    if proposed.get("visibility", PUBLIC) == PUBLIC:  # already asked for
        return "pending" if live is not None and live.visibility != PUBLIC else "applied"
    data = history.data_from_snapshot(content, initiative.language)
    data.obstacles = [replace(o, visibility=PUBLIC) if o.id == obstacle_id else o
                      for o in data.obstacles]
    outcome = submit_edit(initiative, data)
    _record_visibility(initiative, obstacle_id, PUBLIC, outcome)
    return outcome


def set_consent_name_to_ocw(initiative: Initiative, consent: bool) -> bool:
    """The contact's consent to name the school to OCW in a pilot dossier. False when there
    is no contact left to decide (erased)."""
    contact = initiative.contact
    if contact is None or contact.erased_at is not None:
        return False
    if contact.consent_name_to_ocw != consent:
        contact.consent_name_to_ocw = consent
        record("contact.consent_name_to_ocw", target_type="initiative",
               target_id=initiative.id, actor="submitter", after={"consent": consent})
    return True


def withdraw_initiative(initiative: Initiative, reason: str = "") -> None:
    """The entry leaves every public page and export at once (state withdrawn)."""
    before = history.snapshot(initiative)
    initiative.state = InitiativeState.WITHDRAWN
    for revision in db.session.scalars(
        select(Revision).where(Revision.initiative_id == initiative.id,
                               Revision.status == "pending")
    ):
        history.discard_revision(revision, None, "withdrawn")
    record("initiative.withdraw", target_type="initiative", target_id=initiative.id,
           actor="submitter", before={"state": before["state"]},
           after={"state": str(initiative.state)}, reason=reason[:2000])
    events.entry_withdrawn.send(EntryChange(initiative, "withdraw", "submitter", before=before,
                                            reason=reason[:2000]))


# --------------------------------------------------------------------------- AVG
def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


def personal_data_export(initiative: Initiative) -> dict:
    """Everything stored about the contact and their entry (AVG art. 15 and 20)."""
    contact = initiative.contact
    org = initiative.organisation
    revisions = history.revisions_for(initiative)
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.initiative_id == initiative.id)
        .order_by(OutboxMessage.id)
    ).all()
    tokens = db.session.scalars(
        select(ManageToken).where(ManageToken.initiative_id == initiative.id)
    ).all()
    return {
        "format": "registry-personal-data/1",
        "exported_at": _iso(utcnow()),
        "contact": None if contact is None else {
            "name": contact.name, "role": contact.role, "email": contact.email,
            "phone": contact.phone, "consent_contact": contact.consent_contact,
            "consent_publish_name": contact.consent_publish_name,
            "consent_quotes": contact.consent_quotes,
            "consent_name_to_ocw": contact.consent_name_to_ocw,
            "created_at": _iso(contact.created_at), "erased_at": _iso(contact.erased_at),
        },
        "initiative": {
            "reference": initiative.reference, "state": str(initiative.state),
            "language": initiative.language, "submitted_at": _iso(initiative.submitted_at),
            "published_at": _iso(initiative.published_at),
            "updated_at": _iso(initiative.updated_at),
            **history.snapshot(initiative),
        },
        "location": {
            "latitude": org.latitude, "longitude": org.longitude,
            "municipality": org.municipality, "province": org.province,
        },
        "revisions": [
            {"created_at": _iso(r.created_at), "by": r.actor_type, "kind": r.kind,
             "status": r.status, "changes": r.changes, "reason": r.reason}
            for r in revisions
        ],
        "mail": [
            {"created_at": _iso(m.created_at), "kind": m.kind, "to": m.to_address,
             "subject": m.subject, "status": m.status, "sent_at": _iso(m.sent_at)}
            for m in mails
        ],
        "manage_links": [
            {"created_at": _iso(t.created_at), "last_used_at": _iso(t.last_used_at),
             "revoked_at": _iso(t.revoked_at)}
            for t in tokens
        ],
    }


def erase_contact(initiative: Initiative) -> bool:
    """Erase the contact's personal data irreversibly (AVG art. 17).

    A published entry stays as anonymous initiative data (returns False). Any other entry
    is deleted altogether, since nobody could confirm or discuss it any more (returns True).
    Mail to the contact is scrubbed from the outbox either way, and the name (published
    with consent) and the consent to quotes from every snapshot.
    """
    initiative_id = initiative.id
    scrub_contact_traces(initiative_id, contact_values(initiative.contact))
    erase_contact_from_snapshots(initiative_id)
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.initiative_id == initiative_id)
        .values(to_address="", reply_to="", body_text="", body_html="",
                status="failed", last_error="erased on request (AVG art. 17)")
        .where(OutboxMessage.status != "sent")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.initiative_id == initiative_id,
                                    OutboxMessage.status == "sent")
        .values(to_address="", reply_to="", body_text="", body_html="")
        .execution_options(synchronize_session=False)
    )
    if initiative.state != InitiativeState.PUBLISHED:
        record("initiative.erase", target_type="initiative", target_id=initiative_id,
               actor="submitter", reason="AVG art. 17: entry not published, deleted")
        _delete_initiatives([initiative_id])
        return True
    contact = initiative.contact
    if contact is not None:
        contact.name = ""
        contact.role = ""
        contact.email = ""
        contact.phone = ""
        contact.consent_contact = False
        contact.consent_publish_name = False
        contact.consent_quotes = False
        contact.consent_name_to_ocw = False
        contact.erased_at = utcnow()
    before = history.snapshot(initiative)
    events.contact_erased.send(EntryChange(initiative, "erase", "submitter", before=before,
                                           extra={"changes": {"contact": ["present", "erased"]}}))
    record("initiative.erase", target_type="initiative", target_id=initiative_id,
           actor="submitter", reason="AVG art. 17: contact data erased")
    return False


def _delete_initiatives(ids: list[int]) -> None:
    """Delete initiatives with everything that hangs off them (and orphaned schools)."""
    if not ids:
        return
    org_ids = set(db.session.scalars(
        select(Initiative.organisation_id).where(Initiative.id.in_(ids))))
    db.session.execute(delete(ManageToken).where(ManageToken.initiative_id.in_(ids)))
    db.session.execute(delete(Revision).where(Revision.initiative_id.in_(ids)))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.initiative_id.in_(ids),
                                                   OutboxMessage.status != "sent"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.initiative_id.in_(ids))
                       .values(initiative_id=None, to_address="", body_text="", body_html="")
                       .execution_options(synchronize_session=False))
    for initiative in db.session.scalars(select(Initiative).where(Initiative.id.in_(ids))):
        db.session.delete(initiative)  # ORM cascade: contact, dimensions, obstacles
    db.session.flush()
    for org_id in org_ids:
        if not db.session.scalar(select(func.count(Initiative.id))
                                 .where(Initiative.organisation_id == org_id)):
            organisation = db.session.get(Organisation, org_id)
            if organisation is not None:
                db.session.delete(organisation)


def purge_unconfirmed(now: datetime | None = None, days: int = PURGE_AFTER_DAYS) -> int:
    """Delete entries never confirmed within ``days`` days. Returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    ids = list(db.session.scalars(
        select(Initiative.id).where(Initiative.state == InitiativeState.UNCONFIRMED,
                                    Initiative.created_at < cutoff)))
    if ids:
        record("initiative.purge_unconfirmed", target_type="initiative",
               after={"count": len(ids), "ids": ids}, actor="system")
    _delete_initiatives(ids)
    return len(ids)
