"""Moderation listens to the domain events: an entry is checked for duplicates as it arrives
in the queue (confirmed) and whenever it changes while it waits there; and after any edit
(also the contact's own, on an entry not yet published), an obstacle moved to another area
leaves a theme of its old area, so area and theme figures agree (issue 18)."""
from __future__ import annotations

from registry import events
from registry.memory import release_free_memory
from registry.moderation.duplicates import flag_duplicates
from registry.moderation.services import unlink_themes_of_other_areas
from registry.taxonomy.constants import InitiativeState


def flag_waiting_entry(change: events.EntryChange) -> None:
    if change.initiative.state == InitiativeState.PENDING:
        flag_duplicates(change.initiative)
        release_free_memory()  # every active entry was read


def flag_published_entry(change: events.EntryChange) -> None:
    """A published entry (also one published again after a rejection) against the entries
    waiting in the queue, which may have arrived while it was not active."""
    flag_duplicates(change.initiative)
    release_free_memory()


def unlink_moved_obstacles(change: events.EntryChange) -> None:
    actor = change.actor if change.actor_type == "moderator" else change.actor_type
    unlink_themes_of_other_areas(change.initiative.obstacles, actor=actor)


def register() -> None:
    events.entry_edited.connect(unlink_moved_obstacles, weak=False)
    events.entry_confirmed.connect(flag_waiting_entry, weak=False)
    events.entry_edited.connect(flag_waiting_entry, weak=False)
    events.entry_published.connect(flag_published_entry, weak=False)
