"""Private links of the submitter: the signed confirmation link (double opt-in) and random
manage tokens, of which only the SHA-256 hash is stored."""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from registry.database import utcnow
from registry.extensions import db
from registry.manage.models import ManageToken
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from registry.urls import absolute_url

CONFIRM_MAX_AGE = 7 * 24 * 3600  # confirmation links expire after 7 days
CONFIRM_SALT = "registry.manage.confirm"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_manage_link(initiative: Initiative) -> str:
    """Create a new private manage token for ``initiative`` and return its absolute URL.

    Only the SHA-256 hash is stored; the URL must go straight into a mail. Not committed.
    """
    token = secrets.token_urlsafe(32)
    db.session.add(ManageToken(initiative_id=initiative.id, token_hash=hash_token(token)))
    return absolute_url("manage.overview", token=token)


def initiative_for_manage_token(token: str) -> Initiative | None:
    """The initiative a (non-revoked) manage token belongs to; notes when it was used."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(
        select(ManageToken).where(ManageToken.token_hash == hash_token(token),
                                  ManageToken.revoked_at.is_(None))
    )
    if row is None:
        return None
    row.last_used_at = utcnow()
    return row.initiative


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
