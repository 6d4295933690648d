"""Private links of the submitter: the signed confirmation link (double opt-in) and random
manage tokens, of which only the SHA-256 hash is stored.

A manage link is ``<BASE_URL>/beheren#<token>``: the token is in the URL fragment, which a
browser never sends to the server, so it is in no request line and no access log. The page at
``/beheren`` reads the fragment with a small script and posts it (``manage.open_link``), or the
contact pastes it into the form there; the server then keeps only the id of the token row in
the signed session cookie (``SESSION_KEY``) and every manage page is token-less.

A manage token stops working when it was not used for ``MANAGE_LINK_IDLE_MONTHS`` months
(``last_used_at``, or ``created_at`` when never used), and when a newer link is issued for the
same entry (``revoked_at``): only the newest mailed link works.
"""
from __future__ import annotations

import calendar
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.manage.models import ManageToken
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from registry.urls import absolute_url

CONFIRM_MAX_AGE = 7 * 24 * 3600  # confirmation links expire after 7 days
CONFIRM_SALT = "registry.manage.confirm"
SESSION_KEY = "manage_token"  # the session holds the id of the ManageToken row, never the token
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")
# Using the manage pages counts as using the link; noted at most this often (fewer writes).
TOUCH_EVERY = timedelta(hours=1)

# The answers of manage_token_status / session_initiative
OK, EXPIRED, REVOKED, INVALID = "ok", "expired", "revoked", "invalid"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def manage_link(token: str) -> str:
    """The mailed URL of a manage token: the token in the fragment, never in the path."""
    return f"{absolute_url('manage.overview')}#{token}"


def issue_manage_link(initiative: Initiative) -> str:
    """Create a new private manage token for ``initiative`` and return its absolute URL
    (``.../beheren#<token>``); every older link of the entry is revoked.

    Only the SHA-256 hash is stored; the URL must go straight into a mail. Not committed.
    """
    now = utcnow()
    db.session.execute(
        update(ManageToken)
        .where(ManageToken.initiative_id == initiative.id, ManageToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(ManageToken(initiative_id=initiative.id, token_hash=hash_token(token),
                               created_at=now))
    return manage_link(token)


def code_from(text: str) -> str:
    """The token in what a contact pasted: the code itself, or the whole link (the part
    after ``#``, or after ``/beheren/`` in an old link)."""
    text = (text or "").strip()
    if "#" in text:
        text = text.rsplit("#", 1)[1]
    elif "/beheren/" in text:
        text = text.rsplit("/beheren/", 1)[1].split("/", 1)[0].split("?", 1)[0]
    return text.strip()


def _months_before(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (as manage.retention counts)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def idle_cutoff(now: datetime | None = None) -> datetime:
    """A link last used (or, never used, created) before this moment has expired."""
    months = int(current_app.config["MANAGE_LINK_IDLE_MONTHS"])
    return _months_before(now or utcnow(), months)


def token_status(row: ManageToken | None, now: datetime | None = None) -> str:
    """OK, EXPIRED (not used for MANAGE_LINK_IDLE_MONTHS), REVOKED (a newer link was
    issued) or INVALID (no such token)."""
    if row is None:
        return INVALID
    if row.revoked_at is not None:
        return REVOKED
    last = as_utc(row.last_used_at or row.created_at)
    if last < idle_cutoff(now):
        return EXPIRED
    return OK


def touch(row: ManageToken, now: datetime | None = None) -> None:
    """Note that the link was used (keeps it from expiring). Not committed."""
    now = now or utcnow()
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= TOUCH_EVERY:
        row.last_used_at = now


def manage_token_status(token: str) -> tuple[str, ManageToken | None]:
    """(status, row) of a token from a link or pasted by the contact; the row only when
    the status is OK, and then its use is noted (not committed)."""
    token = code_from(token)
    if not TOKEN_RE.fullmatch(token):
        return INVALID, None
    row = db.session.scalar(select(ManageToken).where(ManageToken.token_hash == hash_token(token)))
    status = token_status(row)
    if status != OK or row is None:
        return status, None
    touch(row)
    return OK, row


def session_initiative(token_id: object) -> tuple[str, Initiative | None]:
    """(status, initiative) of the manage session (the token row id kept in the signed
    session cookie); the initiative only when the link still works. Notes the use."""
    if not isinstance(token_id, int) or isinstance(token_id, bool):
        return INVALID, None
    row = db.session.get(ManageToken, token_id)
    status = token_status(row)
    if status != OK or row is None:
        return status, None
    touch(row)
    return OK, row.initiative


def initiative_for_manage_token(token: str) -> Initiative | None:
    """The initiative a working manage token belongs to (not revoked, not expired); notes
    when it was used."""
    status, row = manage_token_status(token)
    return row.initiative if status == OK and row is not None else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def confirmation_token(initiative: Initiative) -> str:
    return _serializer().dumps({"i": initiative.id})


def check_confirmation(token: str, max_age: int = CONFIRM_MAX_AGE) -> tuple[str, Initiative | None]:
    """("ok" | "used" | "expired" | "invalid", initiative).

    "used": the entry was already confirmed (the link is one-time); "expired": the signature is
    genuine but older than ``max_age`` (the initiative is returned so a new link can be sent).
    """
    serializer = _serializer()
    try:
        payload = serializer.loads(token, max_age=max_age)
        status = "ok"
    except SignatureExpired:
        valid, payload = serializer.loads_unsafe(token)
        if not valid:
            return "invalid", None
        status = "expired"
    except BadSignature:
        return "invalid", None
    initiative_id = payload.get("i") if isinstance(payload, dict) else None
    initiative = (db.session.get(Initiative, initiative_id)
                  if isinstance(initiative_id, int) else None)
    if initiative is None:
        return "invalid", None
    if initiative.state != InitiativeState.UNCONFIRMED:
        return "used", initiative
    return status, initiative
