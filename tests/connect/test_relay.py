"""Get in touch: a visitor's message is relayed to the contact without exposing addresses."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.connect.models import ContactRequest
from registry.extensions import db as _db
from registry.mail.models import OutboxMessage
from registry.security.antispam import issue_timestamp
from tests.conftest import csrf_token_from
from tests.fixtures.limits import rate_limited_app
from tests.fixtures.mail import links, message_text, path_of

SENDER = "piet@delinde.nl"


def _post(client, initiative, **overrides):
    url = f"/initiatieven/{initiative.id}/contact"
    page = client.get(url)
    data = {
        "name": "Piet Jansen", "school": "De Linde", "email": SENDER,
        "message": "Wij lopen ook tegen vaste examenmomenten aan. Hoe pakken jullie dat aan?",
        "consent": "y", "homepage_url": "",
        "form_started": issue_timestamp(),
    }
    if page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True):
        data["csrf_token"] = csrf_token_from(page.get_data(as_text=True))
    data.update(overrides)
    return client.post(url, data=data)


def test_detail_page_offers_contact_only_when_opted_in(client, open_initiative,
                                                       closed_initiative):
    html = client.get(f"/initiatieven/{open_initiative.id}").get_data(as_text=True)
    assert f"/initiatieven/{open_initiative.id}/contact" in html
    assert "anne@hetbaken.nl" not in html
    html = client.get(f"/initiatieven/{closed_initiative.id}").get_data(as_text=True)
    assert f"/initiatieven/{closed_initiative.id}/contact" not in html
    assert client.get(f"/initiatieven/{closed_initiative.id}/contact").status_code == 404
    assert _post(client, closed_initiative).status_code in (400, 404)  # no form, no token
    assert _db.session.scalar(select(ContactRequest.id)) is None


def test_relayed_message_arrives_without_sender_address(csrf_client, open_initiative,
                                                        smtp_server):
    """Done-when of issue 8: through the real SMTP test server, sender's address hidden."""
    r = _post(csrf_client, open_initiative)
    assert r.status_code == 302
    mail = smtp_server.last(to="anne@hetbaken.nl")
    raw = mail.as_string()
    body = message_text(mail)
    assert "Piet Jansen" in body
    assert "De Linde" in body
    assert "vaste examenmomenten" in body
    assert SENDER not in raw  # not in the body, nor in From/Reply-To or any header
    assert "Reply-To" not in mail or SENDER not in mail["Reply-To"]
    assert all(SENDER not in rcpts for _f, rcpts in smtp_server.envelopes)
    # The visitor never sees the contact's address either.
    assert "anne@hetbaken.nl" not in csrf_client.get(r.headers["Location"]).get_data(as_text=True)
    # Every relay is audit-logged (as 'system', without personal data).
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "connect.relay"))
    assert event.actor_label == "system"
    assert event.target_id == open_initiative.id
    assert SENDER not in str(event.after)

    # The contact replies through the private link: now addresses are exchanged.
    reply_url = next(u for u in links(mail) if "/contact/antwoord/" in u)
    page = csrf_client.get(path_of(reply_url)).get_data(as_text=True)
    assert "Piet Jansen" in page
    assert SENDER not in page
    r = csrf_client.post(path_of(reply_url), data={
        "csrf_token": csrf_token_from(page), "message": "Leuk! Bel me gerust."})
    assert r.status_code == 302
    answer = smtp_server.last(to=SENDER)
    assert "Leuk! Bel me gerust." in message_text(answer)
    assert "anne@hetbaken.nl" in message_text(answer)
    assert answer["Reply-To"] == "anne@hetbaken.nl"
    assert SENDER in csrf_client.get(path_of(reply_url)).get_data(as_text=True)
    # A second reply through the same link is not possible.
    before = len(smtp_server.messages)
    csrf_client.post(path_of(reply_url), data={"csrf_token": csrf_token_from(page),
                                               "message": "Nog een keer"})
    assert len(smtp_server.messages) == before


def test_contact_can_opt_out_from_the_mail(csrf_client, open_initiative, smtp_server):
    _post(csrf_client, open_initiative)
    mail = smtp_server.last(to="anne@hetbaken.nl")
    opt_out = next(u for u in links(mail) if "/contact/afmelden/" in u)
    page = csrf_client.get(path_of(opt_out))
    assert page.status_code == 200
    csrf_client.post(path_of(opt_out), data={"csrf_token": csrf_token_from(
        page.get_data(as_text=True))})
    _db.session.refresh(open_initiative.contact)
    assert open_initiative.contact.accepts_messages is False
    assert csrf_client.get(f"/initiatieven/{open_initiative.id}/contact").status_code == 404
    assert csrf_client.get("/contact/afmelden/forged-token").status_code == 404


def test_honeypot_and_too_fast_are_refused(client, app, open_initiative):
    r = _post(client, open_initiative, homepage_url="http://spam.example")
    assert r.status_code == 422
    app.config["MIN_FILL_SECONDS"] = 60
    r = _post(client, open_initiative, form_started=issue_timestamp())
    assert r.status_code == 422
    assert "erg snel" in r.get_data(as_text=True)
    assert _db.session.scalar(select(OutboxMessage.id)) is None


def test_validation_keeps_typed_values(client, open_initiative):
    r = _post(client, open_initiative, email="geen-adres", message="kort")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "geen-adres" in html
    assert "Piet Jansen" in html
    assert "error-summary" in html


def test_unknown_reply_token_is_404(client, app):
    assert client.get("/contact/antwoord/nope").status_code == 404


@pytest.fixture
def limited_app(app):
    with rate_limited_app(app, CONTACT_RATE_LIMIT="2 per minute") as limited:
        yield limited


def test_message_form_is_rate_limited(limited_app):
    from registry.submissions.services import ContactData
    from tests.factories import make_initiative

    initiative = make_initiative(contact=ContactData(name="C", email="c@school.nl",
                                                     consent_contact=True))
    initiative.contact.accepts_messages = True
    _db.session.commit()
    client = limited_app.test_client()
    statuses = [_post(client, initiative).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]


def test_contact_can_opt_in_through_a_private_link(csrf_client, closed_initiative):
    from registry.connect.services import opt_in_url

    url = path_of(opt_in_url(closed_initiative.contact))
    page = csrf_client.get(url)
    assert page.status_code == 200
    csrf_client.post(url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    _db.session.refresh(closed_initiative.contact)
    assert closed_initiative.contact.accepts_messages is True
    assert csrf_client.get(f"/initiatieven/{closed_initiative.id}/contact").status_code == 200
    event = _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "connect.accepts_messages"))
    assert event.after == {"accepts_messages": True}
    # An opt-out token is not an opt-in token.
    from registry.connect.services import opt_out_token

    assert csrf_client.get(f"/contact/aanmelden/{opt_out_token(closed_initiative.contact)}"
                           ).status_code == 404


def test_daily_maximum_per_contact(client, app, open_initiative):
    app.config["CONTACT_MAX_PER_DAY"] = 2
    assert [_post(client, open_initiative).status_code for _ in range(3)] == [302, 302, 429]
    assert _db.session.scalar(select(func.count(ContactRequest.id))) == 2
