"""The whole journey in a real browser: a school submits, confirms from the mail received by a
loopback SMTP server, a moderator logs in and publishes, and anyone sees the initiative on the
map and in the list, filters, and downloads an export of the selection."""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.e2e import pages
from tests.factories import make_initiative
from tests.fixtures.mail import SmtpServer, confirm_link, smtp_config

pytestmark = pytest.mark.browser


@pytest.fixture
def live_smtp(live_server):
    """aiosmtpd on 127.0.0.1; the live server sends its mail there."""
    server = SmtpServer()
    server.up()
    live_server.config.update(smtp_config(server))
    yield server
    server.down()


def _wait_for_mail(server, to: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.to(to):
            return server.to(to)[-1]
        time.sleep(0.1)
    raise AssertionError(f"no mail for {to} within {timeout}s")


def _wait_for_download(directory: str, suffix: str, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in Path(directory).iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download in {directory}: {list(Path(directory).iterdir())}")


def test_submit_confirm_publish_then_find_filter_and_download(live_server, live_smtp, browser):
    with live_server.app_context():  # another published school, without a diploma obstacle
        make_initiative(title="Ander initiatief zonder diplomaknelpunt", postcode="9711 AB",
                        city="Groningen",
                        obstacles=[ObstacleData(area="examineren", title="Vaste momenten",
                                                severity=2, description="Alleen in juni.")])
    moderator_email = "moderator@example.org"
    live_server.make_user("moderator", email=moderator_email)

    # 1. a school contact submits the form with two obstacles
    browser.get(live_server.url("submissions.submit"))
    pages.fill_initiative(browser)
    pages.fill_obstacle(browser, 0)
    browser.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()
    pages.fill_obstacle(browser, 1)
    pages.send(browser)
    reference = browser.find_element(By.CSS_SELECTOR, ".reference").text

    # 2. ... and confirms it from the mail (a GET never confirms: press the button)
    message = _wait_for_mail(live_smtp, pages.CONTACT["contact-email"])
    link = confirm_link(message)
    assert link.startswith(live_server.base_url)
    browser.get(link)
    button = browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    button.click()
    pages.wait(browser).until(ec.staleness_of(button))  # the confirmed page has replaced it
    assert _state(live_server, reference) == InitiativeState.PENDING

    # not public yet
    browser.get(live_server.url("public.initiatives"))
    assert pages.SCHOOL["title"] not in browser.find_element(By.TAG_NAME, "main").text

    # 3. a moderator logs in through the login form and publishes it from the queue
    browser.delete_all_cookies()
    pages.login(browser, live_server, moderator_email)
    browser.get(live_server.url("moderation.queue"))
    browser.find_element(By.LINK_TEXT, pages.SCHOOL["title"]).click()
    browser.find_element(By.XPATH, "//main//form//button[normalize-space()='Publiceren']").click()
    pages.wait(browser).until(lambda d: _state(live_server, reference)
                              == InitiativeState.PUBLISHED)
    browser.delete_all_cookies()  # from here on: an anonymous visitor

    # 4. anyone sees it in the list ...
    browser.get(live_server.url("public.initiatives"))
    main = browser.find_element(By.TAG_NAME, "main").text
    assert pages.SCHOOL["title"] in main
    assert "Ander initiatief" in main

    # ... and on the map (both published initiatives have a marker)
    browser.get(live_server.url("maps.map"))
    pages.wait(browser).until(
        lambda d: d.find_element(By.ID, "map").get_attribute("data-count") == "2")
    assert browser.find_elements(By.CSS_SELECTOR, "#map .map-pin, #map .marker-cluster")

    # 5. filter on the obstacle area 'diplomeren': only the new initiative remains
    pages.choose(browser, "f-area", "diplomeren")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    pages.wait(browser).until(lambda d: "area=diplomeren" in d.current_url)
    pages.wait(browser).until(
        lambda d: d.find_element(By.ID, "map").get_attribute("data-count") == "1")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert pages.SCHOOL["title"] in main
    assert "Ander initiatief" not in main

    # 6. download that selection as CSV: it holds the filtered initiative, no contact data
    browser.find_element(By.PARTIAL_LINK_TEXT, "CSV").click()
    path = _wait_for_download(browser.download_dir, ".csv")
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=_delimiter(text)))
    titles = [row.get("titel") or row.get("title") for row in rows]
    assert pages.SCHOOL["title"] in titles
    assert all("Ander" not in (t or "") for t in titles)
    assert pages.CONTACT["contact-email"] not in text
    assert pages.CONTACT["contact-name"] not in text


def _delimiter(text: str) -> str:
    first = text.splitlines()[0]
    return ";" if first.count(";") > first.count(",") else ","


def _state(live_server, reference: str) -> str:
    from sqlalchemy import select

    from registry.extensions import db
    from registry.submissions.models import Initiative

    with live_server.app_context():
        return db.session.scalar(select(Initiative.state).where(
            Initiative.reference == reference))
