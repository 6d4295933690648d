"""Connecting schools: a relayed message to an initiative's contact, the contact's private reply
page and opt-out, and digest subscriptions with double opt-in.

    /initiatieven/<id>/contact            the message form (only when the contact opted in)
    /initiatieven/<id>/contact/verstuurd  thank-you page
    /contact/antwoord/<token>             the contact reads the message and replies (private)
    /contact/afmelden/<token>             the contact stops receiving messages
    /contact/aanmelden/<token>            the contact opts in to messages (private link)
    /volgen                               subscribe to new initiatives per theme / area
    /volgen/bevestigen/<token>            double opt-in
    /volgen/afmelden/<token>              unsubscribe
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from registry.connect import services
from registry.connect.forms import ConfirmForm, MessageForm, ReplyForm, SubscribeForm
from registry.extensions import db
from registry.localized import localized
from registry.public.services import get_published
from registry.security.antispam import rate_limit

bp = Blueprint("connect", __name__)


@bp.app_template_global()
def connect_for(initiative) -> dict:
    """Everything the detail page shows from this domain (see templates/connect/_detail.html).
    Themes and areas come from the public obstacles only (``services.public_topics``)."""
    themes, areas = services.public_topics(initiative)
    return {
        "similar": services.similar_initiatives(initiative),
        "accepts_messages": services.accepts_messages(initiative),
        "theme_ids": sorted(themes),
        "area_codes": sorted(areas),
    }


def _published_or_404(initiative_id: int):
    initiative = get_published(initiative_id)
    if initiative is None:
        abort(404)
    return initiative


def _render_message_form(initiative, form, status: int = 200):
    return render_template("connect/message_form.html", initiative=initiative, form=form), status


def _message_rate_limited(message: str):
    initiative = _published_or_404((request.view_args or {})["initiative_id"])
    form = MessageForm()
    form.form_errors.append(message)
    return render_template("connect/message_form.html", initiative=initiative, form=form)


@bp.route("/initiatieven/<int:initiative_id>/contact", methods=["GET", "POST"])
@rate_limit("CONTACT_RATE_LIMIT", render=_message_rate_limited)
def message(initiative_id: int):
    initiative = _published_or_404(initiative_id)
    if not services.accepts_messages(initiative):
        return render_template("connect/no_messages.html", initiative=initiative), 404
    form = MessageForm()
    if request.method == "POST":
        if not form.validate():
            return _render_message_form(initiative, form, 422)
        if services.inbox_full(initiative):
            form.form_errors.append(_(
                "Deze school heeft vandaag al veel berichten via het register gekregen. "
                "Probeer het morgen opnieuw; uw bericht is nog niet verstuurd."))
            return _render_message_form(initiative, form, 429)
        data = services.MessageData(
            sender_name=form.name.data or "", sender_school=form.school.data or "",
            sender_email=form.email.data or "", message=form.message.data or "",
            language=str(get_locale() or "nl"),
        )
        services.relay_message(initiative, data)
        db.session.commit()
        return redirect(url_for("connect.message_sent", initiative_id=initiative.id))
    return _render_message_form(initiative, form)


@bp.route("/initiatieven/<int:initiative_id>/contact/verstuurd")
def message_sent(initiative_id: int):
    initiative = _published_or_404(initiative_id)
    return render_template("connect/message_sent.html", initiative=initiative)


@bp.route("/contact/antwoord/<token>", methods=["GET", "POST"])
def reply(token: str):
    row = services.find_request(token)
    contact = row.initiative.contact if row is not None else None
    if row is None or contact is None or contact.erased_at:
        abort(404)
    form = ReplyForm()
    if row.replied_at is None and request.method == "POST":
        if form.validate():
            services.reply_to_request(row, form.message.data or "")
            db.session.commit()
            flash(_("Uw antwoord is verstuurd."), "success")
            return redirect(url_for("connect.reply", token=token))
        return render_template("connect/reply.html", row=row, form=form), 422
    return render_template("connect/reply.html", row=row, form=form)


@bp.route("/contact/afmelden/<token>", methods=["GET", "POST"])
def opt_out(token: str):
    contact = services.contact_from_opt_out_token(token)
    if contact is None or contact.erased_at:
        abort(404)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        services.set_accepts_messages(contact, False, reason="opt-out link in relayed mail")
        db.session.commit()
        return render_template("connect/opted_out.html", contact=contact)
    return render_template("connect/opt_out.html", contact=contact, form=form)


@bp.route("/contact/aanmelden/<token>", methods=["GET", "POST"])
def opt_in(token: str):
    """The contact switches relayed messages on (link from ``services.opt_in_url``)."""
    contact = services.contact_from_opt_out_token(token, services.OPT_IN_SALT)
    if contact is None or contact.erased_at:
        abort(404)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        services.set_accepts_messages(contact, True, reason="opt-in link")
        db.session.commit()
    return render_template("connect/opt_in.html", contact=contact, form=form)


def _subscribe_form() -> SubscribeForm:
    themes, areas = services.topic_choices()
    form = SubscribeForm()
    form.themes.choices = [(t.id, localized(t, "title")) for t in themes]
    form.areas.choices = [(a.code, a.label) for a in areas]
    if request.method == "GET":
        form.themes.data = [int(v) for v in request.args.getlist("theme") if v.isdigit()]
        form.areas.data = [v for v in request.args.getlist("area")
                           if v in {a.code for a in areas}]
    return form


def _subscribe_rate_limited(message: str):
    form = _subscribe_form()
    form.form_errors.append(message)
    return render_template("connect/subscribe.html", form=form)


@bp.route("/volgen", methods=["GET", "POST"])
@rate_limit("SUBSCRIBE_RATE_LIMIT", render=_subscribe_rate_limited)
def subscribe():
    form = _subscribe_form()
    if request.method == "POST":
        if not form.validate():
            return render_template("connect/subscribe.html", form=form), 422
        services.subscribe(form.email.data or "", theme_ids=form.themes.data or [],
                           area_codes=form.areas.data or [], language=str(get_locale() or "nl"))
        db.session.commit()
        return render_template("connect/subscribe_sent.html", email=form.email.data)
    return render_template("connect/subscribe.html", form=form)


@bp.route("/volgen/bevestigen/<token>", methods=["GET", "POST"])
def confirm_subscription(token: str):
    sub = services.find_subscription(token)
    if sub is None:
        abort(404)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        services.confirm_subscription(sub)
        db.session.commit()
    return render_template("connect/subscription_confirm.html", sub=sub, form=form)


@bp.route("/volgen/afmelden/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    sub = services.subscription_from_unsubscribe_token(token)
    form = ConfirmForm()
    if sub is not None and request.method == "POST" and form.validate():
        services.unsubscribe(sub)
        db.session.commit()
        return render_template("connect/unsubscribed.html")
    if sub is None:
        # Already gone (or never existed): say so rather than a bare 404.
        return render_template("connect/unsubscribed.html", missing=True), 404
    return render_template("connect/unsubscribe.html", sub=sub, form=form)
