"""Erasure (AVG art. 17) reaches every trace of the contact: after ``erase_contact`` the
contact's name, e-mail address and phone number (and the IP address of the contact's own
requests) are in no column of any table, read with plain SQL from the reflected schema -
not only the ``contact`` row, but the audit log (a moderator's question, a withdrawal reason,
any before/after payload), the outbox (a reply between schools carries the address), relayed
messages and revision reasons. Staff accounts and other entries with the same values keep
theirs."""
from __future__ import annotations

from sqlalchemy import select, text

from registry.audit.models import AuditEvent
from registry.audit.services import record
from registry.connect import services as connect
from registry.extensions import db
from registry.manage.erasure import ERASED, Scrubber, contact_values
from registry.manage.services import erase_contact, withdraw_initiative
from registry.moderation import services as moderation
from registry.published.snapshots import create_snapshot
from registry.submissions.models import Initiative
from registry.submissions.services import ContactData
from tests.factories import make_initiative
from tests.manage.tables import where_found

NAME = "Marieke Öztürk-Ĳsselmuiden"
EMAIL = "M.Ozturk@Zonnewijzer-College.nl"
PHONE = "06-98765432"
# how the values turn up in free text written by others
PHONE_VARIANTS = ("06-98765432", "0698765432", "06 9876 5432", "+31 6 98765432")
SUBMITTER_IP = "203.0.113.77"
SECRETS = (NAME, EMAIL, *PHONE_VARIANTS, SUBMITTER_IP)


def _entry(**overrides) -> Initiative:
    initiative = make_initiative(title="Zonnewijzer leerroutes", contact=ContactData(
        name=NAME, email=EMAIL, phone=PHONE, consent_contact=True, consent_publish_name=True,
        consent_quotes=True), **overrides)
    initiative.contact.accepts_messages = True
    db.session.commit()
    return initiative


def _leave_traces(app, initiative: Initiative, staff) -> None:
    """What a contact's life in the registry leaves behind, outside the contact row."""
    # the contact's own requests through the manage link are logged with their IP address
    with app.test_request_context("/beheren/x", environ_base={"REMOTE_ADDR": SUBMITTER_IP}):
        record("initiative.edit", target_type="initiative", target_id=initiative.id,
               actor="submitter")
    # a moderator looks up the contact and asks a question by name (audit reason + mail)
    moderation.reveal_contact(initiative, actor=staff)
    moderation.request_changes(
        initiative, f"Beste {NAME}, kunt u het doel scherper maken? Bel gerust: 06 9876 5432.",
        actor=staff)
    # any before/after payload that held the contact's data (nested, any letter case)
    record("initiative.edit", target_type="initiative", target_id=initiative.id, actor=staff,
           before={"contact": {"name": NAME, "email": EMAIL.lower(), "phone": "0698765432"}},
           after={"notes": [f"gebeld met {NAME.upper()} op +31 6 98765432"]})
    record("obstacle.reclassify", target_type="obstacle", target_id=initiative.obstacles[0].id,
           before={"area": "examineren", "by": EMAIL}, after={"area": "overig"}, actor=staff)
    # another school writes to the contact, who answers (the answer carries name and address)
    request_row, _mail = connect.relay_message(initiative, connect.MessageData(
        sender_name="Piet Jansen", sender_email="piet@delinde.nl",
        message=f"Beste {NAME}, hoe pakken jullie de examens aan?", sender_school="De Linde"))
    connect.reply_to_request(request_row, "Bel me gerust op 0698765432.")
    create_snapshot(note="voor het overleg")
    db.session.commit()


def test_erasing_a_published_entry_leaves_no_trace_of_the_contact(app, make_user):
    staff = make_user("moderator", email="staff@register.example", name="Sanne Staf")
    initiative = _entry()
    _leave_traces(app, initiative, staff)
    other = make_initiative(title="Ander initiatief")  # not touched
    other_email = other.contact.email
    assert {s for s, _t, _r in where_found(*SECRETS)} == set(SECRETS)  # the check can see

    erase_contact(initiative)
    db.session.commit()

    assert where_found(*SECRETS) == []
    # the entry itself stays, anonymous; the audit trail stays, scrubbed
    assert db.session.get(Initiative, initiative.id).title == "Zonnewijzer leerroutes"
    reasons = db.session.scalars(select(AuditEvent.reason).where(
        AuditEvent.action == "initiative.request_changes")).all()
    assert reasons == [f"Beste {ERASED}, kunt u het doel scherper maken? Bel gerust: {ERASED}."]
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "contact.view"))
    # staff and the other entry keep theirs
    assert where_found("staff@register.example", "Sanne Staf", other_email)


def test_erasing_a_withdrawn_entry_deletes_it_and_its_traces(app, make_user):
    staff = make_user("moderator")
    initiative = _entry()
    _leave_traces(app, initiative, staff)
    withdraw_initiative(initiative, reason=f"We stoppen ermee. Groet, {NAME} ({EMAIL})")
    db.session.commit()
    initiative_id = initiative.id

    assert erase_contact(initiative) is True
    db.session.commit()

    assert where_found(*SECRETS) == []
    assert db.session.get(Initiative, initiative_id) is None
    # nothing of the entry is left in tables without an enforced foreign key (SQLite)
    for table in ("contact_request", "revision", "manage_token", "contact"):
        assert db.session.execute(text(
            f"SELECT count(*) FROM {table} WHERE initiative_id = :i"),  # noqa: S608
            {"i": initiative_id}).scalar() == 0, table


def test_a_staff_account_with_the_contacts_address_keeps_its_audit_trail(app, make_user):
    """Only the entry's own rows are scrubbed: the moderator who registered their own school
    and erased themselves as its contact is still in the log as a staff member."""
    staff = make_user("moderator", email=EMAIL.lower(), name=NAME)
    record("user.create", target_type="user", target_id=staff.id,
           after={"email": staff.email, "name": staff.name}, actor="system")
    initiative = _entry()
    db.session.commit()

    erase_contact(initiative)
    db.session.commit()

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.after == {"email": EMAIL.lower(), "name": NAME}


def test_scrubber_matches_values_as_others_write_them():
    scrub = Scrubber({"name": "Jo de Wit", "email": "jo@wit.nl", "phone": "+31 (0)20 123 4567"})
    assert scrub.text("Beste JO DE WIT, mail JO@WIT.NL of bel 020-1234567.") == (
        f"Beste {ERASED}, mail {ERASED} of bel {ERASED}.")
    assert scrub.text("0031201234567 en +31 20 123 45 67") == f"{ERASED} en {ERASED}"
    # whole words and whole numbers only
    assert scrub.text("Jo de Witte; 0201234567890") == "Jo de Witte; 0201234567890"
    assert scrub.address("Jo@Wit.nl") == ""
    assert scrub.payload({"a": ["jo de wit", 3, None], "jo@wit.nl": True}) == {
        "a": [ERASED, 3, None], ERASED: True}
    assert not Scrubber({"name": "", "phone": "112"})  # nothing to look for
    assert contact_values(None) == {}
