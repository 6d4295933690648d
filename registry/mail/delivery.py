"""When outbox mail is sent: after the transaction that queued it has committed.

Every mail is written to the outbox in the caller's transaction (``queue_mail`` in
registry/mail/services.py, or ``requeue`` for an admin's retry), and every mail is sent by one
function, ``registry.mail.sender.send_pending``, with its claim, retries and backoff. This
module only decides *when* ``send_pending`` runs for the rows a transaction queued:

* MAIL_SEND_IMMEDIATELY on (the default): once the transaction that queued the rows commits,
  their ids are handed to ``send_pending(ids=...)``

  - inside a request: after the response has been sent (``response.call_on_close``, in an
    app context of its own). The response time therefore reveals nothing about the mail
    (whether an address is known on the "request a new link" form, for instance), and a slow
    or unreachable SMTP server never slows down or fails a page;
  - outside a request (CLI commands, scripts): when the app context ends (the end of the
    command), in an app context of its own.

  Rows queued in a transaction (or a savepoint) that rolls back are never sent.
* MAIL_SEND_IMMEDIATELY off: nothing is sent after the commit; ``flask --app registry
  send-mail`` (a systemd timer or cron job, or ``send-mail --loop SECONDS`` as a worker)
  sends the outbox.

Failures are never raised to the user. ``send_pending`` records an SMTP failure on the row
(``queued`` with backoff, ``failed`` after MAIL_MAX_ATTEMPTS); anything else is logged. Either
way the row stays in the outbox, and send-mail sends it later - or, with
MAIL_BACKGROUND_SECONDS > 0 (``make run``), the app's own background sender
(``registry.mail.worker``), so that a retry needs no timer in development. A web worker
that dies after the commit but before sending leaves the row ``queued`` for send-mail (or
the background sender), too.

Mechanics: ``track`` (called by ``queue_mail``) lists the new rows in ``db.session.info``.
SQLAlchemy's ``after_commit`` event may not emit SQL, so it only turns the rows that are still
persistent into ids (``sqlalchemy.inspect(obj).identity``; a row whose INSERT was rolled
back, in a savepoint say, is transient by then) and hands them to the app context
(``flask.g``). ``after_rollback``/``after_soft_rollback`` drop the rows a rollback undid from
the list. An ``after_request`` hook registers the sending on the response; a
``teardown_appcontext`` handler, registered after Flask-SQLAlchemy's (so it runs before the
session is removed), sends whatever no response took over.
"""
from __future__ import annotations

import logging
import weakref

from flask import Flask, Response, current_app, g, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from registry.extensions import db
from registry.mail import worker
from registry.mail.sender import send_pending

logger = logging.getLogger(__name__)

_QUEUED = "registry.mail.queued"  # db.session.info: rows queued in the open transaction
_COMMITTED = "_registry_mail_committed"  # flask.g: the app context's _Committed


class _Committed:
    """Ids of outbox rows committed in one app context and not handed to send_pending yet."""

    __slots__ = ("ids", "after_response")

    def __init__(self) -> None:
        self.ids: dict[int, None] = {}  # an ordered set
        self.after_response = False  # a response sends them once it has been sent

    def take(self) -> list[int]:
        ids, self.ids = list(self.ids), {}
        return ids


def _committed() -> _Committed:
    holder = g.get(_COMMITTED)
    if holder is None:
        holder = _Committed()
        setattr(g, _COMMITTED, holder)
    return holder


def init_app(app: Flask) -> None:
    """Send queued mail after the commit (see the module docstring). Call after
    ``db.init_app(app)``: the teardown handler must run before Flask-SQLAlchemy's."""
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
        event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
    app.after_request(_after_request)
    app.teardown_appcontext(_teardown_appcontext)
    worker.init_app(app)  # retries (and leftovers) without a timer, see registry/mail/worker.py


def track(message) -> None:
    """Remember an outbox row queued (or queued again) in the current transaction."""
    db.session.info.setdefault(_QUEUED, []).append(message)
    if has_app_context() and current_app.config["MAIL_SEND_IMMEDIATELY"]:
        _committed()  # so that the request's response takes over sending, see _after_request


def queued_messages() -> list:
    """The outbox rows queued (or queued again) in the open transaction, not committed yet."""
    return list(db.session.info.get(_QUEUED, ()))


# -- session events ------------------------------------------------------------------------------

def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the rows are not committed yet
    queued = session.info.pop(_QUEUED, None)
    if not queued or not has_app_context() or not current_app.config["MAIL_SEND_IMMEDIATELY"]:
        return
    holder = _committed()
    for message in queued:
        state = inspect(message)
        if state.persistent and state.identity:
            holder.ids[state.identity[0]] = None


def _after_rollback(session: Session) -> None:
    """The database rolled back: after the outermost transaction, nothing queued in it exists
    (a savepoint is handled in ``_after_soft_rollback``, once SQLAlchemy has expunged its
    rows)."""
    if not session.in_nested_transaction():
        session.info.pop(_QUEUED, None)


def _after_soft_rollback(session: Session, _previous_transaction) -> None:
    """Any rollback, savepoints included: keep only rows still pending or persistent (rows
    whose INSERT was rolled back are transient now)."""
    queued = session.info.get(_QUEUED)
    if not queued:
        return
    kept = [m for m in queued if (state := inspect(m)).pending or state.persistent]
    if kept:
        session.info[_QUEUED] = kept
    else:
        session.info.pop(_QUEUED, None)


# -- hand-off ------------------------------------------------------------------------------------

def _after_request(response: Response) -> Response:
    """This request queued mail: send what it commits once the response has been sent.

    The ids are read when the response is closed, so rows committed after this hook (in a
    teardown handler) go out with them. A WSGI server closes the response after sending it;
    werkzeug's development server (``make run``) skips that when the client hangs up early,
    so the response's finaliser (when it is garbage collected) sends them too. Whichever
    comes first sends; the other finds nothing left."""
    holder = g.get(_COMMITTED)
    if holder is not None and not holder.after_response:
        holder.after_response = True
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy

        def send() -> None:
            _send_in_new_context(app, holder.take())

        response.call_on_close(send)
        weakref.finalize(response, send)
    return response


def _teardown_appcontext(_exc: BaseException | None) -> None:
    """The app context ends: send what was committed in it (a CLI command, a script), unless
    a response sends it after it has been sent. (A request that queues mail only after its
    response was made, in a teardown handler, has it sent here: before the response goes
    out.)"""
    holder = g.pop(_COMMITTED, None)
    if holder is None or holder.after_response or not holder.ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    _send_in_new_context(app, holder.take())


def _send_in_new_context(app: Flask, ids: list[int]) -> None:
    """``deliver`` in an app context (and so a database session) of its own: the ending
    context's session may hold work its owner did not commit, which must not be committed
    now."""
    if not ids:
        return
    try:
        with app.app_context():
            deliver(ids)
    except Exception:  # never fails the request or command; send-mail retries
        logger.exception("Sending mail %s after the commit failed; left for send-mail", ids)


def deliver(ids: list[int]) -> dict[str, int]:
    """Send these outbox rows now through ``send_pending`` (in the current app context), in
    batches of MAIL_BATCH_SIZE. Never raises: what is not sent stays in the outbox."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    size = current_app.config["MAIL_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        batch = ids[start:start + size]
        try:
            for key, value in send_pending(ids=batch).items():
                counts[key] += value
        except Exception:  # the rows stay queued (or claimed) for send-mail
            logger.exception("Sending mail %s after the commit failed; left for send-mail",
                             batch)
            try:
                db.session.rollback()
            except Exception:  # the database itself may be gone
                logger.exception("Rollback after a failed mail delivery failed")
    return counts
