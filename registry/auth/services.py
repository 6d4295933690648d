"""Staff accounts: creating, authenticating, password links, lockout. Callers commit."""
from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlalchemy import CursorResult, func, or_, select, update

from registry.audit.services import record
from registry.auth.models import ROLES, User, new_session_token
from registry.auth.passwords import check_password, dummy_check, hash_password, needs_rehash
from registry.database import as_utc, utcnow
from registry.extensions import db

logger = logging.getLogger(__name__)

SET_PASSWORD_SALT = "set-password"  # noqa: S105 - an itsdangerous salt (namespace), not a secret


class AccountError(ValueError):
    """A user-facing problem with an account operation (message is Dutch, translated)."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(email: str, role: str, name: str = "", *, actor=None) -> User:
    """A new active account without a password (it is set through a one-time link)."""
    from flask_babel import gettext as _

    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(_("Onbekende rol: %(role)s", role=role))
    if not email or "@" not in email:
        raise AccountError(_("Vul een geldig e-mailadres in."))
    if get_user_by_email(email) is not None:
        raise AccountError(_("Er bestaat al een account met dit e-mailadres."))
    user = User(email=email, name=name.strip(), role=role, active=True)
    db.session.add(user)
    db.session.flush()
    record("user.create", target_type="user", target_id=user.id,
           after={"email": email, "role": role, "name": user.name}, actor=actor)
    return user


# --- one-time set-password links -------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SET_PASSWORD_SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password is set (the session token rotates): one-time links."""
    material = f"{user.session_token}:{user.password_hash or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def set_password_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def set_password_link(user: User) -> str:
    """Absolute URL (config BASE_URL) of the one-time page to set the password."""
    token = set_password_token(user)
    if has_request_context():
        path = url_for("auth.set_password", token=token)
    else:  # CLI, background jobs
        with current_app.test_request_context():
            path = url_for("auth.set_password", token=token)
    return current_app.config["BASE_URL"].rstrip("/") + path


def user_from_token(token: str) -> User | None:
    max_age = current_app.config["SET_PASSWORD_LINK_MAX_AGE"]
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if user is None or not user.active or payload.get("f") != _fingerprint(user):
        return None
    return user


def set_password(
    user: User, password: str, *, action: str = "user.password_set", actor=None
) -> None:
    """Store a new password and rotate the session token: every other session is logged out."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    user.failed_logins = 0
    user.totp_failures = 0
    user.locked_until = None
    record(action, target_type="user", target_id=user.id, actor=actor or user)


# --- login -----------------------------------------------------------------------------------

@dataclass
class LoginResult:
    user: User | None
    ok: bool
    locked: bool = False


def _lock_settings() -> tuple[int, timedelta]:
    config = current_app.config
    return (config["LOGIN_MAX_FAILURES"], timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]))


def is_locked(user: User) -> bool:
    locked_until = as_utc(user.locked_until)
    return locked_until is not None and locked_until > utcnow()


def authenticate(email: str, password: str) -> LoginResult:
    """Check a login attempt, count failures, lock after too many; audit every attempt.

    The caller shows the same message for every failure (no account, wrong password, locked,
    deactivated) so that the response never reveals whether an account exists.
    """
    email = normalise_email(email)[:254]
    user = get_user_by_email(email)
    if user is None:
        dummy_check(password)
        record("login.failure", target_type="user", reason="unknown account", actor=email)
        return LoginResult(None, False)
    if not user.active:
        dummy_check(password)
        record("login.failure", target_type="user", target_id=user.id, reason="inactive",
               actor=user)
        return LoginResult(user, False)
    if is_locked(user):
        dummy_check(password)
        record("login.failure", target_type="user", target_id=user.id, reason="locked",
               actor=user)
        return LoginResult(user, False, locked=True)
    if not check_password(user.password_hash, password):
        max_failures, lock_for = _lock_settings()
        user.failed_logins = (user.failed_logins or 0) + 1
        reason = "wrong password"
        if user.failed_logins >= max_failures:
            user.locked_until = utcnow() + lock_for
            user.failed_logins = 0
            reason = "wrong password; account locked"
            logger.warning("Account %s locked after repeated failed logins", user.id)
        record("login.failure", target_type="user", target_id=user.id, reason=reason, actor=user)
        return LoginResult(user, False)
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    return LoginResult(user, True)


def record_login_success(user: User) -> None:
    user.last_login_at = utcnow()
    record("login.success", target_type="user", target_id=user.id, actor=user)


def change_role(user: User, role: str, *, actor) -> None:
    from flask_babel import gettext as _

    if role not in ROLES:
        raise AccountError(_("Onbekende rol: %(role)s", role=role))
    if user.id == getattr(actor, "id", None):
        raise AccountError(_("U kunt uw eigen rol niet wijzigen."))
    before = user.role
    user.role = role
    user.session_token = new_session_token()  # new rights apply from the next login
    record("user.role", target_type="user", target_id=user.id, before={"role": before},
           after={"role": role}, actor=actor)


def set_active(user: User, active: bool, *, actor) -> None:
    from flask_babel import gettext as _

    if user.id == getattr(actor, "id", None):
        raise AccountError(_("U kunt uw eigen account niet deactiveren."))
    before = user.active
    user.active = active
    if not active:
        user.session_token = new_session_token()  # log out everywhere
    record("user.activate" if active else "user.deactivate", target_type="user",
           target_id=user.id, before={"active": before}, after={"active": active}, actor=actor)


# --- optional second factor (TOTP) -----------------------------------------------------------
#
# Issue 17, item 6: a code is accepted once (the time step of the last accepted code is stored;
# that step and earlier ones are refused, also inside the +-1 step window); wrong codes count
# per account and lock it like wrong passwords (LOGIN_MAX_FAILURES, LOGIN_LOCKOUT_MINUTES);
# enrolment only right after a set-password link was used (totp_pending_secret).

TOTP_ISSUER = "Register gepersonaliseerd leren"


class TotpCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    REUSED = "reused"  # right code, but its time step was used already
    LOCKED = "locked"  # the account is locked (now, or it was already)


def totp_required(user: User) -> bool:
    """With TOTP_ENABLED, admins must use a second factor; others when they enrolled."""
    if not current_app.config["TOTP_ENABLED"]:
        return False
    return bool(user.totp_secret) or user.role == "admin"


def totp_enrolment_needed(user: User) -> bool:
    """A second factor is required but not set up (only a set-password link can set it up)."""
    return totp_required(user) and not user.totp_secret


def totp_clock() -> float:
    """The clock for TOTP time steps (tests monkeypatch it)."""
    return time.time()


def totp_step(code: str, secret: str, at: float | None = None) -> int | None:
    """The time step (current one, or one before or after) whose code ``code`` is, or None."""
    import pyotp

    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(totp_clock() if at is None else at)
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):  # compare every step: no timing
            found = step
    return found


def check_totp(user: User, code: str, *, enrolling: bool = False) -> TotpCheck:
    """Check a code for ``user`` (``enrolling``: against the pending secret) and commit.

    The attempt is counted before the code is checked, in one UPDATE that also refuses a
    locked account, and committed at once: parallel requests cannot get more than
    LOGIN_MAX_FAILURES codes checked between two locks. A correct code of a new time step
    resets the count and becomes the last used step in one conditional UPDATE, so the same
    code sent twice at once is accepted once. Enrolling moves the pending secret into place
    in that same statement.
    """
    max_failures, lock_for = _lock_settings()
    secret = user.totp_pending_secret if enrolling else user.totp_secret
    if not secret:
        raise ValueError("no TOTP secret to check against")
    reserved = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None),
                                       User.locked_until <= utcnow()))
        .values(totp_failures=User.totp_failures + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(user)
    if cast(CursorResult, reserved).rowcount != 1 or user.totp_failures > max_failures:
        # locked; or more attempts at once than allowed (or one that never finished): lock now
        if not is_locked(user):
            user.locked_until = utcnow() + lock_for
            user.totp_failures = 0
            logger.warning("Account %s locked after repeated wrong codes", user.id)
        record("login.failure", target_type="user", target_id=user.id, reason="locked",
               actor=user)
        db.session.commit()
        return TotpCheck.LOCKED
    step = totp_step(code, secret)
    if step is not None:
        values: dict = {"totp_last_counter": step, "totp_failures": 0}
        if enrolling:
            values.update(totp_secret=secret, totp_pending_secret=None)
        accepted = db.session.execute(
            update(User)
            .where(User.id == user.id, or_(User.totp_last_counter.is_(None),
                                           User.totp_last_counter < step))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult, accepted).rowcount == 1:
            if enrolling:
                record("user.totp_enrol", target_type="user", target_id=user.id, actor=user)
            db.session.commit()
            db.session.refresh(user)
            return TotpCheck.OK
    # a wrong or reused code: the attempt stays counted
    db.session.refresh(user)
    reason = "wrong code" if step is None else "code used before"
    result = TotpCheck.WRONG if step is None else TotpCheck.REUSED
    if user.totp_failures >= max_failures:
        user.locked_until = utcnow() + lock_for
        user.totp_failures = 0
        reason += "; account locked"
        result = TotpCheck.LOCKED
        logger.warning("Account %s locked after repeated wrong codes", user.id)
    record("login.failure", target_type="user", target_id=user.id, reason=reason, actor=user)
    db.session.commit()
    return result


def start_totp_enrolment(user: User) -> None:
    """A fresh secret to confirm with a first code (right after a set-password link)."""
    user.totp_pending_secret = new_totp_secret()


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str, label: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (no script, no style attribute), with a
    text alternative (``<title>`` and ``aria-label``); dark modules on a white quiet zone."""
    import segno

    svg = segno.make(uri, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title=label, svgclass="qr-code", lineclass=None)
    # segno writes only numbers, colours and the (escaped) title; the label is escaped here
    return Markup(  # noqa: S704
        svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))
