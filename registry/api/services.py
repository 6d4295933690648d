"""Read-side queries for the API: published data only, stable ordering by id."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.moderation.models import RULE_LEVELS, Theme
from registry.submissions.models import Initiative, Obstacle
from registry.taxonomy import constants
from registry.taxonomy.constants import InitiativeState
from registry.taxonomy.models import Dimension, ObstacleArea


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page(stmt, count_stmt, page: int, per_page: int) -> Page:
    total = db.session.scalar(count_stmt) or 0
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def list_initiatives(flt: InitiativeFilter, page: int, per_page: int) -> Page:
    ids = flt.initiative_ids().subquery()
    stmt = (
        select(Initiative)
        .where(Initiative.id.in_(select(ids.c.id)))
        .options(selectinload(Initiative.organisation), selectinload(Initiative.obstacles))
        .order_by(Initiative.id)
    )
    count = select(func.count()).select_from(ids)
    return _page(stmt, count, page, per_page)


def get_initiative(initiative_id: int) -> Initiative | None:
    stmt = (
        select(Initiative)
        .where(Initiative.id == initiative_id, Initiative.state == InitiativeState.PUBLISHED)
        .options(
            selectinload(Initiative.organisation),
            selectinload(Initiative.obstacles),
            selectinload(Initiative.dimensions),
        )
    )
    return db.session.scalar(stmt)


def list_obstacles(flt: InitiativeFilter, page: int, per_page: int, *,
                   severity: list[int], status: list[str]) -> Page:
    """Obstacles of the matching published initiatives.

    ``area`` and ``theme`` select initiatives (as on the map) and also narrow the obstacles
    themselves; ``severity`` and ``status`` only narrow the obstacles.
    """
    conditions = [Obstacle.initiative_id.in_(flt.initiative_ids())]
    if flt.area:
        conditions.append(Obstacle.area_code.in_(flt.area))
    if flt.theme:
        conditions.append(Obstacle.theme_id.in_(flt.theme))
    if severity:
        conditions.append(Obstacle.severity.in_(severity))
    if status:
        conditions.append(Obstacle.status.in_(status))
    stmt = select(Obstacle).where(*conditions).order_by(Obstacle.id)
    count = select(func.count(Obstacle.id)).where(*conditions)
    return _page(stmt, count, page, per_page)


def list_themes() -> list[Theme]:
    stmt = select(Theme).options(selectinload(Theme.rules)).order_by(Theme.id)
    return list(db.session.scalars(stmt))


def get_theme(theme_id: int) -> Theme | None:
    return db.session.scalar(
        select(Theme).where(Theme.id == theme_id).options(selectinload(Theme.rules))
    )


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


RULE_LEVEL_LABELS = {
    "wet": ("Wet", "Act of parliament"),
    "amvb": ("Algemene maatregel van bestuur (AMvB)", "Order in council"),
    "ministeriele_regeling": ("Ministeriële regeling", "Ministerial regulation"),
    "toezicht": ("Toezicht (inspectie)", "Inspection framework"),
    "sectorafspraak": ("Sectorafspraak", "Sector agreement"),
    "bestuur": ("Bestuur of school", "School board or school"),
}

TAXONOMY_NAMES = (
    "areas", "dimensions", "sectors", "phases", "severities", "obstacle_statuses", "levels",
    "provinces", "rule_levels",
)


def taxonomy(name: str) -> list[dict]:
    """One vocabulary as a list of {code, label_nl, label_en[, description_nl, ...]}."""
    if name == "areas":
        areas = db.session.scalars(select(ObstacleArea).order_by(ObstacleArea.position))
        return [{"code": a.code, "label_nl": a.label_nl, "label_en": a.label_en,
                 "description_nl": a.description_nl or "", "description_en": a.description_en or ""}
                for a in areas]
    if name == "dimensions":
        dims = db.session.scalars(select(Dimension).order_by(Dimension.position))
        return [{"code": d.code, "label_nl": d.label_nl, "label_en": d.label_en} for d in dims]
    if name == "sectors":
        return _from_mapping(constants.SECTORS)
    if name == "phases":
        return _from_mapping(constants.PHASES)
    if name == "severities":
        return _from_mapping(constants.SEVERITIES)
    if name == "obstacle_statuses":
        return _from_mapping(constants.OBSTACLE_STATUSES)
    if name == "levels":
        return _from_mapping(constants.LEVELS)
    if name == "provinces":
        return [{"code": p, "label_nl": p, "label_en": p} for p in constants.PROVINCES]
    if name == "rule_levels":
        return [{"code": code, "label_nl": RULE_LEVEL_LABELS.get(code, (code, code))[0],
                 "label_en": RULE_LEVEL_LABELS.get(code, (code, code))[1]}
                for code in RULE_LEVELS]
    raise KeyError(name)


def area_codes() -> list[str]:
    return list(db.session.scalars(select(ObstacleArea.code).order_by(ObstacleArea.position)))


def dimension_codes() -> list[str]:
    return list(db.session.scalars(select(Dimension.code).order_by(Dimension.position)))
