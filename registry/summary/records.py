"""Lean live records for the summary: only the fields ``aggregate`` reads (issue 11).

``registry.exports.records.live_initiatives`` builds complete records (every school field,
eight dimensions per initiative, ISO timestamps); the summary needs a fraction of that, and
at 100,000 initiatives building the rest took most of its time. These records have the same
values for the keys the summary uses, except that ``published_at`` and the obstacles'
``reported_at`` stay datetimes (the summary only takes their quarter, see ``_quarter``), so
``aggregate`` counts them exactly as complete or snapshot records (tests/summary compares).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.submissions.models import Contact, Initiative, Obstacle, Organisation

BATCH_SIZE = 2000

_INITIATIVE_COLUMNS = (
    Initiative.id, Initiative.reference, Initiative.title, Initiative.learners_count,
    Initiative.published_at, Organisation.name, Organisation.brin, Organisation.location_number,
    Organisation.sector, Organisation.province, Contact.name, Contact.consent_quotes,
    Contact.erased_at,
)
_OBSTACLE_COLUMNS = (
    Obstacle.initiative_id, Obstacle.id, Obstacle.area_code, Obstacle.description,
    Obstacle.rule, Obstacle.severity, Obstacle.status, Obstacle.policy_ask, Obstacle.theme_id,
    Obstacle.created_at,
)


def summary_records(flt: InitiativeFilter) -> Iterator[dict[str, Any]]:
    """The published initiatives matching ``flt``, in id order, as lean records.

    Same selection, order and values as ``live_initiatives`` (keyset batches of plain rows,
    so memory stays flat), but only: id, reference, title, learners_count, published_at,
    consent_quotes, school{name, brin, location_number, sector, province} and per obstacle
    id, area, description, rule, severity, status, policy_ask, theme_id, reported_at.
    """
    conn = db.session.connection()
    last_id = 0
    while True:
        rows = conn.execute(
            flt.apply(select(*_INITIATIVE_COLUMNS))
            .join(Organisation, Initiative.organisation_id == Organisation.id)
            .outerjoin(Contact, Contact.initiative_id == Initiative.id)
            .where(Initiative.id > last_id)
            .order_by(Initiative.id)
            .limit(BATCH_SIZE)
        ).all()
        if not rows:
            return
        ids = [row[0] for row in rows]
        obstacles: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for (initiative_id, oid, area, description, rule, severity, status, policy_ask,
             theme_id, created_at) in conn.execute(
            select(*_OBSTACLE_COLUMNS).where(Obstacle.initiative_id.in_(ids))
            .order_by(Obstacle.initiative_id, Obstacle.position, Obstacle.id)
        ).all():  # one fetchall per batch (iterating fetches row by row)
            obstacles[initiative_id].append({
                "id": oid, "area": area, "description": description or "",
                "rule": rule or "", "severity": severity, "status": status,
                "policy_ask": policy_ask or "", "theme_id": theme_id,
                "reported_at": created_at,
            })
        for (initiative_id, reference, title, learners_count, published_at, name, brin,
             location_number, sector, province, contact_name, consent_quotes,
             erased_at) in rows:
            active = contact_name is not None and erased_at is None
            yield {
                "id": initiative_id, "reference": reference, "title": title,
                "learners_count": learners_count, "published_at": published_at,
                "consent_quotes": bool(active and consent_quotes),
                "school": {
                    "name": name, "brin": (brin or "").upper(),
                    "location_number": location_number or "", "sector": sector,
                    "province": province or "",
                },
                "obstacles": obstacles.pop(initiative_id, []),
            }
        last_id = ids[-1]
