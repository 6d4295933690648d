"""Connect listens to the domain events: digest subscribers hear about a newly published
initiative that meets their themes or areas."""
from __future__ import annotations

from registry import events
from registry.connect.services import notify_subscribers


def on_published(change: events.EntryChange) -> None:
    notify_subscribers(change.initiative)


def register() -> None:
    events.entry_published.connect(on_published, weak=False)
