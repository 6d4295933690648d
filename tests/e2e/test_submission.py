"""Submitting an initiative with two obstacles through the real form, in a real browser."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from registry.extensions import db
from registry.submissions.models import Initiative
from tests.e2e import pages

pytestmark = pytest.mark.browser


def _stored(live_server):
    with live_server.app_context():
        initiatives = db.session.scalars(select(Initiative)).all()
        return [(i.reference, i.title, sorted(o.title for o in i.obstacles))
                for i in initiatives]


def _assert_thanks(driver, live_server):
    pages.wait(driver).until(lambda d: "/aanmelden/bedankt" in d.current_url)
    reference = driver.find_element(By.CSS_SELECTOR, ".reference").text
    stored = _stored(live_server)
    assert stored == [(reference, pages.SCHOOL["title"],
                       sorted(o["title"] for o in pages.OBSTACLES))]
    return reference


def test_submit_two_obstacles_with_javascript(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    pages.fill_initiative(browser)
    pages.fill_obstacle(browser, 0)
    browser.execute_script("window.__samePage = true;")

    browser.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()

    rows = pages.obstacle_rows(browser)
    assert len(rows) == 2
    # added client-side: no page load, and focus moved to the new row
    assert browser.execute_script("return window.__samePage === true")
    assert browser.switch_to.active_element.get_attribute("id") == rows[1].get_attribute("id")
    assert rows[1].find_element(By.CSS_SELECTOR, "[data-obstacle-number]").text == "2"
    # the first row keeps what was typed
    assert browser.find_element(By.ID, "obstacles-0-title").get_attribute("value") == \
        pages.OBSTACLES[0]["title"]
    pages.fill_obstacle(browser, 1)
    pages.send(browser)
    _assert_thanks(browser, live_server)


def test_submit_two_obstacles_without_javascript(live_server, browser_nojs):
    driver = browser_nojs
    driver.get(live_server.url("submissions.submit"))
    assert driver.execute_script("return document.querySelectorAll('noscript').length >= 0")
    pages.fill_initiative(driver)
    pages.fill_obstacle(driver, 0)
    old_row = pages.obstacle_rows(driver)[0]

    driver.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()

    # without JavaScript the button posts the form and the server adds the row
    pages.wait(driver).until(lambda d: _is_stale(old_row))
    rows = pages.obstacle_rows(driver)
    assert len(rows) == 2
    assert driver.find_element(By.ID, "obstacles-0-title").get_attribute("value") == \
        pages.OBSTACLES[0]["title"]
    assert driver.find_element(By.ID, "school_name").get_attribute("value") == \
        pages.SCHOOL["school_name"]
    pages.fill_obstacle(driver, 1)
    pages.send(driver)
    _assert_thanks(driver, live_server)


def test_javascript_really_is_off_in_browser_nojs(live_server, browser_nojs):
    browser_nojs.get(live_server.url("submissions.submit"))
    # app.js hides the remove button of a single row; without JS it stays in the page as is
    # and the <template> row is never cloned: clicking add must cause a page load.
    marker = pages.obstacle_rows(browser_nojs)[0]
    browser_nojs.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()
    pages.wait(browser_nojs).until(lambda d: _is_stale(marker))


def _is_stale(element) -> bool:
    try:
        element.is_enabled()
        return False
    except Exception:
        return True
