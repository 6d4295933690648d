"""The contact changes the consent to name the school to OCW on the manage page (issue 18):
at once, audit-logged, only with the form's CSRF token, and read back with plain SQL."""
from __future__ import annotations

from sqlalchemy import text

from registry.extensions import db
from registry.manage.services import issue_manage_link
from tests.conftest import csrf_token_from
from tests.factories import make_initiative
from tests.manage.helpers import open_manage_link


def stored(initiative_id: int) -> bool:
    return bool(db.session.execute(text(
        "SELECT consent_name_to_ocw FROM contact WHERE initiative_id = :id"),
        {"id": initiative_id}).scalar_one())


def test_the_contact_gives_and_withdraws_the_consent(client):
    entry = make_initiative()
    url = issue_manage_link(entry)
    db.session.commit()
    page = open_manage_link(client, url)
    html = client.get(page).get_data(as_text=True)
    assert "alleen meegeteld, niet genoemd" in html
    token = csrf_token_from(html)
    assert not stored(entry.id)
    response = client.post("/beheren/ocw-toestemming", data={"csrf_token": token,
                                                               "value": "yes"})
    assert response.status_code == 302
    assert stored(entry.id)
    assert "Niet meer bij naam noemen" in client.get(page).get_data(as_text=True)
    client.post("/beheren/ocw-toestemming", data={"csrf_token": token, "value": "no"})
    assert not stored(entry.id)
    actions = db.session.execute(text(
        "SELECT count(*) FROM audit_event WHERE action = 'contact.consent_name_to_ocw' "
        "AND target_id = :id"), {"id": entry.id}).scalar_one()
    assert actions == 2


def test_bad_values_and_missing_tokens_change_nothing(client):
    entry = make_initiative()
    url = issue_manage_link(entry)
    db.session.commit()
    page = open_manage_link(client, url)
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    assert client.post("/beheren/ocw-toestemming",
                       data={"csrf_token": token, "value": "maybe"}).status_code == 400
    assert client.post("/beheren/ocw-toestemming", data={"value": "yes"}).status_code == 400
    assert not stored(entry.id)
    other = make_initiative()
    assert client.post("/beheren/ocw-toestemming",
                       data={"csrf_token": token, "value": "yes"}).status_code == 302
    assert not stored(other.id)  # the session's own entry only
