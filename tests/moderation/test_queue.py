"""The moderation queue and the actions on an entry (publish, reject, ask, edit, revisions)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.database import utcnow
from registry.history.models import Revision
from registry.mail.models import OutboxMessage
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from tests.factories import form_post, initiative_data, make_initiative
from tests.fixtures.auth import csrf_post

PENDING = InitiativeState.PENDING

_postcodes = iter(f"{1000 + i} AA" for i in range(1, 9000))


def pending(**kw):
    kw.setdefault("postcode", next(_postcodes))
    return make_initiative(state=PENDING, **kw)


def audit(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def mails(db, kind=None):
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return db.session.scalars(stmt).all()


def test_queue_lists_new_entries_oldest_first(client, login, db):
    login(client, "moderator")
    newer = pending(title="Nieuwer initiatief")
    older = pending(title="Ouder initiatief")
    older.submitted_at = utcnow() - timedelta(days=3)
    make_initiative(title="Al gepubliceerd", postcode="9999 ZZ")
    db.session.commit()
    html = client.get("/moderatie/").get_data(as_text=True)
    assert html.index("Ouder initiatief") < html.index("Nieuwer initiatief")
    assert "Al gepubliceerd" not in html
    assert newer.reference in html
    published = client.get("/moderatie/?state=published").get_data(as_text=True)
    assert "Al gepubliceerd" in published
    assert "Ouder initiatief" not in published


def test_queue_filters_and_search(client, login, db):
    login(client, "moderator")
    pending(title="Mbo route", sector="mbo")
    pending(title="Vo route", sector="vo", school_name="Lyceum Zuid")
    html = client.get("/moderatie/?sector=vo").get_data(as_text=True)
    assert "Vo route" in html
    assert "Mbo route" not in html
    html = client.get("/moderatie/?q=lyceum").get_data(as_text=True)
    assert "Vo route" in html
    assert "Mbo route" not in html
    html = client.get("/moderatie/?area=valideren").get_data(as_text=True)
    assert "Vo route" not in html
    assert "Mbo route" not in html


def test_queue_shows_pending_revisions(client, login, db):
    from registry.history.services import propose_revision

    login(client, "moderator")
    published = make_initiative(title="Gepubliceerd met wijziging", postcode="2000 AB")
    data = initiative_data(title="Nieuwe titel")
    propose_revision(published, data, "submitter")
    db.session.commit()
    html = client.get("/moderatie/").get_data(as_text=True)
    assert "Gepubliceerd met wijziging" in html
    assert "wijziging te beoordelen" in html
    only = client.get("/moderatie/?state=revision").get_data(as_text=True)
    assert "Gepubliceerd met wijziging" in only


def test_entry_shows_contact_data_only_on_request_and_logs_each_view(client, login, db):
    user = login(client, "moderator")
    item = pending()
    html = client.get(f"/moderatie/{item.id}").get_data(as_text=True)
    for text in (item.title, item.organisation.name, "Vaste examenmomenten", item.reference):
        assert text in html
    # Personal data is not on the page until asked for; looking writes nothing.
    assert item.contact.email not in html
    assert item.contact.phone not in html
    assert audit(db, "contact.view") == []
    shown = csrf_post(client, f"/moderatie/{item.id}/contact")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert item.contact.email in html
    assert item.contact.phone in html
    assert item.title in html
    [event] = audit(db, "contact.view")
    assert event.actor_id == user.id
    assert event.target_id == item.id


def test_publish_makes_the_entry_public(client, login, db):
    user = login(client, "moderator")
    item = pending(title="Eigen tempo in het mbo")
    assert "Eigen tempo in het mbo" not in client.get("/initiatieven").get_data(as_text=True)
    response = csrf_post(client, f"/moderatie/{item.id}/publiceren",
                         {"version_id": item.version_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.state == InitiativeState.PUBLISHED
    assert item.published_at is not None
    assert "Eigen tempo in het mbo" in client.get("/initiatieven").get_data(as_text=True)
    [event] = audit(db, "initiative.publish")
    assert event.actor_id == user.id
    assert event.after == {"state": "published"}
    kinds = [r.kind for r in db.session.scalars(
        select(Revision).where(Revision.initiative_id == item.id))]
    assert "publish" in kinds


def test_reject_needs_a_reason_and_mails_it(client, login, db):
    login(client, "moderator")
    item = pending()
    response = csrf_post(client, f"/moderatie/{item.id}/afwijzen",
                         {"reason": "  ", "version_id": item.version_id})
    assert response.status_code == 422
    assert "Geef een reden voor de afwijzing." in response.get_data(as_text=True)
    assert db.session.get(Initiative, item.id).state == PENDING
    response = csrf_post(client, f"/moderatie/{item.id}/afwijzen",
                         {"reason": "Dit is geen gepersonaliseerd leren.",
                          "version_id": item.version_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.state == InitiativeState.REJECTED
    [mail] = mails(db, "moderation.rejected")
    assert mail.to_address == item.contact.email
    assert "Dit is geen gepersonaliseerd leren." in mail.body_text
    assert audit(db, "initiative.reject")[0].reason == "Dit is geen gepersonaliseerd leren."


def test_ask_for_changes_mails_the_manage_link(client, login, db):
    login(client, "moderator")
    item = pending()
    response = csrf_post(client, f"/moderatie/{item.id}/wijzigingen-vragen",
                         {"message": "Vul het aantal lerenden aan."})
    assert response.status_code == 302
    [mail] = mails(db, "moderation.changes_requested")
    assert mail.to_address == item.contact.email
    assert "Vul het aantal lerenden aan." in mail.body_text
    assert re.search(r"http://localhost/\S+", mail.body_text)
    assert audit(db, "initiative.request_changes")


def _edit_post(item, version, **changes):
    data = form_post(obstacles=1, **changes)
    data = {k: v for k, v in data.items() if not k.startswith("contact-")}
    data["obstacles-0-obstacle_id"] = str(item.obstacles[0].id)
    data["version_id"] = str(version)
    return data


def test_moderator_edits_any_field(client, login, db):
    login(client, "moderator")
    item = pending()
    page = client.get(f"/moderatie/{item.id}/bewerken").get_data(as_text=True)
    assert f'name="version_id" value="{item.version_id}"' in page
    obstacle_id = item.obstacles[0].id
    response = csrf_post(client, f"/moderatie/{item.id}/bewerken",
                         _edit_post(item, item.version_id, title="Verbeterde titel"),
                         token_page=f"/moderatie/{item.id}/bewerken")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert item.title == "Verbeterde titel"
    assert item.obstacles[0].id == obstacle_id  # edited in place
    [event] = audit(db, "initiative.edit")
    assert event.after["initiative.title"] == "Verbeterde titel"


def test_second_save_on_the_same_version_is_refused(app, make_user, db):
    from flask import Flask  # noqa: F401

    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        user = make_user("moderator")
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
    item = pending()
    version = item.version_id
    ok = csrf_post(first, f"/moderatie/{item.id}/bewerken",
                   _edit_post(item, version, title="Titel van moderator 1"))
    assert ok.status_code == 302
    stale = csrf_post(second, f"/moderatie/{item.id}/bewerken",
                      _edit_post(item, version, title="Titel van moderator 2"))
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Iemand anders heeft deze aanmelding intussen gewijzigd" in html
    assert "Titel van moderator 2" in html  # what they typed is kept on the page
    db.session.expire_all()
    assert db.session.get(Initiative, item.id).title == "Titel van moderator 1"
    # publishing from a stale page is refused as well
    refused = csrf_post(second, f"/moderatie/{item.id}/publiceren", {"version_id": version})
    assert refused.status_code == 409
    assert db.session.get(Initiative, item.id).state == PENDING


def test_invalid_edit_rerenders_with_errors(client, login, db):
    login(client, "moderator")
    item = pending()
    response = csrf_post(client, f"/moderatie/{item.id}/bewerken",
                         _edit_post(item, item.version_id, title=""))
    assert response.status_code == 422
    assert "Vul de naam van het initiatief in." in response.get_data(as_text=True)


def test_reclassify_an_obstacle(client, login, db):
    login(client, "moderator")
    item = pending()
    obstacle = item.obstacles[0]
    response = csrf_post(client, f"/moderatie/knelpunt/{obstacle.id}/gebied",
                         {"area": "diplomeren"})
    assert response.status_code == 302
    db.session.expire_all()
    assert obstacle.area_code == "diplomeren"
    [event] = audit(db, "obstacle.reclassify")
    assert event.before == {"area": "examineren"}
    assert event.after == {"area": "diplomeren"}


def test_approve_and_discard_revisions(client, login, db):
    from registry.history.services import propose_revision

    login(client, "moderator")
    item = make_initiative(title="Oude titel", postcode="2000 AB")
    revision = propose_revision(item, initiative_data(title="Nieuwe titel"), "submitter")
    db.session.commit()
    html = client.get(f"/moderatie/{item.id}").get_data(as_text=True)
    assert "Wijziging te beoordelen" in html
    assert "Nieuwe titel" in html
    response = csrf_post(client, f"/moderatie/{item.id}/revisie/{revision.id}/goedkeuren",
                         {"version_id": item.version_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.title == "Nieuwe titel"
    assert revision.status == "approved"
    other = propose_revision(item, initiative_data(title="Nog een titel"), "submitter")
    db.session.commit()
    response = csrf_post(client, f"/moderatie/{item.id}/revisie/{other.id}/verwerpen",
                         {"reason": "Niet nodig"})
    assert response.status_code == 302
    db.session.expire_all()
    assert other.status == "discarded"
    assert item.title == "Nieuwe titel"
    assert audit(db, "revision.approve")
    assert audit(db, "revision.discard")


def test_bulk_publish_and_reject(client, login, db):
    login(client, "moderator")
    a, b, c = pending(), pending(), pending()
    response = csrf_post(client, "/moderatie/bulk",
                         {"ids": [str(a.id), str(b.id)], "bulk_action": "publish"})
    assert response.status_code == 302
    refused = csrf_post(client, "/moderatie/bulk", {"ids": [str(c.id)], "bulk_action": "reject"})
    assert refused.status_code == 302
    db.session.expire_all()
    assert c.state == PENDING  # no reason, nothing happened
    csrf_post(client, "/moderatie/bulk",
              {"ids": [str(c.id)], "bulk_action": "reject", "reason": "Dubbel gemeld"})
    db.session.expire_all()
    assert (a.state, b.state, c.state) == ("published", "published", "rejected")
    assert len(audit(db, "initiative.publish")) == 2
    assert "Dubbel gemeld" in mails(db, "moderation.rejected")[0].body_text
