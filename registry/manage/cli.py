"""``flask --app registry purge-unconfirmed``: delete entries never confirmed (daily cron);
``purge-retention``: delete rejected and withdrawn entries after the retention period."""
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

    @app.cli.command("purge-retention")
    @click.option("--dry-run", is_flag=True,
                  help="Only list what would be deleted; change nothing.")
    @click.option("--months", type=click.IntRange(min=1), default=None,
                  help="Retention period in months (default: RETENTION_MONTHS).")
    def purge_retention_command(dry_run: bool, months: int | None) -> None:
        """Delete rejected and withdrawn entries whose last change is older than the
        retention period, with their contact data, links, mail and messages."""
        from registry.extensions import db
        from registry.manage.retention import purge_retention

        run = purge_retention(months=months, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        for line in run.report():
            click.echo(line)
