"""Taxonomy seeding for databases created without migrations (tests, create_all)."""
from __future__ import annotations

from sqlalchemy import select

from registry.extensions import db
from registry.taxonomy.constants import DIMENSIONS, OBSTACLE_AREAS
from registry.taxonomy.models import Dimension, ObstacleArea


def ensure_taxonomies() -> None:
    """Insert the obstacle areas and dimensions that are missing (same data as migration)."""
    have_areas = set(db.session.scalars(select(ObstacleArea.code)))
    for position, (code, nl, en, dnl, den) in enumerate(OBSTACLE_AREAS):
        if code not in have_areas:
            db.session.add(ObstacleArea(code=code, label_nl=nl, label_en=en, description_nl=dnl,
                                        description_en=den, position=position))
    have_dims = set(db.session.scalars(select(Dimension.code)))
    for position, (code, nl, en) in enumerate(DIMENSIONS):
        if code not in have_dims:
            db.session.add(Dimension(code=code, label_nl=nl, label_en=en, position=position))
