"""Issue 16 on the manage page: the school makes an obstacle confidential (at once, also when
published, down to every snapshot) or public again (an edit a moderator approves first)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.history.models import Revision
from registry.history.services import approve_revision, pending_revision
from registry.manage.services import issue_manage_link, set_obstacle_visibility
from registry.published.snapshots import create_snapshot
from registry.submissions.models import Initiative, Obstacle
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.factories import make_initiative
from tests.manage.helpers import edit_form_data, open_manage_link

TITLE = "Examens alleen in juni"
WORKAROUND = "Wij plannen een extra examenweek in januari"
POLICY_ASK = "Ruimte om examens flexibel te plannen"


def obstacle_data(**overrides) -> ObstacleData:
    values = {"area": "examineren", "title": TITLE, "severity": 3, "status": "omzeild",
              "description": "De examencommissie plant alles vooraf.",
              "workaround": WORKAROUND, "policy_ask": POLICY_ASK}
    return ObstacleData(**{**values, **overrides})


@pytest.fixture
def published(app):
    return make_initiative(state=InitiativeState.PUBLISHED, title="Leerroute Oost",
                           obstacles=[obstacle_data()])


def manage_url(initiative, client) -> str:
    """Open a new manage link of ``initiative`` in ``client``; the token-less manage page."""
    url = issue_manage_link(initiative)
    db.session.commit()
    return open_manage_link(client, url)


def switch(client, url: str, obstacle_id: int, visibility: str, **kwargs):
    """Press the button on the overview page (with the page's CSRF token)."""
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/knelpunten/{obstacle_id}/zichtbaarheid",
                       data={"csrf_token": token, "visibility": visibility}, **kwargs)


def live_visibility(obstacle_id: int) -> str:
    return db.session.execute(text("SELECT visibility FROM obstacle WHERE id = :id"),
                              {"id": obstacle_id}).scalar_one()


def snapshot_visibility(obstacle_id: int) -> list[str]:
    return list(db.session.execute(text(
        "SELECT visibility FROM snapshot_obstacle WHERE id = :id"), {"id": obstacle_id}).scalars())


def detail(client, initiative) -> str:
    response = client.get(f"/initiatieven/{initiative.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def audit_events() -> list[dict]:
    return [e.after for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "obstacle.visibility")
        .order_by(AuditEvent.id))]


# --------------------------------------------------------------------------- overview
def test_overview_shows_the_visibility_and_a_button_to_change_it(csrf_client, published):
    url = manage_url(published, csrf_client)
    obstacle_id = published.obstacles[0].id
    html = csrf_client.get(url).get_data(as_text=True)
    assert 'data-visibility="public">Openbaar</td>' in html
    form = re.search(rf'<form method="post" action="{re.escape(url)}/knelpunten/{obstacle_id}'
                     r'/zichtbaarheid" data-visibility-form>(.*?)</form>', html, re.S)
    assert form, html
    assert 'name="csrf_token"' in form.group(1)
    assert '<input type="hidden" name="visibility" value="confidential">' in form.group(1)
    assert "Vertrouwelijk maken" in form.group(1)
    assert "Weer openbaar maken is een wijziging die een moderator eerst goedkeurt" in html


# --------------------------------------------------------------------------- confidential
def test_confidential_is_immediate_on_a_published_entry_and_reaches_the_snapshot(
        csrf_client, published):
    obstacle_id = published.obstacles[0].id
    code = create_snapshot(note="overleg OCW").code
    db.session.commit()
    assert snapshot_visibility(obstacle_id) == ["public"]
    snapshot_export = f"/export/knelpunten.csv?snapshot={code}"
    page = detail(csrf_client, published)
    assert TITLE in page
    assert WORKAROUND in page
    assert TITLE in csrf_client.get(snapshot_export).get_data(as_text=True)
    url = manage_url(published, csrf_client)

    response = switch(csrf_client, url, obstacle_id, "confidential", follow_redirects=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Het knelpunt is nu vertrouwelijk." in html
    assert 'data-visibility="confidential">Vertrouwelijk</td>' in html
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "confidential"
    assert snapshot_visibility(obstacle_id) == ["confidential"]
    assert db.session.get(Initiative, published.id).state == InitiativeState.PUBLISHED
    assert pending_revision(published) is None  # no moderation
    page = detail(csrf_client, published)
    assert "Leerroute Oost" in page
    for secret in (TITLE, WORKAROUND, POLICY_ASK):
        assert secret not in page
        assert secret not in csrf_client.get(snapshot_export).get_data(as_text=True)
    # audited and in the history, as an applied change by the school
    assert audit_events() == [{"obstacle": obstacle_id, "visibility": "confidential",
                               "outcome": "applied"}]
    revision = db.session.scalars(select(Revision).where(Revision.kind == "visibility")).one()
    assert (revision.status, revision.actor_type) == ("applied", "submitter")
    assert revision.changes == {f"obstacles.{obstacle_id}.visibility": ["public",
                                                                        "confidential"]}


def test_the_edit_form_applies_confidential_at_once_and_proposes_the_rest(
        csrf_client, published):
    obstacle_id = published.obstacles[0].id
    create_snapshot()
    db.session.commit()
    url = manage_url(published, csrf_client)
    data = edit_form_data(csrf_client, url, title="Leerroute Oost en West",
                          **{"obstacles-0-visibility": "confidential"})
    assert data["obstacles-0-obstacle_id"] == str(obstacle_id)

    response = csrf_client.post(f"{url}/bewerken", data=data)

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    flashed = csrf_client.get(url).get_data(as_text=True)
    assert "zijn direct niet meer openbaar" in flashed
    assert "wacht op goedkeuring" in flashed
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "confidential"
    assert snapshot_visibility(obstacle_id) == ["confidential"]
    assert db.session.get(Initiative, published.id).title == "Leerroute Oost"  # still pending
    revision = pending_revision(published)
    assert revision.changes == {"initiative.title": ["Leerroute Oost", "Leerroute Oost en West"]}
    assert TITLE not in detail(csrf_client, published)
    approve_revision(revision, actor=None)
    db.session.commit()
    assert live_visibility(obstacle_id) == "confidential"
    assert "Leerroute Oost en West" in detail(csrf_client, published)


def test_an_edit_that_only_makes_an_obstacle_confidential_needs_no_moderator(
        csrf_client, published):
    obstacle_id = published.obstacles[0].id
    url = manage_url(published, csrf_client)
    data = edit_form_data(csrf_client, url, **{"obstacles-0-visibility": "confidential"})
    response = csrf_client.post(f"{url}/bewerken", data=data, follow_redirects=True)
    assert "Uw wijzigingen zijn opgeslagen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "confidential"
    assert pending_revision(published) is None
    assert TITLE not in detail(csrf_client, published)


def test_the_edit_form_shows_the_stored_choice(csrf_client, published):
    url = manage_url(published, csrf_client)
    switch(csrf_client, url, published.obstacles[0].id, "confidential")
    html = csrf_client.get(f"{url}/bewerken").get_data(as_text=True)
    assert re.search(r'<input [^>]*checked id="obstacles-0-visibility-1" '
                     r'name="obstacles-0-visibility" type="radio" value="confidential">', html)
    assert not re.search(r'<input [^>]*checked id="obstacles-0-visibility-0"', html)
    assert edit_form_data(csrf_client, url)["obstacles-0-visibility"] == "confidential"
    assert "Een uitzondering: een knelpunt dat u vertrouwelijk maakt" in html


def test_a_pending_proposal_does_not_undo_a_later_confidential_switch(csrf_client, published):
    obstacle_id = published.obstacles[0].id
    url = manage_url(published, csrf_client)
    # first an ordinary edit (obstacle still public in it), waiting for a moderator
    csrf_client.post(f"{url}/bewerken",
                     data=edit_form_data(csrf_client, url, summary="Een nieuwe samenvatting."))
    revision = pending_revision(published)
    assert revision.data["obstacles"][0]["visibility"] == "public"
    version = db.session.get(Initiative, published.id).version_id

    assert switch(csrf_client, url, obstacle_id, "confidential").status_code == 302

    db.session.expire_all()
    revision = pending_revision(published)
    assert revision.data["obstacles"][0]["visibility"] == "confidential"
    assert revision.changes == {"initiative.summary": ["Een korte samenvatting.",
                                                       "Een nieuwe samenvatting."]}
    # a moderator's edit form opened before the switch is now stale
    assert db.session.get(Initiative, published.id).version_id > version
    approve_revision(revision, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "confidential"
    assert db.session.get(Initiative, published.id).summary == "Een nieuwe samenvatting."
    assert TITLE not in detail(csrf_client, published)


# --------------------------------------------------------------------------- public again
def test_public_again_on_a_published_entry_waits_for_a_moderator(csrf_client, published):
    obstacle_id = published.obstacles[0].id
    url = manage_url(published, csrf_client)
    switch(csrf_client, url, obstacle_id, "confidential")
    html = csrf_client.get(url).get_data(as_text=True)
    assert "Openbaar maken" in html
    assert "Een moderator keurt dit eerst goed." in html

    response = switch(csrf_client, url, obstacle_id, "public", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Een moderator keurt dat eerst goed; tot dan blijft het knelpunt vertrouwelijk." \
        in html
    assert 'data-visibility="pending-public"' in html
    assert "Toch vertrouwelijk houden" in html
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "confidential"
    revision = pending_revision(published)
    assert revision.actor_type == "submitter"
    assert revision.changes == {f"obstacles.{obstacle_id}.visibility": ["confidential",
                                                                        "public"]}
    assert TITLE not in detail(csrf_client, published)
    # pressing it again changes nothing
    assert switch(csrf_client, url, obstacle_id, "public").status_code == 302
    assert db.session.scalar(select(Revision.id).where(Revision.status == "pending")) == \
        revision.id

    approve_revision(revision, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "public"
    page = detail(csrf_client, published)
    assert TITLE in page
    assert WORKAROUND in page
    assert [(a["visibility"], a["outcome"]) for a in audit_events()] == [
        ("confidential", "applied"), ("public", "pending")]  # the second press did nothing


def test_keeping_it_confidential_after_all_drops_the_empty_proposal(csrf_client, published):
    obstacle_id = published.obstacles[0].id
    url = manage_url(published, csrf_client)
    switch(csrf_client, url, obstacle_id, "confidential")
    switch(csrf_client, url, obstacle_id, "public")
    assert pending_revision(published) is not None

    response = switch(csrf_client, url, obstacle_id, "confidential", follow_redirects=True)

    assert "Het knelpunt is nu vertrouwelijk." in response.get_data(as_text=True)
    db.session.expire_all()
    assert pending_revision(published) is None
    assert live_visibility(obstacle_id) == "confidential"


def test_an_unpublished_entry_changes_both_ways_at_once(csrf_client, app):
    initiative = make_initiative(state=InitiativeState.PENDING, obstacles=[obstacle_data()])
    obstacle_id = initiative.obstacles[0].id
    url = manage_url(initiative, csrf_client)
    html = csrf_client.get(url).get_data(as_text=True)
    assert "Weer openbaar maken is een wijziging" not in html

    switch(csrf_client, url, obstacle_id, "confidential")
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "confidential"
    response = switch(csrf_client, url, obstacle_id, "public", follow_redirects=True)
    assert "Het knelpunt is nu openbaar." in response.get_data(as_text=True)
    db.session.expire_all()
    assert live_visibility(obstacle_id) == "public"
    assert pending_revision(initiative) is None
    assert db.session.get(Initiative, initiative.id).state == InitiativeState.PENDING


# --------------------------------------------------------------------------- refusals
def test_only_a_post_with_its_csrf_token_and_a_known_value_changes_anything(
        csrf_client, published):
    obstacle_id = published.obstacles[0].id
    url = manage_url(published, csrf_client)
    action = f"{url}/knelpunten/{obstacle_id}/zichtbaarheid"
    assert csrf_client.get(action).status_code == 405
    assert csrf_client.post(action, data={"visibility": "confidential"}).status_code == 400
    assert csrf_client.post(action, data={"visibility": "confidential",
                                          "csrf_token": "nep"}).status_code == 400
    assert switch(csrf_client, url, obstacle_id, "secret").status_code == 400
    assert switch(csrf_client, url, obstacle_id, "").status_code == 400
    assert live_visibility(obstacle_id) == "public"
    assert audit_events() == []


def test_an_unknown_obstacle_or_link_is_not_found(csrf_client, published):
    other = make_initiative(state=InitiativeState.PUBLISHED, postcode="9711 AA")
    url = manage_url(published, csrf_client)
    for obstacle_id in (other.obstacles[0].id, 999999):
        for visibility in ("confidential", "public"):
            assert switch(csrf_client, url, obstacle_id, visibility).status_code == 404
    assert live_visibility(other.obstacles[0].id) == "public"
    page = csrf_client.get(url)
    token = csrf_token_from(page.get_data(as_text=True))
    response = csrf_client.post(
        f"/beheren/onbekend/knelpunten/{published.obstacles[0].id}/zichtbaarheid",
        data={"csrf_token": token, "visibility": "confidential"})
    assert response.status_code == 404


def test_a_withdrawn_entry_cannot_be_changed(csrf_client, published):
    obstacle_id = published.obstacles[0].id
    url = manage_url(published, csrf_client)
    token = csrf_token_from(csrf_client.get(url).get_data(as_text=True))
    published.state = InitiativeState.WITHDRAWN
    db.session.commit()
    assert "Vertrouwelijk maken" not in csrf_client.get(url).get_data(as_text=True)
    response = csrf_client.post(f"{url}/knelpunten/{obstacle_id}/zichtbaarheid",
                                data={"csrf_token": token, "visibility": "confidential"})
    assert response.status_code == 409
    assert live_visibility(obstacle_id) == "public"


def test_the_service_says_what_happened(app, published):
    obstacle_id = published.obstacles[0].id
    assert set_obstacle_visibility(published, 999999, "confidential") is None
    assert set_obstacle_visibility(published, obstacle_id, "confidential") == "applied"
    assert set_obstacle_visibility(published, obstacle_id, "confidential") == "applied"
    assert set_obstacle_visibility(published, obstacle_id, "public") == "pending"
    assert set_obstacle_visibility(published, obstacle_id, "public") == "pending"
    with pytest.raises(ValueError, match="visibility"):
        set_obstacle_visibility(published, obstacle_id, "secret")
    db.session.rollback()
    assert db.session.get(Obstacle, obstacle_id).visibility == "public"  # services never commit
