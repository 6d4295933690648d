"""Connecting schools: similar initiatives, relayed messages, digest subscriptions.

Plain functions taking data; they add rows and queue mail in the caller's transaction but
never commit (the caller does; the mail goes out after the commit, see registry.mail).
Subscribers hear about an initiative when it becomes visible under their themes or areas
(published, or linked to a theme later) through ``registry.connect.receivers``.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Row,
    and_,
    case,
    delete,
    distinct,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import selectinload

from registry.audit.services import record
from registry.connect.models import (
    ContactRequest,
    Subscription,
    SubscriptionNotice,
    SubscriptionTopic,
)
from registry.database import utcnow
from registry.extensions import db
from registry.localized import localized
from registry.mail.models import OutboxMessage
from registry.mail.services import queue_mail
from registry.moderation.models import Theme
from registry.published.sources import PUBLISHED
from registry.submissions.models import Contact, Initiative, Obstacle, Organisation
from registry.taxonomy.constants import PUBLIC, InitiativeState
from registry.taxonomy.services import Term
from registry.taxonomy.services import current as current_taxonomy
from registry.urls import absolute_url

logger = logging.getLogger(__name__)

OPT_OUT_SALT = "registry.connect.opt-out"
UNSUBSCRIBE_SALT = "registry.connect.unsubscribe"
OPT_IN_SALT = "registry.connect.opt-in"
NEARBY_KM = 30
MAX_SIMILAR = 5
MAX_ID_PARAMETERS = 5000  # longer id lists stay in the database (bound-parameter limits)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ similar initiatives
@dataclass
class Similar:
    initiative: Initiative
    score: int
    themes: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    same_sector: bool = False
    distance_km: float | None = None


def distance_km(a: Organisation, b: Organisation) -> float | None:
    """Great-circle distance between two schools (None when one is not located)."""
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def public_topics(initiative: Initiative) -> tuple[set[int], set[str]]:
    """The themes and areas of an initiative's public obstacles.

    A confidential obstacle (issue 16) is no reason to match anyone: "you share theme X"
    or "obstacles in area Y" would tell the other school, the visitor or a digest subscriber
    what the school reported confidentially. Similar initiatives, the digest and the
    "mail me" link read only these.
    """
    public = [o for o in initiative.obstacles if o.visibility == PUBLIC]
    return ({o.theme_id for o in public if o.theme_id is not None},
            {o.area_code for o in public})


def similar_initiatives(initiative: Initiative, limit: int = MAX_SIMILAR) -> list[Similar]:
    """Published initiatives that share themes, obstacle areas, the sector or the region.

    Only public obstacles count, on both sides (``public_topics``, ``_best_ids``).

    Score: 3 per shared theme, 1 per shared area, 1 for the same sector, 2 when within
    NEARBY_KM. Only candidates with a shared theme or area count (a shared sector or region
    alone is not a reason to get in touch); ties go to the most recently published.

    The score is computed by the database (see ``_best_ids``); only the best ``limit`` are
    loaded. Within NEARBY_KM is decided with an equirectangular distance (arithmetic only, so
    SQLite and PostgreSQL agree; within metres of the great circle at 30 km); the distance
    shown is the great-circle one.
    """
    themes, areas = public_topics(initiative)
    if not themes and not areas:
        return []
    org = initiative.organisation
    best = _best_ids(initiative, sorted(themes), sorted(areas), limit)
    if not best:
        return []
    stmt = (
        select(Initiative)
        .where(Initiative.id.in_(best))
        .options(selectinload(Initiative.organisation),
                 selectinload(Initiative.obstacles).selectinload(Obstacle.theme))
    )
    taxonomy = current_taxonomy()
    out = []
    for other in db.session.scalars(stmt):
        public = [o for o in other.obstacles if o.visibility == PUBLIC]
        shared_themes = {o.theme_id: localized(o.theme, "title") for o in public
                         if o.theme_id in themes and o.theme is not None}
        shared_areas = {o.area_code: taxonomy.label("areas", o.area_code)
                        for o in public if o.area_code in areas}
        same_sector = other.organisation.sector == org.sector
        km = distance_km(org, other.organisation)
        score = 3 * len(shared_themes) + len(shared_areas) + int(same_sector)
        if km is not None and km <= NEARBY_KM:
            score += 2
        out.append(Similar(other, score, sorted(shared_themes.values()),
                           sorted(shared_areas.values()), same_sector, km))
    rank = {initiative_id: i for i, initiative_id in enumerate(best)}
    out.sort(key=lambda s: rank[s.initiative.id])
    return out


def _best_ids(initiative: Initiative, themes: list[int], areas: list[str],
              limit: int) -> list[int]:
    """Ids of the ``limit`` best-scoring candidates, best first (exact).

    Scoring every candidate is one aggregate over almost all obstacles (there are only six
    areas): ~300 ms at 100,000 initiatives (issue 11). Most candidates cannot reach the top,
    so the candidates are split into groups by what they can score at most, and the groups
    are ranked one by one, best group first, until the ``limit``-th result so far scores more
    than anything in the groups left:

    - for k = T .. 1 (T = our themes): sharing exactly k themes and within NEARBY_KM
      (at most 3k + areas + 1 + 2), then sharing k themes, further away (3k + areas + 1);
      found from the (theme_id, initiative_id) index: hundreds to a few thousand;
    - sharing no theme, within NEARBY_KM: the same sector (at most areas + 1 + 2), then
      other sectors (areas + 2);
    - all the rest: no theme, far away - here the original query ranks everyone.

    The ranking query is the original one, restricted to the group (so scores and order are
    the same); the groups' results are merged in that order.

    Unlocated schools have no "nearby" groups. Equal scores are not enough to stop (the tie
    goes to the most recently published, which may be in a later group). Same results as
    scoring everyone, on SQLite and PostgreSQL (tests/connect/test_similar_ranking.py).

    Only public obstacles are read (``is_public``): a candidate's confidential obstacle
    neither raises its score nor makes it a candidate.
    """
    if limit <= 0:
        return []
    is_public = Obstacle.visibility == PUBLIC
    org = initiative.organisation
    shared_themes = func.count(distinct(case((Obstacle.theme_id.in_(themes), Obstacle.theme_id))))
    shared_areas = func.count(distinct(case((Obstacle.area_code.in_(areas), Obstacle.area_code))))
    score_rest: ColumnElement[int] = case((Organisation.sector == org.sector, 1), else_=0)
    nearby = None  # stays None for an unlocated school
    if org.latitude is not None and org.longitude is not None:
        km_lat = 111.195  # km per degree of latitude (and of longitude at the equator)
        km_lon = km_lat * math.cos(math.radians(org.latitude))
        dy = (Organisation.latitude - org.latitude) * km_lat
        dx = (Organisation.longitude - org.longitude) * km_lon
        box_lat = NEARBY_KM / km_lat + 1e-6  # a box around the circle, cheap to test first
        box_lon = NEARBY_KM / km_lon + 1e-6
        # IS NOT NULL first: NOT nearby must be true (not NULL) for unlocated schools.
        nearby = and_(Organisation.latitude.is_not(None), Organisation.longitude.is_not(None),
                      Organisation.latitude.between(org.latitude - box_lat,
                                                    org.latitude + box_lat),
                      Organisation.longitude.between(org.longitude - box_lon,
                                                     org.longitude + box_lon),
                      dy * dy + dx * dx <= NEARBY_KM * NEARBY_KM)
        score_rest = score_rest + case((nearby, 2), else_=0)

    def ranked(candidates) -> Sequence[Row]:
        """The best ``limit`` of ``candidates`` (None: everyone) as (id, score, published_at)."""
        agg = (
            select(Obstacle.initiative_id.label("iid"), shared_themes.label("t"),
                   shared_areas.label("a"))
            .where(or_(Obstacle.area_code.in_(areas), Obstacle.theme_id.in_(themes)),
                   is_public)
        )
        if candidates is not None:
            agg = agg.where(Obstacle.initiative_id.in_(candidates))
        sub = agg.group_by(Obstacle.initiative_id).subquery()
        score = 3 * sub.c.t + sub.c.a + score_rest
        return db.session.execute(
            select(Initiative.id, score, Initiative.published_at)
            .join(sub, sub.c.iid == Initiative.id)
            .join(Organisation, Initiative.organisation_id == Organisation.id)
            .where(PUBLISHED.scope, Initiative.id != initiative.id)
            .order_by(score.desc(), Initiative.published_at.desc().nulls_last(), Initiative.id)
            .limit(limit)
        ).all()

    # Which of our themes each candidate shares, from the (theme_id, initiative_id) index.
    # DISTINCT first: lets SQLite read that index instead of scanning every obstacle in
    # initiative order for the GROUP BY.
    pairs = (select(Obstacle.initiative_id, Obstacle.theme_id)
             .where(Obstacle.theme_id.in_(themes), is_public).distinct().subquery())
    # Those sharing two or more are few (hundreds): counted once, passed on as ids.
    multi: dict[int, int] = {}
    if len(themes) > 1:
        multi = dict(db.session.execute(
            select(pairs.c.initiative_id, func.count()).group_by(pairs.c.initiative_id)
            .having(func.count() > 1)).all())

    def sharing(k: int):
        """Ids (or a query for them) of initiatives sharing exactly ``k`` of our themes."""
        if k == 1 and len(themes) == 1:
            return select(pairs.c.initiative_id)
        ids = sorted(iid for iid, n in multi.items() if n == k) if k > 1 else []
        if k == 1 or len(ids) > MAX_ID_PARAMETERS:
            return (select(pairs.c.initiative_id).group_by(pairs.c.initiative_id)
                    .having(func.count() == k))
        return ids

    def where_located(ids, *conditions):
        return (select(Initiative.id)
                .join(Organisation, Initiative.organisation_id == Organisation.id)
                .where(Initiative.id.in_(ids), *conditions))

    most_rest = len(areas) + 1  # shared areas + same sector
    # (a function returning the candidate ids, the most any of them can score), best first;
    # statements are only built for the groups that are needed (building costs ~1 ms each).
    groups: list = []
    for k in range(len(themes), 0, -1):
        if nearby is not None:  # located
            groups.append((lambda k=k: where_located(sharing(k), nearby),
                           3 * k + most_rest + 2))
            groups.append((lambda k=k: where_located(sharing(k), not_(nearby)),
                           3 * k + most_rest))
        else:
            groups.append((lambda k=k: sharing(k), 3 * k + most_rest))
    if nearby is not None:  # located
        # No shared theme but nearby (these can be thousands): same sector first.
        def near(same: bool):
            stmt = (select(Initiative.id)
                    .join(Organisation, Initiative.organisation_id == Organisation.id)
                    .where(nearby, Organisation.sector == org.sector if same
                           else Organisation.sector != org.sector))
            if themes:
                stmt = stmt.where(Initiative.id.not_in(select(pairs.c.initiative_id)))
            return stmt

        groups.append((lambda: near(True), most_rest + 2))
        groups.append((lambda: near(False), most_rest + 1))
    best: list = []
    for i, (candidates, _most) in enumerate(groups):
        best = _merge(best, ranked(candidates()), limit)
        rest = groups[i + 1][1] if i + 1 < len(groups) else most_rest
        if len(best) == limit and best[-1][1] > rest:
            return [row[0] for row in best]
    return [row[0] for row in ranked(None)]


def _merge(best: list, rows: Sequence[Row], limit: int) -> list:
    """The first ``limit`` of both, in the ranking's order: score, then most recently
    published (never published last), then id."""
    merged = sorted([*best, *rows], key=lambda r: r[0])
    merged.sort(key=lambda r: (r[2] is not None, r[2] or datetime.min), reverse=True)
    merged.sort(key=lambda r: r[1], reverse=True)
    return merged[:limit]


# ------------------------------------------------------------------ relayed messages
def accepts_messages(initiative: Initiative) -> bool:
    """Whether visitors may send this initiative's contact a message through the registry."""
    contact = initiative.contact
    return bool(initiative.is_public and contact is not None and contact.accepts_messages
                and not contact.erased_at and contact.email)


def inbox_full(initiative: Initiative) -> bool:
    """True when this contact already got the daily maximum of relayed messages (a flood from
    many addresses would get past the per-IP rate limit)."""
    limit = int(current_app.config["CONTACT_MAX_PER_DAY"])
    since = utcnow() - timedelta(days=1)
    count = db.session.scalar(select(func.count(ContactRequest.id)).where(
        ContactRequest.initiative_id == initiative.id, ContactRequest.created_at >= since))
    return (count or 0) >= limit


@dataclass
class MessageData:
    sender_name: str
    sender_email: str
    message: str
    sender_school: str = ""
    language: str = "nl"


def opt_out_token(contact: Contact, salt: str = OPT_OUT_SALT) -> str:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)
    return serializer.dumps(contact.id)


def opt_in_url(contact: Contact) -> str:
    """A private link for the contact to switch relayed messages on (for the manage page or
    a mail to the contact; only the contact may receive it)."""
    return absolute_url("connect.opt_in", token=opt_out_token(contact, OPT_IN_SALT))


def contact_from_opt_out_token(token: str, salt: str = OPT_OUT_SALT) -> Contact | None:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)
    try:
        contact_id = serializer.loads(token)
    except (BadSignature, UnicodeError, ValueError, TypeError):
        return None
    if not isinstance(contact_id, int):
        return None
    return db.session.get(Contact, contact_id)


def relay_message(initiative: Initiative, data: MessageData) -> tuple[ContactRequest,
                                                                     OutboxMessage]:
    """Store a visitor's message and queue it to the initiative's contact.

    The mail shows the sender's name, school and message but not the address; it links to a
    private reply page and to an opt-out. Audit-logged (actor 'system', no personal data).
    """
    contact = initiative.contact
    if contact is None or not accepts_messages(initiative):
        raise PermissionError("this contact does not accept messages")
    token = secrets.token_urlsafe(32)
    request_row = ContactRequest(
        initiative_id=initiative.id, sender_name=data.sender_name.strip(),
        sender_school=data.sender_school.strip(), sender_email=data.sender_email.strip(),
        message=data.message.strip(), language=data.language, token_hash=hash_token(token),
    )
    db.session.add(request_row)
    db.session.flush()
    language = initiative.language or "nl"
    with force_locale(language):
        subject = _("Bericht van een andere school over “%(title)s”",
                    title=initiative.title)
        body = render_template(
            "connect/mail/relay.txt", initiative=initiative, contact=contact, req=request_row,
            reply_url=absolute_url("connect.reply", token=token),
            opt_out_url=absolute_url("connect.opt_out", token=opt_out_token(contact)),
            page_url=absolute_url("public.initiative", initiative_id=initiative.id),
        )
    mail = queue_mail(to=contact.email, subject=subject, body_text=body, kind="connect_relay",
                      initiative_id=initiative.id)
    record("connect.relay", target_type="initiative", target_id=initiative.id,
           after={"contact_request_id": request_row.id}, actor="system")
    return request_row, mail


def find_request(token: str) -> ContactRequest | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(ContactRequest).where(ContactRequest.token_hash == hash_token(token))
    )


def reply_to_request(request_row: ContactRequest, text: str) -> OutboxMessage:
    """The contact answers: the sender gets the reply with the contact's name and address."""
    initiative = request_row.initiative
    contact = initiative.contact
    if contact is None or contact.erased_at:
        raise PermissionError("the contact has been erased")
    with force_locale(request_row.language or "nl"):
        subject = _("Antwoord van %(school)s over “%(title)s”",
                    school=initiative.organisation.name, title=initiative.title)
        body = render_template(
            "connect/mail/reply.txt", initiative=initiative, contact=contact, req=request_row,
            text=text.strip(),
            page_url=absolute_url("public.initiative", initiative_id=initiative.id),
        )
    mail = queue_mail(to=request_row.sender_email, subject=subject, body_text=body,
                      kind="connect_reply", reply_to=contact.email, initiative_id=initiative.id)
    request_row.replied_at = utcnow()
    record("connect.reply", target_type="initiative", target_id=initiative.id,
           after={"contact_request_id": request_row.id}, actor="system")
    return mail


def set_accepts_messages(contact: Contact, value: bool, *, reason: str = "") -> None:
    """Opt in or out of relayed messages (manage page, opt-out link). Audit-logged."""
    if bool(contact.accepts_messages) == value:
        return
    contact.accepts_messages = value
    record("connect.accepts_messages", target_type="initiative",
           target_id=contact.initiative_id, before={"accepts_messages": not value},
           after={"accepts_messages": value}, reason=reason, actor="system")


# ------------------------------------------------------------------ digest subscriptions
def topic_choices() -> tuple[list[Theme], list[Term]]:
    themes = list(db.session.scalars(select(Theme).order_by(Theme.area_code, Theme.title)))
    return themes, list(current_taxonomy().areas)


def subscribe(email: str, *, theme_ids: list[int], area_codes: list[str],
              language: str = "nl") -> tuple[Subscription, OutboxMessage]:
    """Create an unconfirmed subscription and queue the confirmation mail (double opt-in)."""
    token = secrets.token_urlsafe(32)
    sub = Subscription(email=email.strip(), language=language, token_hash=hash_token(token))
    for theme_id in dict.fromkeys(theme_ids):
        sub.topics.append(SubscriptionTopic(theme_id=theme_id))
    for code in dict.fromkeys(area_codes):
        sub.topics.append(SubscriptionTopic(area_code=code))
    db.session.add(sub)
    db.session.flush()
    with force_locale(language):
        subject = _("Bevestig uw aanmelding voor berichten over nieuwe initiatieven")
        body = render_template(
            "connect/mail/subscribe_confirm.txt", sub=sub, topics=topic_labels(sub),
            confirm_url=absolute_url("connect.confirm_subscription", token=token),
            unsubscribe_url=absolute_url("connect.unsubscribe", token=unsubscribe_token(sub)),
        )
    mail = queue_mail(to=sub.email, subject=subject, body_text=body, kind="connect_subscribe")
    return sub, mail


def topic_labels(sub: Subscription) -> list[str]:
    labels = []
    for topic in sub.topics:
        if topic.theme_id is not None and topic.theme is not None:
            labels.append(_("thema: %(title)s", title=localized(topic.theme, "title")))
        elif topic.area_code:
            labels.append(_("gebied: %(label)s",
                            label=current_taxonomy().label("areas", topic.area_code)))
    return labels


def find_subscription(token: str) -> Subscription | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(Subscription).where(Subscription.token_hash == hash_token(token))
    )


def unsubscribe_token(sub: Subscription) -> str:
    """A stable signed link token (every mail to a subscriber carries the same one)."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    return serializer.dumps(sub.id)


def subscription_from_unsubscribe_token(token: str) -> Subscription | None:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    try:
        sub_id = serializer.loads(token)
    except (BadSignature, UnicodeError, ValueError, TypeError):
        return None
    return db.session.get(Subscription, sub_id) if isinstance(sub_id, int) else None


def confirm_subscription(sub: Subscription) -> None:
    if sub.confirmed_at is None:
        sub.confirmed_at = utcnow()


def unsubscribe(sub: Subscription) -> None:
    """Delete the subscription and its address (nothing is kept)."""
    db.session.delete(sub)


# What the public sees an entry under: (theme ids, area codes).
Topics = tuple[set[int], set[str]]


def visible_topics(initiative_id: int) -> Topics:
    """The themes and areas under which the public sees this entry now: those of its public
    obstacles while it is published, by the one public definition (``PUBLISHED``). An entry
    under a theme only through a confidential obstacle is not under that theme publicly."""
    rows = db.session.execute(
        select(Obstacle.theme_id, Obstacle.area_code)
        .join(Initiative, Obstacle.initiative_id == Initiative.id)
        .where(Initiative.id == initiative_id, PUBLISHED.scope, PUBLISHED.obstacle_scope())
    ).all()
    return ({theme for theme, _area in rows if theme is not None},
            {area for _theme, area in rows})


def topics_of_snapshot(snapshot: dict | None) -> Topics:
    """The themes and areas under which the public saw an entry whose content was
    ``snapshot`` (``registry.history.services.snapshot``, taken before a change).

    A snapshot holds each obstacle's area and visibility but not its theme; the theme is
    the obstacle's theme now (edits never link themes, they only unlink them, so this
    never makes an entry look newly visible under a theme it was already under)."""
    if not snapshot or snapshot.get("state") != InitiativeState.PUBLISHED:
        return set(), set()
    public = [o for o in snapshot.get("obstacles", []) if o.get("visibility") == PUBLIC]
    ids = [o["id"] for o in public if o.get("id") is not None]
    themes: set[int] = set()
    if ids:
        themes = {theme for theme in db.session.scalars(
            select(Obstacle.theme_id).where(Obstacle.id.in_(ids))) if theme is not None}
    return themes, {o["area"] for o in public if o.get("area")}


def snapshot_before_revision(revision) -> dict:
    """The entry's snapshot just before an approved revision was applied, rebuilt from the
    content after it (``revision.data``) and its diff (``revision.changes``; the format is
    described in ``registry.history.services``) - as far as topics go: the obstacles with
    their ids, areas and visibility."""
    after = revision.data or {}
    changes = revision.changes or {}
    obstacles = []
    for position, obstacle in enumerate(after.get("obstacles", []), start=1):
        if f"obstacles.new-{position}" in changes:
            continue  # added by the revision
        before = dict(obstacle)
        for name in ("area", "visibility"):
            change = changes.get(f"obstacles.{obstacle.get('id')}.{name}")
            if change is not None:
                before[name] = change[0]
        obstacles.append(before)
    for key, (old, new) in changes.items():
        if key.startswith("obstacles.") and key.count(".") == 1 and new is None and old:
            obstacles.append(old)  # removed by the revision
    state = changes.get("state", [after.get("state")])[0]
    return {"state": state, "obstacles": obstacles}


def announce_new_topics(initiative: Initiative, before: Topics) -> list[OutboxMessage]:
    """After a change to a published entry: mail the subscribers of every theme or area the
    entry has just become visible under (``before``: where it was visible before the
    change). Linking an obstacle to a theme after publication, making a linked obstacle
    public, an approved edit that adds an obstacle in a new area, a merge: each reaches the
    subscribers of the new topics, at most once per subscription (``notify_subscribers``)."""
    themes, areas = visible_topics(initiative.id)
    themes, areas = themes - before[0], areas - before[1]
    if not themes and not areas:
        return []
    return notify_subscribers(initiative, themes=themes, areas=areas, published=False)


def announce_theme_link(obstacle: Obstacle, theme: Theme | None) -> list[OutboxMessage]:
    """A moderator linked ``obstacle`` to ``theme``: mail the theme's subscribers if the
    entry has just become visible under it - published, the obstacle public, and no other
    public obstacle of the entry linked to that theme already."""
    if theme is None:
        return []
    initiative = obstacle.initiative
    if theme.id not in visible_topics(initiative.id)[0]:
        return []  # not public: a confidential obstacle, or an entry not published
    if any(o.id != obstacle.id and o.theme_id == theme.id and o.visibility == PUBLIC
           for o in initiative.obstacles):
        return []  # it was under this theme already
    return notify_subscribers(initiative, themes={theme.id}, areas=set(), published=False)


def carry_notices(source_id: int, target_id: int) -> None:
    """Subscriptions told about ``source_id`` count as told about ``target_id`` (a merged
    duplicate: the same initiative, not news). Not committed."""
    told = select(SubscriptionNotice.subscription_id).where(
        SubscriptionNotice.initiative_id == target_id)
    for subscription_id in db.session.scalars(
            select(SubscriptionNotice.subscription_id)
            .where(SubscriptionNotice.initiative_id == source_id,
                   SubscriptionNotice.subscription_id.not_in(told))):
        db.session.add(SubscriptionNotice(subscription_id=subscription_id,
                                          initiative_id=target_id))


def notify_subscribers(initiative: Initiative, *, themes: set[int] | None = None,
                       areas: set[str] | None = None,
                       published: bool = True) -> list[OutboxMessage]:
    """Mail confirmed subscribers whose themes or areas this published initiative meets.

    Called when an initiative is published (every topic it is visible under) and, through
    ``announce_new_topics``, when it becomes visible under more topics later (``themes`` and
    ``areas``: only those; ``published`` False words the mail accordingly). Each
    subscription hears about an initiative at most once (``SubscriptionNotice``, unique per
    subscription and initiative), each address at most once per initiative. Only public
    obstacles match (``visible_topics``: a mail saying "theme X" about a school must not come
    from a confidential report). Not committed.
    """
    if not initiative.is_public:
        return []
    if themes is None or areas is None:
        themes, areas = visible_topics(initiative.id)
    conditions = []
    if themes:
        conditions.append(SubscriptionTopic.theme_id.in_(themes))
    if areas:
        conditions.append(SubscriptionTopic.area_code.in_(areas))
    if not conditions:
        return []
    already = select(SubscriptionNotice.subscription_id).where(
        SubscriptionNotice.initiative_id == initiative.id)
    stmt = (
        select(Subscription)
        .join(SubscriptionTopic)
        .where(Subscription.confirmed_at.is_not(None), or_(*conditions),
               Subscription.id.not_in(already))
        .options(selectinload(Subscription.topics))
        .order_by(Subscription.id)
        .distinct()
    )
    own = (initiative.contact.email.lower()
           if initiative.contact is not None and initiative.contact.email else None)
    mails: list[OutboxMessage] = []
    mailed: set[str] = set()
    for sub in db.session.scalars(stmt).unique():
        db.session.add(SubscriptionNotice(subscription_id=sub.id, initiative_id=initiative.id))
        address = sub.email.lower()
        if address in mailed or address == own:
            continue
        mailed.add(address)
        matched = [t for t in sub.topics if t.theme_id in themes or t.area_code in areas]
        with force_locale(sub.language or "nl"):
            if published:
                subject = _("Nieuw initiatief in het register: %(title)s",
                            title=initiative.title)
            else:
                subject = _("Nieuw bij een onderwerp dat u volgt: %(title)s",
                            title=initiative.title)
            body = render_template(
                "connect/mail/notify.txt", initiative=initiative, published=published,
                topics=[_label_for(t) for t in matched],
                page_url=absolute_url("public.initiative", initiative_id=initiative.id),
                unsubscribe_url=absolute_url("connect.unsubscribe",
                                             token=unsubscribe_token(sub)),
            )
        mails.append(queue_mail(to=sub.email, subject=subject, body_text=body,
                                kind="connect_notify", initiative_id=initiative.id))
    if mails:
        record("connect.notify", target_type="initiative", target_id=initiative.id,
               after={"mails": len(mails)}, actor="system")
    return mails


def _label_for(topic: SubscriptionTopic) -> str:
    if topic.theme_id is not None and topic.theme is not None:
        return _("thema: %(title)s", title=localized(topic.theme, "title"))
    return _("gebied: %(label)s", label=current_taxonomy().label("areas", topic.area_code))


# ------------------------------------------------------------------ retention
MESSAGE_RETENTION_DAYS = 180
UNCONFIRMED_SUBSCRIPTION_DAYS = 14


def purge_old(now=None) -> dict[str, int]:
    """Delete relayed messages older than MESSAGE_RETENTION_DAYS and subscriptions never
    confirmed within UNCONFIRMED_SUBSCRIPTION_DAYS (personal data is kept no longer than
    needed). Not committed."""
    now = now or utcnow()
    messages = cast(CursorResult, db.session.execute(delete(ContactRequest).where(
        ContactRequest.created_at < now - timedelta(days=MESSAGE_RETENTION_DAYS)
    ))).rowcount or 0
    stale = list(db.session.scalars(select(Subscription).where(
        Subscription.confirmed_at.is_(None),
        Subscription.created_at < now - timedelta(days=UNCONFIRMED_SUBSCRIPTION_DAYS),
    )))
    for sub in stale:
        db.session.delete(sub)
    return {"messages": messages, "subscriptions": len(stale)}
