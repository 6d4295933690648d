"""Issue 18: reports over time count by the date the school reported an obstacle
(``Obstacle.reported_at``): the confirmation of the entry, or the moment an obstacle was added
to an entry that was already confirmed. Read and set with plain SQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from registry.extensions import db as _db
from registry.history.services import (
    approve_revision,
    data_from_snapshot,
    pending_revision,
    snapshot,
)
from registry.manage.services import confirm_initiative, submit_edit
from registry.submissions.services import ObstacleData, apply_initiative_data
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative

LONG_AGO = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def reported(initiative_id: int) -> dict[str, datetime]:
    """title -> reported_at of the entry's obstacles (plain SQL, as UTC)."""
    out = {}
    for title, value in _db.session.execute(text(
            "SELECT title, reported_at FROM obstacle WHERE initiative_id = :i"),
            {"i": initiative_id}).all():
        if isinstance(value, str):  # SQLite
            value = datetime.fromisoformat(value)
        out[title] = value if value.tzinfo else value.replace(tzinfo=UTC)
    return out


def backdate(initiative_id: int) -> None:
    _db.session.execute(text("UPDATE obstacle SET reported_at = :t WHERE initiative_id = :i"),
                        {"t": LONG_AGO.strftime("%Y-%m-%d %H:%M:%S.000000"),
                         "i": initiative_id})
    _db.session.commit()
    _db.session.expire_all()


def obstacle(title: str) -> ObstacleData:
    return ObstacleData(area="examineren", title=title, severity=2, description="Tekst.")


def with_new_obstacle(initiative, title: str):
    data = data_from_snapshot(snapshot(initiative), initiative.language)
    data.obstacles.append(obstacle(title))
    return data


def recent(value: datetime, since: datetime) -> bool:
    return since - timedelta(seconds=1) <= value <= datetime.now(UTC) + timedelta(seconds=1)


def test_confirmation_is_the_moment_of_reporting(app):
    entry = make_initiative(state=InitiativeState.UNCONFIRMED,
                            obstacles=[obstacle("Examens in juni"), obstacle("Urennorm")])
    backdate(entry.id)  # submitted long ago, confirmed only now
    start = datetime.now(UTC)
    confirm_initiative(entry)
    _db.session.commit()
    dates = reported(entry.id)
    assert set(dates) == {"Examens in juni", "Urennorm"}
    assert all(recent(value, start) for value in dates.values()), dates


def test_an_unconfirmed_entry_keeps_its_dates_until_confirmation(app):
    entry = make_initiative(state=InitiativeState.UNCONFIRMED,
                            obstacles=[obstacle("Examens in juni")])
    backdate(entry.id)
    apply_initiative_data(entry, with_new_obstacle(entry, "Later toegevoegd"))
    _db.session.commit()
    dates = reported(entry.id)
    assert dates["Examens in juni"] == LONG_AGO
    start = datetime.now(UTC)
    confirm_initiative(entry)
    _db.session.commit()
    assert all(recent(value, start) for value in reported(entry.id).values())


def test_an_obstacle_added_to_a_confirmed_entry_is_reported_when_added(app):
    entry = make_initiative(state=InitiativeState.PENDING,
                            obstacles=[obstacle("Examens in juni")])
    backdate(entry.id)
    start = datetime.now(UTC)
    assert submit_edit(entry, with_new_obstacle(entry, "Later toegevoegd")) == "applied"
    _db.session.commit()
    dates = reported(entry.id)
    assert dates["Examens in juni"] == LONG_AGO  # an edited obstacle keeps its date
    assert recent(dates["Later toegevoegd"], start)


def test_an_obstacle_added_to_a_published_entry_is_reported_at_approval(app):
    entry = make_initiative(state=InitiativeState.PUBLISHED,
                            obstacles=[obstacle("Examens in juni")])
    backdate(entry.id)
    assert submit_edit(entry, with_new_obstacle(entry, "Later toegevoegd")) == "pending"
    _db.session.commit()
    assert set(reported(entry.id)) == {"Examens in juni"}
    start = datetime.now(UTC)

    approve_revision(pending_revision(entry), None)
    _db.session.commit()
    dates = reported(entry.id)
    assert dates["Examens in juni"] == LONG_AGO
    assert recent(dates["Later toegevoegd"], start)
