"""Staff see confidential obstacles, marked, and every view is in the audit log (issue 16);
advisors and the public do not reach those pages at all."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.history.services import propose_revision
from registry.moderation import services as moderation
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState
from tests.factories import initiative_data, make_initiative
from tests.fixtures.auth import csrf_post

SECRET = "Wij omzeilen het examenreglement via losse modules"
WORKAROUND = "De examencommissie tekent achteraf"
ACTION = "obstacle.confidential_view"


def views(action: str = ACTION) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


@pytest.fixture
def entry(app):
    """A published entry with one public and one confidential obstacle, the latter linked
    to a theme."""
    item = make_initiative(title="Modulair examineren", obstacles=[
        ObstacleData(area="examineren", title="Examens alleen in juni", severity=3),
        ObstacleData(area="examineren", title=SECRET, severity=4, status="omzeild",
                     workaround=WORKAROUND, policy_ask="Ruimte voor modules",
                     visibility=CONFIDENTIAL),
    ])
    theme = moderation.save_theme(
        None, moderation.ThemeData(area="examineren", title="Vaste examenmomenten"), actor=None)
    moderation.link_obstacle(item.obstacles[1], theme, actor=None)
    db.session.commit()
    return item


def test_the_entry_page_shows_confidential_obstacles_marked_and_logs_each_view(
        client, login, entry):
    user = login(client, "moderator")
    secret = entry.obstacles[1]
    assert views() == []
    html = client.get(f"/moderatie/{entry.id}").get_data(as_text=True)
    assert SECRET in html
    assert WORKAROUND in html
    assert "Examens alleen in juni" in html
    assert 'data-visibility="confidential"' in html
    assert html.count('data-visibility="confidential"') == 1
    assert "Vertrouwelijk" in html
    assert "alleen mee in de landelijke cijfers" in html
    assert "Zichtbaarheid" in html
    [event] = views()
    assert event.actor_id == user.id
    assert event.target_type == "initiative"
    assert event.target_id == entry.id
    assert event.after == {"obstacles": [secret.id]}
    # Exactly one record per view.
    client.get(f"/moderatie/{entry.id}")
    assert len(views()) == 2
    # Showing the contact data is a view of the page too (and of the contact: its own event).
    csrf_post(client, f"/moderatie/{entry.id}/contact")
    assert len(views()) == 3
    assert len(views("contact.view")) == 1


def test_an_entry_without_confidential_obstacles_writes_nothing(client, login, app):
    login(client, "moderator")
    item = make_initiative()
    assert client.get(f"/moderatie/{item.id}").status_code == 200
    assert views() == []


def test_other_staff_screens_with_confidential_texts_log_the_view(client, login, entry):
    login(client, "moderator")
    secret = entry.obstacles[1]
    # The edit form holds the texts.
    html = client.get(f"/moderatie/{entry.id}/bewerken").get_data(as_text=True)
    assert SECRET in html
    [event] = views()
    assert (event.target_id, event.after) == (entry.id, {"obstacles": [secret.id]})
    assert event.reason == f"/moderatie/{entry.id}/bewerken"
    # The theme page lists the linked obstacle's title with its entry.
    html = client.get(f"/moderatie/themas/{secret.theme_id}").get_data(as_text=True)
    assert SECRET in html
    assert "Vertrouwelijk" in html
    assert [(e.target_id, e.after) for e in views()[1:]] == [(entry.id,
                                                              {"obstacles": [secret.id]})]
    # The merge page lists the obstacle titles of both entries.
    other = make_initiative(title="Andere", postcode="9999 ZZ")
    html = client.get(f"/moderatie/{other.id}/samenvoegen/{entry.id}").get_data(as_text=True)
    assert SECRET in html
    assert [(e.target_id, e.after) for e in views()[2:]] == [(entry.id,
                                                              {"obstacles": [secret.id]})]
    # A theme page without confidential obstacles writes nothing.
    plain = moderation.save_theme(None, moderation.ThemeData(area="overig", title="Urennorm"),
                                  actor=None)
    db.session.commit()
    client.get(f"/moderatie/themas/{plain.id}")
    assert len(views()) == 3


def test_a_pending_revision_with_a_new_confidential_obstacle_is_logged(client, login, app):
    login(client, "moderator")
    item = make_initiative(title="Zonder geheimen")
    data = initiative_data(title="Zonder geheimen", obstacles=[
        ObstacleData(id=item.obstacles[0].id, area="examineren", title="Vaste examenmomenten",
                     severity=3, description="Alleen in juni.", rule="Examenbesluit",
                     policy_ask="Ruimte"),
        ObstacleData(area="overig", title=SECRET, severity=2, visibility=CONFIDENTIAL)])
    propose_revision(item, data, "submitter")
    db.session.commit()
    html = client.get(f"/moderatie/{item.id}").get_data(as_text=True)
    assert SECRET in html  # in the diff of the revision
    assert "Nieuw knelpunt 2" in html  # the diff's keys read as Dutch labels
    [event] = views()
    assert event.after == {"obstacles": [], "new_obstacles": 1}


def test_the_history_labels_the_visibility_field(client, login, entry):
    login(client, "moderator")
    public = entry.obstacles[0]
    data = initiative_data(title=entry.title, obstacles=[
        ObstacleData(id=public.id, area="examineren", title=public.title, severity=3,
                     visibility=CONFIDENTIAL),
        ObstacleData(id=entry.obstacles[1].id, area="examineren", title=SECRET, severity=4,
                     status="omzeild", workaround=WORKAROUND,
                     policy_ask="Ruimte voor modules", visibility=CONFIDENTIAL)])
    propose_revision(entry, data, "submitter")
    db.session.commit()
    html = client.get(f"/moderatie/{entry.id}").get_data(as_text=True)
    # numbered as on the entry, named by its title, the field by its label on the form
    assert f"Knelpunt 1 (“{public.title}”): Wie mag dit knelpunt zien?" in html
    assert "obstacles." not in html.split('id="revision-title"')[1].split("</table>")[0]
    [event] = views()
    assert event.after == {"obstacles": sorted(o.id for o in entry.obstacles)}


@pytest.mark.parametrize("role", [None, "advisor"])
def test_advisors_and_the_public_are_refused(app, client, login, entry, role):
    if role:
        login(client, role)
    secret = entry.obstacles[1]
    urls = [f"/moderatie/{entry.id}", f"/moderatie/{entry.id}/bewerken",
            f"/moderatie/themas/{secret.theme_id}", "/moderatie/themas",
            f"/moderatie/{entry.id}/samenvoegen/{entry.id}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == (403 if role else 302), url
        assert SECRET not in response.get_data(as_text=True), url
        if not role:
            assert "/login" in response.headers["Location"], url
    assert views() == []
    assert entry.state == InitiativeState.PUBLISHED
