"""The manage page: edits and revisions, withdraw, download (AVG 15/20), erase (AVG 17),
and purging unconfirmed entries."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.database import utcnow
from registry.extensions import db
from registry.history.models import Revision
from registry.history.services import approve_revision, discard_revision, pending_revision
from registry.mail.models import OutboxMessage
from registry.manage.models import ManageToken
from registry.manage.services import issue_manage_link
from registry.submissions.models import Contact, Initiative, Obstacle, Organisation
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.manage.helpers import edit_form_data, open_manage_link, post_with_csrf, public_texts


def manage_url(initiative, client) -> str:
    """Open a new manage link of ``initiative`` in ``client``; the token-less manage page."""
    url = issue_manage_link(initiative)
    db.session.commit()
    return open_manage_link(client, url)


@pytest.fixture
def published(app):
    return make_initiative(state=InitiativeState.PUBLISHED, title="Talentroute Noord")


def test_edit_of_published_entry_waits_for_moderation(csrf_client, published):
    url = manage_url(published, csrf_client)
    data = edit_form_data(csrf_client, url, title="Talentroute Noord en Zuid",
                          **{"obstacles-0-status": "opgelost"})
    response = csrf_client.post(f"{url}/bewerken", data=data, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert "wacht op goedkeuring" in response.get_data(as_text=True)

    # The public keeps seeing the approved version.
    db.session.expire_all()
    assert db.session.get(Initiative, published.id).title == "Talentroute Noord"
    texts = public_texts(csrf_client, published.id)
    assert "Talentroute Noord en Zuid" not in "".join(texts.values())
    assert "Talentroute Noord" in texts[f"/initiatieven/{published.id}"]

    revision = pending_revision(published)
    assert revision.actor_type == "submitter"
    assert revision.status == "pending"
    assert revision.changes["initiative.title"] == ["Talentroute Noord",
                                                    "Talentroute Noord en Zuid"]
    obstacle_id = published.obstacles[0].id
    assert revision.changes[f"obstacles.{obstacle_id}.status"] == ["open", "opgelost"]
    # The submitter sees their proposal when they come back.
    assert "Talentroute Noord en Zuid" in csrf_client.get(f"{url}/bewerken").get_data(
        as_text=True)

    approve_revision(revision, actor=None)
    db.session.commit()
    assert "Talentroute Noord en Zuid" in csrf_client.get(
        f"/initiatieven/{published.id}").get_data(as_text=True)
    assert db.session.get(Obstacle, obstacle_id).status == "opgelost"  # same row, theme kept


def test_discarded_revision_leaves_the_entry_alone(csrf_client, published):
    url = manage_url(published, csrf_client)
    csrf_client.post(f"{url}/bewerken",
                     data=edit_form_data(csrf_client, url, title="Iets anders"))
    revision = pending_revision(published)
    discard_revision(revision, actor=None, reason="Geen verbetering")
    db.session.commit()
    assert pending_revision(published) is None
    assert db.session.get(Initiative, published.id).title == "Talentroute Noord"


def test_edit_of_unpublished_entry_applies_at_once_and_adds_obstacle(csrf_client, app):
    initiative = make_initiative(state=InitiativeState.PENDING)
    url = manage_url(initiative, csrf_client)
    data = edit_form_data(csrf_client, url, summary="Nieuwe samenvatting.", **{
        "obstacles-1-area": "valideren", "obstacles-1-title": "EVC duurt te lang",
        "obstacles-1-description": "Maanden wachten.", "obstacles-1-severity": "2",
        "obstacles-1-status": "open",
    })
    response = csrf_client.post(f"{url}/bewerken", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    initiative = db.session.get(Initiative, initiative.id)
    assert initiative.summary == "Nieuwe samenvatting."
    assert [o.title for o in initiative.obstacles] == ["Vaste examenmomenten",
                                                       "EVC duurt te lang"]
    revision = db.session.scalars(select(Revision)).one()
    assert (revision.kind, revision.status, revision.actor_type) == ("edit", "applied",
                                                                     "submitter")
    assert "obstacles.new-2" in revision.changes


def test_invalid_edit_keeps_typed_values(csrf_client, published):
    url = manage_url(published, csrf_client)
    data = edit_form_data(csrf_client, url, title="", summary="Mijn nieuwe tekst")
    response = csrf_client.post(f"{url}/bewerken", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Vul de naam van het initiatief in." in html
    assert "Mijn nieuwe tekst" in html
    assert pending_revision(published) is None


def test_withdraw_removes_entry_from_every_public_page_and_export(csrf_client, published):
    before = public_texts(csrf_client, published.id)
    assert "Talentroute Noord" in before["/initiatieven"]
    assert "Talentroute Noord" in before[f"/initiatieven/{published.id}"]
    url = manage_url(published, csrf_client)
    response = post_with_csrf(csrf_client, f"{url}/intrekken", f"{url}/intrekken",
                              {"reason": "Project gestopt"})
    assert response.status_code == 422  # the checkbox is required
    response = post_with_csrf(csrf_client, f"{url}/intrekken", f"{url}/intrekken",
                              {"reason": "Project gestopt", "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Initiative, published.id).state == InitiativeState.WITHDRAWN
    after = public_texts(csrf_client, published.id)
    for url_, text in after.items():
        assert "Talentroute Noord" not in text, url_
        assert "Vaste examenmomenten" not in text, url_
    assert csrf_client.get(f"/initiatieven/{published.id}").status_code == 404
    assert db.session.scalars(select(Revision.kind)).all() == ["withdraw"]
    # Still reachable for the contact: download and erase remain possible.
    assert csrf_client.get(f"{url}/mijn-gegevens.json").status_code == 200


def test_download_contains_everything_stored_about_the_contact(csrf_client, published):
    url = manage_url(published, csrf_client)
    response = csrf_client.get(f"{url}/mijn-gegevens.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    contact = published.contact
    assert data["contact"]["email"] == contact.email
    assert data["contact"]["phone"] == contact.phone
    assert data["contact"]["consent_contact"] is True
    assert data["initiative"]["reference"] == published.reference
    assert data["initiative"]["obstacles"][0]["title"] == "Vaste examenmomenten"
    assert data["initiative"]["organisation"]["name"] == published.organisation.name
    assert len(data["manage_links"]) == 1
    assert "token" not in json.dumps(data["manage_links"])


def test_erase_published_keeps_anonymous_entry_without_name(csrf_client, app):
    initiative = make_initiative(state=InitiativeState.PUBLISHED, title="Open Leerhuis")
    initiative.contact.consent_publish_name = True
    initiative.contact.name = "Bram Jansen"
    db.session.commit()
    assert "Bram Jansen" in csrf_client.get(f"/initiatieven/{initiative.id}").get_data(
        as_text=True)  # published with consent
    url = manage_url(initiative, csrf_client)
    response = post_with_csrf(csrf_client, f"{url}/gegevens-wissen", f"{url}/gegevens-wissen",
                              {"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    texts = public_texts(csrf_client, initiative.id)
    assert "Open Leerhuis" in texts[f"/initiatieven/{initiative.id}"]
    for url_, text in texts.items():
        assert "Bram Jansen" not in text, url_
    contact = db.session.scalars(select(Contact)).one()
    assert contact.erased_at is not None
    assert contact.email == ""
    assert not contact.consent_publish_name
    # Erasing twice is harmless.
    again = csrf_client.get(f"{url}/gegevens-wissen", follow_redirects=True)
    assert "al gewist" in again.get_data(as_text=True)


def test_erase_unpublished_entry_deletes_it_completely(csrf_client, app):
    initiative = make_initiative(state=InitiativeState.PENDING)
    initiative_id = initiative.id
    url = manage_url(initiative, csrf_client)
    response = post_with_csrf(csrf_client, f"{url}/gegevens-wissen", f"{url}/gegevens-wissen",
                              {"confirm": "y"}, follow_redirects=True)
    assert response.status_code == 200
    assert "volledig verwijderd" in response.get_data(as_text=True)
    for model in (Initiative, Contact, Obstacle, ManageToken, Revision, Organisation):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert db.session.get(Initiative, initiative_id) is None
    # The link is gone with the entry: /beheren only offers to open a link.
    assert 'name="code"' in csrf_client.get(url).get_data(as_text=True)
    assert csrf_client.get(f"{url}/bewerken").status_code == 303


def test_purge_unconfirmed_deletes_only_old_unconfirmed(runner, app):
    old = make_initiative(state=InitiativeState.UNCONFIRMED, title="Oud")
    make_initiative(state=InitiativeState.UNCONFIRMED, title="Recent")
    old_pending = make_initiative(state=InitiativeState.PENDING, title="Bevestigd")
    for item in (old, old_pending):
        item.created_at = utcnow() - timedelta(days=31)
    issue_manage_link(old)
    db.session.add(OutboxMessage(kind="confirm", to_address=old.contact.email, subject="x",
                                 body_text="x", initiative_id=old.id))
    db.session.commit()
    result = runner.invoke(args=["purge-unconfirmed"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 unconfirmed entry" in result.output
    db.session.expire_all()
    titles = set(db.session.scalars(select(Initiative.title)))
    assert titles == {"Recent", "Bevestigd"}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(ManageToken)) == 0


def test_withdrawn_entry_cannot_be_edited(csrf_client, app):
    initiative = make_initiative(state=InitiativeState.WITHDRAWN)
    url = manage_url(initiative, csrf_client)
    response = csrf_client.get(f"{url}/bewerken", follow_redirects=True)
    assert "kunt u niet meer wijzigen" in response.get_data(as_text=True)
