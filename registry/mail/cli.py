"""``flask --app registry send-mail``: send due outbox messages (run from cron/systemd timer)."""
from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("send-mail")
    @click.option("--limit", type=int, default=None, help="At most this many messages.")
    def send_mail_command(limit: int | None) -> None:
        """Send queued e-mail; failures are retried later with backoff."""
        from registry.mail.sender import send_pending

        counts = send_pending(limit=limit)
        click.echo(
            f"sent: {counts['sent']}, retry later: {counts['retry']}, "
            f"failed: {counts['failed']}, skipped: {counts['skipped']}"
        )
