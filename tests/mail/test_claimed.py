"""Mail claimed on insert (the submission form): sent right after the commit, exactly once.

The submission writes its confirmation mail to the outbox already claimed (``sending``) in the
same transaction and sends it after the commit without a separate claim (issue 11). These
tests prove the outbox guarantees still hold on that path.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.mail import sender
from registry.mail.models import OutboxMessage
from registry.mail.sender import _claim, claim_new, send_claimed, send_pending
from registry.mail.services import queue_mail
from registry.submissions.models import Initiative
from tests.fixtures.mail import confirm_link, message_text
from tests.manage.helpers import submit


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_submission_mail_is_delivered_once_and_marked_sent(csrf_client, smtp_server, runner):
    initiative = submit(csrf_client)
    assert len(smtp_server.to("anne@example.org")) == 1
    received = smtp_server.last(to="anne@example.org")
    (message,) = outbox()
    assert message.initiative_id == initiative.id and message.kind == "confirm"
    assert message.status == "sent" and message.attempts == 1 and message.sent_at is not None
    assert message.last_error == ""
    assert f"outbox-{message.id}" in received["Message-ID"]
    assert received["Subject"] == message.subject
    assert message_text(received).strip() == message.body_text.strip()
    assert confirm_link(received)  # exactly one confirmation link
    # Nothing is left for the outbox worker: no second copy.
    assert "sent: 0" in runner.invoke(args=["send-mail"]).output
    later = utcnow() + timedelta(days=1)
    assert send_pending(now=later)["sent"] == 0
    assert len(smtp_server.to("anne@example.org")) == 1


def test_smtp_down_the_submission_is_kept_and_the_mail_retried_once(csrf_client, smtp_server,
                                                                    app):
    smtp_server.down()
    initiative = submit(csrf_client)
    assert db.session.get(Initiative, initiative.id) is not None
    (message,) = outbox()
    assert message.status == "queued" and message.attempts == 1 and message.last_error
    assert as_utc(message.next_attempt_at) > utcnow()  # backoff, not retried at once

    smtp_server.up()
    due = as_utc(message.next_attempt_at) + timedelta(seconds=1)
    assert send_pending(now=due)["sent"] == 1
    assert send_pending(now=due + timedelta(days=1))["sent"] == 0
    assert len(smtp_server.to("anne@example.org")) == 1
    (message,) = outbox()
    assert message.status == "sent" and message.attempts == 2


def test_a_worker_that_dies_after_the_commit_leaves_the_mail_to_send_mail(
        csrf_client, smtp_server, app, monkeypatch):
    # The submission is committed, but the worker never gets to send (killed, say).
    monkeypatch.setattr(sender, "send_claimed", lambda claimed: None)
    submit(csrf_client)
    (message,) = outbox()
    assert message.status == "sending"  # claimed in the submission's own transaction
    now = utcnow()
    # Another worker cannot take it while the claim holds...
    assert _claim(message.id, now) is False
    assert send_pending(now=now)["sent"] == 0
    assert smtp_server.messages == []
    # ...and once the claim has expired send-mail delivers it, once.
    later = now + timedelta(seconds=app.config.get("MAIL_CLAIM_SECONDS", 600) + 1)
    assert send_pending(now=later)["sent"] == 1
    assert send_pending(now=later)["sent"] == 0
    assert len(smtp_server.to("anne@example.org")) == 1


def test_claim_new_and_send_claimed(app, smtp_server):
    message = queue_mail(to="school@example.org", subject="Bericht", body_text="Tekst\nmet é",
                         kind="test", reply_to="moderator@example.org")
    claimed = claim_new([message])
    db.session.commit()
    assert outbox()[0].status == "sending"
    assert _claim(message.id, utcnow()) is False  # owned by this worker already
    assert send_claimed(claimed) == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0}
    received = smtp_server.last(to="school@example.org")
    assert received["Reply-To"] == "moderator@example.org"
    assert received["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message_text(received).strip() == "Tekst\nmet é"
    (row,) = outbox()
    assert row.status == "sent" and row.attempts == 1
    assert send_claimed([]) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}


def test_claim_new_leaves_mail_queued_when_immediate_sending_is_off(app, smtp_server):
    app.config["MAIL_SEND_IMMEDIATELY"] = False
    message = queue_mail(to="school@example.org", subject="Bericht", body_text="Tekst",
                         kind="test")
    assert claim_new([message]) == []
    db.session.commit()
    assert outbox()[0].status == "queued"
    assert send_pending()["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_send_claimed_gives_up_after_the_last_attempt(app, smtp_server):
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    smtp_server.down()
    message = queue_mail(to="school@example.org", subject="Bericht", body_text="Tekst",
                         kind="test")
    claimed = claim_new([message])
    db.session.commit()
    assert send_claimed(claimed)["failed"] == 1
    (row,) = outbox()
    assert row.status == "failed" and row.attempts == 1


def test_sent_marks_are_written_in_batches_in_the_background(csrf_client, smtp_server, app):
    app.config["MAIL_MARK_BATCH_SECONDS"] = 0.05  # as in production (0.2 s), but shorter
    first = submit(csrf_client)
    second = submit(csrf_client, **{"contact-email": "bert@example.org"})
    assert len(smtp_server.to("anne@example.org")) == 1
    assert len(smtp_server.to("bert@example.org")) == 1
    sender.flush_sent_marks()  # whatever the thread has not written yet
    deadline = utcnow() + timedelta(seconds=10)
    while any(m.status != "sent" for m in outbox()) and utcnow() < deadline:
        sender.flush_sent_marks()
    messages = outbox()
    assert [m.initiative_id for m in messages] == [first.id, second.id]
    assert all(m.status == "sent" and m.attempts == 1 and m.sent_at for m in messages)
    # Nothing is sent twice, not even after the claims would have expired.
    later = utcnow() + timedelta(seconds=app.config.get("MAIL_CLAIM_SECONDS", 600) + 1)
    assert send_pending(now=later)["sent"] == 0
    assert len(smtp_server.messages) == 2
