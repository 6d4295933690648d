"""Issue 17, item 2: the submission limit cannot be dodged with an unknown ``action``.

The attack: after ``action=submit`` was refused with 429, the same body with ``action=go``
was answered 302 and stored. Every ``action`` other than "submit" was exempt from the limit,
while the view treats any value it does not know as a submission. Now only the two real row
actions (``add_obstacle`` and ``remove_obstacle:<row>``) are exempt, and they never store
anything.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from tests.factories import form_post
from tests.fixtures.limits import rate_limited_app

ADDRESS = {"REMOTE_ADDR": "203.0.113.77"}


def stored(db) -> int:
    """Initiatives in the database, counted with plain SQL (no ORM, no cache)."""
    db.session.rollback()
    return db.session.execute(text("SELECT count(*) FROM initiative")).scalar_one()


def form_fields(html: str) -> dict[str, str]:
    fields = {}
    for name in ("csrf_token", "form_started"):
        match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
            rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
        if match:
            fields[name] = match.group(1)
    return fields


@pytest.fixture
def limited_client(app):
    with rate_limited_app(app, SUBMISSION_RATE_LIMIT="2 per day") as limited:
        yield limited.test_client()


def test_after_a_429_no_other_action_gets_the_entry_stored(limited_client, db):
    page = limited_client.get("/aanmelden", environ_base=ADDRESS).get_data(as_text=True)
    base = dict(form_post(title="Spam"), **form_fields(page))
    for i in range(2):
        response = limited_client.post("/aanmelden", data=dict(base, title=f"Spam {i}"),
                                       environ_base=ADDRESS)
        assert response.status_code == 302
    assert stored(db) == 2
    refused = limited_client.post("/aanmelden", data=dict(base, action="submit"),
                                  environ_base=ADDRESS)
    assert refused.status_code == 429
    # the attack: the same body with another action; and near misses of the row actions
    for action in ("go", "", "Submit", "ADD_OBSTACLE", "add_obstacle ", " add_obstacle",
                   "add_obstacles", "remove_obstacle", "remove-obstacle:0", "xremove_obstacle:0"):
        response = limited_client.post("/aanmelden", data=dict(base, action=action),
                                       environ_base=ADDRESS)
        assert response.status_code == 429, action
        assert int(response.headers["Retry-After"]) > 0
    without = {k: v for k, v in base.items() if k != "action"}
    assert limited_client.post("/aanmelden", data=without,
                               environ_base=ADDRESS).status_code == 429
    twice = MultiDict([*base.items(), ("action", "add_obstacle")])  # the first one counts
    assert limited_client.post("/aanmelden", data=twice,
                               environ_base=ADDRESS).status_code == 429
    assert stored(db) == 2
    # the two real row actions stay free and store nothing
    for action in ("add_obstacle", "remove_obstacle:obstacles-0"):
        response = limited_client.post("/aanmelden", data=dict(base, action=action),
                                       environ_base=ADDRESS)
        assert response.status_code == 200, action
    assert stored(db) == 2
