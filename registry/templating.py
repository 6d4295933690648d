"""Template globals, filters and the form-error helpers shared by every blueprint."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import Field, Form
from wtforms.fields import FieldList, FormField

from registry.database import as_utc
from registry.extensions import db
from registry.history.labels import template_globals as history_labels
from registry.localized import (
    as_language,
    lang_attr,
    lang_span,
    localized,
    mark_parts,
    missing_english,
)
from registry.moderation.models import Theme
from registry.summary.labels import area_label, sector_label
from registry.summary.labels import template_helpers as summary_helpers
from registry.taxonomy import constants
from registry.taxonomy.services import current as current_taxonomy


def own_errors(field: Field) -> list[str]:
    """A field's own messages (a FieldList also lists its entries' error dicts; skip those)."""
    return [str(m) for m in (field.errors or []) if not isinstance(m, (dict, list, tuple))]


def error_list(form: Form) -> list[tuple[str, str]]:
    """Flatten a form's errors into (field id, message) pairs in the order of the form.

    Used for the error summary at the top of a page (GOV.UK pattern): each message links to
    the field it belongs to.
    """
    items: list[tuple[str, str]] = []

    def walk(field: Field) -> None:
        if isinstance(field, FormField):
            for sub in field.form:
                walk(sub)
            for message in getattr(field.form, "form_errors", []):
                items.append((field.id, str(message)))
            return
        if isinstance(field, FieldList):
            for entry in field.entries:
                walk(entry)
            for message in own_errors(field):
                items.append((field.id, message))
            return
        for message in own_errors(field):
            items.append((field.id, message))

    for message in getattr(form, "form_errors", []):
        items.append(("", str(message)))
    for field in form:
        walk(field)
    return items


_BACKTICKS = re.compile(r"`([^`]+)`")


def inline_code(text: str | None) -> Markup:
    """A text with `code` in backticks (Markdown's inline code), as HTML: escaped, and each
    backticked part in ``<code>`` (API descriptions, the data dictionary)."""
    escaped = str(escape(text or ""))
    return Markup(_BACKTICKS.sub(r"<code>\1</code>", escaped))  # noqa: S704 - escaped above


def register(app: Flask) -> None:
    @app.context_processor
    def inject_globals():
        locale = str(get_locale() or "nl")
        return {
            "current_locale": locale,
            "other_locale": "en" if locale.startswith("nl") else "nl",
            "SEVERITIES": constants.SEVERITIES,
            "OBSTACLE_STATUSES": constants.OBSTACLE_STATUSES,
            "LEVELS": constants.LEVELS,
            "STATE_LABELS": constants.STATE_LABELS,
            "PROVINCES": constants.PROVINCES,
            **summary_helpers(),
        }

    app.add_template_global(error_list, "error_list")
    app.add_template_global(own_errors, "own_errors")
    # Words for the codes of the staff screens: history, diffs, audit log, outbox
    # (registry.history.labels).
    for name, function in history_labels().items():
        app.add_template_global(function, name)

    # The taxonomy (areas, dimensions, sectors, phases) as the database has it: the
    # vocabulary itself for option lists, and labels of single codes.
    app.add_template_global(current_taxonomy, "taxonomy")
    app.add_template_global(area_label, "area_label")
    app.add_template_global(sector_label, "sector_label")  # the short one: po, vo, mbo...

    # Curated texts with an optional English version (registry.localized): the English one in
    # the English interface, else the Dutch one, marked lang="nl" by |lang_span / |lang_attr.
    app.add_template_global(localized, "localized")
    app.add_template_global(as_language, "as_language")
    app.add_template_global(missing_english, "missing_english")
    app.add_template_filter(lang_span, "lang_span")
    app.add_template_filter(lang_attr, "lang_attr")
    app.add_template_filter(inline_code, "inline_code")
    app.add_template_filter(mark_parts, "mark_parts")

    @app.template_global()
    def theme_titles(flt) -> list:
        """The titles of the filter's themes in the interface language (to mark a Dutch one
        in the filter in words: ``|mark_parts(theme_titles(flt))``)."""
        if not flt.theme:
            return []
        themes = db.session.scalars(select(Theme).where(Theme.id.in_(flt.theme)))
        return [localized(t, "title") for t in themes]

    @app.template_global()
    def dimension_label(code: str | None) -> str:
        return current_taxonomy().label("dimensions", code)

    @app.template_global()
    def sector_name(code: str | None) -> str:
        """The full sector name."""
        return current_taxonomy().label("sectors", code)

    @app.template_global()
    def phase_label(code: str | None) -> str:
        return current_taxonomy().label("phases", code)

    @app.template_global()
    def url_with(**changes) -> str:
        """The current URL with some query parameters changed (None removes one)."""
        args = request.args.to_dict(flat=False)
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = [str(value)]
        query = urlencode(args, doseq=True)
        return request.path + ("?" + query if query else "")

    @app.template_filter("date")
    def date_filter(value: datetime | None, fmt: str = "medium") -> str:
        return format_date(as_utc(value), fmt) if value else ""

    @app.template_filter("datetime")
    def datetime_filter(value: datetime | None, fmt: str = "medium") -> str:
        return format_datetime(as_utc(value), fmt) if value else ""
