"""School lookup endpoint, the form hooks and the moderators' location page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from tests.conftest import csrf_token_from
from tests.factories import make_initiative


def test_school_lookup_by_name_code_and_postcode(client):
    by_code = client.get("/geo/scholen?q=32DD00").get_json()
    aida = by_code["results"][0]
    assert (aida["name"], aida["brin"], aida["location_number"]) == ("Aida", "32DD", "00")
    assert (aida["street"], aida["postcode"], aida["city"], aida["sector"]) == (
        "Elboogstraat 68", "2516 PV", "'s-Gravenhage", "po")
    by_postcode = client.get("/geo/scholen?q=2516pv").get_json()["results"]
    assert "32DD00" in {r["code"] for r in by_postcode}
    by_name = client.get("/geo/scholen?q=ROC Midden Nederland").get_json()["results"]
    assert by_name[0]["brin"] == "25LH"
    assert by_name[0]["sector"] == "mbo"
    assert client.get("/geo/scholen?q=").get_json()["results"] == []
    assert len(client.get("/geo/scholen?q=basisschool&limit=500").get_json()["results"]) == 25


def test_form_loads_school_lookup_and_pin_without_inline_code(client):
    html = client.get("/aanmelden").get_data(as_text=True)
    assert "/static/js/school-lookup.js" in html
    assert 'data-lookup-url="/geo/scholen"' in html
    assert "/static/js/pin-picker.js" in html
    assert 'name="pin_latitude"' in html
    assert 'name="pin_longitude"' in html
    # without JS the school name is a plain, labelled text field
    assert '<label for="school_name"' in html
    assert "style=" not in html


@pytest.fixture
def initiative(db):
    return make_initiative(postcode="3511 AB")


def test_location_page_needs_a_moderator(client, login, initiative):
    url = f"/moderatie/locatie/{initiative.id}"
    assert client.get(url).status_code in (302, 401)
    login(client, "advisor")
    assert client.get(url).status_code == 403


def test_moderator_moves_the_pin_and_fixes_the_province(client, login, db, initiative):
    login(client, "moderator")
    url = f"/moderatie/locatie/{initiative.id}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Utrecht" in html
    assert 'name="latitude"' in html
    response = client.post(url, data={
        "csrf_token": csrf_token_from(html), "latitude": "51,9225", "longitude": "4,47917",
        "province": "", "reason": "Initiatief draait op de vestiging in Rotterdam",
        "action": "save"})
    assert response.status_code == 302
    org = initiative.organisation
    db.session.refresh(org)
    assert (org.geo_source, org.geo_precision, org.province, org.municipality) == (
        "manual", "manual", "Zuid-Holland", "Rotterdam")
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.action == "geo.location_changed"
    assert (event.target_type, event.target_id) == ("initiative", initiative.id)
    assert event.before["province"] == "Utrecht"
    assert event.after["province"] == "Zuid-Holland"
    assert event.reason.startswith("Initiatief draait")

    # a border case: the moderator overrides the province the polygons give
    client.post(url, data={"csrf_token": csrf_token_from(html), "latitude": "51.9225",
                           "longitude": "4.47917", "province": "Utrecht", "action": "save"})
    db.session.refresh(org)
    assert org.province == "Utrecht"

    # and back to the address
    client.post(url, data={"csrf_token": csrf_token_from(html), "action": "reset"})
    db.session.refresh(org)
    assert (org.geo_source, org.province) == ("postcode", "Utrecht")
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            ] == ["geo.location_changed", "geo.location_changed", "geo.location_reset"]


def test_pin_outside_the_netherlands_is_refused(client, login, db, initiative):
    login(client, "moderator")
    url = f"/moderatie/locatie/{initiative.id}"
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token_from(html), "latitude": "50.85",
                                      "longitude": "4.35", "action": "save"})
    assert response.status_code == 422
    assert "Deze plek ligt niet in Nederland." in response.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token_from(html), "latitude": "abc",
                                      "longitude": "", "action": "save"})
    assert response.status_code == 422
    db.session.refresh(initiative.organisation)
    assert initiative.organisation.geo_source == "postcode"
    assert db.session.scalars(select(AuditEvent)).first() is None


def test_unknown_initiative_is_404(client, login):
    login(client, "moderator")
    assert client.get("/moderatie/locatie/999999").status_code == 404
