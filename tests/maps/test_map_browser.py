"""The map in a real headless Chromium (helper F's live_server/browser fixtures)."""
from __future__ import annotations

import random

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from registry.database import utcnow
from registry.extensions import db
from registry.taxonomy.constants import InitiativeState

pytestmark = pytest.mark.browser


def bulk_published(count: int, seed: int = 6) -> None:
    """``count`` published initiatives at real PC4 centroids, inserted in bulk (fast)."""
    from sqlalchemy import insert, select

    from registry.geo.directory import directory
    from registry.submissions.models import Initiative, Obstacle, Organisation

    rnd = random.Random(seed)
    d = directory()
    places = list(d.pc4.items())
    now = utcnow()
    orgs = []
    for i in range(count):
        pc4, (place, lat, lon) = rnd.choice(places)
        municipality, province = d.regions_at(lat, lon)
        orgs.append({
            "name": f"School {i}", "brin": f"{i % 100:02d}ZZ", "sector": rnd.choice(["po", "vo",
                                                                                  "mbo"]),
            "postcode": f"{pc4} AA", "city": place, "latitude": lat, "longitude": lon,
            "municipality": municipality, "province": province, "geo_source": "postcode",
            "geo_precision": "postcode", "geo_status": "resolved",
        })
    db.session.execute(insert(Organisation), orgs)
    org_ids = db.session.scalars(select(Organisation.id).order_by(Organisation.id)).all()
    db.session.execute(insert(Initiative), [
        {"organisation_id": org_id, "title": f"Initiatief {n}", "summary": "Samenvatting",
         "phase": "pilot", "state": InitiativeState.PUBLISHED, "published_at": now,
         "reference": f"GL-2026-{n:05d}"}
        for n, org_id in enumerate(org_ids)
    ])
    ids = db.session.scalars(select(Initiative.id)).all()
    db.session.execute(insert(Obstacle), [
        {"initiative_id": i, "area_code": rnd.choice(["examineren", "diplomeren", "overig"]),
         "title": "Knelpunt", "severity": 2} for i in ids[::3]
    ])
    db.session.commit()


def wait_for_map(browser, timeout: float = 60):
    WebDriverWait(browser, timeout).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#map.map-loaded")))
    return browser.find_element(By.ID, "map")


@pytest.mark.slow
def test_map_with_10000_initiatives_loads_and_shows_clusters(live_server, browser):
    with live_server.app_context():
        bulk_published(10_000)
    browser.get(live_server.url("maps.map"))
    node = wait_for_map(browser)
    assert node.get_attribute("data-count") == "10000"
    counts = browser.execute_script(
        "return Array.from(document.querySelectorAll('.marker-cluster'))"
        ".map(function (c) { return c.textContent.trim(); });")
    assert counts, "no clusters drawn"
    assert 0 < sum(int(c) for c in counts if c.isdigit()) <= 10_000
    # no tile server configured: the province outlines are the base map
    assert browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive") or \
        browser.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane path")
    assert "10000 initiatieven gevonden" in browser.find_element(By.ID, "map-counts").text
    logs = [e for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert not logs, logs


def test_filters_change_map_list_and_counts_together(live_server, browser):
    from tests.factories import make_initiative

    with live_server.app_context():
        make_initiative(postcode="9712 CP", title="In Groningen")
        make_initiative(postcode="6211 AB", title="In Maastricht")
        make_initiative(postcode="6411 AB", title="In Heerlen")
    browser.get(live_server.url("maps.map"))
    assert wait_for_map(browser).get_attribute("data-count") == "3"
    # the filter form is a normal form: choose a province and submit
    select = browser.find_element(By.ID, "f-province")
    select.send_keys("Limburg")
    select.submit()
    node = wait_for_map(browser)
    assert "province=Limburg" in browser.current_url
    assert node.get_attribute("data-count") == "2"
    assert "2 initiatieven gevonden" in browser.find_element(By.ID, "map-counts").text
    items = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".map-list .card-title")]
    assert sorted(items) == ["In Heerlen", "In Maastricht"]
    export = browser.find_element(By.PARTIAL_LINK_TEXT, "CSV").get_attribute("href")
    assert export.endswith("/export/initiatieven.csv?province=Limburg")


def test_marker_popup_by_keyboard(live_server, browser):
    from tests.factories import make_initiative

    with live_server.app_context():
        initiative = make_initiative(postcode="8911 AB", title="Friese leerroute")
        initiative_id = initiative.id
    browser.get(live_server.url("maps.map"))
    wait_for_map(browser)
    marker = WebDriverWait(browser, 20).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".map-pin")))
    assert marker.get_attribute("title") == "Friese leerroute"
    marker.send_keys(Keys.ENTER)
    popup = WebDriverWait(browser, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".map-popup")))
    assert "Friese leerroute" in popup.text
    assert "Knelpunten in" in popup.text
    link = popup.find_element(By.CSS_SELECTOR, ".map-popup-title a")
    assert link.get_attribute("href").endswith(f"/initiatieven/{initiative_id}")


def test_without_javascript_the_list_is_the_alternative(live_server, browser_nojs):
    from tests.factories import make_initiative

    with live_server.app_context():
        make_initiative(postcode="9712 CP", title="In Groningen")
    browser_nojs.get(live_server.url("maps.map"))
    assert "De kaart heeft JavaScript nodig" in browser_nojs.page_source
    assert "In Groningen" in browser_nojs.find_element(By.CSS_SELECTOR, ".map-list").text


def test_school_lookup_fills_the_form_by_keyboard(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    name = browser.find_element(By.ID, "school_name")
    assert name.get_attribute("role") == "combobox"
    name.send_keys("32DD00")
    WebDriverWait(browser, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#school-suggestions [role=option]")))
    assert name.get_attribute("aria-expanded") == "true"
    name.send_keys(Keys.ARROW_DOWN)
    assert name.get_attribute("aria-activedescendant") == "school-option-0"
    name.send_keys(Keys.ENTER)
    assert name.get_attribute("value") == "Aida"
    assert browser.find_element(By.ID, "brin").get_attribute("value") == "32DD"
    assert browser.find_element(By.ID, "location_number").get_attribute("value") == "00"
    assert browser.find_element(By.ID, "postcode").get_attribute("value") == "2516 PV"
    assert browser.find_element(By.ID, "city").get_attribute("value") == "'s-Gravenhage"
    assert browser.find_element(By.ID, "sector").get_attribute("value") == "po"
    assert name.get_attribute("aria-expanded") == "false"


def test_submitter_places_a_pin_with_the_keyboard_button(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-pin-toggle]")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    browser.find_element(By.CSS_SELECTOR, "[data-pin-center]").click()
    lat = browser.find_element(By.ID, "pin-latitude").get_attribute("value")
    lon = browser.find_element(By.ID, "pin-longitude").get_attribute("value")
    assert 50 < float(lat) < 54
    assert 3 < float(lon) < 8
    assert "Speld gezet" in browser.find_element(By.CSS_SELECTOR, "[data-pin-status]").text
