"""Moderators link an entry that has no DUO school yet (``brin == ""``) to one, later.

The expected values come from the shipped DUO file read here with gzip/json, and the
stored rows are read back with plain SQL.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from registry.extensions import db as _db
from registry.moderation.duplicates import find_duplicates
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.factories import make_initiative

DATA = Path(__file__).resolve().parents[2] / "registry" / "geo" / "data"
AGORA = "31VZ00"  # "Agora HUB030", Utrecht, in the shipped file


def duo_row(code: str) -> dict:
    with gzip.open(DATA / "schools.json.gz", "rt", encoding="utf-8") as fh:
        row = next(r for r in json.load(fh) if r[0] == code)
    keys = ("code", "brin", "name", "kind", "sector", "street", "postcode", "city", "lat",
            "lon", "website")
    return dict(zip(keys, row, strict=True))


def pc4_centroid(postcode: str) -> tuple[float, float]:
    with gzip.open(DATA / "pc4.json.gz", "rt", encoding="utf-8") as fh:
        row = next(r for r in json.load(fh) if r[0] == postcode[:4])
    return row[2], row[3]


def org_row(initiative_id: int) -> dict:
    row = _db.session.execute(text(
        "SELECT o.name, o.brin, o.location_number, o.street, o.postcode, o.city, o.latitude,"
        " o.longitude, o.geo_source, o.province FROM organisation o"
        " JOIN initiative i ON i.organisation_id = o.id WHERE i.id = :id"),
        {"id": initiative_id}).mappings().one()
    return dict(row)


def version_of(html: str) -> str:
    match = re.search(r'name="version_id" type="hidden" value="(\d+)"|'
                      r'type="hidden" name="version_id" value="(\d+)"|'
                      r'id="version_id" name="version_id" type="hidden" value="(\d+)"', html)
    assert match, "no version_id in the page"
    return next(g for g in match.groups() if g)


@pytest.fixture
def unlinked(db):
    """A school that typed its name and address but no code (the "not in DUO" route)."""
    return make_initiative(state=InitiativeState.PENDING, brin="", school_name="Agora Utrecht",
                           postcode="3532 HK", city="Utrecht", title="Leren zonder klassen")


def _page(client, initiative, query: str | None = None):
    url = f"/moderatie/{initiative.id}/school"
    return client.get(url if query is None else f"{url}?q={query}")


def _link(client, initiative, code: str, **extra):
    html = _page(client, initiative).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "version_id": version_of(html), "code": code,
            "q": "agora utrecht", **extra}
    return client.post(f"/moderatie/{initiative.id}/school", data=data)


def test_an_unlinked_school_is_located_by_its_postcode_and_is_nobodys_duplicate(db):
    """Two different schools without a code: no "same institution code" signal between
    them; once both are linked to the same DUO location, there is."""
    a = make_initiative(state=InitiativeState.PENDING, brin="", school_name="Leerhuis Oost",
                        postcode="3511 AB", title="Eigen route")
    b = make_initiative(state=InitiativeState.PENDING, brin="", school_name="Kwekerij West",
                        postcode="1012 AB", city="Amsterdam", title="Vrije dagindeling")
    for initiative in (a, b):
        row = org_row(initiative.id)
        assert (row["brin"], row["location_number"], row["geo_source"]) == ("", None, "postcode")
        assert (row["latitude"], row["longitude"]) == pytest.approx(
            pc4_centroid(row["postcode"]), abs=1e-6)
    assert find_duplicates(a) == []
    # the same code (and location) is a signal again once both are linked
    for initiative in (a, b):
        initiative.organisation.brin, initiative.organisation.location_number = "31VZ", "00"
    db.session.flush()
    assert [(c.initiative.id, c.reasons) for c in find_duplicates(a)] == [(b.id, ["brin_location"])]


def test_the_entry_page_says_it_is_not_linked_and_offers_the_search(client, login, unlinked):
    login(client, "moderator")
    html = client.get(f"/moderatie/{unlinked.id}").get_data(as_text=True)
    assert "Niet gekoppeld aan een DUO-school" in html
    assert f'action="/moderatie/{unlinked.id}/school"' in html
    assert 'value="Agora Utrecht"' in html  # the search starts from what was typed
    linked = make_initiative(state=InitiativeState.PENDING, brin="31VZ", postcode="3532 HK")
    linked.organisation.location_number = "00"
    _db.session.commit()
    html = client.get(f"/moderatie/{linked.id}").get_data(as_text=True)
    assert "Niet gekoppeld aan een DUO-school" not in html
    assert "Gekoppeld aan" in html
    assert "31VZ00" in html
    assert "Agora HUB030" in html


def test_the_search_works_without_javascript(client, login, unlinked):
    login(client, "moderator")
    html = _page(client, unlinked).get_data(as_text=True)
    # the first search is the typed name and place; the results are radio buttons
    assert 'name="q" value="Agora Utrecht"' in html
    assert f'type="radio" name="code" id="code-{AGORA}" value="{AGORA}"' in html
    html = _page(client, unlinked, "agora roermond").get_data(as_text=True)
    assert "Geen school gevonden met al deze woorden" in html
    assert f'value="{AGORA}"' in html
    html = _page(client, unlinked, "zzzzqqq").get_data(as_text=True)
    assert "Geen school gevonden. Probeer andere woorden" in html
    assert 'type="radio"' not in html


def test_a_moderator_links_the_entry_to_a_duo_school(client, login, unlinked):
    user = login(client, "moderator")
    response = _link(client, unlinked, AGORA, reason="School staat in DUO als Agora HUB030")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/moderatie/{unlinked.id}#duo-school")
    duo = duo_row(AGORA)
    row = org_row(unlinked.id)
    assert {k: row[k] for k in ("name", "brin", "location_number", "street", "postcode", "city")
            } == {"name": duo["name"], "brin": duo["brin"], "location_number": "00",
                  "street": duo["street"], "postcode": duo["postcode"], "city": duo["city"]}
    # the location comes from the school's own address now
    assert row["geo_source"] == "school"
    assert (row["latitude"], row["longitude"]) == pytest.approx((duo["lat"], duo["lon"]),
                                                                abs=1e-6)
    assert row["province"] == "Utrecht"
    # the history: one revision with the changed fields
    revision = _db.session.execute(text(
        "SELECT kind, actor_type, actor_id, changes FROM revision WHERE initiative_id = :id"
        " ORDER BY id DESC LIMIT 1"), {"id": unlinked.id}).one()
    changes = revision.changes if isinstance(revision.changes, dict) else json.loads(
        revision.changes)
    assert (revision.kind, revision.actor_type, revision.actor_id) == (
        "link_school", "moderator", user.id)
    assert changes["organisation.brin"] == ["", "31VZ"]
    assert changes["organisation.name"] == ["Agora Utrecht", "Agora HUB030"]
    # the audit log: who, what before and after, why
    event = _db.session.execute(text(
        "SELECT actor_id, target_id, before, after, reason FROM audit_event"
        " WHERE action = 'initiative.link_school'")).one()
    before, after = (v if isinstance(v, dict) else json.loads(v)
                     for v in (event.before, event.after))
    assert (event.actor_id, event.target_id) == (user.id, unlinked.id)
    assert (before["brin"], after["brin"], after["code"]) == ("", "31VZ", AGORA)
    assert before["geo_source"] == "postcode"
    assert after["geo_source"] == "school"
    assert event.reason == "School staat in DUO als Agora HUB030"
    # the entry page says so
    html = client.get(f"/moderatie/{unlinked.id}").get_data(as_text=True)
    assert "gekoppeld aan Agora HUB030 (31VZ00, Utrecht)" in html
    assert "Niet gekoppeld aan een DUO-school" not in html


def test_keeping_the_typed_name_and_a_hand_placed_pin(client, login, unlinked):
    org = unlinked.organisation
    org.latitude, org.longitude, org.geo_source, org.geo_precision = 52.1, 5.1, "manual", "manual"
    _db.session.commit()
    login(client, "admin")  # an administrator may do what a moderator does
    assert "Met de hand gezette speld behouden" in _page(client, unlinked).get_data(as_text=True)
    response = _link(client, unlinked, AGORA, keep_name="y", keep_pin="y")
    assert response.status_code == 302
    row = org_row(unlinked.id)
    assert (row["name"], row["brin"], row["street"]) == ("Agora Utrecht", "31VZ",
                                                         duo_row(AGORA)["street"])
    assert (row["latitude"], row["longitude"], row["geo_source"]) == (52.1, 5.1, "manual")


def test_nothing_chosen_an_unknown_code_or_a_stale_page_changes_nothing(client, login,
                                                                         unlinked):
    login(client, "moderator")
    before = org_row(unlinked.id)
    response = _link(client, unlinked, "")
    assert response.status_code == 422
    assert "Kies een school uit de lijst." in response.get_data(as_text=True)
    response = _link(client, unlinked, "99ZZ00")
    assert response.status_code == 422
    html = _page(client, unlinked).get_data(as_text=True)
    stale = client.post(f"/moderatie/{unlinked.id}/school", data={
        "csrf_token": csrf_token_from(html), "version_id": str(int(version_of(html)) - 1 or 99),
        "code": AGORA, "q": "agora"})
    assert stale.status_code == 409
    assert "Iemand anders heeft deze aanmelding intussen gewijzigd" in stale.get_data(
        as_text=True)
    assert org_row(unlinked.id) == before
    assert _db.session.execute(text(
        "SELECT count(*) FROM audit_event WHERE action = 'initiative.link_school'")
    ).scalar() == 0


def test_only_moderators_and_admins_may_link(app, client, login, unlinked):
    url = f"/moderatie/{unlinked.id}/school"
    before = org_row(unlinked.id)
    # anonymous: to the login page, for the page and for the form
    assert client.get(url).status_code == 302
    assert "/login" in client.get(url).headers["Location"]
    assert client.post(url, data={"code": AGORA}).status_code in (302, 400, 401)
    # an advisor: refused, also with a valid CSRF token
    login(client, "advisor")
    assert client.get(url).status_code == 403
    token = csrf_token_from(client.get("/aanmelden").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "code": AGORA, "version_id": "1"})
    assert response.status_code == 403
    assert org_row(unlinked.id) == before


def test_the_form_needs_its_csrf_token(csrf_client, login, unlinked):
    login(csrf_client, "moderator")
    html = _page(csrf_client, unlinked).get_data(as_text=True)
    response = csrf_client.post(f"/moderatie/{unlinked.id}/school",
                                data={"code": AGORA, "version_id": version_of(html)})
    assert response.status_code == 400
    assert org_row(unlinked.id)["brin"] == ""


def test_unlinked_entries_in_the_public_export(client, db):
    """A published entry without a code exports an empty code, never "None"."""
    entry = make_initiative(brin="", school_name="Leerhuis Oost", postcode="3511 AB")
    body = client.get("/export/initiatieven.csv").get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
               if r["initiatief_id"] == str(entry.id))
    assert (row["school_naam"], row["brin"], row["vestiging"]) == ("Leerhuis Oost", "", "")
    assert row["provincie"] == "Utrecht"  # located by its postcode
