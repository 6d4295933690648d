"""Domain events: what happened to an entry, a theme or a snapshot.

A service changes the data and announces the change with one of these signals (blinker, the
library Flask's own signals use); other domains react where they are registered, at start-up
(``registry.create_app`` -> ``register_event_handlers``):

=====================  =====================================  ==============================
signal                 sent by                                receivers
=====================  =====================================  ==============================
entry_submitted        submissions.services.submit            history; manage (confirmation
                                                              mail)
entry_confirmed        manage.services.confirm_initiative     history; moderation (duplicates)
entry_published        moderation.services.publish            history; manage (mail + public
                                                              link); connect (digests)
entry_rejected         moderation.services.reject             history; manage (mail + reason);
                                                              published (snapshots, if it
                                                              was public)
changes_requested      moderation.services.request_changes    manage (mail + manage link)
entry_edited           moderation edit and reclassify,        history; moderation (duplicates
                       manage.services.submit_edit and        while pending); published
                       set_obstacle_visibility                (confidential in snapshots);
                                                              connect (alerts: new topics)
edit_proposed          manage.services.submit_edit            -
edit_approved          moderation.services.approve_revision   published (confidential in
                                                              snapshots); manage (mail);
                                                              connect (alerts: new topics)
edit_discarded         moderation.services.discard_revision   manage (mail + reason)
entry_withdrawn        manage.services.withdraw_initiative    history; published (leaves
                                                              every snapshot's rows)
contact_erased         manage.services.erase_contact          history
entries_merged         moderation.services.merge              history; manage (mail to the
                                                              merged entry's contact);
                                                              connect (alerts: new topics)
obstacle_linked        moderation.services.link_obstacle      connect (theme alerts)
theme_changed          moderation.services.save/delete_theme  -
snapshot_created       published.snapshots.create_snapshot    -
=====================  =====================================  ==============================

Every signal is sent inside the transaction of the change (receivers add rows to the same
session, e.g. a revision or an outbox mail; nothing is committed by a receiver), with the
change as the sender. Public data changes are noted by ``registry.cache`` from the rows a
transaction touches, so a cache needs no receiver of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace

from registry.submissions.models import Initiative

_signals = Namespace()

entry_submitted = _signals.signal("entry-submitted")
entry_confirmed = _signals.signal("entry-confirmed")
entry_published = _signals.signal("entry-published")
entry_rejected = _signals.signal("entry-rejected")
changes_requested = _signals.signal("changes-requested")
entry_edited = _signals.signal("entry-edited")
edit_proposed = _signals.signal("edit-proposed")
edit_approved = _signals.signal("edit-approved")
edit_discarded = _signals.signal("edit-discarded")
entry_withdrawn = _signals.signal("entry-withdrawn")
contact_erased = _signals.signal("contact-erased")
entries_merged = _signals.signal("entries-merged")
obstacle_linked = _signals.signal("obstacle-linked")
theme_changed = _signals.signal("theme-changed")
snapshot_created = _signals.signal("snapshot-created")

# Signals whose sender is an ``EntryChange`` (the history records each of them).
ENTRY_SIGNALS = (
    entry_submitted, entry_confirmed, entry_published, entry_rejected, entry_edited,
    entry_withdrawn, contact_erased,
)


@dataclass
class EntryChange:
    """A change to one entry (initiative), already applied to the objects in the session.

    ``kind`` names it in the history ("create", "confirm", "publish", "reject", "edit",
    "reclassify", "withdraw", "erase", ...); ``before`` is the entry's content before the
    change (``registry.submissions.content.entry_content``; None for a new entry); ``actor``
    the staff user, or None for the submitter or the system, as ``actor_type`` says.
    """

    initiative: Initiative
    kind: str
    actor_type: str  # submitter | moderator | system
    actor: Any = None
    before: dict[str, Any] | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RevisionDecision:
    """A moderator approved or discarded an edit the contact proposed (``edit_approved``,
    ``edit_discarded``); the revision itself records the decision."""

    initiative: Initiative
    revision: Any
    actor: Any
    reason: str = ""


@dataclass
class MergeChange:
    """``other`` was merged into ``keep`` by a moderator (both already changed)."""

    keep: Initiative
    other: Initiative
    actor: Any
    before_keep: dict[str, Any]
    before_other: dict[str, Any]
