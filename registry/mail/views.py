"""Admin view of the mail outbox: queued and failed mail, with a retry button."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from registry.audit.services import record
from registry.auth.decorators import role_required
from registry.extensions import db
from registry.mail.models import OutboxMessage
from registry.mail.sender import open_messages
from registry.mail.services import requeue

bp = Blueprint("mail", __name__, url_prefix="/beheer/mail")


@bp.route("")
@role_required("admin")
def outbox():
    messages = db.session.scalars(open_messages()).all()
    # Recipient addresses are personal data: the view is logged.
    record("mail.outbox_viewed", target_type="outbox_message",
           after={"count": len(messages)})
    db.session.commit()
    return render_template("mail/outbox.html", messages=messages, form=FlaskForm())


@bp.route("/<int:message_id>/opnieuw", methods=["POST"])
@role_required("admin")
def retry(message_id: int):
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if message.status == "sent":
        flash(_("Dit bericht is al verstuurd."), "info")
        return redirect(url_for("mail.outbox"))
    requeue(message)
    record("mail.retry", target_type="outbox_message", target_id=message.id)
    db.session.commit()  # sent after the response (registry/mail/delivery.py)
    flash(_("Het bericht staat weer in de wachtrij."), "success")
    return redirect(url_for("mail.outbox"))
