"""``flask --app registry send-mail``: send due outbox messages.

Run it every minute from a systemd timer or cron, or once as a long-running worker with
``--loop SECONDS``. With MAIL_SEND_IMMEDIATELY on, mail is normally sent right after the
commit that queued it (registry/mail/delivery.py) and this command only sends what that
missed: retries after an SMTP failure, mail of a worker that died before sending.
"""
from __future__ import annotations

import signal
import threading

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("send-mail")
    @click.option("--limit", type=int, default=None,
                  help="At most this many messages per round (default MAIL_BATCH_SIZE).")
    @click.option("--loop", "loop_seconds", type=float, default=None, metavar="SECONDS",
                  help="Keep running: a new round every SECONDS (at once after a full "
                       "round) until SIGTERM or Ctrl-C.")
    def send_mail_command(limit: int | None, loop_seconds: float | None) -> None:
        """Send queued e-mail; failures are retried later with backoff."""
        from flask import current_app

        from registry.extensions import db
        from registry.mail.sender import send_pending

        if loop_seconds is None:
            _echo(send_pending(limit=limit))
            return
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        batch = limit or current_app.config["MAIL_BATCH_SIZE"]
        try:
            while not stop.is_set():
                counts = send_pending(limit=batch)
                db.session.remove()  # a fresh session per round: no identity map growing
                if sum(counts.values()):
                    _echo(counts)
                if sum(counts.values()) < batch:  # nothing more due right now
                    stop.wait(loop_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)


def _echo(counts: dict[str, int]) -> None:
    click.echo(
        f"sent: {counts['sent']}, retry later: {counts['retry']}, "
        f"failed: {counts['failed']}, skipped: {counts['skipped']}"
    )
