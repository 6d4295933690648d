"""Revision history: snapshots, diffs, applied changes and pending revisions."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.history import services as history
from registry.history.models import Revision
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


def test_snapshot_has_public_content_only(app):
    initiative = make_initiative()
    snap = history.snapshot(initiative)
    assert snap["state"] == "published"
    assert snap["initiative"]["title"] == initiative.title
    assert snap["organisation"]["postcode"] == "3511 AB"
    assert snap["dimensions"]["tempo"] == [1, 2]
    assert snap["obstacles"][0]["id"] == initiative.obstacles[0].id
    assert initiative.contact.email not in repr(snap)
    assert history.diff(snap, history.snapshot(initiative)) == {}


def test_diff_reports_fields_dimensions_and_obstacles():
    old = {"state": "pending", "organisation": {"city": "Utrecht"},
           "initiative": {"title": "A", "phase": "pilot"}, "dimensions": {"tempo": [1, 2]},
           "obstacles": [{"id": 1, "area": "examineren", "title": "X", "status": "open"},
                         {"id": 2, "area": "overig", "title": "Y", "status": "open"}]}
    new = {"state": "pending", "organisation": {"city": "Zwolle"},
           "initiative": {"title": "A", "phase": "lopend"}, "dimensions": {"tempo": [2, 3]},
           "obstacles": [{"id": 1, "area": "examineren", "title": "X", "status": "opgelost"},
                         {"id": None, "area": "valideren", "title": "Z", "status": "open"}]}
    changes = history.diff(old, new)
    assert changes["organisation.city"] == ["Utrecht", "Zwolle"]
    assert changes["initiative.phase"] == ["pilot", "lopend"]
    assert "initiative.title" not in changes
    assert "state" not in changes
    assert changes["dimensions.tempo"] == [[1, 2], [2, 3]]
    assert changes["obstacles.1.status"] == ["open", "opgelost"]
    assert changes["obstacles.2"] == [old["obstacles"][1], None]
    assert changes["obstacles.new-2"] == [None, new["obstacles"][1]]
    created = history.diff(None, new)
    assert created["initiative.phase"] == [None, "lopend"]
    assert created["state"] == [None,
                                                                                     "pending"]


def test_record_change_stores_who_when_and_what(app, make_user):
    moderator = make_user("moderator")
    initiative = make_initiative(state=InitiativeState.PENDING)
    before = history.snapshot(initiative)
    initiative.title = "Nieuwe titel"
    revision = history.record_change(initiative, "moderator", "edit", before, actor=moderator)
    db.session.commit()
    stored = db.session.get(Revision, revision.id)
    assert (stored.actor_type, stored.actor_id, stored.kind, stored.status) == (
        "moderator", moderator.id, "edit", "applied")
    assert stored.created_at is not None
    assert stored.changes == {"initiative.title": [before["initiative"]["title"],
                                                   "Nieuwe titel"]}
    assert stored.data["initiative"]["title"] == "Nieuwe titel"
    with pytest.raises(ValueError, match="actor type"):
        history.record_change(initiative, "robot", "edit", before)


def _data_with(initiative, **changes):
    data = history.data_from_snapshot(history.snapshot(initiative), initiative.language)
    return replace(data, **changes)


def test_propose_keeps_public_content_until_approved(app, make_user):
    moderator = make_user("moderator")
    initiative = make_initiative()
    old_title = initiative.title
    first = history.propose_revision(initiative, _data_with(initiative, title="Eerste"),
                                     "submitter")
    data = _data_with(initiative, title="Tweede")
    data.obstacles = [*data.obstacles, ObstacleData(area="overig", title="Nieuw", severity=1)]
    second = history.propose_revision(initiative, data, "submitter")
    db.session.commit()
    assert initiative.title == old_title
    assert len(initiative.obstacles) == 1
    assert first.status == "discarded"
    assert first.reason == "superseded"
    assert history.pending_revision(initiative) == second
    assert second.changes["initiative.title"] == [old_title, "Tweede"]

    history.approve_revision(second, moderator)
    db.session.commit()
    assert initiative.title == "Tweede"
    assert [o.title for o in initiative.obstacles] == ["Vaste examenmomenten", "Nieuw"]
    assert second.status == "approved"
    assert second.decided_by_id == moderator.id
    assert history.pending_revision(initiative) is None
    with pytest.raises(ValueError, match="only a pending revision"):
        history.approve_revision(second, moderator)


def test_discard_revision(app, make_user):
    moderator = make_user("moderator")
    initiative = make_initiative()
    revision = history.propose_revision(initiative, _data_with(initiative, title="Nee"),
                                        "submitter")
    history.discard_revision(revision, moderator, "Onjuist")
    db.session.commit()
    assert (revision.status, revision.reason, revision.decided_by_id) == (
        "discarded", "Onjuist", moderator.id)
    assert initiative.title != "Nee"
    assert db.session.scalars(select(Revision)).all() == [revision]
