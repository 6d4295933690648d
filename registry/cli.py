"""Command-line commands (flask --app registry ...)."""
from __future__ import annotations

import click
from flask import Flask

from registry.extensions import db


def register(app: Flask) -> None:
    import importlib
    import importlib.util

    from registry import DOMAINS

    for domain in DOMAINS:
        if importlib.util.find_spec(f"registry.{domain}.cli") is not None:
            importlib.import_module(f"registry.{domain}.cli").register(app)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when there are no initiatives.")
    @click.option("--count", default=80, show_default=True, help="Number of initiatives.")
    @click.option("--seed", default=2026, show_default=True, help="Random seed.")
    def seed_demo_command(if_empty: bool, count: int, seed: int) -> None:
        """Create a realistic fictional data set for demonstration."""
        from registry.submissions.demo import seed_demo
        from registry.submissions.models import Initiative

        if if_empty and db.session.scalar(db.select(db.func.count(Initiative.id))):
            click.echo("Database already has initiatives; demo data not loaded.")
            return
        created = seed_demo(count=count, seed=seed)
        db.session.commit()
        click.echo(f"Created {created} demo initiatives.")
