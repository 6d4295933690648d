"""Traces of a school contact outside the ``contact`` row (AVG art. 17, issue 16).

Erasure (``manage.services.erase_contact``) and the retention purge
(``manage.retention``) remove the contact row itself; this removes what else holds the
contact's name, e-mail address or phone number about that one entry:

- audit events about the entry or its obstacles: the name, address and number are replaced
  in ``before``, ``after`` and ``reason`` (a withdrawal reason signed with the name, a
  moderator's question starting "Beste ..."), and the IP address of events not done by a
  staff member (the contact's own requests through the manage link) is cleared;
- the entry's mail in the outbox: replaced in every text column; an address column that is
  the contact's address is emptied (a reply between schools carries it as Reply-To);
- relayed messages to the contact (``connect.ContactRequest``): deleted. They were kept only
  so that the contact could answer, which an erased contact no longer can;
- free-text reasons of the entry's revisions.

Only rows of this entry are touched: a staff account or another entry with the same address
is not the entry's contact. Values are matched in Python over those rows (JSON and
case-insensitive matching are written differently in SQLite and PostgreSQL), and an address
is matched in any letter case, a phone number with any spaces, dashes or dots between its
digits (and +31 or 0031 for a leading 0). Nothing is committed (the caller does).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, or_, select

from registry.audit.models import AuditEvent
from registry.connect.models import ContactRequest
from registry.extensions import db
from registry.history.models import Revision
from registry.mail.models import OutboxMessage
from registry.submissions.models import Contact, Initiative, Obstacle

ERASED = "[gewist]"
MIN_PHONE_DIGITS = 6  # shorter numbers are too likely to match other digits
_SEPARATORS = r"[\s\-./()]*"


def contact_values(contact: Contact | None) -> dict[str, str]:
    """The contact's identifying values (name, e-mail, phone); empty ones are left out."""
    if contact is None:
        return {}
    values = {"name": contact.name, "email": contact.email, "phone": contact.phone}
    return {key: value.strip() for key, value in values.items() if value and value.strip()}


def _phone_pattern(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if digits.startswith("0031") or phone.strip().startswith("+31"):  # +31 (0)20 ...
        national = digits[4:] if digits.startswith("0031") else digits[2:]
        digits = "0" + national.removeprefix("0")
    rest = _SEPARATORS.join(digits[1:])
    first = r"(?:0|\+31" + _SEPARATORS + r"(?:\(0\))?|0031)" if digits[0] == "0" else digits[0]
    return r"(?<!\d)" + first + _SEPARATORS + rest + r"(?!\d)"


class Scrubber:
    """Replaces one contact's values in texts and JSON payloads."""

    def __init__(self, values: Mapping[str, str | None]):
        patterns = []
        email = (values.get("email") or "").strip()
        self.email = email.lower()
        for key in ("email", "name"):  # the address first: it may contain the name
            value = (values.get(key) or "").strip()
            if value:  # a whole word: "Jo" is not erased from "jouw"
                patterns.append(r"(?<!\w)" + re.escape(value) + r"(?!\w)")
        phone = _phone_pattern(values.get("phone") or "")
        if phone:
            patterns.append(phone)
        self.pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def __bool__(self) -> bool:
        return self.pattern is not None

    def text(self, value: str | None) -> str | None:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(ERASED, value)

    def address(self, value: str | None) -> str | None:
        """An address column: emptied when it is the contact's address."""
        if value and self.email and value.strip().lower() == self.email:
            return ""
        return self.text(value)

    def payload(self, value: Any) -> Any:
        """A JSON value with the contact's values replaced in every string (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.payload(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.payload(v) for v in value]
        return value


def _set(row: Any, column: str, new: Any) -> int:
    if getattr(row, column) != new:
        setattr(row, column, new)
        return 1
    return 0


def _audit_events(initiative_id: int) -> list[AuditEvent]:
    obstacle_ids = select(Obstacle.id).where(Obstacle.initiative_id == initiative_id)
    return list(db.session.scalars(select(AuditEvent).where(or_(
        and_(AuditEvent.target_type == "initiative", AuditEvent.target_id == initiative_id),
        and_(AuditEvent.target_type == "obstacle", AuditEvent.target_id.in_(obstacle_ids)),
    )).order_by(AuditEvent.id)))


def scrub_contact_traces(initiative_id: int,
                         contact_values: Mapping[str, str | None]) -> dict[str, int]:
    """Remove the contact's name, e-mail address and phone number from the audit log, the
    outbox, relayed messages and revision reasons of this entry (see the module text).

    Call it before the contact row is blanked or deleted. Returns how many rows changed per
    table. Not committed.
    """
    scrub = Scrubber(contact_values)
    counts = {"audit_event": 0, "outbox_message": 0, "contact_request": 0, "revision": 0}
    for event in _audit_events(initiative_id):
        changed = 0
        if event.actor_id is None:  # the contact's (or a visitor's) request, not staff
            changed += _set(event, "ip", "")
        if scrub:
            changed += _set(event, "before", scrub.payload(event.before))
            changed += _set(event, "after", scrub.payload(event.after))
            changed += _set(event, "reason", scrub.text(event.reason))
        counts["audit_event"] += bool(changed)
    if scrub:
        for message in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.initiative_id == initiative_id)):
            changed = 0
            for column in ("to_address", "reply_to"):
                changed += _set(message, column, scrub.address(getattr(message, column)))
            for column in ("subject", "body_text", "body_html", "last_error"):
                changed += _set(message, column, scrub.text(getattr(message, column)))
            counts["outbox_message"] += bool(changed)
        for revision in db.session.scalars(
                select(Revision).where(Revision.initiative_id == initiative_id)):
            counts["revision"] += _set(revision, "reason", scrub.text(revision.reason))
    counts["contact_request"] = len(db.session.scalars(
        select(ContactRequest.id).where(ContactRequest.initiative_id == initiative_id)).all())
    if counts["contact_request"]:
        db.session.execute(delete(ContactRequest)
                           .where(ContactRequest.initiative_id == initiative_id))
    db.session.flush()
    return counts


def scrub_entries(ids: list[int]) -> None:
    """``scrub_contact_traces`` for each of these entries (before they are deleted)."""
    if not ids:
        return
    for initiative in db.session.scalars(select(Initiative).where(Initiative.id.in_(ids))
                                         .order_by(Initiative.id)):
        scrub_contact_traces(initiative.id, contact_values(initiative.contact))
