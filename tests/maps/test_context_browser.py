"""The context layer and the pin picker in a real headless Chromium (issue 19).

Expected places come from the shipped data files read as plain JSON; what is checked is what
a user sees: label elements, their on-screen boxes and the map's view."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[2] / "registry" / "geo" / "data"
WIDTHS = ((1280, 1000), (390, 844))

# Every label of one kind inside a map: its text, whether it is shown, and its box relative
# to the map's box.
LABELS_JS = """
var map = document.getElementById(arguments[0]);
var box = map.getBoundingClientRect();
return Array.from(map.querySelectorAll('.map-label-' + arguments[1])).map(function (el) {
  var text = el.querySelector('.map-label-text');
  var r = text.getBoundingClientRect();
  return {name: text.textContent, shown: getComputedStyle(text).visibility === 'visible',
          left: r.left - box.left, top: r.top - box.top, right: r.right - box.left,
          bottom: r.bottom - box.top, width: box.width, height: box.height};
});
"""
SET_VIEW_JS = ("document.getElementById(arguments[0]).leafletMap"
               ".setView([arguments[1], arguments[2]], arguments[3], {animate: false});")
CENTER_JS = ("var m = document.getElementById(arguments[0]).leafletMap, c = m.getCenter();"
             "return [c.lat, c.lng, m.getZoom()];")


def place_centre(place: str) -> tuple[float, float]:
    """The mean of the shipped PC4 centroids of a place (GeoNames)."""
    with gzip.open(DATA / "pc4.json.gz", "rt", encoding="utf-8") as fh:
        points = [(lat, lon) for _, name, lat, lon in json.load(fh) if name == place]
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371 * math.asin(math.sqrt(h))


def inside(label: dict) -> bool:
    return (label["left"] >= 0 and label["top"] >= 0 and label["right"] <= label["width"]
            and label["bottom"] <= label["height"])


def overlap(a: dict, b: dict) -> bool:
    return (a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"]
            and b["top"] < a["bottom"])


def shown_labels(browser, map_id: str, kind: str) -> list[dict]:
    return [label for label in browser.execute_script(LABELS_JS, map_id, kind)
            if label["shown"]]


def assert_readable(labels: list[dict]) -> None:
    """Shown labels lie within the map and never on top of each other."""
    for label in labels:
        assert inside(label), label
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not overlap(a, b), (a["name"], b["name"])


def test_map_shows_municipality_names_from_zoom_9_and_province_names_below(
        live_server, browser):
    roermond = place_centre("Roermond")
    browser.get(live_server.url("maps.map"))
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#map.map-loaded")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#map .map-label")))
    try:
        for width, height in WIDTHS:
            browser.set_window_size(width, height)
            browser.execute_script("arguments[0].scrollIntoView();",
                                   browser.find_element(By.ID, "map"))
            browser.execute_script(SET_VIEW_JS, "map", *roermond, 11)
            wait.until(lambda d: any(label["name"] == "Roermond"
                                     for label in shown_labels(d, "map", "municipality")))
            shown = shown_labels(browser, "map", "municipality")
            names = {x["name"] for x in shown}
            assert "Roermond" in names
            assert len(names & {"Roerdalen", "Leudal", "Maasgouw", "Beesel", "Echt-Susteren"}) >= 2
            assert_readable(shown)
            assert browser.execute_script(LABELS_JS, "map", "province") == []

            browser.execute_script(SET_VIEW_JS, "map", 52.2, 5.3, 7)
            wait.until(lambda d: browser.execute_script(LABELS_JS, "map", "municipality") == [])
            provinces = shown_labels(browser, "map", "province")
            names = {x["name"] for x in provinces}
            if width > 1000:  # the whole country is in view
                assert {"Limburg", "Groningen", "Zeeland", "Fryslân"} <= names, names
                assert len(names) >= 10
            else:  # 390 px: most of the country
                assert {"Limburg", "Utrecht"} <= names, names
                assert len(names) >= 8
            assert_readable(provinces)
    finally:
        browser.set_window_size(1280, 1000)
    severe = [e for e in browser.get_log("browser")
              if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert not severe, severe


def shipped_school(code: str) -> list:
    with gzip.open(DATA / "schools.json.gz", "rt", encoding="utf-8") as fh:
        return next(row for row in json.load(fh) if row[0] == code)


def test_pin_picker_opens_on_the_school_picked_in_limburg(live_server, browser):
    code, _brin, name, *_, lat, lon, _web = shipped_school("14PS00")  # Roermond
    try:
        for width, height in WIDTHS:
            browser.set_window_size(width, height)
            browser.get(live_server.url("submissions.submit"))
            field = browser.find_element(By.ID, "school_name")
            field.send_keys(code)
            WebDriverWait(browser, 10).until(ec.visibility_of_element_located(
                (By.CSS_SELECTOR, "#school-suggestions [role=option]")))
            field.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
            toggle = browser.find_element(By.CSS_SELECTOR, "[data-pin-toggle]")
            browser.execute_script("arguments[0].scrollIntoView();", toggle)
            toggle.click()
            marker = WebDriverWait(browser, 10).until(ec.visibility_of_element_located(
                (By.CSS_SELECTOR, "#pin-map .pin-school")))
            c_lat, c_lon, zoom = browser.execute_script(CENTER_JS, "pin-map")
            assert km((c_lat, c_lon), (lat, lon)) < 2, (width, c_lat, c_lon)
            assert zoom >= 12
            box = browser.find_element(By.ID, "pin-map").rect
            pin = marker.rect
            assert box["x"] <= pin["x"]
            assert pin["x"] + pin["width"] <= box["x"] + box["width"]
            assert box["y"] <= pin["y"]
            assert pin["y"] + pin["height"] <= box["y"] + box["height"]
            assert name in browser.find_element(By.CSS_SELECTOR, ".pin-school-label").text
            # the school marker is not the submitter's pin: nothing was set yet
            assert browser.find_element(By.ID, "pin-latitude").get_attribute("value") == ""
    finally:
        browser.set_window_size(1280, 1000)
