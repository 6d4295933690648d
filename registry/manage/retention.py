"""Retention (issue 16): rejected and withdrawn entries are deleted once their last change
(``Initiative.updated_at``) is more than ``RETENTION_MONTHS`` months old
(``flask --app registry purge-retention [--dry-run] [--months N]``, daily from cron).

With an entry goes everything personal that hangs off it: the contact, its manage links,
revisions, the outbox (mail not sent is deleted, sent mail keeps only kind, subject and
status), relayed messages to the contact, digest notices and duplicate flags (deleted
explicitly: SQLite does not enforce the foreign keys' ON DELETE CASCADE), and the contact's
name, address and phone number in the audit log (``manage.erasure``). The audit events
themselves stay, as the record of what happened.

Snapshots keep the entry's row, marked withdrawn, with its texts, school and contact name
already removed: a snapshot freezes figures, not people, so its figures do not change. An
entry that was published, then rejected, is removed from snapshots here in the same way.
"""
from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from registry.audit.services import record
from registry.connect.models import ContactRequest, SubscriptionNotice
from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.history.models import Revision
from registry.mail.models import OutboxMessage
from registry.manage.erasure import scrub_entries
from registry.manage.models import ManageToken
from registry.manage.services import _delete_initiatives
from registry.moderation.models import DuplicateFlag
from registry.published.models import SnapshotInitiative
from registry.published.snapshots import withdraw_from_snapshots
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState

RETENTION_STATES = (InitiativeState.REJECTED, InitiativeState.WITHDRAWN)
SNAPSHOT_NOTE = ("Rows of these entries in snapshots stay, marked withdrawn, without texts, "
                 "school or contact name: the snapshots' frozen figures do not change.")


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (31 March - 1 = 28/29 February)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass
class Entry:
    id: int
    reference: str | None
    state: str
    updated_at: datetime

    @property
    def label(self) -> str:
        return self.reference or f"#{self.id}"


@dataclass
class RetentionRun:
    """What a purge deletes (dry run: would delete)."""

    months: int
    cutoff: datetime
    entries: list[Entry]
    dry_run: bool
    # rows hanging off the entries, per table (what goes with them)
    attached: dict[str, int] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.entries]

    def by_state(self) -> dict[str, int]:
        counts = Counter(str(e.state) for e in self.entries)
        return {str(state): counts.get(str(state), 0) for state in RETENTION_STATES}

    def report(self) -> list[str]:
        """The lines the command prints."""
        states = ", ".join(f"{state}: {n}" for state, n in self.by_state().items())
        verb = "Would delete" if self.dry_run else "Deleted"
        lines = []
        if self.dry_run:
            lines.append("Dry run: nothing is changed.")
        count = len(self.entries)
        lines.append(f"{verb} {count} entr{'y' if count == 1 else 'ies'} ({states}) last "
                     f"changed before {self.cutoff:%Y-%m-%d %H:%M} UTC "
                     f"(retention {self.months} months).")
        if self.attached and any(self.attached.values()):
            lines.append("With them: " + ", ".join(
                f"{table}: {n}" for table, n in self.attached.items() if n) + ".")
        if self.dry_run:
            for e in self.entries:
                lines.append(f"  {e.label}  id {e.id}  {e.state}  last changed "
                             f"{as_utc(e.updated_at):%Y-%m-%d}")
        if self.entries:
            lines.append(SNAPSHOT_NOTE)
        return lines


def due_entries(cutoff: datetime) -> list[Entry]:
    """Rejected and withdrawn entries last changed before ``cutoff``, by id."""
    rows = db.session.execute(
        select(Initiative.id, Initiative.reference, Initiative.state, Initiative.updated_at)
        .where(Initiative.state.in_([str(s) for s in RETENTION_STATES]),
               Initiative.updated_at < cutoff)
        .order_by(Initiative.id)).all()
    return [Entry(*row) for row in rows]


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _attached(ids: list[int]) -> dict[str, int]:
    if not ids:
        return {}
    return {
        "revisions": _count(Revision, Revision.initiative_id.in_(ids)),
        "manage links": _count(ManageToken, ManageToken.initiative_id.in_(ids)),
        "mails": _count(OutboxMessage, OutboxMessage.initiative_id.in_(ids)),
        "relayed messages": _count(ContactRequest, ContactRequest.initiative_id.in_(ids)),
        "digest notices": _count(SubscriptionNotice, SubscriptionNotice.initiative_id.in_(ids)),
        "duplicate flags": _count(DuplicateFlag, or_(DuplicateFlag.first_id.in_(ids),
                                                     DuplicateFlag.second_id.in_(ids))),
    }


def purge_retention(now: datetime | None = None, months: int | None = None,
                    dry_run: bool = False) -> RetentionRun:
    """Delete rejected and withdrawn entries whose last change is more than ``months``
    (default ``RETENTION_MONTHS``) months before ``now``. A dry run changes nothing. Not
    committed."""
    if months is None:
        months = int(current_app.config["RETENTION_MONTHS"])
    if months < 1:
        raise ValueError("the retention period is at least one month")
    cutoff = months_before(now or utcnow(), months)
    entries = due_entries(cutoff)
    ids = [e.id for e in entries]
    run = RetentionRun(months=months, cutoff=cutoff, entries=entries, dry_run=dry_run,
                       attached=_attached(ids))
    if dry_run or not ids:
        return run
    scrub_entries(ids)
    si = SnapshotInitiative.__table__
    for initiative_id in sorted(set(db.session.scalars(
            select(si.c.id).where(si.c.id.in_(ids), si.c.withdrawn.is_(False))))):
        withdraw_from_snapshots(initiative_id)  # published, then rejected
    db.session.execute(delete(SubscriptionNotice)
                       .where(SubscriptionNotice.initiative_id.in_(ids)))
    db.session.execute(delete(DuplicateFlag).where(or_(DuplicateFlag.first_id.in_(ids),
                                                       DuplicateFlag.second_id.in_(ids))))
    db.session.execute(delete(ContactRequest).where(ContactRequest.initiative_id.in_(ids)))
    # sent mail stays (kind, subject, status) without its addresses
    db.session.execute(update(OutboxMessage).where(OutboxMessage.initiative_id.in_(ids))
                       .values(reply_to="").execution_options(synchronize_session=False))
    record("initiative.purge_retention", target_type="initiative", actor="system",
           after={"count": len(ids), "by_state": run.by_state(), "months": months,
                  "cutoff": cutoff.isoformat(), "ids": ids,
                  "references": [e.reference for e in entries]})
    _delete_initiatives(ids)
    return run
