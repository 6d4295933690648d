"""The running app sends due outbox mail itself, in a background thread (``make run``).

Mail normally leaves right after the commit that queued it (``registry.mail.delivery``). What
that first attempt does not deliver - the SMTP server was down or timed out, the process
stopped before sending, the mail of a worker that died - waits in the outbox with its backoff
(``next_attempt_at``) until ``send_pending`` runs again. In production that is the
``flask send-mail`` timer (or ``send-mail --loop``; docs/deployment.md). ``make run`` has no
timer, so without this thread such mail was never sent at all.

With MAIL_BACKGROUND_SECONDS > 0 (the default of the development configuration, i.e. ``make
run``) the first request a serving process handles starts one daemon thread per app; it
calls ``send_pending`` at once (mail left over from an earlier run) and then every
MAIL_BACKGROUND_SECONDS seconds, in an app context (and database session) of its own. It is
the same sender as everywhere else: the claim keeps it and the after-commit delivery (or a
``send-mail`` run) from sending one mail twice, and failures keep their backoff and give up
after MAIL_MAX_ATTEMPTS. CLI commands never start it (they serve no request). Setting
MAIL_BACKGROUND_SECONDS to 0 stops the thread after its current round.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

from registry.extensions import db
from registry.mail.sender import send_pending

logger = logging.getLogger(__name__)

EXTENSION = "registry.mail.background_sender"


class BackgroundSender:
    """One thread per app that sends due outbox mail every MAIL_BACKGROUND_SECONDS."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def interval(self) -> float:
        return float(self.app.config["MAIL_BACKGROUND_SECONDS"] or 0)

    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def ensure_started(self) -> None:
        """Start the thread unless it runs or the setting is off (cheap: once per request)."""
        if self.running() or self.interval() <= 0:
            return
        with self.lock:
            if self.running():
                return
            self.stopping.clear()
            self.thread = threading.Thread(target=self._run, name="mail-background-sender",
                                           daemon=True)
            self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (after the round it is in) and wait for it."""
        self.stopping.set()
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.send_due()
            interval = self.interval()
            if interval <= 0 or self.stopping.wait(interval):
                return

    def send_due(self) -> dict[str, int]:
        """One round: every due message, in batches of MAIL_BATCH_SIZE. Never raises; what
        is not sent stays in the outbox."""
        total = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        with self.app.app_context():
            try:
                batch = self.app.config["MAIL_BATCH_SIZE"]
                while not self.stopping.is_set():
                    counts = send_pending(limit=batch)
                    for key, value in counts.items():
                        total[key] += value
                    if sum(counts.values()) < batch:
                        break
            except Exception:  # the database may be busy or gone; the next round retries
                logger.exception("The background mail sender failed; trying again later")
                try:
                    db.session.rollback()
                except Exception:
                    logger.exception("Rollback after a failed background mail round failed")
            finally:
                db.session.remove()
        if total["sent"] or total["retry"] or total["failed"]:
            logger.info("Background mail round: %(sent)d sent, %(retry)d to retry later, "
                        "%(failed)d failed", total)
        return total


def background_sender(app: Flask) -> BackgroundSender:
    return app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    """Register the sender; the first request starts it when MAIL_BACKGROUND_SECONDS > 0."""
    sender = BackgroundSender(app)
    app.extensions[EXTENSION] = sender
    app.before_request(sender.ensure_started)
