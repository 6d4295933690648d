"""A moderator imports a network's list in a real browser without JavaScript: upload, mapping,
the progress page that refreshes itself (``<meta http-equiv="refresh">``), the preview, the
import. axe checks the preview and the result (in a browser with JavaScript, for axe itself).

``IMPORT_SCREENSHOTS=<folder>`` saves screenshots of each page at 1280 and 390 px wide."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import text

from registry.extensions import db
from registry.imports import services
from tests.a11y.axe import format_violations, run_axe
from tests.e2e.pages import login, wait
from tests.imports.helpers import csv_bytes, network_row

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("IMPORT_SCREENSHOTS")


def shoot(driver, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        driver.set_window_size(width, 1000)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), 6000))
        driver.save_screenshot(str(Path(SHOTS) / f"{name}-{width}.png"))
    driver.set_window_size(1280, 1000)


def axe_clean(js_browser, nojs_browser) -> None:
    """Open the no-JavaScript browser's page in the JavaScript browser (same session) and
    run axe there."""
    url = nojs_browser.current_url
    js_browser.get(url.split("/moderatie")[0] + "/static/css/app.css")
    js_browser.delete_all_cookies()
    for cookie in nojs_browser.get_cookies():
        js_browser.add_cookie({"name": cookie["name"], "value": cookie["value"], "path": "/"})
    js_browser.get(url)
    violations = run_axe(js_browser)
    assert not violations, format_violations(violations)


def test_a_list_is_imported_without_javascript(live_server, browser_nojs, browser, tmp_path,
                                               monkeypatch):
    live_server.config["IMPORT_DIR"] = str(tmp_path / "imports")
    # slow the check down a little, so that the progress page is seen
    monkeypatch.setattr(services, "CHUNK", 2)
    check = services.Pass.check

    def slow_check(self, row):
        time.sleep(0.25)
        return check(self, row)

    monkeypatch.setattr(services.Pass, "check", slow_check)
    email = "moderator@example.org"
    live_server.make_user("moderator", email=email)
    path = tmp_path / "Netwerk Zuid.csv"
    path.write_bytes(csv_bytes([
        network_row(0, **{"Contactpersoon": "Anne de Vries", "E-mail": "anne@school.example"}),
        network_row(1), network_row(2, Postcode="12345"), network_row(3, Ernst=""),
        network_row(4), network_row(5), network_row(6), network_row(7)]))

    driver = browser_nojs
    login(driver, live_server, email)
    driver.get(live_server.url("moderation.queue"))
    driver.find_element(By.LINK_TEXT, "Lijst met initiatieven importeren").click()
    shoot(driver, "1-upload")
    driver.find_element(By.ID, "file").send_keys(str(path))
    driver.find_element(By.ID, "source").send_keys("Netwerk Zuid")
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait(driver).until(lambda d: d.current_url.endswith("/kolommen"))
    assert driver.find_element(By.ID, "school_name").get_attribute("value") == "0"
    shoot(driver, "2-mapping")
    driver.find_element(By.XPATH, "//button[text()='Rijen controleren']").click()

    # the progress page refreshes itself until the check is done
    progress = wait(driver).until(lambda d: d.find_elements(By.ID, "progress-text"))
    assert "rijen gecontroleerd" in progress[0].text
    assert driver.find_elements(By.LINK_TEXT, "Niet automatisch verversen")
    shoot(driver, "3-progress")
    wait(driver, 30).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, "[data-job-status=checked]"))
    rows = {int(r.get_attribute("data-row")): r.get_attribute("data-status")
            for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-row]")}
    assert rows == {2: "valid", 3: "valid", 4: "invalid", 5: "invalid", 6: "valid",
                    7: "valid", 8: "valid", 9: "valid"}
    assert "Vul een geldige postcode in, bijvoorbeeld 1234 AB." in driver.page_source
    shoot(driver, "4-preview")
    preview = driver.current_url
    axe_clean(browser, driver)

    driver.get(preview)
    driver.find_element(By.XPATH, "//button[text()='Importeren']").click()
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-job-status=done]"))
    assert driver.find_element(By.CSS_SELECTOR, "[data-count=imported]").text == "6"
    assert driver.find_element(By.CSS_SELECTOR, "[data-count=invitations]").text == "1"
    shoot(driver, "5-done")
    axe_clean(browser, driver)
    with live_server.app_context():
        assert db.session.execute(text(
            "SELECT count(*) FROM initiative WHERE state = 'pending'")).scalar_one() == 6
