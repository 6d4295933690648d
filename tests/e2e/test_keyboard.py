"""Keyboard-only use of the submission form: tab order, visible focus, error summary focus."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e import pages

pytestmark = pytest.mark.browser

# Computed style of the focused element: the focus indicator must be really drawn.
FOCUS_STYLE = """
const el = document.activeElement, s = getComputedStyle(el);
return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
        type: el.getAttribute('type'), outlineStyle: s.outlineStyle,
        outlineWidth: parseFloat(s.outlineWidth) || 0, boxShadow: s.boxShadow,
        visible: !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)};
"""


def _tab(driver, times: int = 1, shift: bool = False):
    chain = ActionChains(driver)
    for _ in range(times):
        if shift:
            chain.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT)
        else:
            chain.send_keys(Keys.TAB)
    chain.perform()
    return driver.execute_script(FOCUS_STYLE)


def _has_visible_focus(state) -> bool:
    outline = state["outlineStyle"] != "none" and state["outlineWidth"] >= 2
    shadow = state["boxShadow"] not in ("none", "")
    return state["visible"] and (outline or shadow)


def _focused(driver):
    return driver.execute_script(FOCUS_STYLE)


def test_keyboard_only_walkthrough_of_the_submission_form(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    assert _focused(browser)["tag"] == "body"  # nothing focused yet: Tab starts at the top

    # 1. the first Tab reaches the skip link, which is shown and jumps to the content
    state = _tab(browser)
    assert state["tag"] == "a"
    assert "skip-link" in browser.switch_to.active_element.get_attribute(
        "class")
    assert _has_visible_focus(state)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert _focused(browser)["id"] == "inhoud"

    # 2. Tab through the whole form: every stop shows its focus, the form fields come in
    #    document order, and the submit button is reachable
    seen, order = [], []
    for _ in range(400):
        state = _tab(browser)
        assert _has_visible_focus(state), f"no visible focus on {state}"
        seen.append(state)
        if state["id"]:
            order.append(state["id"])
        if state["name"] == "action" and browser.switch_to.active_element.get_attribute(
                "value") == "check":  # "Controleer uw aanmelding", the form's last button
            break
    else:
        pytest.fail("the submit button is not reachable with Tab")
    # A radio group is one Tab stop: its checked radio (arrow keys move within the group).
    expected = [el.get_attribute("id") for el in browser.find_elements(
        By.CSS_SELECTOR, "form.submission-form input:not([type=hidden]):not([type=radio]), "
                         "form.submission-form input[type=radio]:checked, "
                         "form.submission-form select, form.submission-form textarea")
        if el.is_displayed()]
    fields_in_tab_order = [i for i in order if i in expected]
    assert fields_in_tab_order == expected

    # 3. submit the empty form with Enter: the error summary receives focus
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    summary = pages.wait_for(browser, "[data-error-summary]")
    pages.wait(browser).until(
        lambda d: d.switch_to.active_element == summary)
    assert browser.title.startswith("Fout:")
    assert _has_visible_focus(_focused(browser))

    # 4. the first error link, followed with the keyboard, puts focus in the field
    first_link = summary.find_element(By.CSS_SELECTOR, "a[href^='#']")
    target = first_link.get_attribute("href").split("#", 1)[1]
    state = _tab(browser)
    assert browser.switch_to.active_element == first_link
    assert _has_visible_focus(state)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    pages.wait(browser).until(lambda d: d.switch_to.active_element.get_attribute("id") == target)
    field = browser.switch_to.active_element
    # the field says it is invalid and points at its error message and hint
    assert field.get_attribute("aria-invalid") == "true"
    assert f"{target}-error" in (field.get_attribute("aria-describedby") or "")
    # typing now fills that field
    field.send_keys("Het Baken College")
    assert field.get_attribute("value") == "Het Baken College"


def test_every_form_field_has_a_label_and_hints_are_linked(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    problems = browser.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll(
                'form.submission-form input:not([type=hidden]), form.submission-form select, '
                + 'form.submission-form textarea')) {
            if (!el.labels || el.labels.length === 0 || !el.labels[0].textContent.trim())
                out.push('no label: ' + el.id);
            const hint = document.getElementById(el.id + '-hint');
            if (hint && !(el.getAttribute('aria-describedby') || '').split(' ')
                                                      .includes(el.id + '-hint'))
                out.push('hint not linked: ' + el.id);
        }
        return out;
    """)
    assert problems == []
