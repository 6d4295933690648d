"""'Similar initiatives' scored by the database gives what scoring every candidate gives."""
from __future__ import annotations

import math

from sqlalchemy import select

from bench.generate import populate
from registry.connect.services import NEARBY_KM, similar_initiatives
from registry.database import as_utc
from registry.submissions.models import Initiative
from registry.taxonomy.constants import CONFIDENTIAL, PUBLIC, InitiativeState


def _km(a, b):
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def brute_force(initiative, published, limit=5):
    """The definition: score every published candidate that shares a theme or an area (of
    public obstacles: a confidential one is never a reason, issue 16)."""
    mine = [o for o in initiative.obstacles if o.visibility == PUBLIC]
    themes = {o.theme_id for o in mine if o.theme_id is not None}
    areas = {o.area_code for o in mine}
    scored = []
    for other in published:
        if other.id == initiative.id:
            continue
        theirs = [o for o in other.obstacles if o.visibility == PUBLIC]
        shared_themes = {o.theme_id for o in theirs if o.theme_id in themes}
        shared_areas = {o.area_code for o in theirs if o.area_code in areas}
        if not shared_themes and not shared_areas:
            continue
        km = _km(initiative.organisation, other.organisation)
        score = (3 * len(shared_themes) + len(shared_areas)
                 + int(other.organisation.sector == initiative.organisation.sector)
                 + (2 if km is not None and km <= NEARBY_KM else 0))
        published_at = as_utc(other.published_at)
        scored.append((-score, -(published_at.timestamp() if published_at else 0), other.id))
    return [(-neg, other_id) for neg, _p, other_id in sorted(scored)[:limit]]


def test_database_scoring_matches_the_definition(app, db):
    populate(150, seed=5)
    published = db.session.scalars(
        select(Initiative).where(Initiative.state == InitiativeState.PUBLISHED)).all()
    assert len(published) > 100
    # Some obstacles confidential: they must change nothing but what they take away.
    for initiative in published[::7]:
        initiative.obstacles[0].visibility = CONFIDENTIAL
    db.session.commit()
    for initiative in published[:25]:
        found = [(s.score, s.initiative.id) for s in similar_initiatives(initiative)]
        assert found == brute_force(initiative, published), initiative.id
