"""flask --app registry snapshot create|list"""
from __future__ import annotations

import click
from flask import Flask

from registry.extensions import db
from registry.published.snapshots import create_snapshot, list_snapshots


def register(app: Flask) -> None:
    @app.cli.group("snapshot")
    def snapshot_group() -> None:
        """Citable snapshots of the published data."""

    @snapshot_group.command("create")
    @click.option("--note", default="", help="What the snapshot is for.")
    def create_command(note: str) -> None:
        """Freeze the published data as a new numbered snapshot."""
        snap = create_snapshot(note=note, actor="cli")
        db.session.commit()
        click.echo(f"Snapshot {snap.code}: {snap.initiative_count} initiatives, "
                   f"{snap.obstacle_count} obstacles.")

    @snapshot_group.command("list")
    def list_command() -> None:
        """List snapshots, newest first."""
        for snap in list_snapshots():
            click.echo(f"{snap.code}\t{snap.created_at:%Y-%m-%d %H:%M}\t"
                       f"{snap.initiative_count}\t{snap.obstacle_count}\t{snap.note}")
