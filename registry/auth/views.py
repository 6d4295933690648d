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
from registry.auth import services, sessions
from registry.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm, TotpForm
from registry.auth.models import User, load_user, new_session_token
from registry.auth.passwords import check_password
from registry.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None  # role_required redirects itself; no English flash

# Idle timeout and absolute lifetime of staff sessions (issue 17, item 4), on every request.
bp.before_app_request(sessions.check_staff_session)

# The password step is valid this long for entering the code (session["totp_started"]).
SECOND_STEP_MAX_SECONDS = 10 * 60
# After a set-password link, the second factor must be set up within this time.
ENROL_MAX_SECONDS = 30 * 60


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
    sessions.reset()
    login_user(user)
    sessions.start()
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
            if services.totp_enrolment_needed(user):
                # enrolment only through a set-password link, never after the password step
                record("login.failure", target_type="user", target_id=user.id,
                       reason="second factor not set up", actor=user)
                db.session.commit()
                return render_template("auth/totp_not_enrolled.html"), 403
            if services.totp_required(user):
                db.session.commit()
                sessions.reset()
                session["totp_user"] = user.get_id()
                session["totp_started"] = sessions.now()
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
    started = session.get("totp_started")
    if not raw or not isinstance(started, int):
        return None
    if not 0 <= sessions.now() - started <= SECOND_STEP_MAX_SECONDS:
        sessions.reset()
        flash(_("De tijd voor de tweede stap is verstreken. Log opnieuw in."), "info")
        return None
    return load_user(raw)


def _code_error(result: services.TotpCheck) -> str:
    if result is services.TotpCheck.REUSED:
        return _("Deze code is al gebruikt. Wacht tot uw authenticator-app een nieuwe code "
                 "toont en vul die in.")
    if result is services.TotpCheck.LOCKED:
        return _("Uw account is tijdelijk geblokkeerd na te veel onjuiste codes. Probeer het "
                 "over %(minutes)s minuten opnieuw.",
                 minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    return _("Deze code klopt niet. Probeer de volgende code.")


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def second_factor():
    user = _pending_totp_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not user.totp_secret:  # not enrolled: only a set-password link can change that
        sessions.reset()
        return render_template("auth/totp_not_enrolled.html"), 403
    form = TotpForm()
    if form.validate_on_submit():
        result = services.check_totp(user, form.code.data or "")
        if result is services.TotpCheck.OK:
            return _start_session(user, session.get("totp_next") or None)
        cast(list, form.code.errors).append(_code_error(result))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/totp.html", form=form, enrolling=False), status


def _pending_enrolment_user() -> User | None:
    raw = session.get("totp_enrol_user")
    started = session.get("totp_enrol_started")
    if not raw or not isinstance(started, int):
        return None
    if not 0 <= sessions.now() - started <= ENROL_MAX_SECONDS:
        return None
    user = load_user(raw)
    if user is None or not user.totp_pending_secret:
        return None
    return user


@bp.route("/wachtwoord/tweede-stap", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def enrol_second_factor():
    """Set up the second factor: only right after a set-password link (see set_password)."""
    user = _pending_enrolment_user()
    if user is None:
        session.pop("totp_enrol_user", None)
        session.pop("totp_enrol_started", None)
        return render_template("auth/totp_not_enrolled.html"), 403
    secret = user.totp_pending_secret or ""
    form = TotpForm()
    if form.validate_on_submit():
        result = services.check_totp(user, form.code.data or "", enrolling=True)
        if result is services.TotpCheck.OK:
            sessions.reset()
            flash(_("Uw wachtwoord en de tweede stap zijn ingesteld. U kunt nu inloggen."),
                  "success")
            return redirect(url_for("auth.login"))
        cast(list, form.code.errors).append(_code_error(result))
    uri = services.totp_uri(user, secret)
    status = 422 if request.method == "POST" else 200
    response = current_app.make_response((render_template(
        "auth/totp.html", form=form, enrolling=True, secret=secret, uri=uri,
        qr_svg=services.totp_qr_svg(uri, _("QR-code om uw account toe te voegen aan een "
                                          "authenticator-app")),
    ), status))
    response.headers["Cache-Control"] = "no-store"  # the page shows the secret
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        # Every copy of this session cookie (and any remember cookie) names the old token now
        user.session_token = new_session_token()
        record("logout", target_type="user", target_id=user.id, actor=user)
        db.session.commit()
    logout_user()
    sessions.reset()
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
        enrol = services.totp_enrolment_needed(user)
        if enrol:
            services.start_totp_enrolment(user)
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        if enrol:  # the only way to set up the second factor: now, by whoever used the link
            sessions.reset()
            session["totp_enrol_user"] = user.get_id()
            session["totp_enrol_started"] = sessions.now()
            return redirect(url_for("auth.enrol_second_factor"))
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
