"""Staff login, logout and password setting."""
from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from registry.audit.services import record
from registry.auth import services
from registry.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm, TotpForm
from registry.auth.models import User, load_user
from registry.auth.passwords import check_password
from registry.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None  # role_required redirects itself; no English flash


def _ip_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_IP"]


def _account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"]


def _account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))[:254]


def safe_next(target: str | None) -> str | None:
    """Only local paths ('/...'): never another host, scheme or protocol-relative URL."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def default_landing(user: User) -> str:
    if user.has_role("moderator") and "moderation.queue" in current_app.view_functions:
        return url_for("moderation.queue")
    if "summary.summary" in current_app.view_functions:
        return url_for("summary.summary")
    return url_for("public.home")


def _start_session(user: User, next_url: str | None):
    """Log in with a fresh session (no fixation), keeping only the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    services.record_login_success(user)
    db.session.commit()
    return redirect(safe_next(next_url) or default_landing(user))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")) or default_landing(current_user))
    if form.validate_on_submit():
        result = services.authenticate(form.email.data or "", form.password.data or "")
        if result.ok and result.user is not None:
            user = result.user
            if services.totp_required(user):
                db.session.commit()
                session.clear()
                session["totp_user"] = user.get_id()
                session["totp_next"] = safe_next(form.next.data) or ""
                return redirect(url_for("auth.second_factor"))
            return _start_session(user, form.next.data)
        db.session.commit()  # failure counters, lockout and the audit event
        cast(list, form.password.errors).append(
            _("Deze combinatie van e-mailadres en wachtwoord is niet bekend, of het account "
              "is (tijdelijk) geblokkeerd. Probeer het later opnieuw of vraag een beheerder "
              "om een nieuwe link.")
        )
        return render_template("auth/login.html", form=form), 422
    if request.method == "POST":
        return render_template("auth/login.html", form=form), 422
    return render_template("auth/login.html", form=form)


def _pending_totp_user() -> User | None:
    raw = session.get("totp_user")
    if not raw:
        return None
    return load_user(raw)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def second_factor():
    user = _pending_totp_user()
    if user is None:
        return redirect(url_for("auth.login"))
    enrolling = not user.totp_secret
    if enrolling and "totp_new_secret" not in session:
        session["totp_new_secret"] = services.new_totp_secret()
    secret = user.totp_secret or session["totp_new_secret"]
    form = TotpForm()
    if form.validate_on_submit():
        if services.verify_totp(secret, form.code.data or ""):
            next_url = session.get("totp_next") or None
            if enrolling:
                user.totp_secret = secret
                record("user.totp_enrol", target_type="user", target_id=user.id, actor=user)
            return _start_session(user, next_url)
        record("login.failure", target_type="user", target_id=user.id, reason="wrong code",
               actor=user)
        db.session.commit()
        cast(list, form.code.errors).append(_("Deze code klopt niet. Probeer de volgende code."))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/totp.html", form=form, enrolling=enrolling,
        secret=secret if enrolling else None,
        uri=services.totp_uri(user, secret) if enrolling else None,
    ), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        record("logout", target_type="user", target_id=current_user.id)
        db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("U bent uitgelogd."), "success")
    return redirect(url_for("public.home"))


@bp.route("/wachtwoord/<token>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def set_password(token: str):
    user = services.user_from_token(token)
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    form.email_for_check = user.email
    if form.validate_on_submit():
        services.set_password(user, form.password.data or "")
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        flash(_("Uw wachtwoord is ingesteld. U kunt nu inloggen."), "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user), status


@bp.route("/account/wachtwoord", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form.email_for_check = current_user.email
    if form.validate_on_submit():
        if not check_password(current_user.password_hash, form.current.data or ""):
            cast(list, form.current.errors).append(_("Uw huidige wachtwoord klopt niet."))
        else:
            user = current_user._get_current_object()
            services.set_password(user, form.password.data or "", action="user.password_change")
            db.session.commit()
            login_user(user)  # this session continues with the new token; all others end
            flash(_("Uw wachtwoord is gewijzigd. U bent op alle andere apparaten uitgelogd."),
                  "success")
            return redirect(default_landing(user))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status
