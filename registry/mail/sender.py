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
* Claimed on insert (``claim_new`` + ``send_claimed``, the public submission form): the web
  worker writes the row already claimed (``sending``, claim expiry as above) in the same
  transaction as the change, so no other worker can take it, and sends it right after the
  commit without the due-query and claim round trips. Success and failure are recorded
  exactly as above; a worker that dies before sending leaves a ``sending`` row that
  ``send-mail`` picks up once the claim has expired.
"""
from __future__ import annotations

import atexit
import logging
import os
import smtplib
import ssl
import threading
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import bindparam, inspect, or_, select, update

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


# The columns an e-mail is built from (besides the id).
_CONTENT = ("to_address", "subject", "reply_to", "body_text", "body_html")


def build_email(message: OutboxMessage) -> EmailMessage:
    """The RFC 5322 message for an outbox row (stable Message-ID per row)."""
    return _compose(message.id, **{name: getattr(message, name) for name in _CONTENT})


def _compose(message_id: int, *, to_address: str, subject: str, reply_to: str,
             body_text: str, body_html: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = to_address
    if reply_to:
        email["Reply-To"] = reply_to
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message_id}", domain="registry.local")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body_text)
    if body_html:
        email.add_alternative(body_html, subtype="html")
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
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= setting("MAIL_MAX_ATTEMPTS"):
        message.status = "failed"
        counts["failed"] += 1
    else:
        message.status = "queued"
        counts["retry"] += 1
    message.next_attempt_at = now + timedelta(seconds=backoff_seconds(message.attempts))
    db.session.commit()
    logger.warning("Mail %s (%s) not sent: %s", message.id, message.kind, message.last_error)


def claim_new(messages: list[OutboxMessage], now: datetime | None = None) -> list[dict]:
    """Before the caller's commit: claim messages queued in this same transaction, so that
    ``send_claimed`` can send them after the commit. Returns what ``send_claimed`` takes
    (nothing when MAIL_SEND_IMMEDIATELY is off: the rows stay ``queued`` for send-mail).

    The row is written as ``sending`` with the usual claim expiry; nobody else can have seen
    it, so this is the same ownership the conditional UPDATE in ``_claim`` gives, without
    its extra query and commit (issue 11: a submission used four commits).
    """
    if not current_app.config.get("MAIL_SEND_IMMEDIATELY"):
        return []
    now = now or utcnow()
    claim_until = now + timedelta(seconds=setting("MAIL_CLAIM_SECONDS"))
    claimed = []
    for message in messages:
        if message is None:
            continue
        message.status = "sending"
        message.next_attempt_at = claim_until
        # The content is kept as plain values: after the commit the row is expired and
        # reading it back would cost a query.
        claimed.append({"message": message, "now": now, "kind": message.kind,
                        **{name: getattr(message, name) for name in _CONTENT}})
    return claimed


def send_claimed(claimed: list[dict]) -> dict[str, int]:
    """After the caller's commit: send what ``claim_new`` claimed; never raises.

    Marks each message ``sent`` (in a batch from a background thread, see below), or records
    the failure with backoff like ``send_pending``; anything left ``sending`` (the worker
    died before marking) is retried by send-mail once the claim has expired.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    if not claimed:
        return counts
    backend = None
    try:
        backend = get_backend()
        for item in claimed:
            # The id without loading the expired row (identity is kept after the commit).
            message_id = inspect(item["message"]).identity[0]
            content = {name: item[name] for name in _CONTENT}
            try:
                backend.send(_compose(message_id, **content))
            except Exception as exc:  # noqa: BLE001 - any failure keeps the mail queued
                message = db.session.get(OutboxMessage, message_id, populate_existing=True)
                _record_failure(message, exc, item["now"], counts)
                continue
            delay = _mark_delay()
            if delay > 0:
                _mark_sent_later(message_id, utcnow(), delay)
            else:
                _mark_sent([(message_id, utcnow())])
            counts["sent"] += 1
            logger.info("Mail %s (%s) sent", message_id, item["kind"])
    except Exception:  # noqa: BLE001 - the change itself is already committed
        db.session.rollback()
        logger.exception("Immediate sending of claimed mail failed; send-mail retries it "
                         "once the claim has expired")
    finally:
        if backend is not None:
            backend.close()
    return counts


# -- marking sent mail in batches ---------------------------------------------------------------
#
# On SQLite every write transaction takes the database's single write lock, and a waiting
# worker sleeps in SQLite's busy handler in steps of 1-25 ms. In the submission burst (issue 11)
# the "sent" mark was a second write transaction per submission and, with 4 workers, each
# POST waited ~14 ms for it. So a worker marks the mail it sent from a background thread, a
# batch per MAIL_MARK_BATCH_SECONDS (default 0.2 s; 0 = at once, as in the tests), in one
# transaction. A worker killed in that short window leaves the row ``sending``: like any crash
# between sending and marking, send-mail sends it again once the claim has expired.

_marks_lock = threading.Lock()
_marks: dict = {}  # app -> [(message id, sent at)]
_marks_wakeup = threading.Event()
_marks_thread: threading.Thread | None = None
_marks_pid: int | None = None


def _mark_delay() -> float:
    return float(current_app.config.get("MAIL_MARK_BATCH_SECONDS") or 0)


def _mark_sent(items: list[tuple[int, datetime]]) -> None:
    """Mark messages sent, in one transaction (the caller's session; commits)."""
    db.session.execute(
        update(OutboxMessage.__table__)
        .where(OutboxMessage.__table__.c.id == bindparam("message_id"))
        .values(status="sent", sent_at=bindparam("sent_at"),
                attempts=OutboxMessage.__table__.c.attempts + 1, last_error=""),
        [{"message_id": message_id, "sent_at": sent_at} for message_id, sent_at in items],
    )
    db.session.commit()


def _mark_sent_later(message_id: int, sent_at: datetime, delay: float) -> None:
    global _marks_thread, _marks_pid
    app = current_app._get_current_object()
    with _marks_lock:
        _marks.setdefault(app, []).append((message_id, sent_at))
        if _marks_thread is None or _marks_pid != os.getpid() or not _marks_thread.is_alive():
            if _marks_pid is None:
                atexit.register(flush_sent_marks)  # a worker that exits cleanly marks all
            _marks_pid = os.getpid()
            _marks_thread = threading.Thread(target=_marks_loop, args=(delay,),
                                             name="mail-sent-marks", daemon=True)
            _marks_thread.start()
    _marks_wakeup.set()


def _marks_loop(delay: float) -> None:
    while True:
        _marks_wakeup.wait()
        time.sleep(delay)  # let a batch gather
        _marks_wakeup.clear()
        flush_sent_marks()


def flush_sent_marks() -> int:
    """Write every pending "sent" mark now (background thread, process exit, tests).
    Returns how many were written; marks that could not be written are kept for the next
    round."""
    with _marks_lock:
        batches = list(_marks.items())
        _marks.clear()
    written = 0
    for app, items in batches:
        with app.app_context():
            try:
                _mark_sent(items)
                written += len(items)
            except Exception:  # noqa: BLE001 - kept and retried; the mail itself went out
                db.session.rollback()
                logger.exception("Marking mail %s as sent failed; retried",
                                 [i for i, _ in items])
                with _marks_lock:
                    _marks.setdefault(app, []).extend(items)
            finally:
                db.session.remove()
    return written


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
