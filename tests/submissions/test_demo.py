"""The demo data set that `make run` loads on an empty database."""
from sqlalchemy import func, select

from registry.moderation.models import Theme
from registry.submissions.demo import seed_demo
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import PROVINCES, InitiativeState
from tests.factories import SECTOR_CODES


def test_demo_covers_all_provinces_and_sectors_with_themes(db):
    assert seed_demo(count=80) == 80
    db.session.commit()
    provinces = set(db.session.scalars(select(Organisation.province).distinct()))
    assert provinces == set(PROVINCES)  # placed by the offline geocoder, not typed
    assert set(db.session.scalars(select(Organisation.sector).distinct())) == set(SECTOR_CODES)
    states = dict(db.session.execute(
        select(Initiative.state, func.count()).group_by(Initiative.state)).all())
    assert states[InitiativeState.PUBLISHED] > states[InitiativeState.PENDING] > 0
    per_initiative = db.session.execute(
        select(func.count(Obstacle.id)).group_by(Obstacle.initiative_id)).scalars().all()
    assert min(per_initiative) >= 1
    assert max(per_initiative) <= 5
    assert db.session.scalar(select(func.count(Theme.id))) == 7
    linked = db.session.scalars(select(Obstacle).where(Obstacle.theme_id.is_not(None))).all()
    assert linked
    assert all(o.initiative.state == InitiativeState.PUBLISHED for o in linked)
