"""``flask --app registry connect-purge``: delete old relayed messages and stale subscriptions."""
from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("connect-purge")
    def connect_purge_command() -> None:
        """Delete relayed messages after 180 days and unconfirmed subscriptions after 14."""
        from registry.connect.services import purge_old
        from registry.extensions import db

        counts = purge_old()
        db.session.commit()
        click.echo(f"deleted messages: {counts['messages']}, "
                   f"unconfirmed subscriptions: {counts['subscriptions']}")
