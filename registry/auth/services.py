"""Staff accounts: creating, authenticating, password links, lockout. Callers commit."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

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

def totp_required(user: User) -> bool:
    """With TOTP_ENABLED, admins must use a second factor; others when they enrolled."""
    if not current_app.config["TOTP_ENABLED"]:
        return False
    return bool(user.totp_secret) or user.role == "admin"


def verify_totp(secret: str, code: str) -> bool:
    import pyotp

    code = "".join((code or "").split())
    return bool(code.isdigit()) and pyotp.TOTP(secret).verify(code, valid_window=1)


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                               issuer_name="Register gepersonaliseerd leren")
