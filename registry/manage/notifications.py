"""Mail to the contact about their entry, written to the outbox in the transaction of the
change: the confirmation link, a fresh manage link, the rejection with its reason and the
moderators' request for changes. The last three are receivers of ``registry.events``."""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from registry import events
from registry.mail.models import OutboxMessage
from registry.mail.services import queue_mail
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
    if address is None:
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
    if address is None:
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


def register() -> None:
    events.entry_submitted.connect(on_submitted, weak=False)
    events.entry_rejected.connect(on_rejected, weak=False)
    events.changes_requested.connect(on_changes_requested, weak=False)
