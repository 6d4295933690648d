"""The submitter's side: confirmation, manage links, edits, withdrawal and AVG rights.

Plain functions that never commit (views and CLI commands do). Public interface used by
other domains: ``issue_manage_link(initiative) -> str`` (absolute URL, e.g. for the
moderators' "please update your entry" mail) and ``queue_manage_link_mail``.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from registry.audit.services import record
from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.history import services as history
from registry.history.models import Revision
from registry.mail.models import OutboxMessage
from registry.mail.services import queue_mail
from registry.manage.models import ManageToken
from registry.submissions.models import Contact, Initiative, Organisation
from registry.submissions.services import InitiativeData, apply_initiative_data
from registry.taxonomy.constants import InitiativeState

logger = logging.getLogger(__name__)

CONFIRM_MAX_AGE = 7 * 24 * 3600  # confirmation links expire after 7 days
CONFIRM_SALT = "registry.manage.confirm"
PURGE_AFTER_DAYS = 30


# --------------------------------------------------------------------------- URLs and tokens
def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL under config BASE_URL (works outside a request, e.g. in the CLI)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


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


def confirm_initiative(initiative: Initiative) -> None:
    """Double opt-in done: the entry enters the moderation queue."""
    if initiative.state != InitiativeState.UNCONFIRMED:
        raise ValueError("initiative is not unconfirmed")
    before = history.snapshot(initiative)
    initiative.state = InitiativeState.PENDING
    history.record_change(initiative, "submitter", "confirm", before)
    # Flag likely duplicates as the entry arrives in the moderation queue.
    from registry.moderation.services import flag_duplicates

    flag_duplicates(initiative)
    record("initiative.confirm", target_type="initiative", target_id=initiative.id,
           actor="submitter")


# --------------------------------------------------------------------------- mail
def _render_mail(template: str, language: str, **context) -> tuple[str, str]:
    """(subject, body) in Dutch; for English submitters English first, then the Dutch text."""
    def render(lang: str) -> tuple[str, str]:
        with force_locale(lang):
            body = render_template(template, **context)
            subject = body.split("\n", 1)[0].removeprefix("Subject:").strip()
            return subject, body.split("\n", 1)[1].lstrip("\n")

    subject_nl, body_nl = render("nl")
    if language != "en":
        return subject_nl, body_nl
    subject_en, body_en = render("en")
    return subject_en, body_en.rstrip() + "\n\n" + "-" * 60 + "\n\n" + body_nl


def queue_confirmation_mail(initiative: Initiative) -> OutboxMessage:
    """The double opt-in mail with the confirmation link and a new manage link."""
    contact = initiative.contact
    subject, body = _render_mail(
        "mail/confirm.txt", initiative.language,
        initiative=initiative, contact=contact,
        confirm_url=absolute_url("manage.confirm", token=confirmation_token(initiative)),
        manage_url=issue_manage_link(initiative),
        request_url=absolute_url("manage.request_link"),
        days=CONFIRM_MAX_AGE // 86400,
    )
    return queue_mail(to=contact.email, subject=subject, body_text=body, kind="confirm",
                      initiative_id=initiative.id)


def queue_manage_link_mail(initiative: Initiative) -> OutboxMessage | None:
    """A mail with a fresh manage link (None when there is no contact address any more)."""
    contact = initiative.contact
    if contact is None or contact.erased_at is not None or not contact.email:
        return None
    if initiative.state == InitiativeState.UNCONFIRMED:
        return queue_confirmation_mail(initiative)
    subject, body = _render_mail(
        "mail/manage_link.txt", initiative.language,
        initiative=initiative, contact=contact, manage_url=issue_manage_link(initiative),
        request_url=absolute_url("manage.request_link"),
    )
    return queue_mail(to=contact.email, subject=subject, body_text=body, kind="manage_link",
                      initiative_id=initiative.id)


def request_links(email: str) -> list[OutboxMessage]:
    """Mail a new link for every entry of this address (nothing happens for unknown ones)."""
    email = (email or "").strip().lower()
    if not email:
        return []
    initiatives = db.session.scalars(
        select(Initiative).join(Contact)
        .where(func.lower(Contact.email) == email, Contact.erased_at.is_(None))
        .order_by(Initiative.id)
    ).all()
    messages = [queue_manage_link_mail(i) for i in initiatives]
    return [m for m in messages if m is not None]


# --------------------------------------------------------------------------- editing
def editable(initiative: Initiative) -> bool:
    return initiative.state != InitiativeState.WITHDRAWN


def current_content(initiative: Initiative) -> dict:
    """What the submitter sees in the edit form: their pending proposal, else the entry."""
    pending = history.pending_revision(initiative)
    return pending.data if pending is not None else history.snapshot(initiative)


def submit_edit(initiative: Initiative, data: InitiativeData) -> str:
    """Apply a submitter's edit. Returns "pending" (published: a revision awaits moderation)
    or "applied" (not yet published: changed directly; a rejected entry goes back to the
    moderation queue)."""
    if not editable(initiative):
        raise ValueError("a withdrawn entry cannot be edited")
    if initiative.state == InitiativeState.PUBLISHED:
        revision = history.propose_revision(initiative, data, "submitter")
        record("initiative.revision_proposed", target_type="initiative",
               target_id=initiative.id, actor="submitter", after={"revision": "pending"})
        db.session.flush()
        logger.info("Revision %s proposed for initiative %s", revision.id, initiative.id)
        return "pending"
    before = history.snapshot(initiative)
    apply_initiative_data(initiative, data)
    if initiative.state == InitiativeState.REJECTED:
        initiative.state = InitiativeState.PENDING
    history.record_change(initiative, "submitter", "edit", before)
    record("initiative.edit", target_type="initiative", target_id=initiative.id,
           actor="submitter")
    return "applied"


def mark_obstacle_solved(initiative: Initiative, obstacle_id: int) -> str | None:
    """Set one obstacle's status to "opgelost" (through ``submit_edit``); None if unknown."""
    content = current_content(initiative)
    data = history.data_from_snapshot(content, initiative.language)
    found = False
    obstacles = []
    for obstacle in data.obstacles:
        if obstacle.id == obstacle_id:
            obstacle = replace(obstacle, status="opgelost")
            found = True
        obstacles.append(obstacle)
    if not found:
        return None
    data.obstacles = obstacles
    return submit_edit(initiative, data)


def withdraw_initiative(initiative: Initiative, reason: str = "") -> None:
    """The entry leaves every public page and export at once (state withdrawn)."""
    before = history.snapshot(initiative)
    initiative.state = InitiativeState.WITHDRAWN
    for revision in db.session.scalars(
        select(Revision).where(Revision.initiative_id == initiative.id,
                               Revision.status == "pending")
    ):
        history.discard_revision(revision, None, "withdrawn")
    history.record_change(initiative, "submitter", "withdraw", before)
    record("initiative.withdraw", target_type="initiative", target_id=initiative.id,
           actor="submitter", before={"state": before["state"]},
           after={"state": str(initiative.state)}, reason=reason[:2000])


# --------------------------------------------------------------------------- AVG
def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


def personal_data_export(initiative: Initiative) -> dict:
    """Everything stored about the contact and their entry (AVG art. 15 and 20)."""
    contact = initiative.contact
    org = initiative.organisation
    revisions = history.revisions_for(initiative)
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.initiative_id == initiative.id)
        .order_by(OutboxMessage.id)
    ).all()
    tokens = db.session.scalars(
        select(ManageToken).where(ManageToken.initiative_id == initiative.id)
    ).all()
    return {
        "format": "registry-personal-data/1",
        "exported_at": _iso(utcnow()),
        "contact": None if contact is None else {
            "name": contact.name, "role": contact.role, "email": contact.email,
            "phone": contact.phone, "consent_contact": contact.consent_contact,
            "consent_publish_name": contact.consent_publish_name,
            "consent_quotes": contact.consent_quotes,
            "created_at": _iso(contact.created_at), "erased_at": _iso(contact.erased_at),
        },
        "initiative": {
            "reference": initiative.reference, "state": str(initiative.state),
            "language": initiative.language, "submitted_at": _iso(initiative.submitted_at),
            "published_at": _iso(initiative.published_at),
            "updated_at": _iso(initiative.updated_at),
            **history.snapshot(initiative),
        },
        "location": {
            "latitude": org.latitude, "longitude": org.longitude,
            "municipality": org.municipality, "province": org.province,
        },
        "revisions": [
            {"created_at": _iso(r.created_at), "by": r.actor_type, "kind": r.kind,
             "status": r.status, "changes": r.changes, "reason": r.reason}
            for r in revisions
        ],
        "mail": [
            {"created_at": _iso(m.created_at), "kind": m.kind, "to": m.to_address,
             "subject": m.subject, "status": m.status, "sent_at": _iso(m.sent_at)}
            for m in mails
        ],
        "manage_links": [
            {"created_at": _iso(t.created_at), "last_used_at": _iso(t.last_used_at),
             "revoked_at": _iso(t.revoked_at)}
            for t in tokens
        ],
    }


def erase_contact(initiative: Initiative) -> bool:
    """Erase the contact's personal data irreversibly (AVG art. 17).

    A published entry stays as anonymous initiative data (returns False). Any other entry
    is deleted altogether, since nobody could confirm or discuss it any more (returns True).
    Mail to the contact is scrubbed from the outbox either way.
    """
    initiative_id = initiative.id
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.initiative_id == initiative_id)
        .values(to_address="", reply_to="", body_text="", body_html="",
                status="failed", last_error="erased on request (AVG art. 17)")
        .where(OutboxMessage.status != "sent")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.initiative_id == initiative_id,
                                    OutboxMessage.status == "sent")
        .values(to_address="", reply_to="", body_text="", body_html="")
        .execution_options(synchronize_session=False)
    )
    if initiative.state != InitiativeState.PUBLISHED:
        record("initiative.erase", target_type="initiative", target_id=initiative_id,
               actor="submitter", reason="AVG art. 17: entry not published, deleted")
        _delete_initiatives([initiative_id])
        return True
    contact = initiative.contact
    if contact is not None:
        contact.name = ""
        contact.role = ""
        contact.email = ""
        contact.phone = ""
        contact.consent_contact = False
        contact.consent_publish_name = False
        contact.consent_quotes = False
        contact.erased_at = utcnow()
    before = history.snapshot(initiative)
    history.record_change(initiative, "submitter", "erase", before,
                          extra_changes={"contact": ["present", "erased"]})
    record("initiative.erase", target_type="initiative", target_id=initiative_id,
           actor="submitter", reason="AVG art. 17: contact data erased")
    return False


def _delete_initiatives(ids: list[int]) -> None:
    """Delete initiatives with everything that hangs off them (and orphaned schools)."""
    if not ids:
        return
    org_ids = set(db.session.scalars(
        select(Initiative.organisation_id).where(Initiative.id.in_(ids))))
    db.session.execute(delete(ManageToken).where(ManageToken.initiative_id.in_(ids)))
    db.session.execute(delete(Revision).where(Revision.initiative_id.in_(ids)))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.initiative_id.in_(ids),
                                                   OutboxMessage.status != "sent"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.initiative_id.in_(ids))
                       .values(initiative_id=None, to_address="", body_text="", body_html="")
                       .execution_options(synchronize_session=False))
    for initiative in db.session.scalars(select(Initiative).where(Initiative.id.in_(ids))):
        db.session.delete(initiative)  # ORM cascade: contact, dimensions, obstacles
    db.session.flush()
    for org_id in org_ids:
        if not db.session.scalar(select(func.count(Initiative.id))
                                 .where(Initiative.organisation_id == org_id)):
            db.session.execute(delete(Organisation).where(Organisation.id == org_id))


def purge_unconfirmed(now: datetime | None = None, days: int = PURGE_AFTER_DAYS) -> int:
    """Delete entries never confirmed within ``days`` days. Returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    ids = list(db.session.scalars(
        select(Initiative.id).where(Initiative.state == InitiativeState.UNCONFIRMED,
                                    Initiative.created_at < cutoff)))
    if ids:
        record("initiative.purge_unconfirmed", target_type="initiative",
               after={"count": len(ids), "ids": ids}, actor="system")
    _delete_initiatives(ids)
    return len(ids)
