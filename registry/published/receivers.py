"""Snapshots listen to the domain events (issue 16): an entry that leaves the public pages
(withdrawn by its school, or a published entry rejected by a moderator) leaves every
snapshot's row-level outputs at once, its frozen figures staying; an obstacle that is
confidential now, whoever changed it (the school, a moderator's edit, an approved
revision), is confidential in every snapshot too."""
from __future__ import annotations

from registry import events
from registry.published import snapshots
from registry.taxonomy.constants import CONFIDENTIAL


def withdraw(change: events.EntryChange) -> None:
    snapshots.withdraw_from_snapshots(change.initiative.id)


def reject(change: events.EntryChange) -> None:
    if change.extra.get("was_public"):
        snapshots.withdraw_from_snapshots(change.initiative.id)


def confidential(change) -> None:
    """After any edit: the entry's confidential obstacles are confidential in every
    snapshot (only rows still public there change)."""
    ids = [o.id for o in change.initiative.obstacles
           if o.visibility == CONFIDENTIAL and o.id is not None]
    snapshots.make_confidential_in_snapshots(ids)


def register() -> None:
    events.entry_edited.connect(confidential, weak=False)
    events.edit_approved.connect(confidential, weak=False)
    events.entry_withdrawn.connect(withdraw, weak=False)
    events.entry_rejected.connect(reject, weak=False)
