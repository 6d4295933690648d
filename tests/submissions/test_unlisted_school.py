"""A school that is not in DUO's directory (issue 19): no BRIN, typed by hand.

Stored with ``organisation.brin = ''`` (not linked to a DUO school), located from its postcode.
Checked with plain SQL and the standard library's HTML parser.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from tests.factories import form_post
from tests.submissions.formparse import parse

# Typed by hand: a name no DUO school at this postcode has, a Leeuwarden postcode (Fryslân).
UNLISTED = {"school_name": "Leerwerkplaats De Nieuwe Route", "brin": "", "location_number": "",
            "street": "", "postcode": "8911 AB", "city": "Leeuwarden", "sector": "vo"}


def _post(client, action: str, **overrides):
    form = parse(client.get("/aanmelden").get_data(as_text=True)).form("submission-form")
    data = form_post(**overrides)
    data.pop("action")
    own = [(k, v) for k, v in form.fields if k in ("csrf_token", "form_started")]
    return client.post("/aanmelden", data=MultiDict([*own, *data.items(), ("action", action)]))


def _count(db, table: str) -> int:
    db.session.rollback()
    return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_the_form_offers_the_route_without_javascript(client):
    html = client.get("/aanmelden").get_data(as_text=True)
    # a native <details>: opens without JavaScript
    assert re.search(r'<details class="school-unlisted"[^>]*>\s*<summary>Mijn school staat er '
                     r'niet bij</summary>', html)
    brin = re.search(r'<input[^>]*id="brin"[^>]*>', html).group(0)
    assert "aria-required" not in brin
    assert re.search(r'<label for="brin" class="label">Instellingscode \(BRIN\) '
                     r'<span class="optional">\(optioneel\)</span>', html)
    city = re.search(r'<input[^>]*id="city"[^>]*>', html).group(0)
    assert 'aria-required="true"' in city


def test_an_unlisted_school_is_checked_sent_and_stored_unlinked(csrf_client, db):
    response = _post(csrf_client, "check", **UNLISTED)
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    flat = " ".join(response.get_data(as_text=True).split())
    assert "Geen: mijn school staat er niet bij" in flat
    assert _count(db, "organisation") == 0
    check = page.form("check-form")
    assert csrf_client.post("/aanmelden", data=check.post(check.button("submit"))) \
        .status_code == 302

    db.session.rollback()
    row = db.session.execute(text(
        "SELECT name, brin, location_number, street, postcode, city, sector, province, "
        "geo_status FROM organisation")).one()
    assert tuple(row) == ("Leerwerkplaats De Nieuwe Route", "", None, "", "8911 AB",
                          "Leeuwarden", "vo", "Fryslân", "resolved")


INVALID = [
    ({"city": ""}, "city", "Vul de plaats van de school in."),
    ({"location_number": "01"}, "location_number", "hoort bij een instellingscode"),
    ({"postcode": ""}, "postcode", "Vul de postcode in"),
    ({"postcode": "8911"}, "postcode", "geldige postcode"),
    ({"sector": ""}, "sector", "Kies de sector."),
    ({"school_name": ""}, "school_name", "Vul de naam van de school in."),
]


@pytest.mark.parametrize(("change", "field_id", "message"), INVALID,
                         ids=[case[1] + "=" + next(iter(case[0].values())) for case in INVALID])
def test_unlisted_school_fields_are_validated(csrf_client, db, change, field_id, message):
    response = _post(csrf_client, "check", **{**UNLISTED, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r"data-error-summary>(.*?)</div>", html, re.S).group(1)
    assert re.search(rf'<a href="#{field_id}">[^<]*{re.escape(message)}', summary)
    assert f'id="{field_id}-error"' in html  # next to the field, too
    # what was typed is kept (apart from the field that was emptied)
    values = parse(html).form("submission-form").data()
    for name, typed in {**UNLISTED, **change}.items():
        assert values[name] == typed, name
    assert _count(db, "organisation") == 0
    assert _count(db, "initiative") == 0
