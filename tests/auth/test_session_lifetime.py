"""Issue 17, item 4: logout ends the session on the server; idle timeout and absolute lifetime.

The attack: copy a staff member's session cookie (or a remember cookie) and keep using it after
they pressed "Uitloggen", or long after they walked away from the computer.
"""
from __future__ import annotations

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.auth import sessions
from registry.auth.models import User
from tests.fixtures.auth import DEFAULT_PASSWORD, csrf_post

STAFF_PAGE = "/moderatie/"


def log_in(client, email):
    response = csrf_post(client, "/login", {"email": email, "password": DEFAULT_PASSWORD},
                         token_page="/login")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def copy_cookie(source, target, name):
    cookie = source.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    target.set_cookie(name, cookie.value)


def goes_to_login(response, next_path=STAFF_PAGE):
    return (response.status_code == 302
            and f"/login?next={next_path}" in response.headers["Location"])


@pytest.fixture
def moderator(make_user):
    return make_user("moderator", email="mod@example.org")


@pytest.fixture
def clock(monkeypatch):
    """The session clock, moved by hand: ``clock.now += 60``."""
    class Clock:
        now = 1_900_000_000

    monkeypatch.setattr(sessions, "now", lambda: Clock.now)
    return Clock


def test_copied_session_cookie_is_refused_after_logout(app, moderator, db):
    victim, attacker = app.test_client(), app.test_client()
    log_in(victim, "mod@example.org")
    copy_cookie(victim, attacker, app.config["SESSION_COOKIE_NAME"])
    assert attacker.get(STAFF_PAGE).status_code == 200  # the copy works while logged in

    token_before = db.session.get(User, moderator.id).session_token
    assert csrf_post(victim, "/logout").status_code == 302

    assert goes_to_login(attacker.get(STAFF_PAGE))
    assert goes_to_login(victim.get(STAFF_PAGE))
    db.session.expire_all()
    assert db.session.get(User, moderator.id).session_token != token_before
    # logging in again works, and the new session is unaffected by the old copy
    log_in(victim, "mod@example.org")
    assert victim.get(STAFF_PAGE).status_code == 200


def test_remember_cookie_is_refused_after_logout(app, moderator, db):
    """The app sets no remember cookie; one made for the account (Flask-Login signs the user's
    get_id(), which holds the session token) stops working at logout like the session."""
    cookie_name = app.config["REMEMBER_COOKIE_NAME"]
    victim = app.test_client()
    response = log_in(victim, "mod@example.org")
    assert cookie_name not in response.headers.get("Set-Cookie", "")
    with app.test_request_context():
        remember = encode_cookie(db.session.get(User, moderator.id).get_id())

    before = app.test_client()
    before.set_cookie(cookie_name, remember)
    assert before.get(STAFF_PAGE).status_code == 200  # accepted while the token is current

    victim.set_cookie(cookie_name, remember)
    logout = csrf_post(victim, "/logout")
    # the browser is told to delete it (Flask-Login's "clear", kept through session.clear())
    assert any(header.startswith(f"{cookie_name}=;")
               for header in logout.headers.getlist("Set-Cookie"))

    after = app.test_client()
    after.set_cookie(cookie_name, remember)
    assert goes_to_login(after.get(STAFF_PAGE))


def test_idle_session_ends_and_says_so(app, client, moderator, clock, db):
    log_in(client, "mod@example.org")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    assert idle == 30 * 60  # the documented default
    # activity keeps the session going, well past the idle time in total
    for _ in range(4):
        clock.now += idle - 60
        assert client.get(STAFF_PAGE).status_code == 200
    clock.now += idle + 1
    response = client.get(STAFF_PAGE)
    assert goes_to_login(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "U bent automatisch uitgelogd omdat u 30 minuten niets heeft gedaan." in page
    # the session is gone for good, not just for that one request
    clock.now += 1
    assert goes_to_login(client.get(STAFF_PAGE))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "logout")).one()
    assert event.reason == "idle timeout"
    assert event.actor_id == moderator.id


def test_a_copied_cookie_also_times_out(app, moderator, clock):
    victim, attacker = app.test_client(), app.test_client()
    log_in(victim, "mod@example.org")
    copy_cookie(victim, attacker, app.config["SESSION_COOKIE_NAME"])
    clock.now += app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    assert goes_to_login(attacker.get(STAFF_PAGE))


def test_absolute_lifetime_ends_an_active_session(app, client, moderator, clock):
    log_in(client, "mod@example.org")
    start = clock.now
    lifetime = app.config["SESSION_MAX_HOURS"] * 3600
    assert lifetime == 12 * 3600  # the documented default
    while clock.now + 20 * 60 <= start + lifetime:  # a request every 20 minutes, all day
        clock.now += 20 * 60
        assert client.get(STAFF_PAGE).status_code == 200, (clock.now - start) / 3600
    clock.now = start + lifetime + 1
    response = client.get(STAFF_PAGE)
    assert goes_to_login(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "langer dan 12 uur was ingelogd" in page


def test_the_times_are_configurable(app, client, moderator, clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    log_in(client, "mod@example.org")
    clock.now += 5 * 60 + 1
    assert goes_to_login(client.get(STAFF_PAGE))

    app.config["SESSION_IDLE_MINUTES"] = 30
    app.config["SESSION_MAX_HOURS"] = 1
    log_in(client, "mod@example.org")
    clock.now += 3600 + 1
    assert goes_to_login(client.get(STAFF_PAGE))


def test_the_login_time_cannot_be_refreshed(app, client, moderator, clock):
    """The times are in the signed session: an edited cookie is no session at all."""
    log_in(client, "mod@example.org")
    name = app.config["SESSION_COOKIE_NAME"]
    value = client.get_cookie(name).value
    payload, rest = value.split(".", 1)
    client.set_cookie(name, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest)
    assert goes_to_login(client.get(STAFF_PAGE))


def test_session_times_start_at_login(app, client, moderator, clock):
    log_in(client, "mod@example.org")
    with client.session_transaction() as session:
        assert session[sessions.LOGIN_AT] == session[sessions.SEEN_AT] == clock.now


def test_anonymous_visitors_are_untouched(client, clock):
    response = client.get("/")
    assert response.status_code == 200
    with client.session_transaction() as session:
        assert sessions.LOGIN_AT not in session
