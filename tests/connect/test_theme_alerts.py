"""Theme alerts reach subscribers when an entry first becomes visible under their theme or
area, whether it was published or linked last (issue 19: schools do not choose themes, so a
moderator usually links an obstacle to a theme after publishing) - never twice for one
subscription and entry, and never through a confidential obstacle.

Through the moderation pages and the real SMTP server on loopback; the oracles are the mail
each address received and the ``subscription_notice`` rows counted with plain SQL.
"""
from __future__ import annotations

from sqlalchemy import text

from registry.connect.models import Subscription, SubscriptionTopic
from registry.database import utcnow
from registry.extensions import db
from registry.history import services as history
from registry.manage.services import set_obstacle_visibility
from registry.moderation import services as moderation
from registry.moderation.models import Theme
from registry.submissions.models import Initiative
from registry.submissions.services import ContactData, ObstacleData
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post
from tests.fixtures.mail import links, message_text

THEME_FAN = "thema@volger.nl"
AREA_FAN = "gebied@volger.nl"


def subscriber(email: str, *, theme: Theme | None = None, area: str | None = None,
               language: str = "nl") -> Subscription:
    sub = Subscription(email=email, token_hash=email, confirmed_at=utcnow(), language=language)
    sub.topics.append(SubscriptionTopic(theme_id=theme.id if theme else None, area_code=area))
    db.session.add(sub)
    db.session.commit()
    return sub


def theme(title: str, area: str = "examineren") -> Theme:
    item = Theme(area_code=area, title=title)
    db.session.add(item)
    db.session.commit()
    return item


def pending_entry(title: str, *obstacles: tuple[str, str]) -> Initiative:
    """A confirmed entry waiting for moderation; obstacles as (area, visibility)."""
    return make_initiative(
        state=InitiativeState.PENDING, title=title,
        contact=ContactData(name="Anne", email="anne@hetbaken.nl", consent_contact=True),
        obstacles=[ObstacleData(area=area, title=f"{title} {i}", severity=2,
                                visibility=visibility)
                   for i, (area, visibility) in enumerate(obstacles)])


def notices(email: str) -> int:
    return db.session.execute(text(
        "SELECT count(*) FROM subscription_notice n JOIN subscription s "
        "ON s.id = n.subscription_id WHERE s.email = :email"), {"email": email}).scalar_one()


def post(client, url: str, initiative: Initiative, **data):
    db.session.refresh(initiative)
    response = csrf_post(client, url, {"version_id": initiative.version_id, **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]


def publish(client, initiative: Initiative) -> None:
    post(client, f"/moderatie/{initiative.id}/publiceren", initiative)


def link(client, initiative: Initiative, obstacle_id: int, item: Theme | None) -> None:
    post(client, f"/moderatie/knelpunt/{obstacle_id}/thema", initiative,
         theme_id=str(item.id) if item else "")


def test_linking_after_publishing_alerts_the_theme_once(app, client, login, smtp_server):
    login(client, "moderator")
    exams = theme("Vaste examenmomenten")
    subscriber(THEME_FAN, theme=exams)
    subscriber(AREA_FAN, area="examineren")
    initiative = pending_entry("Examens op maat", ("examineren", "public"),
                               ("examineren", "public"))
    first, second = (o.id for o in initiative.obstacles)

    publish(client, initiative)  # no theme yet: only the area's subscriber hears of it
    assert len(smtp_server.to(AREA_FAN)) == 1
    assert smtp_server.to(THEME_FAN) == []

    link(client, initiative, first, exams)  # now under the theme: its subscriber hears
    (alert,) = smtp_server.to(THEME_FAN)
    assert alert["Subject"] == "Nieuw bij een onderwerp dat u volgt: Examens op maat"
    body = message_text(alert)
    assert "thema: Vaste examenmomenten" in body
    page = f"{app.config['BASE_URL']}/initiatieven/{initiative.id}"
    assert page in links(alert)
    assert client.get(f"/initiatieven/{initiative.id}").status_code == 200

    # A second obstacle linked, unlinking and linking again: nobody hears twice.
    link(client, initiative, second, exams)
    link(client, initiative, first, None)
    link(client, initiative, second, None)
    link(client, initiative, first, exams)
    assert len(smtp_server.to(THEME_FAN)) == 1
    assert len(smtp_server.to(AREA_FAN)) == 1
    assert (notices(THEME_FAN), notices(AREA_FAN)) == (1, 1)


def test_a_confidential_obstacle_alerts_nobody_until_it_is_public(app, client, login,
                                                                  smtp_server):
    login(client, "moderator")
    secret = theme("Vrijstellingen", area="valideren")
    subscriber(THEME_FAN, theme=secret)
    subscriber(AREA_FAN, area="valideren")
    initiative = pending_entry("Eigen route", ("overig", "public"),
                               ("valideren", CONFIDENTIAL))
    hidden = initiative.obstacles[1].id
    publish(client, initiative)
    link(client, initiative, hidden, secret)
    assert smtp_server.to(THEME_FAN) == smtp_server.to(AREA_FAN) == []
    assert (notices(THEME_FAN), notices(AREA_FAN)) == (0, 0)

    # The school makes the obstacle public; a moderator approves: now it is visible there.
    initiative = db.session.get(Initiative, initiative.id)
    assert set_obstacle_visibility(initiative, hidden, "public") == "pending"
    db.session.commit()
    revision_id = db.session.execute(text(
        "SELECT id FROM revision WHERE initiative_id = :id AND status = 'pending'"),
        {"id": initiative.id}).scalar_one()
    post(client, f"/moderatie/{initiative.id}/revisie/{revision_id}/goedkeuren", initiative)
    (alert,) = smtp_server.to(THEME_FAN)
    assert "thema: Vrijstellingen" in message_text(alert)
    assert len(smtp_server.to(AREA_FAN)) == 1


def test_a_later_subscriber_hears_only_of_what_becomes_visible_later(app, client, login,
                                                                     smtp_server, make_user):
    login(client, "moderator")
    exams = theme("Vaste examenmomenten")
    old = pending_entry("Al lang bekend", ("examineren", "public"), ("examineren", "public"))
    publish(client, old)
    link(client, old, old.obstacles[0].id, exams)
    subscriber(THEME_FAN, theme=exams)  # subscribes after that

    # A second obstacle of the old entry linked to the theme: it was under the theme already
    link(client, old, old.obstacles[1].id, exams)
    assert smtp_server.to(THEME_FAN) == []

    # An approved edit of the old entry is no news to the new subscriber ...
    initiative = db.session.get(Initiative, old.id)
    data = history.data_from_snapshot(history.snapshot(initiative), initiative.language)
    data.title = "Al lang bekend, nu met een betere titel"
    revision = history.propose_revision(initiative, data, "submitter")
    db.session.commit()
    post(client, f"/moderatie/{old.id}/revisie/{revision.id}/goedkeuren", initiative)
    assert smtp_server.to(THEME_FAN) == []
    # ... nor is a duplicate merged into it whose obstacles were under the theme already.
    twin = pending_entry("Tweeling", ("examineren", "public"))
    publish(client, twin)
    link(client, twin, twin.obstacles[0].id, exams)
    assert len(smtp_server.to(THEME_FAN)) == 1  # the twin, when it came under the theme
    keep = pending_entry("Blijft", ("overig", "public"))
    publish(client, keep)
    moderator = make_user("moderator")
    with app.app_context():  # sent when the context ends, as in a CLI command
        moderation.merge(db.session.get(Initiative, keep.id),
                         db.session.get(Initiative, twin.id), set(),
                         actor=db.session.get(type(moderator), moderator.id))
        db.session.commit()
    assert len(smtp_server.to(THEME_FAN)) == 1
    assert notices(THEME_FAN) == 2  # the twin, and the entry it lives on in
