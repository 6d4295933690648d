"""``flask --app registry purge-unconfirmed``: delete entries never confirmed (daily cron)."""
from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("purge-unconfirmed")
    @click.option("--days", type=int, default=30, show_default=True,
                  help="Delete unconfirmed entries older than this many days.")
    def purge_unconfirmed_command(days: int) -> None:
        """Delete submissions whose e-mail address was never confirmed."""
        from registry.extensions import db
        from registry.manage.services import purge_unconfirmed

        count = purge_unconfirmed(days=days)
        db.session.commit()
        click.echo(f"Deleted {count} unconfirmed entr{'y' if count == 1 else 'ies'}.")
