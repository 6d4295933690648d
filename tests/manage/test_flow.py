"""Issue 4 "Done when": submit, confirm from the real mail, come back later through the manage
link, mark an obstacle solved, erase contact data - all against a real SMTP server."""
from __future__ import annotations

import json
import time

from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from registry.extensions import db
from registry.history.models import Revision
from registry.history.services import approve_revision, pending_revision
from registry.mail.models import OutboxMessage
from registry.manage.models import ManageToken
from registry.manage.services import hash_token
from registry.submissions.models import Contact, Initiative
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.fixtures.mail import confirm_link, manage_link, message_text, path_of
from tests.manage.helpers import (
    open_manage_link,
    post_with_csrf,
    public_texts,
    publish,
    submit,
)

EMAIL = "anne@example.org"


def confirm(client, url: str):
    return post_with_csrf(client, path_of(url), path_of(url))


def test_contact_submits_confirms_updates_and_erases(csrf_client, smtp_server):
    client = csrf_client
    initiative = submit(client, title="Leerroute Zonnebloem")
    assert initiative.state == InitiativeState.UNCONFIRMED
    assert "Leerroute Zonnebloem" not in "".join(public_texts(client, initiative.id).values())

    # The confirmation mail arrived over SMTP, in Dutch, with both links.
    mail = smtp_server.last(to=EMAIL)
    assert "Bevestig uw aanmelding" in mail["Subject"]
    assert initiative.reference in mail["Subject"]
    text = message_text(mail)
    assert "7 dagen geldig" in text
    assert "beheerlink" in text
    outbox = db.session.scalars(select(OutboxMessage)).one()
    assert (outbox.kind, outbox.status, outbox.initiative_id) == ("confirm", "sent",
                                                                   initiative.id)

    # Opening the link shows a button (mail scanners must not confirm); pressing confirms.
    page = client.get(path_of(confirm_link(mail)))
    assert page.status_code == 200
    assert "Ja, bevestig mijn aanmelding" in page.get_data(as_text=True)
    db.session.refresh(initiative)
    assert initiative.state == InitiativeState.UNCONFIRMED
    response = confirm(client, confirm_link(mail))
    assert response.status_code == 200
    assert "Aanmelding bevestigd" in response.get_data(as_text=True)
    db.session.refresh(initiative)
    assert initiative.state == InitiativeState.PENDING

    publish(initiative)
    assert "Leerroute Zonnebloem" in client.get(f"/initiatieven/{initiative.id}").get_data(
        as_text=True)

    # Weeks later, through the manage link from the same mail.
    manage = open_manage_link(client, manage_link(mail))
    page = client.get(manage)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert initiative.reference in html
    assert "Markeer als opgelost" in html
    obstacle = initiative.obstacles[0]
    assert obstacle.status == "open"
    response = post_with_csrf(client, manage,
                              f"{manage}/knelpunten/{obstacle.id}/opgelost",
                              follow_redirects=True)
    assert response.status_code == 200
    # Published: the change waits for a moderator, the public still sees "open".
    db.session.refresh(obstacle)
    assert obstacle.status == "open"
    revision = pending_revision(initiative)
    assert revision.changes == {f"obstacles.{obstacle.id}.status": ["open", "opgelost"]}
    approve_revision(revision, actor=None)
    db.session.commit()
    db.session.refresh(obstacle)
    assert obstacle.status == "opgelost"

    # Erase the contact data: gone for good, the anonymous initiative stays published.
    response = post_with_csrf(client, f"{manage}/gegevens-wissen", f"{manage}/gegevens-wissen",
                              {"confirm": "y"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Uw contactgegevens zijn gewist" in response.get_data(as_text=True)
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.name, contact.email, contact.phone) == ("", "", "")
    assert contact.erased_at is not None
    assert db.session.get(Initiative, initiative.id).state == InitiativeState.PUBLISHED
    texts = public_texts(client, initiative.id)
    assert "Leerroute Zonnebloem" in texts[f"/initiatieven/{initiative.id}"]
    assert "Anne de Vries" not in "".join(texts.values())
    for row in db.session.scalars(select(OutboxMessage)):
        assert EMAIL not in row.to_address
        assert "Anne" not in row.body_text
    exported = json.loads(client.get(f"{manage}/mijn-gegevens.json").get_data(as_text=True))
    assert exported["contact"]["email"] == ""
    assert exported["contact"]["erased_at"]
    assert "Anne de Vries" not in json.dumps(exported)
    assert [r["kind"] for r in exported["revisions"]] == [
        "create", "confirm", "edit", "erase"]


def test_second_use_of_confirmation_link_fails_clearly(csrf_client, smtp_server):
    initiative = submit(csrf_client)
    url = confirm_link(smtp_server.last(to=EMAIL))
    assert confirm(csrf_client, url).status_code == 200
    again = csrf_client.get(path_of(url))
    html = again.get_data(as_text=True)
    assert "Deze link is al gebruikt" in html
    assert "werkt maar één keer" in html
    # A replayed POST does not change anything either.
    response = post_with_csrf(csrf_client, "/beheren/nieuwe-link", path_of(url))
    assert "Deze link is al gebruikt" in response.get_data(as_text=True)
    db.session.refresh(initiative)
    assert initiative.state == InitiativeState.PENDING
    assert db.session.scalar(select(Revision).where(Revision.kind == "confirm").limit(1))


def test_tampered_confirmation_link_fails(csrf_client, smtp_server):
    initiative = submit(csrf_client)
    url = path_of(confirm_link(smtp_server.last(to=EMAIL)))
    payload, stamp, signature = url.rsplit("/", 1)[1].split(".")
    for bad in (f"{payload}.{stamp}.{signature[:-2]}xx",
                f"eyJpIjo5OTl9.{stamp}.{signature}",  # another id with the old signature
                "garbage"):
        response = csrf_client.get(f"/bevestigen/{bad}")
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Deze link werkt niet" in html
        assert "Nieuwe link aanvragen" in html
    db.session.refresh(initiative)
    assert initiative.state == InitiativeState.UNCONFIRMED


def test_expired_confirmation_link_offers_a_new_one(csrf_client, smtp_server, monkeypatch):
    eight_days_ago = int(time.time()) - 8 * 86400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
    initiative = submit(csrf_client)
    monkeypatch.undo()
    old_url = path_of(confirm_link(smtp_server.last(to=EMAIL)))

    response = csrf_client.get(old_url)
    assert response.status_code == 410
    assert "Deze link is verlopen" in response.get_data(as_text=True)
    response = post_with_csrf(csrf_client, "/beheren/nieuwe-link", old_url)
    assert response.status_code == 410
    db.session.refresh(initiative)
    assert initiative.state == InitiativeState.UNCONFIRMED

    smtp_server.clear()
    # buffered: the WSGI server closes the response, after which the mail is sent
    response = post_with_csrf(csrf_client, old_url, "/bevestigen/nieuwe-link",
                              {"token": old_url.rsplit("/", 1)[1]}, buffered=True)
    assert response.status_code == 200
    assert "Controleer uw e-mail" in response.get_data(as_text=True)
    new_url = confirm_link(smtp_server.last(to=EMAIL))
    assert path_of(new_url) != old_url
    assert confirm(csrf_client, new_url).status_code == 200
    db.session.refresh(initiative)
    assert initiative.state == InitiativeState.PENDING


def test_english_form_gives_english_mail_with_dutch_text(csrf_client, smtp_server):
    csrf_client.get("/taal/en")
    initiative = submit(csrf_client)
    assert initiative.language == "en"
    mail = smtp_server.last(to=EMAIL)
    assert mail["Subject"].startswith("Confirm your submission")
    text = message_text(mail)
    assert "Please confirm your submission" in text
    assert "Bevestig uw aanmelding via deze link" in text  # the Dutch version follows
    thanks = csrf_client.get("/aanmelden/bedankt").get_data(as_text=True)
    assert "manage link" in thanks


def test_thank_you_page_explains_the_manage_link(csrf_client, smtp_server):
    submit(csrf_client)
    html = csrf_client.get("/aanmelden/bedankt").get_data(as_text=True)
    assert "persoonlijke beheerlink" in html
    assert "Bevestig uw aanmelding" in html
    assert "/beheren/nieuwe-link" in html


def test_manage_token_is_not_stored_in_clear(csrf_client, smtp_server):
    submit(csrf_client)
    url = manage_link(smtp_server.last(to=EMAIL))
    token = url.rsplit("#", 1)[1]
    assert "/beheren#" in url  # in the fragment: a browser never sends it to the server
    stored = db.session.scalars(select(ManageToken)).one()
    assert stored.token_hash == hash_token(token) != token
    # The token appears in no column of any table (the mail body is only in the outbox
    # until erased; the token must not be in any other table).
    for table in db.metadata.sorted_tables:
        if table.name == "outbox_message":
            continue
        for row in db.session.execute(table.select()):
            assert token not in repr(tuple(row)), table.name
    assert open_manage_link(csrf_client, url) == "/beheren"
    response = csrf_client.get("/beheren")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    # The session cookie holds the id of the token row, never the token itself.
    cookie = csrf_client.get_cookie("session")
    assert cookie is not None
    assert token not in cookie.value
    tampered = token[:-1] + ("x" if token[-1] != "x" else "y")
    page = csrf_client.get("/beheren")
    response = csrf_client.post("/beheren/openen", data={
        "code": tampered, "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 404
    assert "Deze code werkt niet" in response.get_data(as_text=True)


def test_new_link_request_answers_the_same_for_unknown_addresses(csrf_client, smtp_server):
    initiative = submit(csrf_client)
    publish(initiative)
    smtp_server.clear()
    known = post_with_csrf(csrf_client, "/beheren/nieuwe-link", "/beheren/nieuwe-link",
                           {"email": "ANNE@example.org"}, buffered=True)
    unknown = post_with_csrf(csrf_client, "/beheren/nieuwe-link", "/beheren/nieuwe-link",
                             {"email": "nobody@example.org"}, buffered=True)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert len(smtp_server.messages) == 1
    mail = smtp_server.last(to=EMAIL)
    assert "beheerlink" in mail["Subject"]
    assert open_manage_link(csrf_client, manage_link(mail)) == "/beheren"
    assert initiative.reference in csrf_client.get("/beheren").get_data(as_text=True)


def test_new_link_request_validates_the_address(csrf_client):
    response = post_with_csrf(csrf_client, "/beheren/nieuwe-link", "/beheren/nieuwe-link",
                              {"email": "geen-adres"})
    assert response.status_code == 422
    assert "Vul een geldig e-mailadres in" in response.get_data(as_text=True)


def test_new_link_mail_is_sent_only_after_the_response(csrf_client, smtp_server):
    """Response time must not reveal whether an address is known."""
    initiative = submit(csrf_client)
    publish(initiative)
    smtp_server.clear()
    response = post_with_csrf(csrf_client, "/beheren/nieuwe-link", "/beheren/nieuwe-link",
                              {"email": EMAIL}, buffered=False)  # not closed yet
    assert response.status_code == 200
    assert smtp_server.messages == []  # nothing sent while the answer was being built
    response.close()  # what the WSGI server does after sending the response
    assert len(smtp_server.to(EMAIL)) == 1
