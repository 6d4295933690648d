"""Staff session lifetime: an idle timeout and an absolute lifetime (issue 17, item 4).

Both times live in the signed session cookie (``LOGIN_AT``: when the password and code were
accepted, ``SEEN_AT``: the last request), so a copied cookie carries them too and cannot
refresh the login time. Logout itself rotates ``User.session_token`` (views.logout): every copy
of the cookie, and any remember cookie, then names a token that no longer exists.
"""
from __future__ import annotations

import time

from flask import current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from registry.audit.services import record
from registry.extensions import db

LOGIN_AT = "_staff_login_at"
SEEN_AT = "_staff_seen_at"


def now() -> int:
    """The clock for session times (seconds; tests monkeypatch it)."""
    return int(time.time())


def start() -> None:
    """Call right after login_user: the absolute lifetime counts from here."""
    session[LOGIN_AT] = session[SEEN_AT] = now()


def reset(*, keep_language: bool = True) -> None:
    """Empty the session, keeping the language choice and a pending remember-cookie deletion."""
    lang = session.get("lang")
    remember = session.get("_remember")
    session.clear()
    if lang and keep_language:
        session["lang"] = lang
    if remember == "clear":  # set by logout_user(): Flask-Login deletes the cookie afterwards
        session["_remember"] = "clear"


def expiry_reason(at: int | None = None) -> str | None:
    """'idle' or 'lifetime' when the current session is over, else None."""
    at = now() if at is None else at
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return None
    config = current_app.config
    if at - login_at > config["SESSION_MAX_HOURS"] * 3600:
        return "lifetime"
    if at - seen_at > config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    return None


def check_staff_session():
    """Before every request: end a staff session that was idle or lived too long.

    The request then continues as anonymous, so a staff page redirects to the login page
    (with ``next``), where the flashed message says why. A session without times (one from
    before this check, or restored from a remember cookie) starts its clock now.
    """
    if request.endpoint == "static":
        return None
    remember_cookie = current_app.config["REMEMBER_COOKIE_NAME"]
    if "_user_id" not in session and remember_cookie not in request.cookies:
        return None  # anonymous: no database work
    if not current_user.is_authenticated:
        return None
    at = now()
    reason = expiry_reason(at)
    if reason is None:
        if not isinstance(session.get(LOGIN_AT), int):
            session[LOGIN_AT] = at
        session[SEEN_AT] = at
        return None
    user = current_user._get_current_object()
    record("logout", target_type="user", target_id=user.id, actor=user,
           reason="idle timeout" if reason == "idle" else "session lifetime reached")
    db.session.commit()
    logout_user()
    reset()
    if reason == "idle":
        flash(_("U bent automatisch uitgelogd omdat u %(minutes)s minuten niets heeft gedaan. "
                "Log opnieuw in.", minutes=current_app.config["SESSION_IDLE_MINUTES"]), "info")
    else:
        flash(_("U bent automatisch uitgelogd omdat u langer dan %(hours)s uur was ingelogd. "
                "Log opnieuw in.", hours=current_app.config["SESSION_MAX_HOURS"]), "info")
    return None
