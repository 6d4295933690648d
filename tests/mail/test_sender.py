"""The outbox: SMTP delivery, retries with backoff, no duplicate sends, admin view."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.mail.models import OutboxMessage
from registry.mail.sender import _claim, send_pending
from registry.mail.services import queue_mail
from registry.submissions.models import Initiative
from tests.fixtures.mail import message_text
from tests.manage.helpers import post_with_csrf, submit


def queued(n: int = 1, to: str = "school@example.org") -> list[OutboxMessage]:
    messages = [queue_mail(to=to, subject=f"Bericht {i}", body_text=f"Tekst {i}\nmet é",
                           kind="test") for i in range(n)]
    db.session.commit()
    return messages


def test_smtp_delivers_queued_mail(app, smtp_server):
    (message,) = queued()
    assert send_pending() == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0}
    received = smtp_server.last(to="school@example.org")
    assert received["Subject"] == "Bericht 0"
    assert received["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert "outbox-" in received["Message-ID"]
    assert message_text(received).strip() == "Tekst 0\nmet é"
    db.session.refresh(message)
    assert message.status == "sent"
    assert message.sent_at is not None


def test_smtp_down_keeps_submission_and_send_mail_delivers_once(csrf_client, smtp_server,
                                                                 runner, app):
    smtp_server.down()
    initiative = submit(csrf_client)  # the form still succeeds
    assert db.session.get(Initiative, initiative.id) is not None
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == "queued"
    assert message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert as_utc(message.next_attempt_at) > utcnow()  # backoff

    result = runner.invoke(args=["send-mail"])  # still down and not yet due
    assert "sent: 0" in result.output

    smtp_server.up()
    app.config["MAIL_RETRY_BASE_SECONDS"] = 0  # make the retry due now
    message.next_attempt_at = utcnow()
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert "sent: 1" in result.output
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0")
    assert len(smtp_server.to("anne@example.org")) == 1  # no duplicate
    db.session.refresh(message)
    assert message.status == "sent"
    assert message.attempts == 2
    assert message.last_error == ""


def test_backoff_grows_then_fails_and_admin_can_retry(app, smtp_server, client, login):
    app.config.update(MAIL_MAX_ATTEMPTS=4, MAIL_RETRY_BASE_SECONDS=60,
                      MAIL_RETRY_MAX_SECONDS=200)
    smtp_server.down()
    (message,) = queued()
    now = utcnow()
    delays, statuses = [], []
    for _ in range(4):
        counts = send_pending(now=now)
        db.session.refresh(message)
        statuses.append((counts["retry"], counts["failed"], message.status, message.attempts))
        delays.append((as_utc(message.next_attempt_at) - now).total_seconds())
        now = as_utc(message.next_attempt_at)
    # 60 s, doubled per attempt (120, 240) but capped at 200 s; the fourth attempt gives up.
    assert delays == [60, 120, 200, 200]
    assert statuses == [(1, 0, "queued", 1), (1, 0, "queued", 2), (1, 0, "queued", 3),
                        (0, 1, "failed", 4)]
    assert send_pending(now=now + timedelta(days=1))["sent"] == 0  # failed is not retried
    assert smtp_server.messages == []

    # Visible to admins, with the error, and retryable.
    login(client, "admin")
    html = client.get("/beheer/mail").get_data(as_text=True)
    assert "Bericht 0" in html
    assert "mislukt" in html
    assert message.last_error[:20] in html
    smtp_server.up()
    response = post_with_csrf(client, "/beheer/mail", f"/beheer/mail/{message.id}/opnieuw")
    assert response.status_code == 302
    # Queued again and sent after the response (MAIL_SEND_IMMEDIATELY), once.
    (received,) = smtp_server.messages
    assert received["Subject"] == "Bericht 0"
    assert message_text(received).strip() == "Tekst 0\nmet é"
    db.session.refresh(message)
    assert (message.status, message.attempts) == ("sent", 1)


def test_mail_admin_requires_admin_role(app, client, login):
    assert client.get("/beheer/mail").status_code == 302  # to the login page
    login(client, "moderator")
    assert client.get("/beheer/mail").status_code == 403
    (message,) = queued()
    assert client.post(f"/beheer/mail/{message.id}/opnieuw").status_code in (400, 403)


def test_a_claimed_message_is_not_sent_by_a_second_worker(app, smtp_server):
    app.config["MAIL_CLAIM_SECONDS"] = 600
    (message,) = queued()
    now = utcnow()
    assert _claim(message.id, now) is True  # worker 1 took it (and has not sent yet)
    assert _claim(message.id, now) is False  # worker 2 cannot take it
    assert send_pending(now=now)["sent"] == 0
    assert smtp_server.messages == []
    # A worker that died mid-send: the claim expires and the message is sent once.
    later = now + timedelta(seconds=601)
    assert send_pending(now=now + timedelta(seconds=599))["sent"] == 0  # claim still holds
    assert send_pending(now=later)["sent"] == 1
    assert send_pending(now=later)["sent"] == 0
    (received,) = smtp_server.messages
    assert received["Subject"] == "Bericht 0"


def test_immediate_sending_can_be_switched_off(csrf_client, smtp_server, app):
    app.config["MAIL_SEND_IMMEDIATELY"] = False
    submit(csrf_client)
    assert smtp_server.messages == []
    assert db.session.scalars(select(OutboxMessage)).one().status == "queued"
    assert send_pending()["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_console_backend_prints(app, capsys):
    app.config["MAIL_BACKEND"] = "console"
    queued()
    assert send_pending()["sent"] == 1
    out = capsys.readouterr().out
    assert "Subject: Bericht 0" in out
    assert "To: school@example.org" in out


def test_memory_backend_for_tests(app):
    app.extensions["mail_memory"] = []
    queued(2)
    send_pending()
    assert [m["Subject"] for m in app.extensions["mail_memory"]] == ["Bericht 0", "Bericht 1"]
