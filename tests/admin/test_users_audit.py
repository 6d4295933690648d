"""Administrators: invite, change role, deactivate; the audit log browsable and filterable."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.audit.services import record
from registry.auth.models import User
from registry.database import utcnow
from registry.mail.models import OutboxMessage
from tests.fixtures.auth import csrf_post


def test_invite_mails_a_set_password_link(client, login, db):
    admin = login(client, "admin")
    response = csrf_post(client, "/beheer/gebruikers", {
        "email": "Nieuw@Example.org", "name": "Nieuwe Moderator", "role": "moderator",
    }, token_page="/beheer/gebruikers")
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nieuw@example.org"))
    assert user.role == "moderator"
    assert user.password_hash is None
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "auth.invite"))
    assert mail.to_address == "nieuw@example.org"
    link = re.search(r"http://localhost(/wachtwoord/\S+)", mail.body_text).group(1)
    assert client.get(link).status_code == 200
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.actor_id == admin.id
    assert event.after["role"] == "moderator"
    # inviting the same address again is refused at the field
    again = csrf_post(client, "/beheer/gebruikers", {"email": "nieuw@example.org",
                                                     "role": "advisor"})
    assert again.status_code == 422
    assert "Er bestaat al een account met dit e-mailadres." in again.get_data(as_text=True)


def test_change_role_and_deactivate(app, login, make_user, db):
    admin_client, victim_client = app.test_client(), app.test_client()
    login(admin_client, "admin")
    user = login(victim_client, "moderator")
    assert victim_client.get("/moderatie/").status_code == 200
    response = csrf_post(admin_client, f"/beheer/gebruikers/{user.id}/rol", {"role": "advisor"})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.role == "advisor"
    # the new (weaker) role applies at once: the old session is logged out
    assert victim_client.get("/moderatie/").status_code == 302
    csrf_post(admin_client, f"/beheer/gebruikers/{user.id}/deactiveren")
    db.session.expire_all()
    assert user.active is False
    actions = [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_id == user.id,
                                 AuditEvent.target_type == "user"))]
    assert "user.role" in actions
    assert "user.deactivate" in actions
    csrf_post(admin_client, f"/beheer/gebruikers/{user.id}/activeren")
    db.session.expire_all()
    assert user.active is True


def test_admin_cannot_lock_themselves_out(client, login, db):
    admin = login(client, "admin")
    csrf_post(client, f"/beheer/gebruikers/{admin.id}/deactiveren")
    csrf_post(client, f"/beheer/gebruikers/{admin.id}/rol", {"role": "advisor"})
    db.session.expire_all()
    assert admin.active is True
    assert admin.role == "admin"
    page = client.get("/beheer/gebruikers").get_data(as_text=True)
    assert "U kunt uw eigen" in page


def test_audit_log_filters(client, login, db):
    admin = login(client, "admin")
    old = record("initiative.publish", target_type="initiative", target_id=7, actor=admin)
    old.created_at = utcnow() - timedelta(days=10)
    record("initiative.reject", target_type="initiative", target_id=8, actor="someone@x.nl",
           reason="Geen gepersonaliseerd leren")
    record("theme.create", target_type="theme", target_id=1, actor=admin)
    db.session.commit()

    def rows(query=""):
        html = client.get("/beheer/audit" + query).get_data(as_text=True)
        return re.findall(r'data-action="([^"]+)"', html)

    assert set(rows()) >= {"initiative.publish", "initiative.reject", "theme.create"}
    assert rows("?action=initiative.reject") == ["initiative.reject"]
    assert set(rows("?action=initiative")) == {"initiative.publish", "initiative.reject"}
    assert rows("?actor=someone") == ["initiative.reject"]
    assert rows("?target_type=theme") == ["theme.create"]
    assert rows("?target_type=initiative&target_id=7") == ["initiative.publish"]
    today = utcnow().date().isoformat()
    assert "initiative.publish" not in rows(f"?from={today}")
    assert rows(f"?to={(utcnow() - timedelta(days=5)).date().isoformat()}") == [
        "initiative.publish"]
    assert "Geen gepersonaliseerd leren" in client.get("/beheer/audit").get_data(as_text=True)


def test_moderator_cannot_see_users_or_audit(client, login):
    login(client, "moderator")
    assert client.get("/beheer/gebruikers").status_code == 403
    assert client.get("/beheer/audit").status_code == 403


def test_hostile_query_values_do_not_break_staff_lists(client, login):
    login(client, "admin")
    for url in ("/beheer/audit?target_id=99999999999999999999&page=99999999999999999999",
                "/beheer/audit?from=2026-13-45&to=x&actor=%25_",
                "/moderatie/?page=99999999999999999999&state=nonsense&q=" + "x" * 5000):
        assert client.get(url).status_code == 200, url
