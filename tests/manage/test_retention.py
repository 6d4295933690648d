"""Retention (issue 16): ``flask purge-retention`` deletes rejected and withdrawn entries whose
last change is more than RETENTION_MONTHS (default 12) months old, with everything personal
hanging off them; a dry run changes nothing. Checked with plain SQL over the reflected
tables, independently of the models: which entries go (state and ``updated_at``), that
nothing of them is left, and that a snapshot's frozen figures stay."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from registry.connect import services as connect
from registry.connect.models import Subscription, SubscriptionNotice
from registry.database import utcnow
from registry.extensions import db
from registry.manage.retention import months_before, purge_retention
from registry.manage.services import issue_manage_link, withdraw_initiative
from registry.moderation import services as moderation
from registry.moderation.models import DuplicateFlag
from registry.published.snapshots import create_snapshot
from registry.submissions.services import ContactData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.manage.tables import everything, where_found

GONE = ("rejected", "withdrawn")
# How old each entry's last change is, in days: all well clear of the 12-month boundary
# (365 or 366 days), so the oracle below needs no calendar.
AGES = {
    "withdrawn_old": 400, "rejected_old": 367, "withdrawn_recent": 340, "rejected_recent": 1,
    "published_old": 1000, "pending_old": 1000, "unconfirmed_old": 1000, "merged_old": 1000,
}
STATES = {
    "withdrawn_old": InitiativeState.PUBLISHED,  # published, in a snapshot, then withdrawn
    "rejected_old": InitiativeState.PENDING, "withdrawn_recent": InitiativeState.PUBLISHED,
    "rejected_recent": InitiativeState.PENDING, "published_old": InitiativeState.PUBLISHED,
    "pending_old": InitiativeState.PENDING, "unconfirmed_old": InitiativeState.UNCONFIRMED,
    "merged_old": InitiativeState.PENDING,
}


def _sql(query: str, **params):
    result = db.session.execute(text(query), params)
    return result.all() if result.returns_rows else []


def _contact(key: str) -> ContactData:
    return ContactData(name=f"Persoon {key.replace('_', ' ').title()}",
                       email=f"{key}@school-{key}.nl", phone="020 123 45 67",
                       consent_contact=True, consent_publish_name=True)


@pytest.fixture
def registry_data(app, make_user):
    """One entry per case, with links, mail, revisions, a relayed message and its answer,
    a digest notice and a duplicate flag; a snapshot made while two were published."""
    staff = make_user("moderator")
    items = {key: make_initiative(state=STATES[key], title=f"Initiatief {key}",
                                  contact=_contact(key)) for key in AGES}
    for key in ("withdrawn_old", "withdrawn_recent"):
        items[key].contact.accepts_messages = True
    db.session.commit()
    for item in items.values():
        issue_manage_link(item)
    old = items["withdrawn_old"]
    request_row, _mail = connect.relay_message(old, connect.MessageData(
        sender_name="Piet Jansen", sender_email="piet@delinde.nl",
        message="Hoe pakken jullie dit aan?", sender_school="De Linde"))
    connect.reply_to_request(request_row, "Bel me gerust.")
    sub = Subscription(email="abonnee@example.org", token_hash="a" * 64, confirmed_at=utcnow())
    db.session.add(sub)
    db.session.flush()
    db.session.add(SubscriptionNotice(subscription_id=sub.id, initiative_id=old.id))
    first, second = sorted((old.id, items["published_old"].id))
    db.session.add(DuplicateFlag(first_id=first, second_id=second, reasons=["names"]))
    db.session.commit()
    code = create_snapshot(note="voor het overleg").code
    db.session.commit()
    for key in ("withdrawn_old", "withdrawn_recent"):
        withdraw_initiative(items[key], reason=f"Gestopt, groet {items[key].contact.name}")
    for key in ("rejected_old", "rejected_recent"):
        moderation.reject(items[key], "Geen gepersonaliseerd leren.", actor=staff)
    db.session.commit()
    _sql("UPDATE initiative SET state = 'merged' WHERE id = :i", i=items["merged_old"].id)
    for key, days in AGES.items():  # last, so that no later change touches updated_at
        _sql("UPDATE initiative SET updated_at = :t WHERE id = :i",
             t=utcnow() - timedelta(days=days), i=items[key].id)
    db.session.commit()
    db.session.expire_all()
    return {"items": items, "code": code, "ids": {k: v.id for k, v in items.items()},
            "emails": {k: v.contact.email for k, v in items.items()},
            "names": {k: v.contact.name for k, v in items.items()}}


def _as_utc(value) -> datetime:
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _due_by_oracle() -> set[int]:
    """Rejected or withdrawn, last changed more than a year ago (plain SQL)."""
    year_ago = utcnow() - timedelta(days=366)
    return {row.id for row in _sql("SELECT id, state, updated_at FROM initiative")
            if row.state in GONE and _as_utc(row.updated_at) < year_ago}


def test_dry_run_lists_what_would_go_and_changes_nothing(runner, registry_data):
    ids = registry_data["ids"]
    assert _due_by_oracle() == {ids["withdrawn_old"], ids["rejected_old"]}
    before = everything()

    result = runner.invoke(args=["purge-retention", "--dry-run"])

    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert everything() == before
    out = result.output
    assert "Dry run: nothing is changed." in out
    assert "Would delete 2 entries (rejected: 1, withdrawn: 1)" in out
    assert "(retention 12 months)" in out
    items = registry_data["items"]
    for key in ("withdrawn_old", "rejected_old"):
        assert f"{items[key].reference}  id {ids[key]}" in out
    for key in AGES.keys() - {"withdrawn_old", "rejected_old"}:
        assert f"id {ids[key]} " not in out
    assert "relayed messages: 1" in out
    assert "digest notices: 1" in out
    assert "snapshots stay" in out


def test_real_run_deletes_exactly_the_due_entries_and_all_they_hold(runner, registry_data):
    ids, emails, names = registry_data["ids"], registry_data["emails"], registry_data["names"]
    due = _due_by_oracle()
    assert due == {ids["withdrawn_old"], ids["rejected_old"]}
    all_ids = {row.id for row in _sql("SELECT id FROM initiative")}
    gone_keys = [k for k in ids if ids[k] in due]
    assert where_found(*(emails[k] for k in gone_keys))  # the check can see them

    result = runner.invoke(args=["purge-retention"])

    assert result.exit_code == 0, result.output
    assert "Deleted 2 entries (rejected: 1, withdrawn: 1)" in result.output
    assert "snapshots stay" in result.output
    db.session.expire_all()
    assert {row.id for row in _sql("SELECT id FROM initiative")} == all_ids - due
    for table, column in (("contact", "initiative_id"), ("obstacle", "initiative_id"),
                          ("initiative_dimension", "initiative_id"),
                          ("manage_token", "initiative_id"), ("revision", "initiative_id"),
                          ("contact_request", "initiative_id"),
                          ("subscription_notice", "initiative_id"),
                          ("outbox_message", "initiative_id"), ("duplicate_flag", "first_id"),
                          ("duplicate_flag", "second_id")):
        left = [row[0] for row in _sql(f"SELECT {column} FROM {table}")]  # noqa: S608
        assert not due & set(left), (table, column)
    assert _sql("SELECT count(*) FROM organisation WHERE id NOT IN "
                "(SELECT organisation_id FROM initiative)")[0][0] == 0
    # the contacts of the deleted entries are nowhere (audit reasons, sent mail, ...)
    assert where_found(*(emails[k] for k in gone_keys), *(names[k] for k in gone_keys)) == []
    # the others keep theirs; the subscriber stays subscribed
    for key in ids.keys() - set(gone_keys):
        assert where_found(emails[key]), key
    assert _sql("SELECT email FROM subscription") == [("abonnee@example.org",)]
    # one audit record, by the system, without personal data
    events = _sql("SELECT actor_label, after FROM audit_event "
                  "WHERE action = 'initiative.purge_retention'")
    assert [label for label, _after in events] == ["system"]
    assert "Persoon" not in str(events[0][1])
    assert "@" not in str(events[0][1])
    # a second run finds nothing
    again = runner.invoke(args=["purge-retention"])
    assert "Deleted 0 entries (rejected: 0, withdrawn: 0)" in again.output


def test_a_snapshot_keeps_its_figures_when_a_withdrawn_entry_is_purged(client, runner,
                                                                        registry_data):
    code, ids = registry_data["code"], registry_data["ids"]
    outputs = (f"/api/v1/statistics?snapshot={code}", f"/export/knelpunten.csv?snapshot={code}",
               f"/knelpunten?snapshot={code}")
    before = {url: client.get(url).get_data(as_text=True) for url in outputs}
    rows_before = _sql("SELECT * FROM snapshot_initiative ORDER BY id")
    assert ids["withdrawn_old"] in {row.id for row in rows_before}

    assert runner.invoke(args=["purge-retention"]).exit_code == 0

    db.session.expire_all()
    assert {url: client.get(url).get_data(as_text=True) for url in outputs} == before
    # the withdrawn entry's row stays (it was blanked at withdrawal), nothing else changed
    assert _sql("SELECT * FROM snapshot_initiative ORDER BY id") == rows_before
    row = _sql("SELECT withdrawn, title, school_name, contact_name FROM snapshot_initiative "
               "WHERE id = :i", i=ids["withdrawn_old"])
    assert [tuple(r) for r in row] == [(True, "", "", None)]


def test_an_entry_rejected_after_publication_leaves_the_snapshots_when_purged(app,
                                                                             make_user):
    staff = make_user("moderator")
    item = make_initiative(title="Eerst gepubliceerd", contact=_contact("was_published"))
    code = create_snapshot().code
    moderation.reject(item, "Toch niet.", actor=staff)
    db.session.commit()
    _sql("UPDATE initiative SET updated_at = :t WHERE id = :i",
         t=utcnow() - timedelta(days=400), i=item.id)
    db.session.commit()

    run = purge_retention()
    db.session.commit()

    assert run.ids == [item.id]
    assert where_found("Eerst gepubliceerd", "Persoon Was Published") == []
    rows = _sql("SELECT s.code, si.withdrawn FROM snapshot_initiative si "
                "JOIN snapshot s ON s.id = si.snapshot_id")
    assert [tuple(r) for r in rows] == [(code, True)]


def test_the_period_is_configurable_and_counted_in_calendar_months(app, runner):
    item = make_initiative(state=InitiativeState.PENDING, title="Half jaar")
    withdraw_initiative(item)
    db.session.commit()
    now = datetime(2027, 3, 31, 12, 0, tzinfo=UTC)
    _sql("UPDATE initiative SET updated_at = :t WHERE id = :i",
         t=datetime(2026, 9, 30, 11, 0, tzinfo=UTC), i=item.id)
    db.session.commit()

    assert purge_retention(now=now, dry_run=True).ids == []  # RETENTION_MONTHS = 12
    assert purge_retention(now=now, months=6, dry_run=True).ids == [item.id]
    app.config["RETENTION_MONTHS"] = 7
    assert purge_retention(now=now, dry_run=True).ids == []
    result = runner.invoke(args=["purge-retention", "--months", "0"])
    assert result.exit_code != 0  # at least one month
    _sql("UPDATE initiative SET updated_at = :t WHERE id = :i",
         t=utcnow() - timedelta(days=200), i=item.id)
    db.session.commit()
    assert runner.invoke(args=["purge-retention"]).exit_code == 0  # 7 months
    assert _sql("SELECT count(*) FROM initiative")[0][0] == 1
    assert runner.invoke(args=["purge-retention", "--months", "6"]).exit_code == 0
    db.session.expire_all()
    assert _sql("SELECT count(*) FROM initiative")[0][0] == 0


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2027, 3, 31, 8, 30, tzinfo=UTC), 1, datetime(2027, 2, 28, 8, 30, tzinfo=UTC)),
    (datetime(2028, 3, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2027, 1, 15, tzinfo=UTC), 12, datetime(2026, 1, 15, tzinfo=UTC)),
    (datetime(2027, 1, 15, tzinfo=UTC), 13, datetime(2025, 12, 15, tzinfo=UTC)),
])
def test_months_before(moment, months, expected):
    assert months_before(moment, months) == expected
