"""``flask --app registry import-initiatives FILE [--dry-run] [--source NAME]``: import a list
of known initiatives as the web page ``/moderatie/import`` does (registry.imports.services)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import force_locale

SHOWN_PROBLEMS = 50


def register(app: Flask) -> None:
    @app.cli.command("import-initiatives")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--source", default=None,
                  help="Where the list comes from (a network, region or sector council); "
                       "rows are recognised again per source. Default: the file name.")
    @click.option("--obstacles", "obstacles", default=None,
                  type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="knelpunten.csv beside an initiatieven.csv export of the registry.")
    @click.option("--dry-run", is_flag=True, help="Only check the rows; store nothing.")
    @click.option("--include-duplicates", is_flag=True,
                  help="Also import rows that are likely duplicates (flagged for moderators).")
    def import_initiatives_command(file: Path, source: str | None, obstacles: Path | None,
                                   dry_run: bool, include_duplicates: bool) -> None:
        """Check and import a CSV or XLSX list of known initiatives. Imported entries wait
        for moderation; contacts with an e-mail address are invited to take theirs over."""
        from registry.extensions import db
        from registry.imports import services
        from registry.imports.fields import targets
        from registry.imports.reader import FileProblem
        from registry.taxonomy.services import current as current_taxonomy

        name = (source or file.stem).strip()[:100]
        labels = {"check": "Checking rows ", "import": "Importing rows"}

        def bar(step: str, total: int | None) -> Any:
            return click.progressbar(length=total or 0, label=labels[step], show_pos=True,
                                     file=sys.stderr)

        # Dutch messages, as on the web page (the form's own texts need a request context)
        with app.test_request_context("/"), force_locale("nl"):
            try:
                result = services.import_file(file, source=name, obstacles_path=obstacles,
                                              dry_run=dry_run,
                                              include_duplicates=include_duplicates, bar=bar)
            except FileProblem as problem:
                db.session.rollback()
                raise click.ClickException(str(problem.message)) from None
            if result.mapping:
                fields = {t.key: t for t in targets(current_taxonomy())}
                click.echo(f"Columns used (source {name!r}):")
                for key, column in result.mapping.items():
                    click.echo(f"  {column!r} -> {fields[key].label}")
            for row in result.checked.report.problems[:SHOWN_PROBLEMS]:
                reasons = "; ".join(f"{label}: {message}" for label, message in row["errors"])
                match = row["match"]
                if match:
                    reasons = reasons or f"like {match['kind']} {match['number']}"
                click.echo(f"row {row['row']}: {row['status']}"
                           + (f" - {reasons}" if reasons else ""))
            counts = result.counts
            click.echo(", ".join(f"{key}: {value}" for key, value in sorted(counts.items())))
            if dry_run:
                click.echo("Dry run: nothing was stored.")
            else:
                click.echo(f"Imported {counts.get('imported', 0)} of {counts.get('rows', 0)} "
                           f"rows as entries waiting for moderation (source {name!r}).")
