"""Labels for the summary's codes, in the interface language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from registry.moderation.models import RULE_LEVEL_LABELS
from registry.taxonomy.constants import SEVERITIES
from registry.taxonomy.services import current as current_taxonomy

CATEGORY_LABELS = {
    "regelgeving": _l("Vraagt een wijziging van wet- of regelgeving"),
    "afspraken": _l("Vraagt andere afspraken met toezicht of sector"),
    "school": _l("Vraagt informatie of een wijziging bij school of bestuur"),
    "onbekend": _l("Herkomst van de regel nog niet bepaald"),
}
CATEGORY_SHORT = {
    "regelgeving": _l("Wet- en regelgeving"),
    "afspraken": _l("Toezicht en sector"),
    "school": _l("School en bestuur"),
    "onbekend": _l("Nog niet bepaald"),
}
STATUS_LABELS = {"open": _l("open"), "omzeild": _l("omzeild"), "opgelost": _l("opgelost")}


def area_label(code: str | None) -> str:
    return current_taxonomy().label("areas", code)


def sector_label(code: str | None) -> str:
    """The short label of a sector (po, vo, mbo, ...)."""
    return current_taxonomy().short("sectors", code)


def distribution(values: dict[str, int], label=str) -> str:
    """'mbo: 3, vo: 1' in the order given."""
    return ", ".join(f"{label(k)}: {v}" for k, v in values.items())


def template_helpers() -> dict:
    return {
        "CATEGORY_LABELS": CATEGORY_LABELS, "CATEGORY_SHORT": CATEGORY_SHORT,
        "RULE_LEVEL_LABELS": RULE_LEVEL_LABELS, "STATUS_LABELS": STATUS_LABELS,
        "distribution": distribution,
    }


def chart_items(summary: dict) -> dict[str, list[tuple[str, int]]]:
    """(label, value) pairs for each chart; the same values as the tables beside them."""
    return {
        "areas": [(area_label(a["code"]), a["obstacles"]) for a in summary["areas"]],
        "categories": [(str(CATEGORY_SHORT[c["code"]]), c["obstacles"])
                       for c in summary["categories"]],
        "themes": [(t["title"], t["obstacles"]) for t in summary["themes"]],
        "severity": [(str(SEVERITIES[int(k)]), v)
                     for k, v in summary["totals"]["severity"].items()],
        "quarters": [(q["quarter"], q["obstacles"]) for q in summary["quarters"]],
    }
