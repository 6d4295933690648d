"""Issue 16, the school's side of the form: per obstacle, public or confidential.

The choice is a required pair of radio buttons in each obstacle row (also in rows added with
and without JavaScript); an empty or unknown value is refused with a Dutch message at the
field and in the error summary, and nothing is stored.
"""
from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import func, select, text

from registry.extensions import db as _db
from registry.submissions.models import Initiative
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.e2e import pages
from tests.factories import form_post, make_initiative
from tests.fixtures.auth import csrf_post
from tests.submissions.test_views import post_form, summary_links

ERROR = "Kies of het knelpunt openbaar of vertrouwelijk is."


def stored_obstacles(db) -> list[tuple[str, str]]:
    """(title, visibility) of every stored obstacle, read with plain SQL."""
    return [tuple(row) for row in db.session.execute(text(
        "SELECT title, visibility FROM obstacle ORDER BY initiative_id, position")).all()]


def radios(html: str, name: str) -> dict[str, tuple[str, bool]]:
    """value -> (id, checked) of the radio buttons called ``name``."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and 'type="radio"' in tag:
            value = re.search(r'value="([^"]*)"', tag).group(1)
            found[value] = (re.search(r'id="([^"]*)"', tag).group(1), " checked" in tag)
    return found


def test_each_row_offers_the_choice_with_public_chosen(client):
    html = client.get("/aanmelden").get_data(as_text=True)
    assert radios(html, "obstacles-0-visibility") == {
        "public": ("obstacles-0-visibility-0", True),
        "confidential": ("obstacles-0-visibility-1", False)}
    # a fieldset with a legend, the two labels and what each choice means
    assert re.search(r'<fieldset class="fieldset" id="obstacles-0-visibility"[^>]*>\s*'
                     r'<legend class="legend">Wie mag dit knelpunt zien\?</legend>', html)
    assert '<label for="obstacles-0-visibility-0">Openbaar: tonen bij ons initiatief</label>' \
        in html
    assert ('<label for="obstacles-0-visibility-1">Vertrouwelijk: meetellen, maar nooit tonen '
            'bij onze school</label>') in html
    assert 'aria-describedby="obstacles-0-visibility-1-hint"' in html
    assert "minstens 3 scholen" in html
    assert "nooit op de kaart" in html
    # the JavaScript template row has it too, numbered like its other fields
    assert radios(html, "obstacles-__INDEX__-visibility") == {
        "public": ("obstacles-__INDEX__-visibility-0", True),
        "confidential": ("obstacles-__INDEX__-visibility-1", False)}


@pytest.mark.parametrize("value", ["secret", "", "PUBLIC"])
def test_a_bad_value_is_refused_at_the_field_and_nothing_is_stored(csrf_client, db, value):
    data = form_post(obstacles=2, **{"obstacles-1-visibility": value,
                                     "obstacles-0-visibility": "confidential"})
    response = post_form(csrf_client, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert ("obstacles-1-visibility", ERROR) in summary_links(html)
    assert re.search(r'<p id="obstacles-1-visibility-error" class="error-message">'
                     r'<span class="visually-hidden">Fout:</span> ' + re.escape(ERROR), html)
    assert 'aria-describedby="obstacles-1-visibility-hint obstacles-1-visibility-error"' in html
    # nothing stored, what was typed is kept (including the other row's choice)
    assert db.session.scalar(select(func.count()).select_from(Initiative)) == 0
    assert stored_obstacles(db) == []
    assert 'value="Knelpunt 2"' in html
    assert radios(html, "obstacles-0-visibility")["confidential"][1] is True
    assert not any(checked for _, checked in radios(html, "obstacles-1-visibility").values())


def test_confidential_is_stored_as_confidential(csrf_client, db):
    data = form_post(obstacles=2, **{"obstacles-1-visibility": "confidential",
                                     "obstacles-0-visibility": "public"})
    response = post_form(csrf_client, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert stored_obstacles(db) == [("Knelpunt 1", "public"), ("Knelpunt 2", "confidential")]


def test_a_row_posted_without_the_field_keeps_the_default(csrf_client, db):
    """A client that predates the field (no radio sent at all): public, as before issue 16."""
    data = form_post()
    assert "obstacles-0-visibility" not in data
    assert post_form(csrf_client, data).status_code == 302
    assert stored_obstacles(db) == [("Knelpunt 1", "public")]


def test_add_row_without_javascript_keeps_the_choice_and_offers_it_again(csrf_client, db):
    data = form_post(**{"obstacles-0-visibility": "confidential", "action": "add_obstacle"})
    response = post_form(csrf_client, data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert radios(html, "obstacles-0-visibility") == {
        "public": ("obstacles-0-visibility-0", False),
        "confidential": ("obstacles-0-visibility-1", True)}
    assert radios(html, "obstacles-1-visibility") == {
        "public": ("obstacles-1-visibility-0", True),
        "confidential": ("obstacles-1-visibility-1", False)}
    ids = re.findall(r'\bid="([^"]+)"', html.split('<template id="obstacle-template">')[0])
    assert len(ids) == len(set(ids))
    assert stored_obstacles(db) == []


def test_only_the_public_obstacle_reaches_the_public_page(csrf_client, db):
    data = form_post(obstacles=2, **{
        "obstacles-0-title": "Openbaar knelpunt", "obstacles-0-workaround": "Omweg A",
        "obstacles-1-title": "Geheim knelpunt", "obstacles-1-workaround": "Omweg B",
        "obstacles-1-policy_ask": "Vraag B", "obstacles-1-visibility": "confidential"})
    assert post_form(csrf_client, data).status_code == 302
    initiative = db.session.scalars(select(Initiative)).one()
    initiative.state = InitiativeState.PUBLISHED
    db.session.commit()
    html = csrf_client.get(f"/initiatieven/{initiative.id}").get_data(as_text=True)
    assert "Openbaar knelpunt" in html
    assert "Omweg A" in html
    assert "Geheim knelpunt" not in html
    assert "Omweg B" not in html
    assert "Vraag B" not in html


# --------------------------------------------------------------------------- moderators
def test_the_moderator_edit_form_shows_and_keeps_the_choice(client, login, db):
    login(client, "moderator")
    item = make_initiative(state=InitiativeState.PENDING, obstacles=[
        ObstacleData(area="examineren", title="Vaste examenmomenten", severity=3,
                     description="Alleen in juni.", visibility="confidential")])
    url = f"/moderatie/{item.id}/bewerken"
    html = client.get(url).get_data(as_text=True)
    assert radios(html, "obstacles-0-visibility")["confidential"][1] is True

    data = {k: v for k, v in form_post(title="Verbeterd").items()
            if not k.startswith("contact-")}
    data.update({"obstacles-0-obstacle_id": str(item.obstacles[0].id),
                 "obstacles-0-visibility": "confidential", "version_id": str(item.version_id)})
    response = csrf_post(client, url, data, token_page=url)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert stored_obstacles(db) == [("Knelpunt 1", "confidential")]

    bad = csrf_post(client, url, dict(data, **{"obstacles-0-visibility": "secret",
                                                "version_id": str(_version(item))}),
                    token_page=url)
    assert bad.status_code == 422
    assert ERROR in bad.get_data(as_text=True)
    assert stored_obstacles(db) == [("Knelpunt 1", "confidential")]


def _version(item) -> int:
    _db.session.expire_all()
    return _db.session.get(Initiative, item.id).version_id


# --------------------------------------------------------------------------- browsers
def _stored_in(live_server) -> list[tuple[str, str]]:
    with live_server.app_context():
        return [tuple(row) for row in _db.session.execute(text(
            "SELECT title, visibility FROM obstacle ORDER BY position")).all()]


def _choose_confidential(driver, index: int) -> None:
    driver.find_element(By.CSS_SELECTOR, f"label[for=obstacles-{index}-visibility-1]").click()
    assert driver.find_element(By.ID, f"obstacles-{index}-visibility-1").is_selected()


def test_browser_adds_a_confidential_row_with_javascript(live_server, browser):
    browser.get(live_server.url("submissions.submit"))
    pages.fill_initiative(browser)
    pages.fill_obstacle(browser, 0)
    browser.execute_script("window.__samePage = true;")
    browser.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()
    assert len(pages.obstacle_rows(browser)) == 2
    assert browser.execute_script("return window.__samePage === true")  # added client-side
    # the cloned row has its own radio ids and labels, public chosen
    assert browser.find_element(By.ID, "obstacles-1-visibility-0").is_selected()
    assert browser.find_element(By.ID, "obstacles-0-visibility-0").is_selected()
    pages.fill_obstacle(browser, 1)
    _choose_confidential(browser, 1)
    assert browser.find_element(By.ID, "obstacles-0-visibility-0").is_selected()  # untouched
    pages.send(browser)
    assert _stored_in(live_server) == [(pages.OBSTACLES[0]["title"], "public"),
                                       (pages.OBSTACLES[1]["title"], "confidential")]


def test_browser_adds_a_confidential_row_without_javascript(live_server, browser_nojs):
    driver = browser_nojs
    driver.get(live_server.url("submissions.submit"))
    pages.fill_initiative(driver)
    pages.fill_obstacle(driver, 0)
    _choose_confidential(driver, 0)
    old_row = pages.obstacle_rows(driver)[0]
    driver.find_element(By.CSS_SELECTOR, "[data-add-obstacle]").click()  # posts the form
    pages.wait(driver).until(lambda d: _is_stale(old_row))
    assert len(pages.obstacle_rows(driver)) == 2
    assert driver.find_element(By.ID, "obstacles-0-visibility-1").is_selected()  # kept
    assert driver.find_element(By.ID, "obstacles-1-visibility-0").is_selected()  # default
    pages.fill_obstacle(driver, 1)
    pages.send(driver)
    assert _stored_in(live_server) == [(pages.OBSTACLES[0]["title"], "confidential"),
                                       (pages.OBSTACLES[1]["title"], "public")]


def _is_stale(element) -> bool:
    try:
        element.is_enabled()
    except Exception:  # StaleElementReferenceException: the page was reloaded
        return True
    return False
