"""Issue 17, item 6: the second factor (TOTP).

The attacks: replay a code that was seen (shoulder, screen share, proxy log) within its window;
guess codes with a known password (25 wrong codes in a row were all just answered 422); pass the
password step of an admin who has not set up a code yet and enrol one's own authenticator.
"""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import segno
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.auth import services, sessions
from registry.auth.models import User
from registry.auth.services import set_password_link
from registry.database import as_utc, utcnow
from tests.fixtures.auth import DEFAULT_PASSWORD, csrf_post

T0 = 1_900_000_020  # a fixed moment, in the middle of a 30 s time step
NEW_PASSWORD = "paarse olifant danst op dinsdag"  # test data
REUSED = "Deze code is al gebruikt."
WRONG = "Deze code klopt niet."
LOCKED = "Uw account is tijdelijk geblokkeerd na te veel onjuiste codes."


@pytest.fixture
def totp_clock(app, monkeypatch):
    """TOTP on, and its clock fixed at T0 (move it with ``totp_clock.now += 30``)."""
    app.config["TOTP_ENABLED"] = True

    class Clock:
        now = T0

    monkeypatch.setattr(services, "totp_clock", lambda: Clock.now)
    return Clock


@pytest.fixture
def admin(make_user, totp_clock):
    return make_user("admin", email="admin@example.org", totp_secret=pyotp.random_base32())


def code_at(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def password_step(client, email="admin@example.org", password=DEFAULT_PASSWORD):
    response = csrf_post(client, "/login", {"email": email, "password": password},
                         token_page="/login")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/login/code")


def send_code(client, code, url="/login/code"):
    return csrf_post(client, url, {"code": code}, token_page=url)


def logged_in(client) -> bool:
    return client.get("/beheer/gebruikers").status_code == 200


# --- a code works once ------------------------------------------------------------------------

def test_the_same_code_is_refused_the_second_time(app, admin):
    first, second = app.test_client(), app.test_client()
    code = code_at(admin.totp_secret, T0)
    password_step(first)
    assert send_code(first, code).status_code == 302
    assert logged_in(first)

    password_step(second)  # an attacker who saw the code and knows the password
    replay = send_code(second, code)
    assert replay.status_code == 422
    assert REUSED in replay.get_data(as_text=True)
    assert not logged_in(second)


def test_codes_of_the_window_are_refused_once_a_later_step_was_used(app, admin, totp_clock, db):
    secret = admin.totp_secret
    client = app.test_client()
    password_step(client)
    # the next step's code is accepted (a phone clock a little ahead) ...
    assert send_code(client, code_at(secret, T0 + 30)).status_code == 302
    # ... and from then on the current and the previous step's codes are used up as well
    for earlier in (T0, T0 - 30, T0 + 30):
        other = app.test_client()
        password_step(other)
        response = send_code(other, code_at(secret, earlier))
        assert response.status_code == 422
        assert REUSED in response.get_data(as_text=True)
    # the next time step brings a fresh code that works
    totp_clock.now += 60
    other = app.test_client()
    password_step(other)
    assert send_code(other, code_at(secret, T0 + 60)).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_last_counter == (T0 + 60) // 30


def test_codes_outside_the_window_are_wrong(app, admin, client):
    password_step(client)
    for far in (T0 - 60, T0 + 60, T0 + 3600):
        response = send_code(client, code_at(admin.totp_secret, far))
        assert WRONG in response.get_data(as_text=True)


# --- wrong codes lock the account --------------------------------------------------------------

def test_five_wrong_codes_lock_the_account_until_the_lockout_ends(app, admin, db, monkeypatch):
    right = code_at(admin.totp_secret, T0)
    wrong = "000000" if right != "000000" else "111111"
    attacker = app.test_client()
    password_step(attacker)
    for _ in range(4):
        response = send_code(attacker, wrong)
        assert response.status_code == 422
        assert WRONG in response.get_data(as_text=True)
    fifth = send_code(attacker, wrong)
    assert fifth.status_code == 422
    assert LOCKED in fifth.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, admin.id)
    minutes = app.config["LOGIN_LOCKOUT_MINUTES"]
    assert as_utc(user.locked_until) > utcnow() + timedelta(minutes=minutes - 1)

    # locked: the right code is refused as well, and so is the password step
    response = send_code(attacker, right)
    assert response.status_code == 422
    assert LOCKED in response.get_data(as_text=True)
    owner = app.test_client()
    refused = csrf_post(owner, "/login", {"email": "admin@example.org",
                                          "password": DEFAULT_PASSWORD}, token_page="/login")
    assert refused.status_code == 422
    assert not logged_in(attacker)
    assert not logged_in(owner)

    # after the lockout period the account works again
    later = utcnow() + timedelta(minutes=minutes, seconds=1)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    password_step(owner)
    assert send_code(owner, right).status_code == 302
    assert logged_in(owner)
    reasons = [e.reason for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login.failure").order_by(AuditEvent.id))]
    assert reasons.count("wrong code") == 4
    assert "wrong code; account locked" in reasons
    assert "locked" in reasons


def test_wrong_codes_count_per_account_not_per_session(app, admin, db):
    """A new password step (another browser, or the same one again) does not reset the count."""
    wrong = "000000" if code_at(admin.totp_secret, T0) != "000000" else "111111"
    for attempts in (2, 2, 1):
        client = app.test_client()
        password_step(client)
        for _ in range(attempts):
            last = send_code(client, wrong)
    assert LOCKED in last.get_data(as_text=True)
    db.session.expire_all()
    assert services.is_locked(db.session.get(User, admin.id))


def test_a_right_code_resets_the_count(app, admin, totp_clock, db):
    wrong = "000000" if code_at(admin.totp_secret, T0) != "000000" else "111111"
    client = app.test_client()
    password_step(client)
    for _ in range(4):
        send_code(client, wrong)
    assert send_code(client, code_at(admin.totp_secret, T0)).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_failures == 0


def test_the_password_step_expires(app, admin, client, monkeypatch):
    password_step(client)
    start = sessions.now()
    monkeypatch.setattr(sessions, "now", lambda: start + 11 * 60)
    response = client.get("/login/code")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "De tijd voor de tweede stap is verstreken." in page
    late = csrf_post(client, "/login/code", {"code": code_at(admin.totp_secret, T0)},
                     token_page="/login")
    assert late.status_code == 302
    assert late.headers["Location"].endswith("/login")
    assert not logged_in(client)


# --- enrolment only through a set-password link ------------------------------------------------

QR_LABEL = "QR-code om uw account toe te voegen aan een authenticator-app"


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) of a segno SVG path ('M x y' absolute, 'm dx dy'
    relative moves, 'h n' a run of n dark modules; rows are drawn at y + 0.5)."""
    path = re.search(r'<path[^>]*\bstroke="#000"[^>]*\bd="([^"]+)"', svg)
    assert path, svg[:300]
    x = y = 0.0
    dark = set()
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path.group(1)):
        values = [float(v) for v in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:  # h
            for i in range(int(values[0])):
                dark.add((int(x) + i, int(y - 0.5)))
            x += values[0]
    return dark


def segno_modules(uri: str) -> set[tuple[int, int]]:
    qr = segno.make(uri, error="m")
    border = 4
    return {(col + border, row + border) for row, line in enumerate(qr.matrix)
            for col, bit in enumerate(line) if bit}


@pytest.fixture
def invited_admin(make_user, totp_clock):
    return make_user("admin", email="new-admin@example.org", password=None)


def use_link(client, user):
    path = set_password_link(user).replace("http://localhost", "")
    response = csrf_post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                         token_page=path)
    assert response.status_code == 302
    return response


def test_admin_enrols_right_after_the_set_password_link(app, client, invited_admin, totp_clock,
                                                        db):
    response = use_link(client, invited_admin)
    assert response.headers["Location"].endswith("/wachtwoord/tweede-stap")
    assert not logged_in(client)

    page_response = client.get("/wachtwoord/tweede-stap")
    assert page_response.status_code == 200
    assert page_response.headers["Cache-Control"] == "no-store"
    page = page_response.get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    uri = html.unescape(re.search(r'<code class="break" id="totp-uri">([^<]+)</code>',
                                  page).group(1))
    # the text for manual entry matches the link, which is a TOTP link for this account
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret
    assert parsed.name == "new-admin@example.org"
    assert parsed.issuer == "Register gepersonaliseerd leren"
    # the QR code: inline SVG (no script, no image request) whose modules are exactly those of
    # the otpauth URI encoded independently, with a text alternative
    svg = re.search(r"<svg\b.*?</svg>", page, re.S).group(0)
    assert "<script" not in svg
    assert "style=" not in svg
    assert f'role="img" aria-label="{QR_LABEL}"' in svg
    assert f"<title>{QR_LABEL}</title>" in svg
    assert qr_modules(svg) == segno_modules(uri)

    assert send_code(client, "123456" if code_at(secret, T0) != "123456" else "654321",
                     "/wachtwoord/tweede-stap").status_code == 422
    done = send_code(client, code_at(secret, T0), "/wachtwoord/tweede-stap")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/login")
    assert "de tweede stap zijn ingesteld" in client.get("/login").get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, invited_admin.id)
    assert user.totp_secret == secret
    assert user.totp_pending_secret is None
    assert client.get("/wachtwoord/tweede-stap").status_code == 403  # once

    # logging in needs the password and a code; the enrolment code is used up
    password_step(client, "new-admin@example.org", NEW_PASSWORD)
    assert REUSED in send_code(client, code_at(secret, T0)).get_data(as_text=True)
    totp_clock.now += 30
    assert send_code(client, code_at(secret, T0 + 30)).status_code == 302
    assert logged_in(client)


def test_enrolment_page_needs_the_link(app, client, invited_admin):
    """Without having just used a link: no secret is shown and nothing can be enrolled."""
    response = client.get("/wachtwoord/tweede-stap")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Vraag een beheerder om een nieuwe link" in body
    assert "<svg" not in body
    assert csrf_post(client, "/wachtwoord/tweede-stap", {"code": "123456"},
                     token_page="/login").status_code == 403


def test_admin_with_password_but_no_code_is_sent_for_a_link(app, client, make_user, totp_clock,
                                                            db):
    """An admin who set a password before TOTP was switched on (or left the enrolment page)."""
    user = make_user("admin", email="admin@example.org")
    refused = csrf_post(client, "/login", {"email": "admin@example.org",
                                           "password": DEFAULT_PASSWORD}, token_page="/login")
    assert refused.status_code == 403
    assert "Tweede stap nog niet ingesteld" in refused.get_data(as_text=True)
    assert client.get("/wachtwoord/tweede-stap").status_code == 403
    assert not logged_in(client)
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_pending_secret is None
    # a new link, as the message says, leads to the enrolment
    assert use_link(client, user).headers["Location"].endswith("/wachtwoord/tweede-stap")


def test_enrolment_expires(app, client, invited_admin, monkeypatch):
    use_link(client, invited_admin)
    start = sessions.now()
    monkeypatch.setattr(sessions, "now", lambda: start + 31 * 60)
    assert client.get("/wachtwoord/tweede-stap").status_code == 403


def test_enrolment_counts_wrong_codes_too(app, client, invited_admin, db):
    use_link(client, invited_admin)
    for _ in range(5):
        last = send_code(client, "abcdef", "/wachtwoord/tweede-stap")
    # not digits: refused by the check like any wrong code
    assert LOCKED in last.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, invited_admin.id).totp_secret is None


def test_link_for_an_enrolled_admin_keeps_the_second_factor(app, client, admin, db):
    secret = admin.totp_secret
    response = use_link(client, admin)
    assert response.headers["Location"].endswith("/login")
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_secret == secret


def test_moderators_are_not_asked_to_enrol(app, client, make_user, totp_clock):
    user = make_user("moderator", email="mod@example.org", password=None)
    assert use_link(client, user).headers["Location"].endswith("/login")


def test_cli_password_link_can_reset_the_second_factor(runner, client, admin, db):
    result = runner.invoke(args=["password-link", "Admin@Example.org", "--reset-totp"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_secret is None
    link = re.search(r"http://\S+/wachtwoord/\S+", result.output).group(0)
    path = link.replace("http://localhost", "")
    response = csrf_post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                         token_page=path)
    assert response.headers["Location"].endswith("/wachtwoord/tweede-stap")
    unknown = runner.invoke(args=["password-link", "nobody@example.org"])
    assert unknown.exit_code != 0
