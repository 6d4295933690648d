"""The school contact hears about every moderation decision on the entry (issue 19):
published (with the public link), rejected (with the reason), changes asked (with a fresh
manage link), a proposed edit approved or discarded, merged into another entry - in the
contact's language, once per decision, never after the contact was erased.

Through the moderation pages where there is one (the view only commits; the mail goes out
after the response) and the real SMTP server on loopback; the oracles are what that server
received, plain SQL for references, and the public page the mailed link opens.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select, text

from registry import events, register_event_handlers
from registry.extensions import db
from registry.history import services as history
from registry.mail.models import OutboxMessage
from registry.manage.services import erase_contact
from registry.moderation import services as moderation
from registry.submissions.models import Initiative
from registry.submissions.services import ContactData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post
from tests.fixtures.mail import links, manage_link, message_text, path_of
from tests.manage.helpers import open_manage_link

ANNE = "anne@hetbaken.nl"
REASON = "Dit beschrijft geen gepersonaliseerd leren."


def entry(state=InitiativeState.PENDING, email=ANNE, language="nl", **kw) -> Initiative:
    return make_initiative(state=state, language=language, contact=ContactData(
        name="Anne de Vries", email=email, phone="0301234567", consent_contact=True), **kw)


def reference(initiative_id: int) -> str:
    return db.session.execute(text("SELECT reference FROM initiative WHERE id = :id"),
                              {"id": initiative_id}).scalar_one()


def decide(client, initiative: Initiative, action: str, **data):
    """A moderator's button on the entry page (with the entry's current version)."""
    db.session.refresh(initiative)
    return csrf_post(client, f"/moderatie/{initiative.id}/{action}",
                     {"version_id": initiative.version_id, **data})


def public_link(app, initiative_id: int) -> str:
    return f"{app.config['BASE_URL']}/initiatieven/{initiative_id}"


def outbox_kinds() -> list[tuple[str, int | None]]:
    db.session.expire_all()
    return [(m.kind, m.initiative_id) for m in
            db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_publication_mail_links_the_public_page_once(app, client, login, smtp_server, runner):
    register_event_handlers()  # connecting the receivers again adds no second mail
    login(client, "moderator")
    initiative = entry(title="Leren in eigen tempo")
    assert decide(client, initiative, "publiceren").status_code == 302

    (mail,) = smtp_server.messages
    assert smtp_server.envelopes[0][1] == [ANNE]
    assert mail["Subject"] == f"Uw aanmelding {reference(initiative.id)} is gepubliceerd"
    body = message_text(mail)
    assert body.startswith("Beste Anne de Vries,")
    assert "Leren in eigen tempo" in body
    assert public_link(app, initiative.id) in links(mail)
    page = client.get(path_of(public_link(app, initiative.id)))
    assert page.status_code == 200
    assert "Leren in eigen tempo" in page.get_data(as_text=True)
    assert not [u for u in links(mail) if urlsplit(u).fragment]  # no manage token in it

    # Publishing again is refused; nothing more is sent, now or by send-mail.
    assert decide(client, initiative, "publiceren").status_code == 422
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0,")
    assert len(smtp_server.messages) == 1
    assert outbox_kinds() == [("moderation.published", initiative.id)]


def test_an_english_contact_reads_english_first(app, client, login, smtp_server):
    login(client, "moderator")
    initiative = entry(language="en")
    assert decide(client, initiative, "publiceren").status_code == 302
    (mail,) = smtp_server.messages
    ref = reference(initiative.id)
    assert mail["Subject"] == f"Your entry {ref} has been published"
    body = message_text(mail)
    english = body.index("is now in the Register of personalised learning")
    dutch = body.index("staat nu in het Register gepersonaliseerd leren")
    assert english < dutch  # English first, the Dutch text below it
    assert body.count(public_link(app, initiative.id)) == 2

    assert decide(client, initiative, "afwijzen", reason=REASON).status_code == 302
    rejected = smtp_server.messages[-1]
    assert rejected["Subject"] == f"Your entry {ref} has not been published"
    assert REASON in message_text(rejected)


def test_rejection_carries_the_reason_and_a_change_request_a_working_manage_link(
        app, client, login, smtp_server):
    login(client, "moderator")
    initiative = entry()
    ref = reference(initiative.id)
    message = "Beschrijf graag hoe leerlingen hun eigen doelen kiezen."
    assert decide(client, initiative, "wijzigingen-vragen", message=message).status_code == 302
    (asked,) = smtp_server.messages
    assert asked["Subject"] == f"Vraag over uw aanmelding {ref}"
    assert message in message_text(asked)
    link = manage_link(asked)
    assert urlsplit(link).netloc == urlsplit(app.config["BASE_URL"]).netloc
    school = app.test_client()  # the contact, in a browser of their own
    assert open_manage_link(school, link) == "/beheren"
    assert initiative.title in school.get("/beheren").get_data(as_text=True)

    assert decide(client, initiative, "afwijzen", reason=REASON).status_code == 302
    assert len(smtp_server.messages) == 2
    rejected = smtp_server.last(to=ANNE)
    assert rejected["Subject"] == f"Uw aanmelding {ref} is niet gepubliceerd"
    assert REASON in message_text(rejected)


def _propose(initiative: Initiative, title: str):
    data = history.data_from_snapshot(history.snapshot(initiative), initiative.language)
    data.title = title
    revision = history.propose_revision(initiative, data, "submitter")
    db.session.commit()
    return revision


def test_an_approved_and_a_discarded_edit_are_mailed(app, client, login, smtp_server):
    login(client, "moderator")
    initiative = entry(state=InitiativeState.PUBLISHED, title="Oude titel")
    ref = reference(initiative.id)

    revision = _propose(initiative, "Nieuwe titel")
    url = f"revisie/{revision.id}/goedkeuren"
    assert decide(client, initiative, url).status_code == 302
    (approved,) = smtp_server.messages
    assert approved["Subject"] == f"Uw wijziging van {ref} is goedgekeurd"
    assert public_link(app, initiative.id) in links(approved)
    page = client.get(path_of(public_link(app, initiative.id))).get_data(as_text=True)
    assert "Nieuwe titel" in page

    revision = _propose(initiative, "Nog een titel")
    why = "De titel moet de naam van het initiatief blijven."
    response = decide(client, initiative, f"revisie/{revision.id}/verwerpen", reason=why)
    assert response.status_code == 302
    assert len(smtp_server.messages) == 2
    discarded = smtp_server.messages[-1]
    assert discarded["Subject"] == f"Uw wijziging van {ref} is niet overgenomen"
    assert why in message_text(discarded)
    new_link_page = f"{app.config['BASE_URL']}/beheren/nieuwe-link"
    assert new_link_page in links(discarded)  # where a lost manage link is replaced
    assert client.get(path_of(new_link_page)).status_code == 200


def test_the_contact_of_a_merged_entry_hears_where_it_went(app, smtp_server, make_user):
    moderator = make_user("moderator")
    keep = entry(state=InitiativeState.PUBLISHED, email="keep@school.nl", title="Blijft")
    other = entry(email=ANNE, title="Dubbel")
    with app.app_context():  # as a CLI command would: sent when the context ends
        moderation.merge(db.session.get(Initiative, keep.id),
                         db.session.get(Initiative, other.id), set(),
                         actor=db.session.get(type(moderator), moderator.id))
        db.session.commit()
    (mail,) = smtp_server.messages
    assert smtp_server.envelopes[0][1] == [ANNE]  # the kept entry's contact gets nothing
    assert mail["Subject"] == f"Uw aanmelding {reference(other.id)} is samengevoegd"
    body = message_text(mail)
    assert reference(keep.id) in body
    assert public_link(app, keep.id) in links(mail)


def test_an_erased_contact_gets_no_mail(app, client, login, smtp_server, make_user):
    login(client, "moderator")
    initiative = entry(state=InitiativeState.PUBLISHED)
    assert erase_contact(initiative) is False  # a published entry stays, anonymously
    db.session.commit()
    smtp_server.clear()
    revision = _propose(initiative, "Andere titel")
    assert decide(client, initiative, f"revisie/{revision.id}/verwerpen",
                  reason="Nee").status_code == 302
    assert decide(client, initiative, "afwijzen", reason=REASON).status_code == 302
    assert decide(client, initiative, "publiceren").status_code == 302
    other = entry(state=InitiativeState.PUBLISHED, email="keep@school.nl")
    moderation.merge(other, db.session.get(Initiative, initiative.id), set(),
                     actor=make_user("moderator"))
    db.session.commit()
    assert smtp_server.messages == []
    assert outbox_kinds() == []
    assert db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.to_address == ANNE)) is None


def test_a_decision_announced_twice_in_one_transaction_is_mailed_once(app, smtp_server):
    initiative = entry()
    with app.app_context():  # sent when the context ends, as in a CLI command
        item = db.session.get(Initiative, initiative.id)
        moderation.publish(item, actor="system")
        events.entry_published.send(events.EntryChange(item, "publish", "moderator"))
        db.session.commit()
    assert len(smtp_server.to(ANNE)) == 1
