"""Login throttling (Flask-Limiter, per IP and per account) and the optional second factor."""
from __future__ import annotations

import pyotp
import pytest

from registry.auth.models import User
from tests.fixtures.auth import DEFAULT_PASSWORD, csrf_post
from tests.fixtures.limits import rate_limited_app


@pytest.fixture
def limited_app(app):
    """A second app on the same database with rate limiting switched on."""
    with rate_limited_app(
        app, LOGIN_RATE_LIMIT_IP="4 per minute", LOGIN_RATE_LIMIT_ACCOUNT="2 per minute",
        PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
    ) as limited:
        yield limited


def attempt(client, email, password="wrong password here"):
    return csrf_post(client, "/login", {"email": email, "password": password},
                     token_page="/login")


def test_login_is_throttled_per_account(limited_app):
    client = limited_app.test_client()
    assert attempt(client, "a@example.org").status_code == 422
    assert attempt(client, "a@example.org").status_code == 422
    blocked = attempt(client, "a@example.org")
    assert blocked.status_code == 429
    assert "Te veel verzoeken" in blocked.get_data(as_text=True)
    # another account from the same address still gets an answer
    assert attempt(client, "b@example.org").status_code == 422


def test_login_is_throttled_per_ip(limited_app):
    client = limited_app.test_client()
    codes = [attempt(client, f"user{i}@example.org").status_code for i in range(5)]
    assert codes[:4] == [422] * 4
    assert codes[4] == 429


@pytest.fixture
def totp_admin(app, make_user):
    app.config["TOTP_ENABLED"] = True
    return make_user("admin", email="admin@example.org")


def test_admin_without_second_factor_is_not_enrolled_at_login(client, totp_admin, db):
    """Issue 17, item 6: whoever passes the password step may not set up the second factor;
    that happens only after a set-password link (tests/auth/test_totp_hardening.py)."""
    response = attempt(client, "admin@example.org", DEFAULT_PASSWORD)
    assert response.status_code == 403
    assert "Vraag een beheerder om een nieuwe link" in response.get_data(as_text=True)
    assert client.get("/login/code").status_code == 302  # no pending second step
    assert client.get("/beheer/gebruikers").status_code == 302  # not logged in
    db.session.expire_all()
    assert db.session.get(User, totp_admin.id).totp_secret is None


def test_enrolled_user_needs_the_current_code(app, client, make_user):
    app.config["TOTP_ENABLED"] = True
    secret = pyotp.random_base32()
    make_user("moderator", email="mod@example.org", totp_secret=secret)
    attempt(client, "mod@example.org", DEFAULT_PASSWORD)
    page = client.get("/login/code").get_data(as_text=True)
    assert secret not in page
    ok = csrf_post(client, "/login/code", {"code": pyotp.TOTP(secret).now()},
                   token_page="/login/code")
    assert ok.status_code == 302
    assert client.get("/moderatie/").status_code == 200


def test_without_totp_config_moderators_log_in_directly(client, make_user):
    make_user("admin", email="admin@example.org")
    response = attempt(client, "admin@example.org", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert "/login/code" not in response.headers["Location"]
