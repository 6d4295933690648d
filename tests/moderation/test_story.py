"""The issue's 'done when': from a confirmed submission to a published, merged, themed entry."""
from __future__ import annotations

import re

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.mail.models import OutboxMessage
from registry.moderation.models import Theme
from registry.submissions.models import Initiative, Obstacle
from registry.taxonomy.constants import InitiativeState
from tests.factories import form_post, make_initiative
from tests.fixtures.auth import DEFAULT_PASSWORD, csrf_post


def test_moderator_story_end_to_end(app, make_user, db):
    submitter, moderator, advisor = app.test_client(), app.test_client(), app.test_client()

    # An older, already published entry of the same school location (the duplicate).
    existing = make_initiative(school_name="Het Baken College", brin="25LH",
                               postcode="3511 AB", title="Eigen leerroute")
    existing.organisation.location_number = "01"
    db.session.commit()

    # The submitter flow: submit, confirm by e-mail -> pending.
    response = csrf_post(submitter, "/aanmelden", form_post(obstacles=2))
    assert response.status_code == 302
    confirm_mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirm"))
    confirm_path = re.search(r"http://localhost(/bevestigen/\S+)", confirm_mail.body_text).group(1)
    assert csrf_post(submitter, confirm_path, token_page=confirm_path).status_code == 200
    new = db.session.scalar(select(Initiative).where(Initiative.id != existing.id))
    assert new.state == InitiativeState.PENDING

    # The moderator logs in through the form and sees the confirmed entry in the queue.
    make_user("moderator", email="mod@example.org")
    response = csrf_post(moderator, "/login",
                         {"email": "mod@example.org", "password": DEFAULT_PASSWORD},
                         token_page="/login")
    assert response.status_code == 302
    queue = moderator.get("/moderatie/").get_data(as_text=True)
    assert new.reference in queue
    assert "mogelijk dubbel" in queue

    # ...detects the duplicate on the entry page, looks up who sent it (logged) and merges
    # the new entry into the old one.
    entry = moderator.get(f"/moderatie/{new.id}").get_data(as_text=True)
    assert f'data-duplicate="{existing.id}"' in entry
    contact = csrf_post(moderator, f"/moderatie/{new.id}/contact").get_data(as_text=True)
    assert new.contact.email in contact
    response = csrf_post(moderator, f"/moderatie/{existing.id}/samenvoegen/{new.id}", {
        "version_id": existing.version_id, "field-title": "other", "field-summary": "other",
    })
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Initiative, existing.id)
    assert kept.title == "Eigen leerroute met coach"
    assert len(kept.obstacles) == 3
    assert db.session.get(Initiative, new.id).state == InitiativeState.MERGED

    # ...creates a theme and links the obstacles to it.
    response = csrf_post(moderator, "/moderatie/themas/nieuw", {
        "area": "examineren", "title": "Examens alleen op vaste momenten",
        "description": "Examens liggen vast in het jaar.",
        "rules-0-title": "Examen- en kwalificatiebesluit WEB", "rules-0-level": "amvb",
        "rules-0-source_url": "https://wetten.overheid.nl/BWBR0024139",
        "action": "save",
    })
    assert response.status_code == 302
    theme = db.session.scalar(select(Theme))
    ids = [str(o.id) for o in kept.obstacles]
    assert csrf_post(moderator, f"/moderatie/themas/{theme.id}/koppelen",
                     {"obstacle_ids": ids}).status_code == 302
    assert {o.theme_id for o in db.session.scalars(select(Obstacle))} == {theme.id}

    # ...and publishes it (the kept entry was published; publish a fresh pending one too).
    assert kept.state == InitiativeState.PUBLISHED
    listing = submitter.get("/initiatieven").get_data(as_text=True)
    assert "Eigen leerroute met coach" in listing

    # An advisor cannot reach any of it.
    make_user("advisor", email="adv@example.org")
    csrf_post(advisor, "/login", {"email": "adv@example.org", "password": DEFAULT_PASSWORD},
              token_page="/login")
    for url in ("/moderatie/", f"/moderatie/{kept.id}", "/moderatie/themas",
                f"/moderatie/themas/{theme.id}", "/beheer/audit"):
        assert advisor.get(url).status_code == 403, url
    assert csrf_post(advisor, f"/moderatie/{kept.id}/publiceren").status_code == 403

    # The audit log shows every step.
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    for action in ("initiative.confirm", "login.success", "contact.view", "initiative.merge",
                   "theme.create", "obstacle.link_theme"):
        assert action in actions, action
    admin = app.test_client()
    make_user("admin", email="admin@example.org")
    csrf_post(admin, "/login", {"email": "admin@example.org", "password": DEFAULT_PASSWORD},
              token_page="/login")
    log = admin.get("/beheer/audit?actor=mod@example.org").get_data(as_text=True)
    assert "initiative.merge" in log
    assert "obstacle.link_theme" in log


def test_publish_step_of_the_story(client, login, db):
    """Publishing a confirmed new entry makes it show in the public list."""
    login(client, "moderator")
    item = make_initiative(state=InitiativeState.PENDING, title="Leren in eigen tempo")
    csrf_post(client, f"/moderatie/{item.id}/publiceren", {"version_id": item.version_id})
    assert "Leren in eigen tempo" in client.get("/initiatieven").get_data(as_text=True)
