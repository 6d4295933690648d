"""CLI: ``flask --app registry geocode`` and ``flask --app registry refresh-schools FILE``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from registry.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("geocode")
    @click.option("--offline", is_flag=True, help="Use the offline data only.")
    @click.option("--only-new", is_flag=True, help="Skip entries that failed before.")
    @click.option("--limit", type=int, default=None, help="At most this many organisations.")
    def geocode_command(offline: bool, only_new: bool, limit: int | None) -> None:
        """Resolve the locations that are still open or failed (online when configured)."""
        from registry.geo.services import backlog, locate_organisation

        items = backlog(include_failed=not only_new, limit=limit)
        online = not offline and bool(app.config["GEOCODER_ONLINE"])
        resolved = failed = 0
        for org in items:
            if locate_organisation(org, online=online):
                resolved += 1
            else:
                failed += 1
            db.session.commit()  # keep each answer (and the geocoder cache) even if stopped
        click.echo(f"Resolved {resolved}, still unresolved {failed} "
                   f"(online geocoder {'on' if online else 'off'}).")

    @app.cli.command("refresh-schools")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def refresh_schools_command(source: Path) -> None:
        """Replace the shipped school directory with a newer DUO file of the same shape."""
        from registry.geo.build_data import build_schools
        from registry.geo.directory import data_dir, reset_directory

        try:
            count = build_schools(source, data_dir() / "schools.json.gz")
        except (ValueError, KeyError, OSError) as exc:
            raise click.ClickException(f"Could not read {source}: {exc}") from exc
        reset_directory()
        click.echo(f"School directory updated: {count} locations.")
