"""A small, fully known data set for the export and summary tests (published + one pending).

A and D are the same school (11AA-01); E is pending and must never be counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.submissions.services import ContactData, ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative

PERSONAL = ["anne@example.org", "bert@example.org", "carla@example.org", "0611111111",
            "0622222222", "Bert Geheim", "Carla Verborgen", "Dirk Privé"]
CONSENTED_NAME = "Anne Zichtbaar"
CONSENTED_QUOTE = "Wij mogen pas examineren in juni."
SECRET_QUOTES = ["Geheim citaat B", "Geheim citaat C"]


@dataclass
class Data:
    a: Initiative
    b: Initiative
    c: Initiative
    d: Initiative
    e: Initiative
    t1: Theme
    t2: Theme


def _place(item: Initiative, brin: str, loc: str, province: str, lat: float, lon: float,
           published: datetime) -> None:
    org = item.organisation
    org.brin, org.location_number, org.province = brin, loc, province
    org.latitude, org.longitude = lat, lon
    item.published_at = published
    for o in item.obstacles:
        o.created_at = published


def build() -> Data:
    t1 = Theme(area_code="examineren", title="Vaste examenmomenten",
               description="Examens alleen op vaste momenten.",
               rules=[ThemeRule(title="Examen- en kwalificatiebesluit WEB, art. 3", level="amvb",
                                source_url="https://wetten.overheid.nl/BWBR0032960"),
                      ThemeRule(title="WEB art. 7.4.6", level="wet")])
    t2 = Theme(area_code="overig", title="Roosters in jaarklassen",
               rules=[ThemeRule(title="Eigen roosterbeleid", level="bestuur")])
    db.session.add_all([t1, t2])
    db.session.flush()
    a = make_initiative(
        commit=False, sector="mbo", learners_count=100, title="Eigen leerroute Arnhem",
        contact=ContactData(name=CONSENTED_NAME, email="anne@example.org", phone="0611111111",
                            consent_publish_name=True, consent_quotes=True),
        obstacles=[
            ObstacleData(area="examineren", title="Examen pas in juni", severity=4,
                         description=CONSENTED_QUOTE, rule="Examen- en kwalificatiebesluit WEB",
                         policy_ask="Flexibele examenmomenten"),
            ObstacleData(area="diplomeren", title="Geen deeldiploma", severity=2,
                         status="omzeild", workaround="Certificaten", rule="WEB art. 7.4.6"),
        ])
    b = make_initiative(
        commit=False, sector="mbo", learners_count=50, title="Leren op de werkvloer",
        contact=ContactData(name="Bert Geheim", email="bert@example.org", phone="0622222222"),
        obstacles=[
            ObstacleData(area="examineren", title="Examencommissie", severity=3,
                         status="opgelost", description=SECRET_QUOTES[0],
                         rule="examen- en kwalificatiebesluit WEB.",
                         policy_ask="Flexibele examenmomenten"),
            ObstacleData(area="overig", title="Jaarrooster", severity=1,
                         policy_ask="Ruimte in het rooster"),
        ])
    c = make_initiative(
        commit=False, sector="vo", learners_count=200, title="Havo op eigen tempo",
        contact=ContactData(name="Carla Verborgen", email="carla@example.org"),
        obstacles=[ObstacleData(area="examineren", title="Centraal examen", severity=3,
                                description=SECRET_QUOTES[1], rule="Eindexamenbesluit VO")])
    d = make_initiative(
        commit=False, sector="mbo", learners_count=10, title="Tweede route Arnhem",
        contact=ContactData(name="Dirk Privé", email="dirk@example.org"),
        obstacles=[ObstacleData(area="kwalificeren", title="Kwalificatiedossier", severity=2)])
    e = make_initiative(state=InitiativeState.PENDING, commit=False, sector="mbo",
                        learners_count=999, title="Nog niet gepubliceerd")
    _place(a, "11AA", "01", "Gelderland", 51.98, 5.91, datetime(2026, 2, 10, tzinfo=UTC))
    _place(b, "22BB", "01", "Utrecht", 52.09, 5.12, datetime(2026, 5, 3, tzinfo=UTC))
    _place(c, "33CC", "01", "Gelderland", 51.84, 5.86, datetime(2026, 5, 20, tzinfo=UTC))
    _place(d, "11AA", "01", "Gelderland", 51.98, 5.91, datetime(2026, 8, 1, tzinfo=UTC))
    _place(e, "44DD", "01", "Gelderland", 52.0, 5.9, datetime(2026, 8, 1, tzinfo=UTC))
    e.published_at = None
    a.obstacles[0].theme_id = t1.id
    b.obstacles[0].theme_id = t1.id
    b.obstacles[1].theme_id = t2.id
    c.obstacles[0].theme_id = t1.id
    db.session.commit()
    return Data(a, b, c, d, e, t1, t2)


# --- figures computed straight from the database (independent of the code under test) ---

def _published(stmt, sector=None, area=None):
    stmt = stmt.where(Initiative.state == InitiativeState.PUBLISHED)
    if sector:
        stmt = stmt.where(Initiative.organisation_id == Organisation.id,
                          Organisation.sector == sector)
    if area:
        stmt = stmt.where(Obstacle.area_code == area)
    return stmt


def db_figures(sector: str | None = None, area: str | None = None) -> dict[str, int]:
    base = select(Obstacle).join(Initiative, Obstacle.initiative_id == Initiative.id)
    obstacles = db.session.scalars(_published(base, sector, area)).all()
    initiative_ids = {o.initiative_id for o in obstacles}
    initiatives = [db.session.get(Initiative, i) for i in initiative_ids]
    schools = {(i.organisation.brin, i.organisation.location_number) for i in initiatives}
    return {
        "initiatives": len(initiative_ids),
        "schools": len(schools),
        "learners": sum(i.learners_count or 0 for i in initiatives),
        "obstacles": len(obstacles),
        "solved": sum(1 for o in obstacles if o.status == "opgelost"),
        "worked_around": sum(1 for o in obstacles if o.status == "omzeild"),
    }


def db_published_ids(sector: str | None = None, area: str | None = None) -> list[int]:
    stmt = select(Initiative.id).where(Initiative.state == InitiativeState.PUBLISHED)
    if sector:
        stmt = stmt.join(Organisation).where(Organisation.sector == sector)
    if area:
        stmt = stmt.where(Initiative.obstacles.any(Obstacle.area_code == area))
    return sorted(db.session.scalars(stmt))


def db_obstacle_ids(sector: str | None = None, area: str | None = None) -> list[int]:
    stmt = _published(select(Obstacle.id).join(Initiative), sector, area)
    return sorted(db.session.scalars(stmt))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
