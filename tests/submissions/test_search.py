"""The folded search text follows every way an obstacle can come and go (q filter)."""
from __future__ import annotations

from sqlalchemy import select, text

from registry.submissions.models import Initiative, Obstacle
from registry.submissions.search import fold
from tests.factories import make_initiative


def _stored(db, initiative_id: int) -> str:
    return db.session.execute(text("SELECT search_text FROM initiative WHERE id = :id"),
                              {"id": initiative_id}).scalar_one()


def test_fold_removes_accents_case_and_extra_space():
    assert fold("  École   ÉÉN\tFryslân ") == "ecole een fryslan"
    assert fold("Straße ﬁets") == "strasse fiets"


def test_search_text_follows_obstacles_added_changed_and_deleted(db):
    initiative = make_initiative(title="Leren op maat", school_name="Lyceum Één")
    obstacle_id = initiative.obstacles[0].id
    assert "lyceum een" in _stored(db, initiative.id)
    assert "vaste examenmomenten" in _stored(db, initiative.id)

    # created by foreign key only (not through the collection)
    db.session.add(Obstacle(initiative_id=initiative.id, area_code="overig",
                            title="Teldatum Één oktober", severity=2, position=5))
    db.session.commit()
    assert "teldatum een oktober" in _stored(db, initiative.id)

    # deleted directly from the session while the collection is loaded
    loaded = db.session.get(Initiative, initiative.id)
    assert len(loaded.obstacles) == 2
    db.session.delete(db.session.get(Obstacle, obstacle_id))
    db.session.commit()
    assert "vaste examenmomenten" not in _stored(db, initiative.id)

    # the school's name changes
    loaded = db.session.scalar(select(Initiative).where(Initiative.id == initiative.id))
    loaded.organisation.name = "Het Baken"
    db.session.commit()
    stored = _stored(db, initiative.id)
    assert "het baken" in stored
    assert "lyceum" not in stored
