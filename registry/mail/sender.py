"""Sending the outbox: backends (console, memory, smtp) and ``send_pending`` with retries.

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

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import or_, select, update

from registry.database import utcnow
from registry.extensions import db
from registry.mail.models import OutboxMessage

logger = logging.getLogger(__name__)

DEFAULTS = {
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_RETRY_BASE_SECONDS": 60,
    "MAIL_RETRY_MAX_SECONDS": 6 * 3600,
    "MAIL_CLAIM_SECONDS": 600,
    "MAIL_BATCH_SIZE": 100,
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS.get(name))


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
        print("=" * 72)  # noqa: T201
        print(email.as_string())  # noqa: T201
        print("=" * 72)  # noqa: T201

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
        if cfg.get("MAIL_USE_SSL"):
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
            if cfg.get("MAIL_USE_TLS"):
                conn.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            conn.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
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
            try:
                self.connection.quit()
            except Exception:  # noqa: BLE001 - the connection may already be gone
                pass
            self.connection = None


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend, "smtp": SmtpBackend}


def get_backend():
    name = current_app.config.get("MAIL_BACKEND", "console")
    try:
        return BACKENDS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown MAIL_BACKEND {name!r}; use console, memory or smtp") from None


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed attempts."""
    base = setting("MAIL_RETRY_BASE_SECONDS")
    return int(min(base * 2 ** max(attempts - 1, 0), setting("MAIL_RETRY_MAX_SECONDS")))


def _claim(message_id: int, now: datetime) -> bool:
    """Atomically take a due message; True when this worker owns it now."""
    claim_until = now + timedelta(seconds=setting("MAIL_CLAIM_SECONDS"))
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.status.in_(("queued", "sending")),
        )
        .values(status="sending", next_attempt_at=claim_until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_pending(now: datetime | None = None, ids: list[int] | None = None,
                 limit: int | None = None) -> dict[str, int]:
    """Send every due message (or only ``ids``); commits per message. Returns counts."""
    now = now or utcnow()
    limit = limit or setting("MAIL_BATCH_SIZE")
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
            try:
                backend.send(build_email(message))
            except Exception as exc:  # noqa: BLE001 - any failure keeps the mail queued
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if message.attempts >= setting("MAIL_MAX_ATTEMPTS"):
                    message.status = "failed"
                    counts["failed"] += 1
                else:
                    message.status = "queued"
                    counts["retry"] += 1
                message.next_attempt_at = now + timedelta(seconds=backoff_seconds(message.attempts))
                db.session.commit()
                logger.warning("Mail %s (%s) not sent: %s", message.id, message.kind,
                               message.last_error)
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


def send_now(messages: list[OutboxMessage]) -> None:
    """After the caller's commit: try to send these messages at once if configured.

    Never raises: a failure leaves them queued for ``flask --app registry send-mail``.
    """
    if not current_app.config.get("MAIL_SEND_IMMEDIATELY") or not messages:
        return
    ids = [m.id for m in messages if m.id is not None]
    try:
        send_pending(ids=ids)
    except Exception:  # noqa: BLE001 - the change itself is already committed
        db.session.rollback()
        logger.exception("Immediate sending of mail %s failed; left queued", ids)


def requeue(message: OutboxMessage, now: datetime | None = None) -> None:
    """Admin retry of a failed (or stuck) message: queue it again now (caller commits)."""
    message.status = "queued"
    message.attempts = 0
    message.next_attempt_at = now or utcnow()


def open_messages():
    """Queued, sending and failed messages, oldest first (the admin overview)."""
    return select(OutboxMessage).where(
        or_(OutboxMessage.status == "failed", OutboxMessage.status == "queued",
            OutboxMessage.status == "sending")
    ).order_by(OutboxMessage.created_at, OutboxMessage.id)
