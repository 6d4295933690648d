"""The history listens to the domain events: every change to an entry becomes a revision."""
from __future__ import annotations

from registry import events
from registry.history import services


def record_entry_change(change: events.EntryChange) -> None:
    services.record_change(change.initiative, change.actor_type, change.kind, change.before,
                           actor=change.actor, extra_changes=change.extra.get("changes"))


def record_merge(merge: events.MergeChange) -> None:
    services.record_change(merge.keep, "moderator", "merge", merge.before_keep,
                           actor=merge.actor)
    services.record_change(merge.other, "moderator", "merged", merge.before_other,
                           actor=merge.actor)


def register() -> None:
    for signal in events.ENTRY_SIGNALS:
        signal.connect(record_entry_change, weak=False)
    events.entries_merged.connect(record_merge, weak=False)
