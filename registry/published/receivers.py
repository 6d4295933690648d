"""Snapshots listen to the domain events: a withdrawn entry leaves every snapshot's
row-level outputs at once (issue 16)."""
from __future__ import annotations

from registry import events
from registry.published import snapshots


def withdraw(change: events.EntryChange) -> None:
    snapshots.withdraw_from_snapshots(change.initiative.id)


def register() -> None:
    events.entry_withdrawn.connect(withdraw, weak=False)
