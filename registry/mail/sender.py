"""Sending the outbox: backends (console, memory, smtp) and ``send_pending`` with retries.

``send_pending`` is the only code that sends mail. It is called by
``flask --app registry send-mail`` (a systemd timer, cron or ``send-mail --loop``) and, with
MAIL_SEND_IMMEDIATELY on, by ``registry.mail.delivery`` for the rows a transaction queued,
once that transaction has committed (see there for when exactly).

Delivery guarantees
-------------------
* A row is *claimed* before it is sent: a conditional UPDATE moves it from ``queued`` to
  ``sending`` (and pushes ``next_attempt_at`` forward by MAIL_CLAIM_SECONDS) and commits. Only
  the worker whose UPDATE changed the row sends it, so two ``send-mail`` runs (or a run and
  the web process) never both send the same message.
* After a successful send the row is marked ``sent`` in its own commit.
* On failure ``attempts`` goes up and ``next_attempt_at`` moves by exponential backoff
  (MAIL_RETRY_BASE_SECONDS * 2**(attempts-1), capped at MAIL_RETRY_MAX_SECONDS); after
  MAIL_MAX_ATTEMPTS the row becomes ``failed`` (visible on /beheer/mail, where an admin can
  queue it again).
* A worker that dies between claiming and marking leaves a ``sending`` row; once its claim
  has expired it is picked up again (at-least-once for crashed workers only).
"""
from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, or_, select, update

from registry.database import utcnow
from registry.extensions import db
from registry.mail.models import OutboxMessage

logger = logging.getLogger(__name__)

def build_email(message: OutboxMessage) -> EmailMessage:
    """The RFC 5322 message for an outbox row (stable Message-ID per row)."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="registry.local")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


class ConsoleBackend:
    """Development: print the mail instead of sending it."""

    def send(self, email: EmailMessage) -> None:
        # flushed at once: under `make run` with its output piped, a mail (and its link)
        # would otherwise wait in the buffer
        print("=" * 72, email.as_string(), "=" * 72, sep="\n", flush=True)

    def close(self) -> None:
        pass


class MemoryBackend:
    """Tests: keep the messages in ``app.extensions["mail_memory"]``."""

    def send(self, email: EmailMessage) -> None:
        current_app.extensions.setdefault("mail_memory", []).append(email)

    def close(self) -> None:
        pass


class SmtpBackend:
    """SMTP with settings from MAIL_*; one connection per batch, reopened after an error."""

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = current_app.config
        host, port, timeout = cfg["MAIL_SERVER"], cfg["MAIL_PORT"], cfg["MAIL_TIMEOUT"]
        if cfg["MAIL_USE_SSL"]:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
            if cfg["MAIL_USE_TLS"]:
                conn.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            conn.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        return conn

    def send(self, email: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(email)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                self.connection.quit()
            self.connection = None


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend, "smtp": SmtpBackend}


def get_backend():
    name = current_app.config["MAIL_BACKEND"]
    try:
        return BACKENDS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown MAIL_BACKEND {name!r}; use console, memory or smtp") from None


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed attempts."""
    config = current_app.config
    delay = config["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    return int(min(delay, config["MAIL_RETRY_MAX_SECONDS"]))


def _claim(message_id: int, now: datetime) -> bool:
    """Atomically take a due message; True when this worker owns it now."""
    claim_until = now + timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    result = cast(CursorResult, db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.status.in_(("queued", "sending")),
        )
        .values(status="sending", next_attempt_at=claim_until)
        .execution_options(synchronize_session=False)
    ))
    db.session.commit()
    return result.rowcount == 1


def send_pending(now: datetime | None = None, ids: list[int] | None = None,
                 limit: int | None = None) -> dict[str, int]:
    """Send every due message (or only ``ids``); commits per message. Returns counts."""
    now = now or utcnow()
    limit = limit or current_app.config["MAIL_BATCH_SIZE"]
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(("queued", "sending")),
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    due = list(db.session.scalars(query))
    db.session.commit()  # end the read transaction before claiming
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    if not due:
        return counts
    backend = get_backend()
    try:
        for message_id in due:
            if not _claim(message_id, now):
                counts["skipped"] += 1
                continue
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
            if message is None:  # deleted since the claim (withdrawn or purged entry)
                counts["skipped"] += 1
                continue
            try:
                backend.send(build_email(message))
            except Exception as exc:  # any failure keeps the mail queued
                _record_failure(message, exc, now, counts)
                continue
            message.status = "sent"
            message.sent_at = utcnow()
            message.attempts += 1
            message.last_error = ""
            db.session.commit()
            counts["sent"] += 1
            logger.info("Mail %s (%s) sent", message.id, message.kind)
    finally:
        backend.close()
    return counts


def _record_failure(message: OutboxMessage, exc: Exception, now: datetime,
                    counts: dict[str, int]) -> None:
    """Count a failed attempt: retry later with backoff, or give up (``failed``); commits."""
    message.attempts += 1
    message.last_error = _without_addresses(f"{type(exc).__name__}: {exc}", message)[:2000]
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = "failed"
        counts["failed"] += 1
    else:
        message.status = "queued"
        counts["retry"] += 1
    message.next_attempt_at = now + timedelta(seconds=backoff_seconds(message.attempts))
    db.session.commit()
    logger.warning("Mail %s (%s) not sent: %s", message.id, message.kind, message.last_error)


def _without_addresses(text: str, message: OutboxMessage) -> str:
    """An error text without the message's addresses (an SMTP refusal names the recipient):
    it is logged and stored, and contact data stays out of logs. The recipient is on the
    row itself."""
    for address in {message.to_address, message.reply_to} - {""}:
        text = re.sub(re.escape(address), "<address>", text, flags=re.IGNORECASE)
    return text


def open_messages():
    """Queued, sending and failed messages, oldest first (the admin overview)."""
    return select(OutboxMessage).where(
        or_(OutboxMessage.status == "failed", OutboxMessage.status == "queued",
            OutboxMessage.status == "sending")
    ).order_by(OutboxMessage.created_at, OutboxMessage.id)
