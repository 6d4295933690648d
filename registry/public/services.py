"""Read-side queries for the public pages (published data only).

Public obstacles only: a confidential obstacle (issue 16) counts in the national figures of
the summary and nowhere here, not as text, not as a count per initiative or area, not as a
theme link (``PUBLISHED.obstacle_scope()``, ``public_obstacles``).
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.extensions import db
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import PUBLIC


def site_counts() -> dict[str, int]:
    """Counts shown on the home page: published initiatives, their public obstacles and
    provinces (a confidential report must not show up as one more on the home page the day
    its school is published)."""
    published = PUBLISHED.scope
    initiatives = db.session.scalar(select(func.count(Initiative.id)).where(published)) or 0
    obstacles = db.session.scalar(
        select(func.count(Obstacle.id)).join(Initiative)
        .where(published, PUBLISHED.obstacle_scope())
    ) or 0
    provinces = db.session.scalar(
        select(func.count(func.distinct(Organisation.province)))
        .join(Initiative).where(published)
    ) or 0
    return {"initiatives": initiatives, "obstacles": obstacles, "provinces": provinces}


def list_published(flt: InitiativeFilter, page: int, per_page: int = 20):
    """A page of published initiatives matching the filter, newest first."""
    stmt = (
        select(Initiative).join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(PUBLISHED.scope, *flt.where(PUBLISHED))
        .options(selectinload(Initiative.organisation))
        .order_by(Initiative.published_at.desc(), Initiative.id.desc())
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def area_counts(initiative_ids: list[int]) -> dict[int, dict[str, int]]:
    """Number of public obstacles per area for each of the given initiatives."""
    if not initiative_ids:
        return {}
    rows = db.session.execute(
        select(Obstacle.initiative_id, Obstacle.area_code, func.count())
        .where(Obstacle.initiative_id.in_(initiative_ids), PUBLISHED.obstacle_scope())
        .group_by(Obstacle.initiative_id, Obstacle.area_code)
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for initiative_id, area, count in rows:
        out[initiative_id][area] = count
    return out


def public_contact_name(initiative_id: int) -> str | None:
    """The contact's name as the public may see it (only with consent, never after erasure:
    the rule of the record path, ``registry.published.sources``); never the role, e-mail or
    phone."""
    rec = next(records.initiatives(PUBLISHED, ids=[initiative_id], fields=("contact_name",),
                                   obstacles="none", dimensions=False), None)
    return rec["contact_name"] if rec is not None else None


def public_obstacles(initiative: Initiative) -> list[Obstacle]:
    """The obstacles of an initiative the public may see, in their order (never the
    confidential ones: their title, texts, workaround, policy ask and theme link stay with
    staff)."""
    return [o for o in initiative.obstacles if o.visibility == PUBLIC]


def get_published(initiative_id: int) -> Initiative | None:
    stmt = (
        select(Initiative)
        .where(Initiative.id == initiative_id, PUBLISHED.scope)
        .options(
            selectinload(Initiative.organisation),
            selectinload(Initiative.obstacles),
            selectinload(Initiative.dimensions),
        )
    )
    return db.session.scalar(stmt)
