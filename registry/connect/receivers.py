"""Connect listens to the domain events: digest subscribers hear about an initiative when it
first becomes visible to the public under one of their themes or areas - when it is
published, and when it gets there later: an obstacle linked to a theme after publication (the
usual order: schools do not choose themes), a confidential obstacle made public, an edit
that adds or moves a public obstacle, a merge that brings another entry's obstacles. What
counts is the public view (``registry.connect.services.visible_topics``): a confidential
obstacle never puts an entry under a theme. Never twice for the same subscription and
initiative (``SubscriptionNotice``)."""
from __future__ import annotations

from registry import events
from registry.connect.services import (
    announce_new_topics,
    announce_theme_link,
    carry_notices,
    notify_subscribers,
    snapshot_before_revision,
    topics_of_snapshot,
)
from registry.moderation.models import Theme
from registry.submissions.models import Obstacle


def on_published(change: events.EntryChange) -> None:
    notify_subscribers(change.initiative)


def on_edited(change: events.EntryChange) -> None:
    """Any change applied to an entry (a moderator's edit or re-classification, the
    school's visibility switch): the topics it was not visible under before."""
    announce_new_topics(change.initiative, topics_of_snapshot(change.before))


def on_edit_approved(decision: events.RevisionDecision) -> None:
    announce_new_topics(decision.initiative,
                        topics_of_snapshot(snapshot_before_revision(decision.revision)))


def on_obstacle_linked(obstacle: Obstacle, theme: Theme | None = None, **_extra) -> None:
    announce_theme_link(obstacle, theme)


def on_merged(change: events.MergeChange) -> None:
    """The other entry's obstacles now belong to the kept one. Subscribers told about the
    other entry were told about this initiative already."""
    carry_notices(change.other.id, change.keep.id)
    announce_new_topics(change.keep, topics_of_snapshot(change.before_keep))


def register() -> None:
    events.entry_published.connect(on_published, weak=False)
    events.entry_edited.connect(on_edited, weak=False)
    events.edit_approved.connect(on_edit_approved, weak=False)
    events.obstacle_linked.connect(on_obstacle_linked, weak=False)
    events.entries_merged.connect(on_merged, weak=False)
