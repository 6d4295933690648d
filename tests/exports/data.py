"""A small, fully known data set for the export and summary tests (published + one pending).

A and D are the same school (11AA-01); E is pending and must never be counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.models import Initiative
from registry.submissions.services import ContactData, ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.summary import oracle

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
        o.created_at = o.reported_at = published


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


# --- figures recomputed from plain SQL rows (tests/summary/oracle.py), independent of the
# code under test ---

def db_figures(sector: str | None = None, area: str | None = None) -> dict[str, int]:
    """initiatives, schools, learners, obstacles, solved, worked_around of the obstacles that
    count under the filter."""
    return oracle.figures(oracle.load(db.session), sector=sector, area=area)


def db_published_ids(sector: str | None = None, area: str | None = None, **args) -> list[int]:
    return oracle.ids(oracle.load(db.session), sector=sector, area=area, **args)


def db_obstacle_ids(sector: str | None = None, area: str | None = None, **args) -> list[int]:
    return oracle.obstacle_ids(oracle.load(db.session), sector=sector, area=area, **args)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
