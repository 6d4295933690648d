"""Read-side of the API: published data through the one read path, stable ordering by id."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale

from registry.moderation.models import RULE_LEVEL_LABELS
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.taxonomy import constants
from registry.taxonomy.services import Taxonomy


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# What the list needs of each initiative (the detail reads the whole record).
LIST_FIELDS = (
    "id", "reference", "title", "summary", "phase", "start_year", "learners_count",
    "staff_count", "language", "published_at", "updated_at", "school_name", "brin",
    "location_number", "sector", "levels", "qualification_codes", "city", "municipality",
    "province", "website", "latitude", "longitude", "geo_precision",
)


def list_initiatives(flt: InitiativeFilter, page: int, per_page: int) -> Page:
    ids = records.page_ids(PUBLISHED, flt, page=page, per_page=per_page)
    items = list(records.initiatives(PUBLISHED, ids=ids, fields=LIST_FIELDS,
                                     obstacle_fields=("area_code",), obstacles="all",
                                     dimensions=False))
    return Page(items=items, total=records.count(PUBLISHED, flt), page=page, per_page=per_page)


def get_initiative(initiative_id: int, tax: Taxonomy) -> dict[str, Any] | None:
    """One published initiative, its dimensions in the taxonomy's order."""
    rec = records.initiative(PUBLISHED, initiative_id)
    if rec is not None:
        order = {code: i for i, code in enumerate(tax.codes("dimensions"))}
        rec["dimensions"] = dict(sorted(rec["dimensions"].items(),
                                        key=lambda item: order.get(item[0], len(order))))
    return rec


def list_obstacles(flt: InitiativeFilter, page: int, per_page: int, *,
                   severity: list[int], status: list[str]) -> Page:
    """Obstacles of the matching published initiatives.

    ``area`` and ``theme`` select initiatives (as on the map) and also narrow the obstacles
    themselves; ``severity`` and ``status`` only narrow the obstacles.
    """
    total, items = records.obstacle_page(PUBLISHED, flt, severity=severity, status=status,
                                         page=page, per_page=per_page)
    return Page(items=items, total=total, page=page, per_page=per_page)


def list_themes() -> list[dict[str, Any]]:
    return sorted(records.themes(PUBLISHED), key=lambda t: t["id"])


def get_theme(theme_id: int) -> dict[str, Any] | None:
    return next((t for t in records.themes(PUBLISHED) if t["id"] == theme_id), None)


def _both(label) -> tuple[str, str]:
    with force_locale("nl"):
        nl = str(label)
    with force_locale("en"):
        en = str(label)
    return nl, en


def _from_mapping(mapping: dict) -> list[dict]:
    out = []
    for code, label in mapping.items():
        nl, en = _both(label)
        out.append({"code": code, "label_nl": nl, "label_en": en})
    return out



TAXONOMY_NAMES = (
    "areas", "dimensions", "sectors", "phases", "severities", "obstacle_statuses", "levels",
    "provinces", "rule_levels",
)


def taxonomy(name: str, tax: Taxonomy) -> list[dict]:
    """One vocabulary as a list of {code, label_nl, label_en[, description_nl, ...]}."""
    if name == "areas":
        return [{"code": t.code, "label_nl": t.label_nl, "label_en": t.label_en,
                 "description_nl": t.description_nl, "description_en": t.description_en}
                for t in tax.areas]
    if name in ("dimensions", "sectors", "phases"):
        return [{"code": t.code, "label_nl": t.label_nl, "label_en": t.label_en}
                for t in getattr(tax, name)]
    if name == "severities":
        return _from_mapping(constants.SEVERITIES)
    if name == "obstacle_statuses":
        return _from_mapping(constants.OBSTACLE_STATUSES)
    if name == "levels":
        return _from_mapping(constants.LEVELS)
    if name == "provinces":
        return [{"code": p, "label_nl": p, "label_en": p} for p in constants.PROVINCES]
    if name == "rule_levels":
        return _from_mapping(RULE_LEVEL_LABELS)
    raise KeyError(name)
