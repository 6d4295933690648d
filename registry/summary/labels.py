"""Labels for the summary's codes, in the interface language."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from registry.moderation.models import RULE_LEVEL_LABELS
from registry.taxonomy.constants import SEVERITIES
from registry.taxonomy.services import current as current_taxonomy

if TYPE_CHECKING:
    from registry.published.filters import InitiativeFilter

# Rule origin (issue 18): per level of ``registry.summary.services.ORIGIN_LEVELS`` and per
# group (``RULE_LEVEL_GROUP``). A report counts at every level of its theme's rules.
ORIGIN_LEVEL_LABELS = {**RULE_LEVEL_LABELS, "onbekend": _l("Herkomst nog niet bepaald")}
ORIGIN_GROUP_LABELS = {
    "regelgeving": _l("Vraagt een wijziging van wet- of regelgeving"),
    "toezicht_sector": _l("Vraagt andere afspraken met toezicht of sector"),
    "school": _l("Vraagt informatie of een wijziging bij school of bestuur"),
    "onbekend": _l("Herkomst van de regel nog niet bepaald"),
}
ORIGIN_GROUP_SHORT = {
    "regelgeving": _l("Wet- en regelgeving"),
    "toezicht_sector": _l("Toezicht en sector"),
    "school": _l("School en bestuur"),
    "onbekend": _l("Nog niet bepaald"),
}
# What each bar and row of the origin chart and table counts.
ORIGIN_NOTE = _l("Een melding telt mee bij elke herkomst van de regels van haar thema; de "
                 "rijen tellen daarom niet op tot het totaal.")
STATUS_LABELS = {"open": _l("open"), "omzeild": _l("omzeild"), "opgelost": _l("opgelost")}


def area_label(code: str | None) -> str:
    return current_taxonomy().label("areas", code)


def sector_label(code: str | None) -> str:
    """The short label of a sector (po, vo, mbo, ...)."""
    return current_taxonomy().short("sectors", code)


def distribution(values: dict[str, int], label=str) -> str:
    """'mbo: 3, vo: 1' in the order given."""
    return ", ".join(f"{label(k)}: {v}" for k, v in values.items())


def filter_words(flt: InitiativeFilter, theme_titles: Mapping[int, str] | None = None) -> str:
    """The filter in words, in the interface language: "Provincie: Limburg; Sector: mbo",
    "alle initiatieven" without a filter. ``theme_titles``: titles of the filter's themes
    (a theme without one is named by its number). Outside a request (CLI, jobs): Dutch."""
    if not has_request_context():
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            return _filter_words(flt, theme_titles)
    return _filter_words(flt, theme_titles)


def _filter_words(flt: InitiativeFilter, theme_titles: Mapping[int, str] | None) -> str:
    # The words are the filter's own (registry.published.filters.InitiativeFilter.words).
    return flt.words(theme_titles or {})


def template_helpers() -> dict:
    return {
        "ORIGIN_LEVEL_LABELS": ORIGIN_LEVEL_LABELS, "ORIGIN_GROUP_LABELS": ORIGIN_GROUP_LABELS,
        "ORIGIN_GROUP_SHORT": ORIGIN_GROUP_SHORT, "ORIGIN_NOTE": ORIGIN_NOTE,
        "RULE_LEVEL_LABELS": RULE_LEVEL_LABELS, "STATUS_LABELS": STATUS_LABELS,
        "distribution": distribution,
    }


def chart_items(summary: dict) -> dict[str, list[tuple[str, int]]]:
    """(label, value) pairs for each chart; the same values as the tables beside them.
    ``origins``: reports per rule level (a report counts at each level of its theme)."""
    return {
        "areas": [(area_label(a["code"]), a["obstacles"]) for a in summary["areas"]],
        "origins": [(str(ORIGIN_LEVEL_LABELS[o["level"]]), o["obstacles"])
                    for o in summary["origins"]],
        "themes": [(t["title"], t["obstacles"]) for t in summary["themes"]],
        "severity": [(str(SEVERITIES[int(k)]), v)
                     for k, v in summary["totals"]["severity"].items()],
        "quarters": [(q["quarter"], q["obstacles"]) for q in summary["quarters"]],
    }
