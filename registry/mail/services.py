"""Queueing mail. Sending (SMTP/console backends, retries) lives in mail/sender.py."""
from __future__ import annotations

from registry.extensions import db
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
    """Write a mail to the outbox (not committed: it is part of the caller's transaction)."""
    message = OutboxMessage(
        kind=kind, to_address=to, subject=subject, body_text=body_text, body_html=body_html,
        reply_to=reply_to, initiative_id=initiative_id,
    )
    db.session.add(message)
    return message
