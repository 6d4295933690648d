"""Mail that the first attempt after the commit did not deliver is sent by the running app
itself when MAIL_BACKGROUND_SECONDS is set (on under `make run`, which has no send-mail
timer), with the outbox's backoff; and a refused recipient's address stays out of the log."""
from __future__ import annotations

import logging
import time

from aiosmtpd.controller import Controller
from sqlalchemy import select

from registry.extensions import db
from registry.mail.models import OutboxMessage
from registry.mail.worker import background_sender
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post
from tests.fixtures.mail import SmtpServer, message_text, smtp_config

REASON = "Dit is geen gepersonaliseerd leren."


def pending(email: str):
    initiative = make_initiative(state=InitiativeState.PENDING)
    initiative.contact.email = email
    db.session.commit()
    return initiative


def reject(client, initiative):
    return csrf_post(client, f"/moderatie/{initiative.id}/afwijzen",
                     {"reason": REASON, "version_id": initiative.version_id})


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_failed_mail_is_retried_by_the_running_app_without_send_mail(app, client, login,
                                                                        smtp_server):
    app.config.update(MAIL_BACKGROUND_SECONDS=0.2, MAIL_RETRY_BASE_SECONDS=1)
    sender = background_sender(app)
    assert not sender.running()  # creating the app (as every CLI command does) starts nothing
    try:
        login(client, "moderator")
        initiative = pending("anne@hetbaken.nl")
        smtp_server.down()
        assert reject(client, initiative).status_code == 302
        assert sender.running()  # a served request started it
        (row,) = rows()
        assert (row.status, row.attempts) == ("queued", 1)  # the attempt after the commit
        smtp_server.up()
        assert wait_for(lambda: smtp_server.messages), "the background sender sent nothing"
        time.sleep(0.5)  # a few more rounds: still exactly one mail
        (received,) = smtp_server.messages
        assert REASON in message_text(received)
        (row,) = rows()
        assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    finally:
        sender.stop()
    assert not sender.running()


class _RefusingHandler:
    """An SMTP server that refuses every recipient (a mailbox that does not exist)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def test_a_refused_address_is_not_logged(app, client, login, caplog):
    address = "Geheim.Adres@HetBaken.nl"
    server = SmtpServer()  # for its free port
    controller = Controller(_RefusingHandler(), hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        app.config.update(smtp_config(server))
        login(client, "moderator")
        initiative = pending(address)
        with caplog.at_level(logging.DEBUG):
            assert reject(client, initiative).status_code == 302
    finally:
        controller.stop()
    (row,) = rows()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "Recipient address rejected" in row.last_error  # the cause is kept ...
    logged = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records
                       if not r.name.startswith("mail.log"))  # the test server's own log
    assert "Recipient address rejected" in logged  # ... and logged ...
    for text in (logged, row.last_error):
        assert address.lower() not in text.lower()  # ... without the address
