"""Similar initiatives and digests never rest on a confidential obstacle (issue 16): "you
share theme X" or "obstacles in area Y" would tell the other school, the visitor or the
subscriber what a school reported confidentially."""
from __future__ import annotations

from sqlalchemy import select

from registry.connect import services
from registry.connect.models import Subscription, SubscriptionTopic
from registry.database import utcnow
from registry.extensions import db
from registry.mail.models import OutboxMessage
from registry.moderation.models import Theme
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState
from tests.factories import make_initiative

SECRET_THEME = "Vrijstellingen voor eerder verworven competenties"


def _theme(title: str, area: str) -> Theme:
    theme = Theme(area_code=area, title=title)
    db.session.add(theme)
    db.session.commit()
    return theme


def _school(title: str, *obstacles: tuple[str, str, Theme | None], **kw):
    """A published school with obstacles given as (area, visibility, theme)."""
    initiative = make_initiative(title=title, obstacles=[
        ObstacleData(area=area, title=f"{title} {i}", severity=2, visibility=visibility)
        for i, (area, visibility, _theme) in enumerate(obstacles)], **kw)
    for obstacle, (_area, _visibility, theme) in zip(initiative.obstacles, obstacles,
                                                      strict=True):
        obstacle.theme_id = theme.id if theme is not None else None
    initiative.organisation.latitude, initiative.organisation.longitude = 52.09, 5.12
    db.session.commit()
    return initiative


def test_schools_sharing_only_a_confidential_theme_are_not_suggested(app, client):
    theme = _theme(SECRET_THEME, "valideren")
    # A has the theme confidentially, B publicly, C confidentially: no pair of them shares
    # it publicly on both sides, and they share no public area either.
    a = _school("Alfa", ("valideren", CONFIDENTIAL, theme), ("overig", "public", None),
                sector="vo")
    b = _school("Bravo", ("valideren", "public", theme), sector="mbo")
    c = _school("Charlie", ("valideren", CONFIDENTIAL, theme), ("certificeren", "public", None),
                sector="po")
    assert services.similar_initiatives(a) == []
    assert services.similar_initiatives(b) == []
    assert services.similar_initiatives(c) == []
    for school in (a, b, c):
        html = client.get(f"/initiatieven/{school.id}").get_data(as_text=True)
        assert f"zelfde thema: {SECRET_THEME}" not in html
        assert "knelpunten in: Valideren" not in html
        for other in (a, b, c):
            if other is not school:
                assert f'href="/initiatieven/{other.id}"' not in html
    # B's "mail me" link names its public theme; A's and C's do not name the secret one.
    assert f"theme={theme.id}" in client.get(f"/initiatieven/{b.id}").get_data(as_text=True)
    for school in (a, c):
        html = client.get(f"/initiatieven/{school.id}").get_data(as_text=True)
        assert f"theme={theme.id}" not in html
        assert "area=valideren" not in html


def test_a_shared_public_theme_is_a_reason_but_the_confidential_one_is_not(app):
    public_theme = _theme("Vaste examenmomenten", "examineren")
    secret = _theme(SECRET_THEME, "valideren")
    a = _school("Alfa", ("examineren", "public", public_theme),
                ("valideren", CONFIDENTIAL, secret))
    b = _school("Bravo", ("examineren", "public", public_theme), ("valideren", "public", secret))
    [found] = services.similar_initiatives(a)
    assert found.initiative.id == b.id
    assert found.themes == ["Vaste examenmomenten"]
    assert found.areas == ["Examineren"]
    [found] = services.similar_initiatives(b)
    assert found.initiative.id == a.id
    assert found.themes == ["Vaste examenmomenten"]
    assert found.areas == ["Examineren"]
    # The score counts the public theme and area only: 3 + 1 + same sector 1 + nearby 2.
    assert found.score == 7


def _subscriber(email: str, *, theme: Theme | None = None, area: str | None = None):
    sub = Subscription(email=email, token_hash=email, confirmed_at=utcnow())
    sub.topics.append(SubscriptionTopic(theme_id=theme.id if theme else None, area_code=area))
    db.session.add(sub)
    db.session.commit()
    return sub


def test_digests_do_not_match_a_confidential_obstacle(app):
    public_theme = _theme("Vaste examenmomenten", "examineren")
    secret = _theme(SECRET_THEME, "valideren")
    _subscriber("thema@example.org", theme=secret)
    _subscriber("gebied@example.org", area="valideren")
    _subscriber("open@example.org", theme=public_theme)
    initiative = make_initiative(
        state=InitiativeState.PENDING, title="Alfa",
        obstacles=[ObstacleData(area="examineren", title="Examens in juni", severity=2),
                   ObstacleData(area="valideren", title="Geheim", severity=2,
                                visibility=CONFIDENTIAL)])
    initiative.obstacles[0].theme_id = public_theme.id
    initiative.obstacles[1].theme_id = secret.id
    initiative.state = InitiativeState.PUBLISHED
    db.session.commit()
    mails = services.notify_subscribers(initiative)
    db.session.commit()
    assert [m.to_address for m in mails] == ["open@example.org"]
    sent = db.session.scalars(select(OutboxMessage)
                              .where(OutboxMessage.kind == "connect_notify")).all()
    assert [m.to_address for m in sent] == ["open@example.org"]
    assert SECRET_THEME not in sent[0].body_text
    assert "Valideren" not in sent[0].body_text
