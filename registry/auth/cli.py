"""flask --app registry create-user EMAIL --role R"""
from __future__ import annotations

import click
from flask import Flask

from registry.auth.models import ROLES
from registry.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice(ROLES), default="moderator", show_default=True)
    @click.option("--name", default="", help="Display name.")
    def create_user_command(email: str, role: str, name: str) -> None:
        """Create a staff account and print a one-time link to set its password."""
        from registry.auth.services import AccountError, create_user, set_password_link

        with app.test_request_context(base_url=app.config["BASE_URL"]):
            try:
                user = create_user(email, role, name, actor="cli")
            except AccountError as exc:
                raise click.ClickException(str(exc)) from None
            db.session.commit()
            link = set_password_link(user)
        click.echo(f"Created {role} account {user.email}.")
        click.echo("One-time link to set the password (valid for 7 days):")
        click.echo(link)
