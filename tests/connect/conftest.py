"""Initiatives for the connect tests: a contact who accepts messages, and one who does not."""
from __future__ import annotations

import pytest

from registry.extensions import db
from registry.moderation.models import Theme
from registry.submissions.services import ContactData, ObstacleData
from tests.factories import make_initiative


@pytest.fixture
def theme(app):
    item = Theme(area_code="examineren", title="Vaste examenmomenten")
    db.session.add(item)
    db.session.commit()
    return item


@pytest.fixture
def open_initiative(app, theme):
    """Published; its contact (Anne) opted in to messages from other schools."""
    initiative = make_initiative(
        title="Examens op maat", school_name="Het Baken", city="Utrecht",
        contact=ContactData(name="Anne de Vries", email="anne@hetbaken.nl", phone="0301234567",
                            consent_contact=True),
        obstacles=[ObstacleData(area="examineren", title="Examens alleen in juni", severity=3)],
    )
    initiative.contact.accepts_messages = True
    initiative.obstacles[0].theme_id = theme.id
    initiative.organisation.latitude, initiative.organisation.longitude = 52.09, 5.12
    db.session.commit()
    return initiative


@pytest.fixture
def closed_initiative(app):
    """Published; its contact did not opt in (consent_contact is only for moderators)."""
    return make_initiative(title="Gesloten", contact=ContactData(
        name="Bert", email="bert@school.nl", consent_contact=True))
