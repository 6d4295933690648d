"""Writing to the audit log. Call ``record`` in the same transaction as the change."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from registry.audit.models import AuditEvent
from registry.extensions import db


def record(
    action: str,
    *,
    target_type: str = "",
    target_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor=None,
) -> AuditEvent:
    """Append one audit event (not committed: the caller commits with the change itself).

    ``actor`` defaults to the logged-in user; outside a request it is recorded as 'system'.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None)
        or (actor if isinstance(actor, str) else "system"),
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        reason=reason,
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(event)
    return event
