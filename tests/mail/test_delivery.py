"""Mail is sent once the transaction that queued it commits (registry/mail/delivery.py).

One mechanism for every mail: the service writes the outbox row in the caller's transaction;
after the commit the row goes to ``send_pending`` - after the response inside a request, at the
end of the app context in a CLI command - or, with MAIL_SEND_IMMEDIATELY off, only when
``flask send-mail`` runs. What the SMTP server received is the oracle throughout.
"""
from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.mail.models import OutboxMessage
from registry.moderation import services as moderation
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post
from tests.fixtures.mail import SmtpServer, confirm_link, message_text
from tests.manage.helpers import submit

ROOT = Path(__file__).resolve().parents[2]
REASON = "Dit is geen gepersonaliseerd leren."


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def pending(email: str = "anne@hetbaken.nl") -> Initiative:
    initiative = make_initiative(state=InitiativeState.PENDING)
    initiative.contact.email = email
    db.session.commit()
    return initiative


def reject(client, initiative: Initiative, **kwargs):
    """The moderator rejects the entry: the service queues a mail, the view commits."""
    return csrf_post(client, f"/moderatie/{initiative.id}/afwijzen",
                     {"reason": REASON, "version_id": initiative.version_id}, **kwargs)


def without_app_context(func, *args, **kwargs):
    """Run ``func`` as the ``flask`` command line does: with no app context around it (in an
    empty set of context variables, which hides the test's own app context)."""
    return contextvars.Context().run(func, *args, **kwargs)


def test_a_moderation_mail_is_delivered_after_the_response(client, login, smtp_server):
    login(client, "moderator")
    initiative = pending()
    response = reject(client, initiative, buffered=False)  # the server has not closed it yet
    assert response.status_code == 302
    # Committed with the rejection, but not sent while the response was being built.
    (row,) = outbox()
    assert (row.kind, row.status, row.attempts) == ("moderation.rejected", "queued", 0)
    assert smtp_server.messages == []

    response.close()  # what the WSGI server does once the response has been sent
    (received,) = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["anne@hetbaken.nl"]
    assert received["To"] == "anne@hetbaken.nl"
    assert received["Subject"].startswith("Uw aanmelding ")
    assert received["Subject"].endswith(" is niet gepubliceerd")
    assert REASON in message_text(received)
    assert received["Message-ID"].endswith(f".outbox-{row.id}@registry.local>")
    (row,) = outbox()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")


def test_nothing_is_delivered_for_a_rolled_back_transaction(app, smtp_server):
    initiative = pending()
    # Outside a request: the mail of a committed transaction goes out when the app context
    # ends; the rolled-back transaction and the rolled-back savepoint send nothing.
    with app.app_context():
        item = db.session.get(Initiative, initiative.id)
        moderation.reject(item, "Eerste reden", actor="system")
        db.session.rollback()

        item = db.session.get(Initiative, initiative.id)
        moderation.reject(item, REASON, actor="system")
        savepoint = db.session.begin_nested()
        moderation.request_changes(item, "Wordt teruggedraaid", actor="system")
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
        assert smtp_server.messages == []  # not before the context ends
    (received,) = smtp_server.messages
    assert REASON in message_text(received)
    assert [(m.kind, m.status) for m in outbox()] == [("moderation.rejected", "sent")]


def test_a_request_whose_commit_fails_sends_nothing(client, login, smtp_server, monkeypatch):
    login(client, "moderator")
    initiative = pending()

    def failing_commit():
        db.session.flush()  # the outbox row exists in the transaction...
        raise RuntimeError("database gone")  # ...which never commits

    monkeypatch.setattr(db.session, "commit", failing_commit)
    assert reject(client, initiative).status_code == 500  # the error page rolls back
    monkeypatch.undo()
    assert outbox() == []
    assert smtp_server.messages == []


def test_with_immediate_sending_off_only_send_mail_sends(app, client, login, smtp_server,
                                                         runner):
    app.config["MAIL_SEND_IMMEDIATELY"] = False
    login(client, "moderator")
    initiative = pending()
    assert reject(client, initiative).status_code == 302  # buffered: the response is closed
    (row,) = outbox()
    assert (row.status, row.attempts) == ("queued", 0)
    assert smtp_server.messages == []

    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert result.output == "sent: 1, retry later: 0, failed: 0, skipped: 0\n"
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0,")
    (received,) = smtp_server.messages
    assert REASON in message_text(received)
    assert outbox()[0].status == "sent"


def test_an_smtp_failure_is_not_shown_and_send_mail_delivers_once(app, client, login,
                                                                  smtp_server, runner):
    app.config.update(MAIL_RETRY_BASE_SECONDS=60, MAIL_RETRY_MAX_SECONDS=3600)
    login(client, "moderator")
    initiative = pending()
    smtp_server.down()
    before = utcnow()
    response = reject(client, initiative)
    assert response.status_code == 302  # the moderator sees no error
    (row,) = outbox()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "refused" in row.last_error.lower() or "connect" in row.last_error.lower()
    retry_in = (as_utc(row.next_attempt_at) - before).total_seconds()
    assert 60 <= retry_in < 70  # the first retry waits MAIL_RETRY_BASE_SECONDS

    smtp_server.up()
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0,")  # not due yet
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 1,")
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0,")
    (received,) = smtp_server.messages  # exactly once
    assert REASON in message_text(received)
    (row,) = outbox()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_a_broken_mail_setup_never_fails_the_request(app, client, login, smtp_server, runner):
    app.config["MAIL_BACKEND"] = "carrier-pigeon"  # get_backend() raises
    login(client, "moderator")
    initiative = pending()
    assert reject(client, initiative).status_code == 302
    (row,) = outbox()
    assert (row.status, row.attempts) == ("queued", 0)
    app.config["MAIL_BACKEND"] = "smtp"
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 1,")
    assert len(smtp_server.messages) == 1


def test_a_cli_command_delivers_at_the_end_of_the_command(app, smtp_server):
    initiative = pending()
    seen_during_command: list[int] = []

    @click.command("reject-test")
    @with_appcontext
    def command() -> None:
        item = db.session.get(Initiative, initiative.id)
        moderation.reject(item, REASON, actor="system")
        db.session.commit()
        seen_during_command.append(len(smtp_server.messages))

    result = without_app_context(app.test_cli_runner().invoke, command)
    assert result.exit_code == 0, result.output
    assert seen_during_command == [0]  # committed, but sent when the command's context ends
    (received,) = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["anne@hetbaken.nl"]
    assert REASON in message_text(received)
    assert [(m.status, m.attempts) for m in outbox()] == [("sent", 1)]


def test_the_submission_mail_is_delivered_once(csrf_client, smtp_server, runner):
    initiative = submit(csrf_client)  # the view only commits; delivery is automatic
    (received,) = smtp_server.to("anne@example.org")
    (row,) = outbox()
    assert (row.kind, row.initiative_id) == ("confirm", initiative.id)
    assert (row.status, row.attempts) == ("sent", 1)
    assert received["Message-ID"].endswith(f".outbox-{row.id}@registry.local>")
    assert confirm_link(received)
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0,")
    assert len(smtp_server.messages) == 1


def test_send_mail_loop_runs_as_a_worker_until_sigterm(tmp_path):
    """``send-mail --loop`` sends what is queued meanwhile and stops cleanly on SIGTERM."""
    from registry import create_app

    url = f"sqlite:///{tmp_path / 'loop.db'}"
    setup = create_app("testing", SQLALCHEMY_DATABASE_URI=url, MAIL_SEND_IMMEDIATELY=False)
    with setup.app_context():
        db.create_all()
    smtp = SmtpServer()
    smtp.up()
    spec = (f"registry:create_app('testing', SQLALCHEMY_DATABASE_URI={url!r}, "
            f"MAIL_BACKEND='smtp', MAIL_SERVER='127.0.0.1', MAIL_PORT={smtp.port})")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", spec, "send-mail", "--loop", "0.1"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        with setup.app_context():
            from registry.mail.services import queue_mail

            queue_mail(to="loop@example.org", subject="Lus", body_text="Tekst", kind="test")
            db.session.commit()  # MAIL_SEND_IMMEDIATELY is off here: the worker sends it
        deadline = time.monotonic() + 15
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        smtp.down()
    assert worker.returncode == 0, err[-2000:]
    assert out == "sent: 1, retry later: 0, failed: 0, skipped: 0\n"
    (received,) = smtp.messages
    assert received["Subject"] == "Lus"
    with setup.app_context():
        assert db.session.scalars(select(OutboxMessage.status)).all() == ["sent"]
        db.engine.dispose()
