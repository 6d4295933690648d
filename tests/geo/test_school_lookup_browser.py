"""In a real browser: the moderator's "Koppel aan DUO-school" page follows the search field
as you type, and the submission form's suggestions say when no school matched every word.
One browser session, three page loads."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlalchemy import text

from registry.extensions import db
from registry.taxonomy.constants import InitiativeState
from tests.e2e.pages import login, type_into, wait, wait_for
from tests.factories import make_initiative

AGORA = "31VZ00"


def test_linking_with_live_results_and_partial_suggestions(live_server, browser):
    email = "moderator@example.org"
    live_server.make_user("moderator", email=email)
    with live_server.app_context():
        entry = make_initiative(state=InitiativeState.PENDING, brin="",
                                school_name="Agora Utrecht", postcode="3532 HK")
        entry_id = entry.id
    login(browser, live_server, email)

    # the entry page: not linked; its search opens the link page with the typed name
    browser.get(live_server.url("moderation.entry", initiative_id=entry_id))
    section = browser.find_element(By.ID, "duo-school")
    assert "Niet gekoppeld aan een DUO-school" in section.text
    section.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser).until(lambda d: f"/moderatie/{entry_id}/school" in d.current_url)

    # typing replaces the list without a page load; the status line says what was found
    marker = browser.execute_script("return window.__samePage = 1;")
    type_into(browser, "school-q", "roermond agora")
    wait(browser).until(lambda d: "met al deze woorden" in d.find_element(
        By.ID, "school-choices-status").text)
    type_into(browser, "school-q", "agora utrecht")
    wait(browser).until(lambda d: d.find_element(By.ID, "school-choices-status").text
                        == "1 school gevonden.")
    assert browser.execute_script("return window.__samePage;") == marker
    radios = browser.find_elements(By.CSS_SELECTOR, "#school-choices input[type=radio]")
    assert [r.get_attribute("value") for r in radios] == [AGORA]
    label = browser.find_element(By.CSS_SELECTOR, f"label[for=code-{AGORA}]").text
    assert "Agora HUB030" in label
    assert "Vleutenseweg 515" in label
    radios[0].click()
    browser.find_element(By.CSS_SELECTOR, "#link-school-form button[type=submit]").click()
    wait(browser).until(lambda d: f"/moderatie/{entry_id}" in d.current_url
                        and "/school" not in d.current_url)
    assert "Gekoppeld aan 31VZ00" in browser.find_element(By.ID, "duo-school").text
    with live_server.app_context():
        brin = db.session.execute(text(
            "SELECT o.brin FROM organisation o JOIN initiative i ON i.organisation_id = o.id"
            " WHERE i.id = :id"), {"id": entry_id}).scalar()
    assert brin == "31VZ"

    # the submission form: suggestions with a note when they are only the closest
    browser.get(live_server.url("submissions.submit"))
    type_into(browser, "school_name", "agora roermond")
    note = wait_for(browser, "#school-suggestions-note")
    wait(browser).until(lambda d: note.is_displayed())
    options = browser.find_elements(By.CSS_SELECTOR, "#school-suggestions [role=option]")
    assert options
    assert options[0].text.startswith("Agora HUB030")
