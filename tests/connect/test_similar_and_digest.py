"""Similar initiatives on the detail page; digest subscriptions with double opt-in."""
from __future__ import annotations

from sqlalchemy import func, select

from registry.connect import services
from registry.connect.models import Subscription, SubscriptionNotice
from registry.extensions import db as _db
from registry.mail.models import OutboxMessage
from registry.security.antispam import issue_timestamp
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.factories import make_initiative
from tests.fixtures.mail import links, message_text, path_of


def test_similar_initiatives_rank_shared_theme_first(app, open_initiative, theme):
    same_theme = make_initiative(title="Zelfde thema", obstacles=[
        ObstacleData(area="examineren", title="Ook vaste examens", severity=2)])
    same_theme.obstacles[0].theme_id = theme.id
    nearby_area = make_initiative(title="Zelfde gebied dichtbij", obstacles=[
        ObstacleData(area="examineren", title="Iets anders", severity=1)])
    nearby_area.organisation.latitude, nearby_area.organisation.longitude = 52.10, 5.13
    make_initiative(title="Ander gebied", obstacles=[
        ObstacleData(area="overig", title="Urennorm", severity=2)])
    make_initiative(title="Niet gepubliceerd", state=InitiativeState.PENDING, obstacles=[
        ObstacleData(area="examineren", title="X", severity=2)])
    _db.session.commit()
    found = services.similar_initiatives(open_initiative)
    titles = [s.initiative.title for s in found]
    assert titles == ["Zelfde thema", "Zelfde gebied dichtbij"]
    assert found[0].themes == ["Vaste examenmomenten"]
    assert found[1].distance_km is not None
    assert found[1].distance_km < 5


def test_detail_page_lists_similar_initiatives(client, open_initiative, theme):
    other = make_initiative(title="Zelfde thema elders", obstacles=[
        ObstacleData(area="examineren", title="Ook vaste examens", severity=2)])
    other.obstacles[0].theme_id = theme.id
    _db.session.commit()
    html = client.get(f"/initiatieven/{open_initiative.id}").get_data(as_text=True)
    assert "Vergelijkbare initiatieven" in html
    assert f'href="/initiatieven/{other.id}"' in html
    assert "zelfde thema: Vaste examenmomenten" in html
    assert client.get(f"/initiatieven/{other.id}?lang=en").status_code == 200


def _subscribe(client, **overrides):
    page = client.get("/volgen").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "email": "lisa@school.nl",
            "homepage_url": "", "form_started": issue_timestamp()}
    data.update(overrides)
    return client.post("/volgen", data=data)


def test_double_opt_in_notify_and_unsubscribe(csrf_client, app, theme, smtp_server):
    r = _subscribe(csrf_client, themes=str(theme.id))
    assert r.status_code == 200
    sub = _db.session.scalar(select(Subscription))
    assert sub.confirmed_at is None

    # Not confirmed yet: publishing a matching initiative mails nobody.
    first = make_initiative(title="Eerste", obstacles=[
        ObstacleData(area="examineren", title="Examens", severity=3)])
    first.obstacles[0].theme_id = theme.id
    assert services.notify_subscribers(first) == []
    _db.session.commit()

    confirm = next(u for u in links(smtp_server.last(to="lisa@school.nl"))
                   if "/volgen/bevestigen/" in u)
    page = csrf_client.get(path_of(confirm)).get_data(as_text=True)
    assert "Vaste examenmomenten" in page
    csrf_client.post(path_of(confirm), data={"csrf_token": csrf_token_from(page)})
    _db.session.refresh(sub)
    assert sub.confirmed_at is not None

    second = make_initiative(title="Tweede met hetzelfde thema", obstacles=[
        ObstacleData(area="examineren", title="Examens", severity=3)])
    second.obstacles[0].theme_id = theme.id
    other = make_initiative(title="Ander thema", obstacles=[
        ObstacleData(area="overig", title="Urennorm", severity=2)])
    mails = services.notify_subscribers(second) + services.notify_subscribers(other)
    _db.session.commit()
    assert [m.to_address for m in mails] == ["lisa@school.nl"]
    assert "Tweede met hetzelfde thema" in mails[0].body_text
    # Never twice for the same initiative.
    assert services.notify_subscribers(second) == []
    assert _db.session.scalar(select(func.count(SubscriptionNotice.id))) == 1

    unsubscribe = next(u for u in mails[0].body_text.split() if "/volgen/afmelden/" in u)
    page = csrf_client.get(path_of(unsubscribe)).get_data(as_text=True)
    csrf_client.post(path_of(unsubscribe), data={"csrf_token": csrf_token_from(page)})
    assert _db.session.scalar(select(Subscription)) is None
    assert csrf_client.get(path_of(unsubscribe)).status_code == 404


def test_subscribe_by_area_and_validation(csrf_client, app, smtp_server):
    r = _subscribe(csrf_client)
    assert r.status_code == 422
    assert "ten minste" in r.get_data(as_text=True)
    r = _subscribe(csrf_client, areas="diplomeren")
    assert r.status_code == 200
    mail = smtp_server.last(to="lisa@school.nl")
    assert "gebied: Diplomeren" in message_text(mail)
    sub = _db.session.scalar(select(Subscription))
    services.confirm_subscription(sub)
    initiative = make_initiative(obstacles=[ObstacleData(area="diplomeren", title="D",
                                                         severity=2)])
    assert len(services.notify_subscribers(initiative)) == 1


def test_honeypot_blocks_subscription(csrf_client, app):
    r = _subscribe(csrf_client, areas="diplomeren", homepage_url="x")
    assert r.status_code == 422
    assert _db.session.scalar(select(OutboxMessage.id)) is None


def test_purge_deletes_old_messages_and_stale_subscriptions(app, runner, open_initiative):
    from datetime import timedelta

    from registry.connect.models import ContactRequest
    from registry.database import utcnow

    old = utcnow() - timedelta(days=200)
    _db.session.add(ContactRequest(initiative_id=open_initiative.id, sender_name="P",
                                   sender_email="p@x.nl", message="m", token_hash="a" * 64,
                                   created_at=old))
    _db.session.add(ContactRequest(initiative_id=open_initiative.id, sender_name="Q",
                                   sender_email="q@x.nl", message="m", token_hash="b" * 64))
    _db.session.add(Subscription(email="s@x.nl", token_hash="c" * 64, created_at=old))
    _db.session.add(Subscription(email="t@x.nl", token_hash="d" * 64, created_at=old,
                                 confirmed_at=old))
    _db.session.commit()
    result = runner.invoke(args=["connect-purge"])
    assert "deleted messages: 1, unconfirmed subscriptions: 1" in result.output
    assert [r.sender_name for r in _db.session.scalars(select(ContactRequest))] == ["Q"]
    assert [s.email for s in _db.session.scalars(select(Subscription))] == ["t@x.nl"]
