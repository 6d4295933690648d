"""Check your answers (issue 19): the public form shows everything entered before it is sent.

The pages are read with the standard library's HTML parser (tests/submissions/formparse.py)
and posted back as a browser without JavaScript would; what is stored is read with plain SQL.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from registry.security import pow as pow_
from tests.factories import form_post
from tests.fixtures.limits import rate_limited_app
from tests.submissions.formparse import parse

TABLES = ("organisation", "initiative", "initiative_dimension", "obstacle", "contact",
          "revision", "outbox_message")


def stored(db) -> dict[str, int]:
    """Rows per table, counted with plain SQL."""
    db.session.rollback()
    return {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
            for t in TABLES}


NOTHING = dict.fromkeys(TABLES, 0)


def typed(obstacles: int = 2, **overrides) -> list[tuple[str, str]]:
    """What the user typed (tests.factories.form_post), without a button."""
    data = form_post(obstacles=obstacles, **overrides)
    data.pop("action")
    data["obstacles-0-description"] = "Examens alleen in juni.\nOok herkansingen."
    data["levels"] = 'vmbo "t" & havo <4>'  # travels in a hidden field's attribute
    return list(data.items())


def start(client, **overrides) -> list[tuple[str, str]]:
    """Open the form and fill it in: its CSRF token and anti-spam fields plus the typed data."""
    form = parse(client.get("/aanmelden").get_data(as_text=True)).form("submission-form")
    own = {"csrf_token", "form_started", "homepage_url"}
    return [(k, v) for k, v in form.fields if k in own] + typed(**overrides)


def test_check_change_and_send_round_trip(csrf_client, db):
    body = start(csrf_client)
    # 1. "Controleer uw aanmelding": the check page, nothing stored
    response = csrf_client.post("/aanmelden", data=MultiDict([*body, ("action", "check")]))
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert stored(db) == NOTHING
    check = page.form("check-form")
    assert check.action == "/aanmelden"
    # every section and every obstacle has its "Wijzig", landing on that part of the form
    targets = [b.formaction for b in check.buttons if b.value == "edit"]
    assert targets == ["#stap-1", "#stap-2", "#stap-3", "#stap-4", "#knelpunt-1",
                       "#knelpunt-2", "#stap-5"]
    assert page.text("check-knelpunt-2") == "Knelpunt 2: Knelpunt 2"
    # the typed data travels in hidden fields, exactly as typed
    carried = check.data()
    for name, value in typed():
        assert carried[name].replace("\r\n", "\n") == value, name

    # 2. "Wijzig" at step 2: the form with everything kept, no messages, the anchor present
    response = csrf_client.post("/aanmelden", data=check.post(check.buttons[1]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "data-error-summary" not in html
    page = parse(html)
    assert "stap-2" in page.ids
    assert page.text("stap-2") == "Stap 2 van 5 Het initiatief"
    form = page.form("submission-form")
    again = form.data()
    for name, value in typed():
        # (the code is shown in capitals, as its filter writes it)
        assert again[name] == (value.upper() if name == "brin" else value), name
    assert stored(db) == NOTHING

    # 3. change one field, check again, send
    changed = [(k, "Leerroute op maat" if k == "title" else v) for k, v in form.fields]
    response = csrf_client.post("/aanmelden", data=MultiDict([*changed, ("action", "check")]))
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert "Leerroute op maat" in response.get_data(as_text=True)
    assert stored(db) == NOTHING
    check = page.form("check-form")
    send = check.button("submit")
    assert " ".join(send.text.split()) == "Aanmelding versturen"
    response = csrf_client.post("/aanmelden", data=check.post(send))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/aanmelden/bedankt")

    db.session.rollback()
    row = db.session.execute(text(
        "SELECT i.title, i.summary, i.state, o.name, o.brin, o.postcode, o.city, o.levels, "
        "c.email "
        "FROM initiative i JOIN organisation o ON o.id = i.organisation_id "
        "JOIN contact c ON c.initiative_id = i.id")).one()
    assert tuple(row) == ("Leerroute op maat", "Studenten kiezen zelf volgorde en tempo.",
                          "unconfirmed", "Het Baken College", "25LH", "3511 AB", "Utrecht",
                          'vmbo "t" & havo <4>', "anne@example.org")
    obstacles = db.session.execute(text(
        "SELECT title, description, area_code FROM obstacle ORDER BY position")).all()
    assert [tuple(o) for o in obstacles] == [
        ("Knelpunt 1", "Examens alleen in juni.\nOok herkansingen.", "examineren"),
        ("Knelpunt 2", "Examens alleen op vaste momenten.", "diplomeren")]
    levels = db.session.execute(text(
        "SELECT dimension_code, current_level, ambition_level FROM initiative_dimension "
        "WHERE current_level > 0 OR ambition_level > 0")).all()
    assert [tuple(x) for x in levels] == [("doelen", 1, 2)]
    assert stored(db)["initiative"] == 1


def test_check_page_shows_every_answer(csrf_client, db):
    body = start(csrf_client, **{"obstacles-1-status": "omzeild",
                                 "obstacles-1-workaround": "We toetsen in blokken.",
                                 "obstacles-1-visibility": "confidential",
                                 "obstacles-1-pilot_interest": "y",
                                 "contact-consent_quotes": "y"})
    html = csrf_client.post("/aanmelden", data=MultiDict([*body, ("action", "check")])) \
        .get_data(as_text=True)
    flat = " ".join(html.split())
    for shown in ("Het Baken College", "Middelbaar beroepsonderwijs (mbo)", "3511 AB",
                  "https://www.hetbaken.nl", "25180, 25181", "Eigen leerroute met coach",
                  "Pilot", "Leerdoelen (wat)", "Nu: 1 - lerende kiest uit vaste opties",
                  "Ambitie: 2 - lerende kiest met begeleiding", "Examineren", "Diplomeren",
                  "3 - blokkeert een deel", "Omzeild (workaround)", "We toetsen in blokken.",
                  "Vertrouwelijk: meetellen, maar nooit tonen bij onze school",
                  "Anne de Vries", "Anne@Example.org", "030 123 45 67"):
        assert shown in flat, shown
    # the consents read as yes/no, in the order of the form
    assert flat.count("<dd class=\"prewrap\">Ja</dd>") == 3  # contact, quotes, pilot
    assert stored(db) == NOTHING


def test_an_invalid_form_is_not_checked(csrf_client, db):
    body = [(k, "" if k == "title" else v) for k, v in start(csrf_client)]
    response = csrf_client.post("/aanmelden", data=MultiDict([*body, ("action", "check")]))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "data-error-summary" in html
    assert 'href="#title"' in html
    assert "check-form" not in html
    assert stored(db) == NOTHING


def test_check_and_change_do_not_use_up_the_submission_limit(app, db):
    with rate_limited_app(app, SUBMISSION_RATE_LIMIT="1 per day") as limited:
        client = limited.test_client()
        address = {"REMOTE_ADDR": "203.0.113.19"}
        page = client.get("/aanmelden", environ_base=address).get_data(as_text=True)
        base = [(k, v) for k, v in parse(page).form("submission-form").fields
                if k in ("csrf_token", "form_started")] + typed()
        for _ in range(3):
            for action in ("check", "edit"):
                response = client.post("/aanmelden", data=MultiDict([*base, ("action", action)]),
                                       environ_base=address)
                assert response.status_code == 200, action
        assert client.post("/aanmelden", data=MultiDict([*base, ("action", "submit")]),
                           environ_base=address).status_code == 302
        assert client.post("/aanmelden", data=MultiDict([*base, ("action", "submit")]),
                           environ_base=address).status_code == 429
        # over the limit, the answers can still be checked (and are kept)
        assert client.post("/aanmelden", data=MultiDict([*base, ("action", "check")]),
                           environ_base=address).status_code == 200
    assert stored(db)["initiative"] == 1


def test_proof_of_work_is_spent_on_sending_not_on_checking(csrf_client, app, db):
    """A solution can be used once: checking must not use it up."""
    app.config.update(POW_ENABLED=True, POW_MAXNUMBER=300)
    body = start(csrf_client)
    challenge = csrf_client.get("/beveiliging/pow-challenge").get_json()
    body.append(("pow_solution", pow_.solve(challenge)))
    response = csrf_client.post("/aanmelden", data=MultiDict([*body, ("action", "check")]))
    assert response.status_code == 200
    check = parse(response.get_data(as_text=True)).form("check-form")
    assert stored(db) == NOTHING
    assert csrf_client.post("/aanmelden", data=check.post(check.button("submit"))) \
        .status_code == 302
    # the same solution again (a replay) is refused
    response = csrf_client.post("/aanmelden", data=check.post(check.button("submit")))
    assert response.status_code == 422
    assert stored(db)["initiative"] == 1


@pytest.mark.parametrize("lang", ["en"])
def test_the_language_choice_stays_with_the_form(client, lang):
    html = client.get(f"/aanmelden?lang={lang}").get_data(as_text=True)
    assert parse(html).form("submission-form").action == f"/aanmelden?lang={lang}"
    # an unknown language is not echoed
    html = client.get("/aanmelden?lang=xx").get_data(as_text=True)
    assert parse(html).form("submission-form").action == "/aanmelden"
