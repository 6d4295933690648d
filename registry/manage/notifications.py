"""Mail to the contact about their entry, written to the outbox in the transaction of the
change: the confirmation link, a fresh manage link, and the moderators' decisions - published
(with the public link), rejected (with the reason), changes requested (with a fresh manage
link), a proposed edit approved or discarded, merged into another entry. The decisions are
receivers of ``registry.events``; moderation does not know that they send mail.

Each goes to the contact's address unless the contact was erased (``contact_address``), in
the contact's language (English first, then the Dutch text, for English submitters), once
per event: a second mail of the same kind about the same entry in one transaction is not
queued (``registry.mail.services.queued_in_transaction``). Addresses are never logged."""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from registry import events
from registry.mail.models import OutboxMessage
from registry.mail.services import queue_mail, queued_in_transaction
from registry.manage.tokens import CONFIRM_MAX_AGE, confirmation_token, issue_manage_link
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from registry.urls import absolute_url


def contact_address(initiative: Initiative) -> str | None:
    """The contact's address, or None when there is none (any more)."""
    contact = initiative.contact
    if contact is None or contact.erased_at is not None or not contact.email:
        return None
    return contact.email


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
    if contact is None:  # a new submission always has its contact
        raise ValueError(f"initiative {initiative.id} has no contact to confirm it")
    subject, body = _render_mail(
        "mail/confirm.txt", initiative.language,
        initiative=initiative, contact=contact,
        confirm_url=absolute_url("manage.confirm", token=confirmation_token(initiative)),
        manage_url=issue_manage_link(initiative),
        request_url=absolute_url("manage.request_link"),
        days=CONFIRM_MAX_AGE // 86400, months=current_app.config["MANAGE_LINK_IDLE_MONTHS"],
    )
    return queue_mail(to=contact.email, subject=subject, body_text=body, kind="confirm",
                      initiative_id=initiative.id)


def queue_manage_link_mail(initiative: Initiative) -> OutboxMessage | None:
    """A mail with a fresh manage link (None when there is no contact address any more)."""
    address = contact_address(initiative)
    if address is None:
        return None
    if initiative.state == InitiativeState.UNCONFIRMED:
        return queue_confirmation_mail(initiative)
    subject, body = _render_mail(
        "mail/manage_link.txt", initiative.language,
        initiative=initiative, contact=initiative.contact,
        manage_url=issue_manage_link(initiative),
        request_url=absolute_url("manage.request_link"),
        months=current_app.config["MANAGE_LINK_IDLE_MONTHS"],
    )
    return queue_mail(to=address, subject=subject, body_text=body, kind="manage_link",
                      initiative_id=initiative.id)


def _greeting(initiative: Initiative) -> str:
    name = initiative.contact.name if initiative.contact else ""
    return _("Beste %(name)s,", name=name) if name else _("Beste heer, mevrouw,")


def _sign_off() -> str:
    return _("Met vriendelijke groet,\nDe moderatoren van het Register gepersonaliseerd leren")


# -- receivers ----------------------------------------------------------------------------------

def on_submitted(change: events.EntryChange) -> None:
    queue_confirmation_mail(change.initiative)


def on_rejected(change: events.EntryChange) -> None:
    initiative = change.initiative
    address = contact_address(initiative)
    if address is None or queued_in_transaction("moderation.rejected", initiative.id):
        return
    with force_locale(initiative.language or "nl"):
        subject = _("Uw aanmelding %(ref)s is niet gepubliceerd", ref=initiative.reference)
        body = "\n\n".join([
            _greeting(initiative),
            _("Dank u voor het aanmelden van \"%(title)s\" bij het Register gepersonaliseerd "
              "leren. Na beoordeling hebben de moderatoren besloten de aanmelding niet te "
              "publiceren. De reden:", title=initiative.title),
            change.reason,
            _("Heeft u vragen of wilt u een aangepaste aanmelding doen? Beantwoord dan deze "
              "e-mail."),
            _sign_off(),
        ])
    queue_mail(to=address, subject=subject, body_text=body, kind="moderation.rejected",
               initiative_id=initiative.id)


def on_changes_requested(change: events.EntryChange) -> None:
    initiative = change.initiative
    address = contact_address(initiative)
    if address is None or queued_in_transaction("moderation.changes_requested",
                                                initiative.id):
        return
    link = issue_manage_link(initiative)
    with force_locale(initiative.language or "nl"):
        subject = _("Vraag over uw aanmelding %(ref)s", ref=initiative.reference)
        body = "\n\n".join([
            _greeting(initiative),
            _("De moderatoren van het Register gepersonaliseerd leren hebben uw aanmelding "
              "\"%(title)s\" bekeken en vragen u het volgende aan te passen:",
              title=initiative.title),
            change.reason,
            _("U kunt uw aanmelding aanpassen via deze persoonlijke link:\n%(link)s", link=link),
            _sign_off(),
        ])
    queue_mail(to=address, subject=subject, body_text=body,
               kind="moderation.changes_requested", initiative_id=initiative.id)


def _queue_status_mail(initiative: Initiative, kind: str, template: str,
                       **context) -> OutboxMessage | None:
    """A mail about a decision on ``initiative`` to its contact, rendered from ``template``;
    None when there is no address (erased) or this transaction already queued one of this
    kind about the entry."""
    address = contact_address(initiative)
    if address is None or queued_in_transaction(kind, initiative.id):
        return None
    subject, body = _render_mail(template, initiative.language, initiative=initiative,
                                 contact=initiative.contact,
                                 request_url=absolute_url("manage.request_link"), **context)
    return queue_mail(to=address, subject=subject, body_text=body, kind=kind,
                      initiative_id=initiative.id)


def public_url(initiative: Initiative) -> str | None:
    """The absolute link to the entry's public page, or None while it is not public."""
    if initiative.state != InitiativeState.PUBLISHED:
        return None
    return absolute_url("public.initiative", initiative_id=initiative.id)


def on_published(change: events.EntryChange) -> None:
    _queue_status_mail(change.initiative, "moderation.published", "mail/published.txt",
                       public_url=public_url(change.initiative))


def on_edit_approved(decision: events.RevisionDecision) -> None:
    _queue_status_mail(decision.initiative, "moderation.edit_approved",
                       "mail/edit_approved.txt", public_url=public_url(decision.initiative))


def on_edit_discarded(decision: events.RevisionDecision) -> None:
    _queue_status_mail(decision.initiative, "moderation.edit_discarded",
                       "mail/edit_discarded.txt", reason=(decision.reason or "").strip())


def on_merged(change: events.MergeChange) -> None:
    """The contact of the entry merged away hears where it went: the kept entry's public
    page, or its reference while that is not public."""
    _queue_status_mail(change.other, "moderation.merged", "mail/merged.txt",
                       kept=change.keep, public_url=public_url(change.keep))


def register() -> None:
    events.entry_submitted.connect(on_submitted, weak=False)
    events.entry_published.connect(on_published, weak=False)
    events.entry_rejected.connect(on_rejected, weak=False)
    events.changes_requested.connect(on_changes_requested, weak=False)
    events.edit_approved.connect(on_edit_approved, weak=False)
    events.edit_discarded.connect(on_edit_discarded, weak=False)
    events.entries_merged.connect(on_merged, weak=False)
