"""Administrator pages: accounts and the audit log."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.audit.services import record
from registry.auth import services as accounts
from registry.auth.decorators import protect_blueprint
from registry.auth.models import ROLES, User
from registry.extensions import db
from registry.history import labels
from registry.mail.services import queue_mail

from .forms import ROLE_LABELS, InviteForm

bp = Blueprint("admin", __name__, url_prefix="/beheer")
protect_blueprint(bp, "admin")

AUDIT_PAGE_SIZE = 50


def _actor():
    return current_user._get_current_object()


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.email)))


def _send_link(user: User, *, invite: bool) -> None:
    link = accounts.set_password_link(user)
    with force_locale("nl"):
        subject = (_("Uitnodiging voor het Register gepersonaliseerd leren") if invite
                   else _("Nieuwe link om uw wachtwoord in te stellen"))
        body = "\n\n".join([
            _("Beste %(name)s,", name=user.name) if user.name else _("Beste collega,"),
            _("Er is een account voor u aangemaakt in het Register gepersonaliseerd leren, "
              "met de rol %(role)s.", role=ROLE_LABELS[user.role]) if invite else
            _("U kunt een nieuw wachtwoord instellen voor het Register gepersonaliseerd leren."),
            _("Stel uw wachtwoord in via deze persoonlijke link (één keer te gebruiken, 7 dagen "
              "geldig):\n%(link)s", link=link),
            _("Heeft u hier niet om gevraagd? Dan kunt u deze e-mail negeren."),
        ])
    queue_mail(to=user.email, subject=subject, body_text=body,
               kind="auth.invite" if invite else "auth.password_link")


@bp.route("/gebruikers", methods=["GET", "POST"])
def users():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data or "", form.role.data, form.name.data or "",
                                        actor=_actor())
        except accounts.AccountError as exc:
            cast(list, form.email.errors).append(str(exc))
        else:
            _send_link(user, invite=True)
            db.session.commit()
            flash(_("%(email)s is uitgenodigd en krijgt een e-mail met een link om een "
                    "wachtwoord in te stellen.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/users.html", form=form, users=_users(), roles=ROLES,
                           role_labels=ROLE_LABELS), status


def _account_action(user_id: int, action):
    user = _user_or_404(user_id)
    try:
        message = action(user)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("admin.users"))


@bp.route("/gebruikers/<int:user_id>/rol", methods=["POST"])
def change_role(user_id: int):
    def action(user):
        accounts.change_role(user, request.form.get("role", ""), actor=_actor())
        return _("De rol van %(email)s is gewijzigd.", email=user.email)
    return _account_action(user_id, action)


@bp.route("/gebruikers/<int:user_id>/deactiveren", methods=["POST"])
def deactivate(user_id: int):
    def action(user):
        accounts.set_active(user, False, actor=_actor())
        return _("%(email)s is gedeactiveerd en overal uitgelogd.", email=user.email)
    return _account_action(user_id, action)


@bp.route("/gebruikers/<int:user_id>/activeren", methods=["POST"])
def activate(user_id: int):
    def action(user):
        accounts.set_active(user, True, actor=_actor())
        return _("%(email)s is weer actief.", email=user.email)
    return _account_action(user_id, action)


@bp.route("/gebruikers/<int:user_id>/wachtwoordlink", methods=["POST"])
def send_password_link(user_id: int):
    def action(user):
        if not user.active:
            raise accounts.AccountError(_("Activeer het account eerst."))
        _send_link(user, invite=False)
        record("user.password_link", target_type="user", target_id=user.id, actor=_actor())
        return _("%(email)s krijgt een e-mail met een nieuwe link.", email=user.email)
    return _account_action(user_id, action)


def _parse_date(raw: str | None):
    try:
        return datetime.strptime(raw or "", "%Y-%m-%d").date()
    except ValueError:
        return None


def _day_start(day) -> datetime:
    """Midnight in the Netherlands, as UTC (dates in the filter are local dates)."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo("Europe/Amsterdam"))
    return local.astimezone(UTC)


@bp.route("/audit")
def audit():
    args = request.args
    actor = (args.get("actor") or "").strip()[:254]
    action = (args.get("action") or "").strip()[:64]
    target_type = (args.get("target_type") or "").strip()[:40]
    target_id = args.get("target_id", type=int)
    if target_id is not None and not 0 <= target_id < 2**31:
        target_id = None  # out of range for the column: no such object
    date_from, date_to = _parse_date(args.get("from")), _parse_date(args.get("to"))
    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(func.lower(AuditEvent.actor_label).contains(actor.lower(),
                                                                       autoescape=True))
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    if target_type:
        stmt = stmt.where(AuditEvent.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEvent.target_id == target_id)
    if date_from:
        stmt = stmt.where(AuditEvent.created_at >= _day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEvent.created_at < _day_start(date_to + timedelta(days=1)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = min(max(1, args.get("page", 1, type=int) or 1), 100_000)
    events = db.session.scalars(
        stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE).offset((page - 1) * AUDIT_PAGE_SIZE)).all()
    actions = db.session.scalars(select(AuditEvent.action).distinct()
                                 .order_by(AuditEvent.action))
    target_types = db.session.scalars(select(AuditEvent.target_type).distinct()
                                      .where(AuditEvent.target_type != "")
                                      .order_by(AuditEvent.target_type))
    # The staff accounts of this page in one query (the page names them, labels.actor_name).
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    if actor_ids:
        db.session.scalars(select(User).where(User.id.in_(actor_ids))).all()
    return render_template(
        "admin/audit.html", events=events, total=total, page=page, page_size=AUDIT_PAGE_SIZE,
        action_groups=labels.action_choices(actions),
        target_types=sorted(((t, labels.target_type_label(t)) for t in target_types),
                            key=lambda item: item[1]),
        f={"actor": actor, "action": action, "target_type": target_type,
           "target_id": target_id if target_id is not None else "",
           "from": args.get("from", ""), "to": args.get("to", "")},
    )
