"""flask --app registry create-user EMAIL --role R; password-link EMAIL [--reset-totp]"""
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

    @app.cli.command("password-link")
    @click.argument("email")
    @click.option("--reset-totp", is_flag=True,
                  help="Forget the second factor: the link then sets up a new one "
                       "(a lost phone).")
    def password_link_command(email: str, reset_totp: bool) -> None:
        """Print a new one-time link to set the password of an existing account.

        With TOTP_ENABLED an admin without a second factor sets it up right after using the
        link (the only way to enrol), e.g. the first admin after switching TOTP on.
        """
        from registry.audit.services import record
        from registry.auth.services import get_user_by_email, set_password_link

        with app.test_request_context(base_url=app.config["BASE_URL"]):
            user = get_user_by_email(email)
            if user is None or not user.active:
                raise click.ClickException(f"No active account {email}.")
            if reset_totp and (user.totp_secret or user.totp_pending_secret):
                user.totp_secret = user.totp_pending_secret = None
                user.totp_last_counter = None
                record("user.totp_reset", target_type="user", target_id=user.id, actor="cli")
            db.session.commit()
            link = set_password_link(user)
        days = app.config["SET_PASSWORD_LINK_MAX_AGE"] // 86400
        click.echo(f"One-time link to set the password of {user.email} (valid for {days} days):")
        click.echo(link)
