"""Helpers for the security tests: posting the public form with a real CSRF token."""
from __future__ import annotations

from sqlalchemy import func, select

from registry.submissions.models import Contact, Initiative, Obstacle, Organisation
from tests.conftest import csrf_token_from


def fresh_token(client, path: str = "/aanmelden") -> str:
    page = client.get(path)
    assert page.status_code == 200
    return csrf_token_from(page.get_data(as_text=True))


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Initiative, Organisation, Contact, Obstacle)
    }


def assert_nothing_partial(db) -> None:
    """Every initiative has its organisation, contact and at least one obstacle; no orphans."""
    db.session.expire_all()
    c = counts(db)
    assert c["Initiative"] == c["Organisation"] == c["Contact"], c
    assert c["Obstacle"] >= c["Initiative"], c
    for initiative in db.session.scalars(select(Initiative)):
        assert initiative.organisation is not None
        assert initiative.contact is not None
        assert initiative.obstacles
