"""Password rules and hashing for staff accounts."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
# A valid hash of a random password: checked when an account does not exist, so that a login
# attempt takes as long whether or not the account exists.
_DUMMY_HASH: dict[str, str] = {}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        _normalise(line) for line in lines if line.strip() and not line.startswith("#")
    )


def _normalise(password: str) -> str:
    return "".join(password.split()).lower()


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Dutch messages for everything wrong with a new password (empty list: acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Gebruik minstens %(min)d tekens.", min=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Gebruik maximaal %(max)d tekens.", max=MAX_LENGTH))
    normalised = _normalise(password)
    if normalised in common_passwords() or (normalised and len(set(normalised)) <= 2):
        problems.append(_("Dit wachtwoord is te bekend of te eenvoudig. Kies een ander."))
    local = email.split("@", 1)[0].lower() if email else ""
    if local and len(local) >= 4 and local in normalised:
        problems.append(_("Gebruik uw e-mailadres niet in uw wachtwoord."))
    return problems


def _method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


def check_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        dummy_check(password)
        return False
    return check_password_hash(password_hash, password)


def dummy_check(password: str) -> None:
    """Spend the time of a real check (no account, or no password set yet)."""
    method = _method()
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash("dummy-password-not-used", method=method)
    check_password_hash(_DUMMY_HASH[method], password)


def needs_rehash(password_hash: str) -> bool:
    return not password_hash.startswith(_method().split(":")[0])
