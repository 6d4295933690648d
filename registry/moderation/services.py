"""Moderation operations: publish, reject, ask for changes, edit, duplicates, merge, themes.

Plain functions taking model objects and data; they write the audit log and the history in
the same transaction and never commit (the view or CLI command does).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from rapidfuzz import fuzz
from sqlalchemy import func, or_, select

from registry.audit.services import record
from registry.database import utcnow
from registry.extensions import db
from registry.mail.services import queue_mail
from registry.moderation.models import RULE_LEVELS, DuplicateFlag, Theme, ThemeRule
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import InitiativeState

logger = logging.getLogger(__name__)

# States in which an entry can still be somebody's duplicate.
ACTIVE_STATES = (InitiativeState.PENDING, InitiativeState.PUBLISHED)


class ModerationError(ValueError):
    """An operation that is not allowed in the entry's current state (Dutch message)."""


# --- history (helper A's module; optional until it lands) ------------------------------------

def _history():
    try:
        from registry.history import services as history
    except ImportError:
        return None
    return history


def snapshot(initiative: Initiative) -> dict[str, Any]:
    history = _history()
    if history is not None and hasattr(history, "snapshot"):
        return history.snapshot(initiative)
    return {"state": initiative.state, "title": initiative.title,
            "school": initiative.organisation.name}


def _record_change(initiative: Initiative, kind: str, before: dict, actor) -> None:
    history = _history()
    if history is not None and hasattr(history, "record_change"):
        history.record_change(initiative, "moderator", kind, before, actor=actor)


def pending_revision(initiative: Initiative):
    history = _history()
    if history is not None and hasattr(history, "pending_revision"):
        return history.pending_revision(initiative)
    return None


def revision_model():
    try:
        from registry.history.models import Revision
    except ImportError:
        return None
    return Revision


def _state_change(initiative: Initiative, action: str, new_state: str, actor,
                  reason: str = "") -> None:
    before = snapshot(initiative)
    old_state = initiative.state
    initiative.state = new_state
    _record_change(initiative, action.split(".", 1)[1], before, actor)
    record(action, target_type="initiative", target_id=initiative.id,
           before={"state": str(old_state)}, after={"state": str(new_state)}, reason=reason,
           actor=actor)


# --- mails to the contact --------------------------------------------------------------------

def _contact_address(initiative: Initiative) -> str | None:
    contact = initiative.contact
    if contact is None or contact.erased_at is not None or not contact.email:
        return None
    return contact.email


def _manage_link(initiative: Initiative) -> str | None:
    try:
        from registry.manage.services import issue_manage_link
    except ImportError:
        return None
    return issue_manage_link(initiative)


def _mail_contact(initiative: Initiative, kind: str, subject: str, body: str) -> None:
    to = _contact_address(initiative)
    if to is None:
        return
    queue_mail(to=to, subject=subject, body_text=body, kind=kind, initiative_id=initiative.id)


def _greeting(initiative: Initiative) -> str:
    name = initiative.contact.name if initiative.contact else ""
    return _("Beste %(name)s,", name=name) if name else _("Beste heer, mevrouw,")


# --- the basic actions -----------------------------------------------------------------------

def publish(initiative: Initiative, *, actor) -> None:
    if initiative.state not in (InitiativeState.PENDING, InitiativeState.REJECTED):
        raise ModerationError(_("Alleen een aanmelding die wacht op moderatie kan worden "
                                "gepubliceerd."))
    if initiative.published_at is None:
        initiative.published_at = utcnow()
    _state_change(initiative, "initiative.publish", InitiativeState.PUBLISHED, actor)
    _notify_subscribers(initiative)


def _notify_subscribers(initiative: Initiative) -> None:
    try:
        from registry.connect import services as connect
    except ImportError:
        return
    notify = getattr(connect, "notify_subscribers", None)
    if notify is not None:
        notify(initiative)


def reject(initiative: Initiative, reason: str, *, actor) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Geef een reden voor de afwijzing."))
    if initiative.state not in (InitiativeState.PENDING, InitiativeState.PUBLISHED):
        raise ModerationError(_("Deze aanmelding kan niet (meer) worden afgewezen."))
    _state_change(initiative, "initiative.reject", InitiativeState.REJECTED, actor, reason)
    with force_locale(initiative.language or "nl"):
        subject = _("Uw aanmelding %(ref)s is niet gepubliceerd", ref=initiative.reference)
        body = "\n\n".join([
            _greeting(initiative),
            _("Dank u voor het aanmelden van \"%(title)s\" bij het Register gepersonaliseerd "
              "leren. Na beoordeling hebben de moderatoren besloten de aanmelding niet te "
              "publiceren. De reden:", title=initiative.title),
            reason,
            _("Heeft u vragen of wilt u een aangepaste aanmelding doen? Beantwoord dan deze "
              "e-mail."),
            _("Met vriendelijke groet,\nDe moderatoren van het Register gepersonaliseerd leren"),
        ])
    _mail_contact(initiative, "moderation.rejected", subject, body)


def request_changes(initiative: Initiative, message: str, *, actor) -> None:
    message = (message or "").strip()
    if not message:
        raise ModerationError(_("Schrijf wat de contactpersoon moet aanpassen."))
    if _contact_address(initiative) is None:
        raise ModerationError(_("Deze aanmelding heeft geen contactpersoon om te mailen."))
    link = _manage_link(initiative)
    with force_locale(initiative.language or "nl"):
        subject = _("Vraag over uw aanmelding %(ref)s", ref=initiative.reference)
        parts = [
            _greeting(initiative),
            _("De moderatoren van het Register gepersonaliseerd leren hebben uw aanmelding "
              "\"%(title)s\" bekeken en vragen u het volgende aan te passen:",
              title=initiative.title),
            message,
        ]
        if link:
            parts.append(_("U kunt uw aanmelding aanpassen via deze persoonlijke link:\n%(link)s",
                           link=link))
        parts.append(_("Met vriendelijke groet,\nDe moderatoren van het Register "
                       "gepersonaliseerd leren"))
    _mail_contact(initiative, "moderation.changes_requested", subject, "\n\n".join(parts))
    record("initiative.request_changes", target_type="initiative", target_id=initiative.id,
           reason=message, actor=actor)


def edit(initiative: Initiative, data, *, expected_version: int | None, actor) -> None:
    """Apply InitiativeData; refuse when someone else saved in between (optimistic lock)."""
    from registry.submissions.services import apply_initiative_data

    check_version(initiative, expected_version)
    before = snapshot(initiative)
    apply_initiative_data(initiative, data)
    initiative.updated_at = utcnow()  # always bump the version, also for obstacle-only edits
    db.session.flush()
    _record_change(initiative, "edit", before, actor)
    changes = field_changes(before, snapshot(initiative))
    record("initiative.edit", target_type="initiative", target_id=initiative.id,
           before={k: v[0] for k, v in changes.items()},
           after={k: v[1] for k, v in changes.items()}, actor=actor)


class StaleEntryError(ModerationError):
    pass


def check_version(initiative: Initiative, expected_version: int | None) -> None:
    if expected_version is None or int(expected_version) != initiative.version_id:
        raise StaleEntryError(_(
            "Iemand anders heeft deze aanmelding intussen gewijzigd. Uw wijzigingen zijn niet "
            "opgeslagen. Bekijk de nieuwe versie en voer uw wijzigingen opnieuw in."))


def field_changes(before: dict, after: dict) -> dict[str, list]:
    """{key: [old, new]} between two snapshots (helper A's diff when available)."""
    history = _history()
    if history is not None and hasattr(history, "diff"):
        return history.diff(before, after)
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def reclassify_obstacle(obstacle: Obstacle, area_code: str, *, actor) -> None:
    from registry.taxonomy.models import ObstacleArea

    if db.session.get(ObstacleArea, area_code) is None:
        raise ModerationError(_("Kies een bestaand gebied."))
    if obstacle.area_code == area_code:
        return
    initiative = obstacle.initiative
    before = snapshot(initiative)
    old = obstacle.area_code
    obstacle.area_code = area_code
    initiative.updated_at = utcnow()  # bumps the version: open edit forms become stale
    _record_change(initiative, "reclassify", before, actor)
    record("obstacle.reclassify", target_type="obstacle", target_id=obstacle.id,
           before={"area": old}, after={"area": area_code}, actor=actor)


def approve_revision(revision, *, actor) -> None:
    history = _history()
    history.approve_revision(revision, actor)
    record("revision.approve", target_type="initiative", target_id=revision.initiative_id,
           after={"revision": revision.id}, actor=actor)


def discard_revision(revision, reason: str, *, actor) -> None:
    history = _history()
    history.discard_revision(revision, actor, reason)
    record("revision.discard", target_type="initiative", target_id=revision.initiative_id,
           after={"revision": revision.id}, reason=reason, actor=actor)


def view_personal_data(initiative: Initiative, *, actor) -> None:
    """Every staff view of contact data is written to the audit log."""
    if initiative.contact is not None:
        record("contact.view", target_type="initiative", target_id=initiative.id, actor=actor)


# --- the queue -------------------------------------------------------------------------------

QUEUE_STATES = ("pending", "revision", "unconfirmed", "published", "rejected", "all")


def queue_select(filters, state: str = "pending"):
    """Select Initiative rows for the moderation queue, oldest first.

    ``state``: 'pending' = new entries and entries with a pending revision (the default),
    'revision' = only entries with a pending revision, or one InitiativeState.
    """
    Revision = revision_model()
    stmt = select(Initiative).join(Organisation, Initiative.organisation_id == Organisation.id)
    has_revision = None
    if Revision is not None:
        has_revision = Initiative.id.in_(
            select(Revision.initiative_id).where(Revision.status == "pending")
        )
    if state == "pending":
        cond = Initiative.state == InitiativeState.PENDING
        stmt = stmt.where(or_(cond, has_revision) if has_revision is not None else cond)
    elif state == "revision":
        stmt = stmt.where(has_revision if has_revision is not None else False)
    elif state in {s.value for s in InitiativeState}:
        stmt = stmt.where(Initiative.state == state)
    stmt = filters.apply(stmt, published_only=False)
    return stmt.order_by(func.coalesce(Initiative.submitted_at, Initiative.created_at),
                         Initiative.id)


# --- duplicates ------------------------------------------------------------------------------

NAME_THRESHOLD = 85
TITLE_THRESHOLD = 80


@dataclass
class DuplicateCandidate:
    initiative: Initiative
    reasons: list[str]
    score: float


def _compact_postcode(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def find_duplicates(initiative: Initiative) -> list[DuplicateCandidate]:
    """Other active entries that look like the same initiative (most likely first).

    Signals: same institution code (BRIN) and location number; same postcode; similar school
    name and initiative title (rapidfuzz).
    """
    org = initiative.organisation
    rows = db.session.execute(
        select(Initiative.id, Initiative.title, Organisation.name, Organisation.brin,
               Organisation.location_number, Organisation.postcode)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Initiative.id != initiative.id, Initiative.state.in_(ACTIVE_STATES))
    ).all()
    found: list[tuple[int, list[str], float]] = []
    postcode = _compact_postcode(org.postcode)
    for other_id, title, school, brin, location, other_postcode in rows:
        reasons = []
        if org.brin and brin == org.brin and (location or "") == (org.location_number or ""):
            reasons.append("brin_location")
        if postcode and _compact_postcode(other_postcode) == postcode:
            reasons.append("postcode")
        school_score = fuzz.token_set_ratio(org.name.lower(), (school or "").lower())
        title_score = fuzz.token_set_ratio(initiative.title.lower(), (title or "").lower())
        if school_score >= NAME_THRESHOLD and title_score >= TITLE_THRESHOLD:
            reasons.append("names")
        if reasons:
            score = max(school_score, title_score) / 100 + len(reasons)
            found.append((other_id, reasons, score))
    found.sort(key=lambda item: -item[2])
    return [DuplicateCandidate(db.session.get(Initiative, oid), reasons, round(score, 3))
            for oid, reasons, score in found]


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def get_flag(a: int, b: int) -> DuplicateFlag | None:
    first, second = _pair(a, b)
    return db.session.scalar(select(DuplicateFlag).where(
        DuplicateFlag.first_id == first, DuplicateFlag.second_id == second))


def flag_duplicates(initiative: Initiative) -> list[DuplicateFlag]:
    """Store a flag for every likely duplicate not flagged before (call on arrival).

    Idempotent; decisions already taken (not a duplicate, merged) are kept.
    """
    if initiative.id is None:
        db.session.flush()
    new = []
    for candidate in find_duplicates(initiative):
        flag = get_flag(initiative.id, candidate.initiative.id)
        if flag is None:
            first, second = _pair(initiative.id, candidate.initiative.id)
            flag = DuplicateFlag(first_id=first, second_id=second, reasons=candidate.reasons,
                                 score=candidate.score, status="open")
            db.session.add(flag)
            new.append(flag)
        elif flag.status == "open" and flag.reasons != candidate.reasons:
            flag.reasons, flag.score = candidate.reasons, candidate.score
    if new:
        db.session.flush()
    return new


def open_flags(initiative: Initiative) -> list[DuplicateFlag]:
    flags = db.session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.status == "open",
        or_(DuplicateFlag.first_id == initiative.id, DuplicateFlag.second_id == initiative.id),
    ).order_by(DuplicateFlag.score.desc())).all()
    return [f for f in flags if f.other(initiative.id).state in ACTIVE_STATES]


def initiatives_with_open_flags(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = db.session.execute(select(DuplicateFlag.first_id, DuplicateFlag.second_id).where(
        DuplicateFlag.status == "open",
        or_(DuplicateFlag.first_id.in_(ids), DuplicateFlag.second_id.in_(ids)))).all()
    return {i for row in rows for i in row if i in ids}


def mark_not_duplicate(a: Initiative, b: Initiative, *, actor) -> DuplicateFlag:
    flag = get_flag(a.id, b.id)
    if flag is None:
        first, second = _pair(a.id, b.id)
        flag = DuplicateFlag(first_id=first, second_id=second, reasons=[], score=0.0)
        db.session.add(flag)
    flag.status = "not_duplicate"
    flag.decided_at = utcnow()
    flag.decided_by_id = getattr(actor, "id", None)
    db.session.flush()
    record("duplicate.not_duplicate", target_type="initiative", target_id=a.id,
           after={"other": b.id}, actor=actor)
    return flag


# Fields a moderator chooses between when merging (label msgids are translated in the view).
MERGE_FIELDS: dict[str, tuple[str, str]] = {
    # name: (object, attribute)
    "school_name": ("organisation", "name"),
    "brin": ("organisation", "brin"),
    "location_number": ("organisation", "location_number"),
    "sector": ("organisation", "sector"),
    "levels": ("organisation", "levels"),
    "street": ("organisation", "street"),
    "postcode": ("organisation", "postcode"),
    "city": ("organisation", "city"),
    "website": ("organisation", "website"),
    "title": ("initiative", "title"),
    "summary": ("initiative", "summary"),
    "description": ("initiative", "description"),
    "start_year": ("initiative", "start_year"),
    "phase": ("initiative", "phase"),
    "learners_count": ("initiative", "learners_count"),
    "staff_count": ("initiative", "staff_count"),
    "ict": ("initiative", "ict"),
}


def merge_value(initiative: Initiative, name: str):
    owner, attr = MERGE_FIELDS[name]
    target = initiative.organisation if owner == "organisation" else initiative
    return getattr(target, attr)


def differing_fields(keep: Initiative, other: Initiative) -> list[str]:
    return [name for name in MERGE_FIELDS if merge_value(keep, name) != merge_value(other, name)]


def merge(keep: Initiative, other: Initiative, take_from_other: set[str], *, actor) -> None:
    """Merge ``other`` into ``keep``.

    Fields named in ``take_from_other`` get the other entry's value; every obstacle of the
    other entry moves to ``keep`` (theme links included); dimensions take the higher level.
    ``other`` keeps its own history and contact and gets the state 'merged'; the flag records
    which entry was kept, so both histories stay reachable from the kept entry.
    """
    if keep.id == other.id:
        raise ModerationError(_("Een aanmelding kan niet met zichzelf worden samengevoegd."))
    if other.state not in ACTIVE_STATES or keep.state not in ACTIVE_STATES:
        raise ModerationError(_("Alleen aanmeldingen die wachten of gepubliceerd zijn, kunnen "
                                "worden samengevoegd."))
    unknown = set(take_from_other) - set(MERGE_FIELDS)
    if unknown:
        raise ModerationError(_("Onbekend veld: %(name)s", name=", ".join(sorted(unknown))))
    before_keep, before_other = snapshot(keep), snapshot(other)
    taken = {}
    for name in sorted(take_from_other):
        owner, attr = MERGE_FIELDS[name]
        value = merge_value(other, name)
        setattr(keep.organisation if owner == "organisation" else keep, attr, value)
        taken[name] = value
    by_code = {d.dimension_code: d for d in keep.dimensions}
    for dim in other.dimensions:
        mine = by_code.get(dim.dimension_code)
        if mine is not None:
            mine.current_level = max(mine.current_level, dim.current_level)
            mine.ambition_level = max(mine.ambition_level, dim.ambition_level)
    moved = []
    position = len(keep.obstacles)
    for obstacle in list(other.obstacles):
        other.obstacles.remove(obstacle)
        obstacle.position = position
        position += 1
        keep.obstacles.append(obstacle)
        moved.append(obstacle.id)
    if "postcode" in take_from_other or "brin" in take_from_other:
        keep.organisation.geo_status = "todo"
    other.state = InitiativeState.MERGED
    flag = get_flag(keep.id, other.id)
    if flag is None:
        first, second = _pair(keep.id, other.id)
        flag = DuplicateFlag(first_id=first, second_id=second, reasons=[], score=0.0)
        db.session.add(flag)
    flag.status = "merged"
    flag.kept_id = keep.id
    flag.decided_at = utcnow()
    flag.decided_by_id = getattr(actor, "id", None)
    db.session.flush()
    _record_change(keep, "merge", before_keep, actor)
    _record_change(other, "merged", before_other, actor)
    record("initiative.merge", target_type="initiative", target_id=keep.id,
           before={"other": other.id, "other_reference": other.reference},
           after={"fields_from_other": taken, "obstacles_moved": moved}, actor=actor)


def merged_into(initiative: Initiative) -> list[Initiative]:
    """Entries that were merged into ``initiative`` (their histories belong to it too)."""
    flags = db.session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.status == "merged", DuplicateFlag.kept_id == initiative.id)).all()
    return [f.other(initiative.id) for f in flags]


def kept_instead(initiative: Initiative) -> Initiative | None:
    flag = db.session.scalar(select(DuplicateFlag).where(
        DuplicateFlag.status == "merged",
        or_(DuplicateFlag.first_id == initiative.id, DuplicateFlag.second_id == initiative.id),
        DuplicateFlag.kept_id != initiative.id))
    return flag.other(initiative.id) if flag else None


# --- themes ----------------------------------------------------------------------------------

@dataclass
class RuleData:
    title: str
    level: str
    source_url: str = ""
    existing_room: str = ""


@dataclass
class ThemeData:
    area: str
    title: str
    description: str = ""
    rules: list[RuleData] | None = None


def _theme_state(theme: Theme) -> dict:
    return {"area": theme.area_code, "title": theme.title, "description": theme.description,
            "rules": [{"title": r.title, "level": r.level, "source_url": r.source_url,
                       "existing_room": r.existing_room} for r in theme.rules]}


def save_theme(theme: Theme | None, data: ThemeData, *, actor,
               expected_version: int | None = None) -> Theme:
    creating = theme is None
    if creating:
        theme = Theme(area_code=data.area, title=data.title)
        db.session.add(theme)
        before = None
    else:
        if expected_version is not None and int(expected_version) != theme.version_id:
            raise StaleEntryError(_(
                "Iemand anders heeft dit thema intussen gewijzigd. Uw wijzigingen zijn niet "
                "opgeslagen. Bekijk de nieuwe versie en voer uw wijzigingen opnieuw in."))
        before = _theme_state(theme)
    for rule in data.rules or []:
        if rule.level not in RULE_LEVELS:
            raise ModerationError(_("Kies waar de regel vandaan komt."))
    theme.area_code = data.area
    theme.title = data.title
    theme.description = data.description
    theme.rules[:] = [ThemeRule(title=r.title, level=r.level, source_url=r.source_url,
                                existing_room=r.existing_room) for r in (data.rules or [])]
    db.session.flush()
    record("theme.create" if creating else "theme.edit", target_type="theme",
           target_id=theme.id, before=before, after=_theme_state(theme), actor=actor)
    return theme


def delete_theme(theme: Theme, *, actor) -> None:
    before = _theme_state(theme)
    for obstacle in db.session.scalars(select(Obstacle).where(Obstacle.theme_id == theme.id)):
        obstacle.theme_id = None
    record("theme.delete", target_type="theme", target_id=theme.id, before=before, actor=actor)
    db.session.delete(theme)


def link_obstacle(obstacle: Obstacle, theme: Theme | None, *, actor) -> None:
    old = obstacle.theme_id
    new = theme.id if theme is not None else None
    if old == new:
        return
    obstacle.theme_id = new
    record("obstacle.link_theme" if new else "obstacle.unlink_theme", target_type="obstacle",
           target_id=obstacle.id, before={"theme": old}, after={"theme": new}, actor=actor)


def theme_obstacles(theme: Theme) -> list[Obstacle]:
    return list(db.session.scalars(
        select(Obstacle).join(Initiative).where(Obstacle.theme_id == theme.id)
        .order_by(Initiative.id, Obstacle.position)))


def suggest_obstacles(theme: Theme, limit: int = 10, min_score: int = 55) -> list[tuple[Obstacle, int]]:
    """Unlinked obstacles whose text resembles the theme or its linked obstacles."""
    linked = theme_obstacles(theme)
    texts = [f"{theme.title} {theme.description}"] + [f"{o.title} {o.description}" for o in linked]
    texts = [t.lower() for t in texts if t.strip()]
    candidates = db.session.scalars(
        select(Obstacle).join(Initiative).where(
            Obstacle.theme_id.is_(None),
            Initiative.state.in_(ACTIVE_STATES),
        )).all()
    scored = []
    for obstacle in candidates:
        text = f"{obstacle.title} {obstacle.description} {obstacle.rule}".lower()
        score = max((fuzz.token_set_ratio(text, t) for t in texts), default=0)
        if obstacle.area_code == theme.area_code:
            score = min(100, score + 10)
        if score >= min_score:
            scored.append((obstacle, int(score)))
    scored.sort(key=lambda item: (-item[1], item[0].id))
    return scored[:limit]


@dataclass
class ThemeStats:
    initiatives: int
    schools: int
    learners: int
    sectors: list[str]
    provinces: list[str]
    obstacles: int


def theme_stats(theme: Theme, *, published_only: bool = False) -> ThemeStats:
    """How many initiatives, schools, learners, sectors and provinces a theme affects."""
    states = (InitiativeState.PUBLISHED,) if published_only else ACTIVE_STATES
    rows = db.session.execute(
        select(Initiative.id, Initiative.learners_count, Organisation.brin,
               Organisation.location_number, Organisation.sector, Organisation.province)
        .join(Obstacle, Obstacle.initiative_id == Initiative.id)
        .join(Organisation, Initiative.organisation_id == Organisation.id)
        .where(Obstacle.theme_id == theme.id, Initiative.state.in_(states))
    ).all()
    initiatives: dict[int, int] = {}
    schools, sectors, provinces = set(), set(), set()
    for iid, learners, brin, location, sector, province in rows:
        initiatives[iid] = learners or 0
        schools.add((brin, location or ""))
        sectors.add(sector)
        if province:
            provinces.add(province)
    return ThemeStats(
        initiatives=len(initiatives), schools=len(schools),
        learners=sum(initiatives.values()), sectors=sorted(sectors),
        provinces=sorted(provinces), obstacles=len(rows),
    )


def all_themes() -> list[Theme]:
    return list(db.session.scalars(select(Theme).order_by(Theme.area_code, Theme.title)))


def themes_for_area(area_code: str) -> list[Theme]:
    return list(db.session.scalars(select(Theme).where(Theme.area_code == area_code)
                                   .order_by(Theme.title)))

