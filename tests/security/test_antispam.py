"""Honeypot, minimum fill time, proof of work and per-IP rate limits on the public form."""
from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from registry.security import antispam, pow
from registry.submissions.models import Initiative
from tests.conftest import csrf_token_from
from tests.factories import form_post
from tests.fixtures.limits import rate_limited_app
from tests.security.helpers import assert_nothing_partial, counts


def _form_fields(html: str) -> dict[str, str]:
    fields = {}
    for name in ("csrf_token", "form_started"):
        match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
            rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
        if match:
            fields[name] = match.group(1)
    return fields


def post(client, environ=None, **overrides):
    environ = environ or {}
    page = client.get("/aanmelden", environ_base=environ)
    data = dict(form_post(**overrides), **_form_fields(page.get_data(as_text=True)))
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/aanmelden", data=data, environ_base=environ)


def test_form_has_a_hidden_labelled_honeypot_and_a_signed_start_time(csrf_client):
    html = csrf_client.get("/aanmelden").get_data(as_text=True)
    assert '<label for="homepage_url">Laat dit veld leeg</label>' in html
    field = re.search(r'<input[^>]*name="homepage_url"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field
    assert re.search(r'<div class="visually-hidden">\s*<label for="homepage_url"', html)
    started = _form_fields(html)["form_started"]
    assert antispam.read_timestamp(started) == pytest.approx(time.time(), abs=5)
    assert antispam.read_timestamp(started + "x") is None


def test_honeypot_filled_is_refused_with_a_message_and_keeps_the_input(csrf_client, db):
    response = post(csrf_client, homepage_url="http://spam.example", title="Mijn titel")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Laat dit veld leeg" in html
    assert "controle tegen spam" in html
    assert 'value="Mijn titel"' in html
    assert counts(db)["Initiative"] == 0


def test_too_fast_is_refused_then_accepted_after_waiting(csrf_client, app, db, monkeypatch):
    app.config["MIN_FILL_SECONDS"] = 30
    page = csrf_client.get("/aanmelden").get_data(as_text=True)
    data = dict(form_post(title="Snel ingevuld"), **_form_fields(page))
    response = csrf_client.post("/aanmelden", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "erg snel" in html
    assert 'value="Snel ingevuld"' in html
    assert counts(db)["Initiative"] == 0
    # the re-rendered form keeps the original start time: resubmitting later works
    assert _form_fields(html)["form_started"] == data["form_started"]
    real = time.time
    monkeypatch.setattr(antispam, "time", SimpleNamespace(time=lambda: real() + 31))
    assert csrf_client.post("/aanmelden", data=data).status_code == 302
    assert counts(db)["Initiative"] == 1


def test_missing_or_forged_start_time_counts_as_too_fast(csrf_client, app, db):
    app.config["MIN_FILL_SECONDS"] = 3
    for forged in (None, "", "MTIz.forged.sig"):
        page = csrf_client.get("/aanmelden").get_data(as_text=True)
        data = dict(form_post(), csrf_token=csrf_token_from(page))
        if forged is not None:
            data["form_started"] = forged
        response = csrf_client.post("/aanmelden", data=data)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "erg snel" in html
        # a fresh, valid start time is issued so the next attempt can succeed
        assert antispam.read_timestamp(_form_fields(html)["form_started"]) is not None
    assert counts(db)["Initiative"] == 0


def test_proof_of_work_when_enabled(csrf_client, app, db):
    app.config["POW_ENABLED"] = True
    app.config["POW_MAXNUMBER"] = 2000
    html = csrf_client.get("/aanmelden").get_data(as_text=True)
    assert 'data-pow-challenge-url="/beveiliging/pow-challenge"' in html
    assert "js/pow.js" in html
    # without a solution (e.g. JavaScript off): a message, input kept
    data = dict(form_post(title="Met controle"), **_form_fields(html))
    response = csrf_client.post("/aanmelden", data=data)
    assert response.status_code == 422
    assert "controle tegen spam is niet gelukt" in response.get_data(as_text=True)
    assert 'value="Met controle"' in response.get_data(as_text=True)
    # a solved challenge is accepted once
    challenge = csrf_client.get("/beveiliging/pow-challenge").get_json()
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxnumber"] == 2000
    solution = pow.solve(challenge)
    response = csrf_client.post("/aanmelden", data=dict(data, pow_solution=solution))
    assert response.status_code == 302
    # ... and not twice (replay)
    html = csrf_client.get("/aanmelden").get_data(as_text=True)
    replay = dict(data, pow_solution=solution, **_form_fields(html))
    assert csrf_client.post("/aanmelden", data=replay).status_code == 422
    assert counts(db)["Initiative"] == 1


def test_proof_of_work_rejects_tampering(app):
    app.config["POW_MAXNUMBER"] = 500
    with app.test_request_context():
        challenge = pow.create_challenge()
        assert pow.verify_solution(pow.solve(challenge))
        other = pow.create_challenge()
        import base64
        import json

        good = json.loads(base64.b64decode(pow.solve(other)))
        for change in ({"number": good["number"] + 1}, {"signature": "0" * 64},
                       {"salt": good["salt"].replace("expires=", "expires=9")},
                       {"algorithm": "MD5"}):
            forged = base64.b64encode(json.dumps(dict(good, **change)).encode()).decode()
            assert not pow.verify_solution(forged), change
        assert not pow.verify_solution("not base64 !")
        assert not pow.verify_solution("")
        expired = pow.create_challenge(ttl=-10)
        assert not pow.verify_solution(pow.solve(expired))


@pytest.fixture
def limited_client(app):
    """A second app on the same database with rate limiting switched on."""
    with rate_limited_app(app, SUBMISSION_RATE_LIMIT="3 per day") as limited:
        yield limited.test_client()


@pytest.mark.slow
def test_flood_from_one_ip_is_throttled_without_affecting_another(limited_client, db):
    flooder = {"REMOTE_ADDR": "203.0.113.7"}
    school = {"REMOTE_ADDR": "198.51.100.20"}
    page = limited_client.get("/aanmelden", environ_base=flooder).get_data(as_text=True)
    base = dict(form_post(title="Spam"), **_form_fields(page))
    statuses = []
    for i in range(500):
        response = limited_client.post("/aanmelden", data=dict(base, title=f"Spam {i}"),
                                       environ_base=flooder)
        statuses.append(response.status_code)
        if response.status_code == 429:
            html = response.get_data(as_text=True)
            assert int(response.headers["Retry-After"]) > 0
            if statuses.count(429) <= 5:  # a human sees the form with what was typed
                assert "erg veel formulieren" in html
                assert f'value="Spam {i}"' in html
            else:  # a client that keeps on posting gets the short page
                assert "Te veel verzoeken" in html
    assert statuses[:3] == [302, 302, 302]
    assert statuses[3:] == [429] * 497
    assert db.session.scalar(select(func.count(Initiative.id))) == 3
    # another school on another address is not affected
    response = limited_client.post("/aanmelden", data=dict(base, title="Echt"),
                                   environ_base=school)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Initiative.id))) == 4
    assert_nothing_partial(db)


def test_adding_obstacle_rows_without_javascript_does_not_count(limited_client, db):
    client_ip = {"REMOTE_ADDR": "192.0.2.50"}
    page = limited_client.get("/aanmelden", environ_base=client_ip).get_data(as_text=True)
    base = dict(form_post(), **_form_fields(page))
    for _ in range(6):
        response = limited_client.post("/aanmelden", data=dict(base, action="add_obstacle"),
                                       environ_base=client_ip)
        assert response.status_code == 200
    assert limited_client.post("/aanmelden", data=base, environ_base=client_ip).status_code == 302


def test_manage_link_request_form_has_the_same_protection(csrf_client, app):
    html = csrf_client.get("/beheren/nieuwe-link").get_data(as_text=True)
    assert 'name="homepage_url"' in html
    assert 'name="form_started"' in html
    data = dict(email="anne@school.nl", homepage_url="http://spam.example",
                **_form_fields(html))
    response = csrf_client.post("/beheren/nieuwe-link", data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "controle tegen spam" in text
    assert 'value="anne@school.nl"' in text
    app.config["MIN_FILL_SECONDS"] = 30
    html = csrf_client.get("/beheren/nieuwe-link").get_data(as_text=True)
    response = csrf_client.post("/beheren/nieuwe-link",
                                data=dict(email="anne@school.nl", **_form_fields(html)))
    assert response.status_code == 422
    assert "erg snel" in response.get_data(as_text=True)
