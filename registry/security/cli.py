"""``flask --app registry backup [PATH]`` and ``flask --app registry restore PATH``."""
from __future__ import annotations

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", required=False, type=click.Path(dir_okay=False))
    def backup_command(path: str | None) -> None:
        """Write a consistent backup of the database (default: instance/backups/)."""
        from sqlalchemy.engine import make_url

        from registry.security.backup import BackupError, backup, default_backup_path

        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        if path is None:
            import os

            path = str(default_backup_path(
                make_url(url), os.path.join(current_app.instance_path, "backups")))
        try:
            written = backup(url, path)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Backup written to {written}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: str, yes: bool) -> None:
        """Replace the database's contents by a backup made with `backup`."""
        from registry.extensions import db
        from registry.security.backup import BackupError, restore

        if not yes:
            click.confirm("This replaces every row in the database. Continue?", abort=True)
        db.session.remove()
        db.engine.dispose()  # no open connections while the file/database is replaced
        try:
            restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Database restored from {path}")
