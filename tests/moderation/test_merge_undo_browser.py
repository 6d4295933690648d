"""In a real browser (issue 19): the queue's select-all checkbox, the question before
publishing likely duplicates, the merge page telling what will happen, and undoing the merge
from the entry's history; each page without WCAG violations (axe-core)."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import text

from registry.extensions import db
from registry.moderation import duplicates
from registry.taxonomy.constants import InitiativeState
from tests.a11y.axe import format_violations, run_axe
from tests.e2e import pages
from tests.factories import make_initiative

pytestmark = pytest.mark.browser


def test_select_all_merge_and_undo(live_server, browser):
    with live_server.app_context():
        keep = make_initiative(state=InitiativeState.PENDING, brin="25LH", postcode="3511 AB",
                               title="Leerroute")
        other = make_initiative(state=InitiativeState.PENDING, brin="25LH", postcode="3511 AB",
                                title="Leerroute op maat")
        duplicates.flag_duplicates(other)
        db.session.commit()
        keep_id, other_id = keep.id, other.id
    email = "moderator@example.org"
    live_server.make_user("moderator", email=email)
    pages.login(browser, live_server, email)

    browser.get(live_server.url("moderation.queue"))
    select_all = browser.find_element(By.CSS_SELECTOR, "[data-select-all]")
    assert select_all.is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, "[data-select-all-links]").is_displayed()
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name=ids]")
    assert len(boxes) == 2
    assert not any(b.is_selected() for b in boxes)
    select_all.click()
    assert all(b.is_selected() for b in boxes)
    boxes[0].click()
    assert browser.execute_script("return arguments[0].indeterminate", select_all)
    select_all.click()
    assert all(b.is_selected() for b in boxes)
    assert run_axe(browser) == [], format_violations(run_axe(browser))

    # publishing both asks first: they look like each other
    browser.find_element(By.CSS_SELECTOR, "button[name=bulk_action][value=publish]").click()
    listed = pages.wait_for(browser, "[data-likely-duplicates]")
    assert len(listed.find_elements(By.CSS_SELECTOR, "[data-likely-duplicate]")) == 2
    assert run_axe(browser) == [], format_violations(run_axe(browser))

    browser.get(live_server.url("moderation.merge", initiative_id=keep_id, other_id=other_id))
    effects = browser.find_element(By.CSS_SELECTOR, "[data-merge-effects]").text
    assert "ongedaan maken" in effects
    assert "Samengevoegd" in effects
    assert run_axe(browser) == [], format_violations(run_axe(browser))
    browser.find_element(By.ID, "field-title-other").click()
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    pages.wait_for(browser, "[data-merges]")
    assert run_axe(browser) == [], format_violations(run_axe(browser))
    browser.find_element(By.CSS_SELECTOR, "[data-merges] button[type=submit]").click()
    pages.wait_for(browser, "[data-undone]")  # the new page: the merge is marked undone
    assert "ongedaan gemaakt" in browser.find_element(By.TAG_NAME, "main").text
    with live_server.app_context():
        states = dict(db.session.execute(text("SELECT id, state FROM initiative")).all())
        title = db.session.execute(text("SELECT title FROM initiative WHERE id = :k"),
                                   {"k": keep_id}).scalar()
    assert states == {keep_id: "pending", other_id: "pending"}
    assert title == "Leerroute"
