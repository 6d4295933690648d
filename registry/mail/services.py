"""Queueing mail. Sending (SMTP/console backends, retries) lives in mail/sender.py, and when it
happens (after the commit, or by send-mail) in mail/delivery.py."""
from __future__ import annotations

from datetime import datetime

from registry.database import utcnow
from registry.extensions import db
from registry.mail.delivery import queued_messages, track
from registry.mail.models import OutboxMessage


def queue_mail(
    *,
    to: str,
    subject: str,
    body_text: str,
    kind: str,
    body_html: str = "",
    reply_to: str = "",
    initiative_id: int | None = None,
) -> OutboxMessage:
    """Write a mail to the outbox (not committed: it is part of the caller's transaction).

    It is sent once that transaction commits (registry.mail.delivery), or never if it rolls
    back."""
    message = OutboxMessage(
        kind=kind, to_address=to, subject=subject, body_text=body_text, body_html=body_html,
        reply_to=reply_to, initiative_id=initiative_id,
    )
    db.session.add(message)
    track(message)
    return message


def queued_in_transaction(kind: str, initiative_id: int | None) -> bool:
    """Whether the open transaction already queued a mail of ``kind`` about this entry (a
    receiver's guard against mailing twice for one event)."""
    return any(m.kind == kind and m.initiative_id == initiative_id for m in queued_messages())


def requeue(message: OutboxMessage, now: datetime | None = None) -> None:
    """Admin retry of a failed (or stuck) message: queue it again now (caller commits).

    Like a newly queued mail it is sent once the caller's transaction has committed (when
    MAIL_SEND_IMMEDIATELY is on; otherwise by send-mail), see ``registry.mail.delivery``.
    """
    message.status = "queued"
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    track(message)
