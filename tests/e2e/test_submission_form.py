"""The submission form in a real browser (issue 19): a school that is not in DUO's directory,
check your answers with a change, numbered rows, landing on a row without JavaScript, and a
phone-sized screen without sideways scrolling. What is stored is read with plain SQL."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import text

from registry.extensions import db
from tests.a11y.axe import format_violations, run_axe
from tests.e2e import pages

pytestmark = pytest.mark.browser

UNLISTED = {"school_name": "Leerwerkplaats De Nieuwe Route", "postcode": "8911 AB",
            "city": "Leeuwarden", "street": "Nieuwestad 1"}

SCROLL_WIDTH = "return document.documentElement.scrollWidth"


@contextmanager
def phone(driver, width: int = 390):
    """The viewport of a phone (Chromium's own window cannot get this narrow)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def fill_unlisted_school(driver) -> None:
    """The whole form with one obstacle, for a school typed by hand (no BRIN)."""
    pages.fill_initiative(driver)
    for field_id in ("brin", "location_number"):
        driver.find_element(By.ID, field_id).clear()
    for field_id, value in UNLISTED.items():
        pages.type_into(driver, field_id, value)
    pages.choose(driver, "sector", "vo")
    pages.fill_obstacle(driver, 0)


def stored(live_server):
    with live_server.app_context():
        return [tuple(r) for r in db.session.execute(text(
            "SELECT i.title, o.name, o.brin, o.location_number, o.postcode, o.city, o.sector, "
            "o.province, (SELECT count(*) FROM obstacle b WHERE b.initiative_id = i.id) "
            "FROM initiative i JOIN organisation o ON o.id = i.organisation_id"))]


def in_view(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;", element)


def test_unlisted_school_on_a_phone_with_a_change_before_sending(live_server, browser):
    with phone(browser):
        browser.get(live_server.url("submissions.submit"))
        fill_unlisted_school(browser)
        assert browser.execute_script(SCROLL_WIDTH) <= 390
        # the dimensions stack: each choice has its own visible label, inside the screen
        label = browser.find_element(By.CSS_SELECTOR, "label[for=dimensions-0-ambition_level]")
        assert label.rect["width"] > 20  # shown (on a wide screen the column header says it)
        assert label.text.split() == ["Leerdoelen", "(wat):", "Ambitie"]  # dimension hidden
        select = browser.find_element(By.ID, "dimensions-0-ambition_level")
        assert select.rect["x"] + select.rect["width"] <= 390

        pages.submit_button(browser).click()
        pages.wait_for(browser, "form.check-form")
        assert browser.execute_script(SCROLL_WIDTH) <= 390
        body = browser.find_element(By.TAG_NAME, "main").text
        assert "Geen: mijn school staat er niet bij" in body
        assert "Leerwerkplaats De Nieuwe Route" in body
        assert stored(live_server) == []  # nothing is sent yet

        # "Wijzig" at step 2 lands on that step with everything kept
        browser.find_element(By.CSS_SELECTOR, "button[value=edit][formaction='#stap-2']").click()
        pages.wait(browser).until(lambda d: d.current_url.endswith("/aanmelden#stap-2"))
        legend = browser.find_element(By.ID, "stap-2")
        assert browser.switch_to.active_element == legend
        assert in_view(browser, legend)
        assert browser.find_element(By.ID, "city").get_attribute("value") == "Leeuwarden"
        assert browser.find_element(By.ID, "obstacles-0-title").get_attribute("value") == \
            pages.OBSTACLES[0]["title"]
        pages.type_into(browser, "title", "Leerroute op maat")

        pages.submit_button(browser).click()
        pages.wait_for(browser, "form.check-form")
        assert "Leerroute op maat" in browser.find_element(By.TAG_NAME, "main").text
        pages.send_button(browser).click()
        pages.wait(browser).until(lambda d: "/aanmelden/bedankt" in d.current_url)
    assert stored(live_server) == [("Leerroute op maat", "Leerwerkplaats De Nieuwe Route", "",
                                    None, "8911 AB", "Leeuwarden", "vo", "Fryslân", 1)]


def test_unlisted_school_on_a_desktop_with_numbered_rows(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    route = browser.find_element(By.CSS_SELECTOR, "details.school-unlisted summary")
    assert route.text == "Mijn school staat er niet bij"
    route.click()
    assert "Laat de instellingscode" in browser.find_element(
        By.CSS_SELECTOR, "details.school-unlisted p").text
    fill_unlisted_school(browser)
    browser.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()  # added by app.js
    legends = browser.find_elements(By.CSS_SELECTOR, "[data-obstacle-list] [data-obstacle-legend]")
    assert [(e.get_attribute("id"), e.text) for e in legends] == [
        ("knelpunt-1", "Knelpunt 1"), ("knelpunt-2", "Knelpunt 2")]
    pages.fill_obstacle(browser, 1)

    pages.submit_button(browser).click()
    pages.wait_for(browser, "form.check-form")
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".check-obstacle h3")] == [
        f"Knelpunt {i + 1}: {o['title']}" for i, o in enumerate(pages.OBSTACLES)]
    violations = run_axe(browser)
    assert not violations, format_violations(violations)
    pages.send_button(browser).click()
    pages.wait(browser).until(lambda d: "/aanmelden/bedankt" in d.current_url)
    assert stored(live_server) == [(pages.SCHOOL["title"], "Leerwerkplaats De Nieuwe Route", "",
                                    None, "8911 AB", "Leeuwarden", "vo", "Fryslân", 2)]


def test_without_javascript_adding_a_row_lands_on_it(live_server, browser_nojs):
    driver = browser_nojs
    driver.get(live_server.url("submissions.submit"))
    pages.fill_obstacle(driver, 0)
    driver.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()
    pages.wait(driver).until(lambda d: d.current_url.endswith("/aanmelden#knelpunt-2"))
    legend = driver.find_element(By.ID, "knelpunt-2")
    assert legend.text == "Knelpunt 2"
    assert in_view(driver, legend)
    assert driver.execute_script("return window.scrollY") > 1000  # not the top of the form
    legends = driver.find_elements(By.CSS_SELECTOR, "[data-obstacle-list] [data-obstacle-legend]")
    assert [e.text for e in legends] == ["Knelpunt 1", "Knelpunt 2"]
    # removing the second row lands on the first
    driver.find_element(By.CSS_SELECTOR, "#obstacles-1 [data-remove-obstacle]").click()
    pages.wait(driver).until(lambda d: d.current_url.endswith("/aanmelden#knelpunt-1"))
    assert in_view(driver, driver.find_element(By.ID, "knelpunt-1"))
    assert len(pages.obstacle_rows(driver)) == 1
    assert driver.find_element(By.ID, "obstacles-0-title").get_attribute("value") == \
        pages.OBSTACLES[0]["title"]
