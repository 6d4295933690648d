"""Moderation listens to the domain events: an entry is checked for duplicates as it arrives
in the queue (confirmed) and whenever it changes while it waits there."""
from __future__ import annotations

from registry import events
from registry.moderation.duplicates import flag_duplicates
from registry.taxonomy.constants import InitiativeState


def flag_waiting_entry(change: events.EntryChange) -> None:
    if change.initiative.state == InitiativeState.PENDING:
        flag_duplicates(change.initiative)


def register() -> None:
    events.entry_confirmed.connect(flag_waiting_entry, weak=False)
    events.entry_edited.connect(flag_waiting_entry, weak=False)
