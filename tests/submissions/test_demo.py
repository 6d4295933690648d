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


def test_demo_reports_spread_over_time_and_themes_carry_asks_and_mixed_rules(app, db):
    """Reports over time read the date the school reported (issue 18): the demo spreads
    them over about two years, some added months after the entry; its themes have an ask
    and rules at several levels, and each linked report is in its theme's area."""
    from registry.published.filters import InitiativeFilter
    from registry.published.sources import PUBLISHED
    from registry.summary.services import compute_summary

    seed_demo(count=80)
    db.session.commit()
    obstacles = db.session.scalars(select(Obstacle)).all()
    quarters = {(o.reported_at.year, (o.reported_at.month - 1) // 3) for o in obstacles}
    assert len(quarters) >= 7
    per_entry: dict[int, set] = {}
    for o in obstacles:
        per_entry.setdefault(o.initiative_id, set()).add(o.reported_at.date())
    added_later = [dates for dates in per_entry.values()
                   if len(dates) > 1 and (max(dates) - min(dates)).days >= 30]
    assert 3 <= len(added_later) < len(per_entry) / 2
    themes = db.session.scalars(select(Theme)).all()
    assert sum(1 for t in themes if t.ask) >= 4
    assert any(len({r.level for r in t.rules}) >= 3 for t in themes)
    assert all(o.theme.area_code == o.area_code for o in obstacles if o.theme is not None)
    summary = compute_summary(InitiativeFilter.empty(), PUBLISHED)
    assert len(summary["quarters"]) >= 7
    assert max(q["obstacles"] for q in summary["quarters"]) < summary["totals"]["obstacles"] / 3
    origins = {o["level"]: o for o in summary["origins"]}
    assert origins["toezicht"]["obstacles"] > 0
    assert origins["sectorafspraak"]["obstacles"] > 0
    assert any(t["ask"] for t in summary["key_message"]["themes"])
