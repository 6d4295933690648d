"""Staff login: passwords, lockout, safe redirects, logout everywhere, one-time links, CLI."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.auth.passwords import password_problems
from registry.auth.services import set_password_link
from registry.database import as_utc, utcnow
from tests.fixtures.auth import DEFAULT_PASSWORD, csrf_post

GENERIC = "Deze combinatie van e-mailadres en wachtwoord is niet bekend"


def do_login(client, email, password=DEFAULT_PASSWORD, next_url=None, **kwargs):
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return csrf_post(client, "/login", data, token_page="/login", **kwargs)


def events(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def test_login_page_is_dutch_with_labels(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Inloggen voor medewerkers" in html
    assert '<label for="email"' in html
    assert '<label for="password"' in html
    assert 'autocomplete="current-password"' in html


def test_moderator_logs_in_and_lands_on_queue(client, make_user, db):
    user = make_user("moderator", email="mod@example.org")
    response = do_login(client, "MOD@example.org ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/moderatie/")
    assert client.get("/moderatie/").status_code == 200
    [event] = events(db, "login.success")
    assert event.actor_id == user.id
    assert db.session.get(User, user.id).last_login_at is not None


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user("moderator", email="mod@example.org")
    response = do_login(client, "mod@example.org")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_account_look_the_same(client, make_user, db):
    make_user("moderator", email="mod@example.org")
    wrong = do_login(client, "mod@example.org", "not the password at all")
    unknown = do_login(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 422
    body_wrong = wrong.get_data(as_text=True)
    body_unknown = unknown.get_data(as_text=True)
    assert GENERIC in body_wrong
    assert GENERIC in body_unknown
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 - tokens/typed email
    assert strip(body_wrong).replace("mod@example.org", "X") == \
        strip(body_unknown).replace("nobody@example.org", "X")
    failures = events(db, "login.failure")
    assert [e.actor_label for e in failures] == ["mod@example.org", "nobody@example.org"]
    assert failures[1].actor_id is None
    assert failures[1].reason == "unknown account"


def test_account_is_locked_after_repeated_failures(client, make_user, db):
    user = make_user("moderator", email="mod@example.org")
    for _ in range(5):
        assert do_login(client, "mod@example.org", "wrong password 123").status_code == 422
    db.session.expire_all()
    locked = db.session.get(User, user.id)
    assert as_utc(locked.locked_until) > utcnow() + timedelta(minutes=10)
    # even the right password is refused while locked, with the same message
    response = do_login(client, "mod@example.org")
    assert response.status_code == 422
    assert GENERIC in response.get_data(as_text=True)
    assert events(db, "login.failure")[-1].reason == "locked"
    # after the lock expires the right password works again
    locked.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert do_login(client, "mod@example.org").status_code == 302


def test_deactivated_account_cannot_log_in(client, make_user):
    make_user("moderator", email="mod@example.org", active=False)
    response = do_login(client, "mod@example.org")
    assert response.status_code == 422
    assert GENERIC in response.get_data(as_text=True)


@pytest.mark.parametrize(("next_url", "expected"), [
    ("/moderatie/themas", "/moderatie/themas"),
    ("https://evil.example/phish", "/moderatie/"),
    ("//evil.example/phish", "/moderatie/"),
    ("/\\evil.example", "/moderatie/"),
    ("javascript:alert(1)", "/moderatie/"),
])
def test_next_only_redirects_locally(client, make_user, next_url, expected):
    make_user("moderator", email="mod@example.org")
    response = do_login(client, "mod@example.org", next_url=next_url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == expected or location.endswith("localhost" + expected)


def test_staff_page_redirects_to_login_with_next(client, make_user):
    response = client.get("/moderatie/themas")
    assert response.status_code == 302
    assert "/login?next=/moderatie/themas" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/moderatie/themas"' in page


def test_logout_needs_post_and_ends_the_session(client, login, db):
    login(client, "moderator")
    assert client.get("/logout").status_code == 405
    response = csrf_post(client, "/logout")
    assert response.status_code == 302
    assert client.get("/moderatie/").status_code == 302
    assert events(db, "logout")


def test_password_change_logs_out_everywhere_else(app, make_user, db):
    user = make_user("moderator", email="mod@example.org")
    laptop, phone = app.test_client(), app.test_client()
    assert do_login(laptop, "mod@example.org").status_code == 302
    assert do_login(phone, "mod@example.org").status_code == 302
    new_password = "een nieuw lang wachtwoord voor mij"
    response = csrf_post(laptop, "/account/wachtwoord", {
        "current": DEFAULT_PASSWORD, "password": new_password, "confirm": new_password,
    }, token_page="/account/wachtwoord")
    assert response.status_code == 302
    assert laptop.get("/moderatie/").status_code == 200  # this session continues
    assert phone.get("/moderatie/").status_code == 302  # the other one is logged out
    assert events(db, "user.password_change")[0].target_id == user.id
    assert do_login(app.test_client(), "mod@example.org", new_password).status_code == 302


def test_password_change_checks_the_current_password(client, login):
    login(client, "moderator")
    response = csrf_post(client, "/account/wachtwoord", {
        "current": "wrong", "password": "een nieuw lang wachtwoord",
        "confirm": "een nieuw lang wachtwoord",
    }, token_page="/account/wachtwoord")
    assert response.status_code == 422
    assert "Uw huidige wachtwoord klopt niet." in response.get_data(as_text=True)


@pytest.mark.parametrize(("password", "message"), [
    ("kort", "Gebruik minstens 12 tekens."),
    ("Wachtwoord1234", "te bekend"),
    ("123456789012", "te bekend"),
    ("aaaaaaaaaaaaaaaa", "te bekend"),
])
def test_weak_passwords_are_refused(app, password, message):
    with app.test_request_context():
        assert any(message in p for p in password_problems(password))


def test_good_password_passes(app):
    with app.test_request_context():
        assert password_problems("paarse olifant danst op dinsdag") == []


def test_password_is_hashed_with_a_current_algorithm(app):
    from config import ProductionConfig
    from registry.auth.passwords import hash_password

    app.config["PASSWORD_HASH_METHOD"] = ProductionConfig.PASSWORD_HASH_METHOD
    with app.test_request_context():
        assert hash_password("paarse olifant danst op dinsdag").startswith("scrypt:")


def test_set_password_link_works_once(client, make_user, db):
    user = make_user("moderator", email="new@example.org", password=None)
    link = set_password_link(user)
    path = link.replace("http://localhost", "")
    assert client.get(path).status_code == 200
    # too short: refused with a Dutch message at the field
    response = csrf_post(client, path, {"password": "kort", "confirm": "kort"}, token_page=path)
    assert response.status_code == 422
    assert "Gebruik minstens 12 tekens." in response.get_data(as_text=True)
    good = "paarse olifant danst op dinsdag"
    response = csrf_post(client, path, {"password": good, "confirm": good}, token_page=path)
    assert response.status_code == 302
    assert client.get(path).status_code == 404  # one-time
    assert do_login(client, "new@example.org", good).status_code == 302


def test_tampered_link_is_refused(client, make_user):
    user = make_user("moderator", password=None)
    path = set_password_link(user).replace("http://localhost", "")
    assert client.get(path[:-3] + "abc").status_code == 404


def test_cli_create_user_prints_a_working_link(runner, client, db):
    result = runner.invoke(args=["create-user", "Chef@Example.org", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chef@example.org"))
    assert user.role == "admin"
    assert user.password_hash is None
    link = re.search(r"http://\S+/wachtwoord/\S+", result.output).group(0)
    assert client.get(link.replace("http://localhost", "")).status_code == 200
    assert events(db, "user.create")[0].actor_label == "cli"
    again = runner.invoke(args=["create-user", "chef@example.org", "--role", "admin"])
    assert again.exit_code != 0
    assert "bestaat al" in again.output


def test_cli_refuses_unknown_role(runner):
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "god"])
    assert result.exit_code != 0
