"""Issue 17, item 5: manage links keep their token out of every request line, expire after
MANAGE_LINK_IDLE_MONTHS without use, and a new link revokes the older ones.

The mailed link is /beheren#<token>: a browser never sends the fragment. The page reads it
with manage-open.js and posts it to /beheren/openen (with the page's CSRF token); without
JavaScript the contact pastes the code into the same form. The session then holds the id of the
token row, and every manage page is token-less. That the token is in no access log under the
documented gunicorn setup: tests/security/test_manage_link_logs.py.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.manage.models import ManageToken
from registry.manage.retention import months_before
from registry.manage.services import hash_token, issue_manage_link
from registry.manage.tokens import code_from
from registry.submissions.services import ContactData
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.e2e import pages
from tests.factories import make_initiative
from tests.fixtures.mail import manage_link
from tests.manage.helpers import open_manage_link, post_with_csrf


@pytest.fixture
def published(app):
    return make_initiative(state=InitiativeState.PUBLISHED, title="Leerroute Oost",
                           contact=ContactData(name="Anne de Vries", email="anne@example.org",
                                               phone="", consent_contact=True))


def new_link(initiative) -> tuple[str, str]:
    """(mailed URL, token) of a new manage link, committed."""
    url = issue_manage_link(initiative)
    db.session.commit()
    return url, urlsplit(url).fragment


def row_of(token: str) -> ManageToken:
    return db.session.scalars(select(ManageToken).where(
        ManageToken.token_hash == hash_token(token))).one()


def post_code(client, code: str):
    """What manage-open.js (or the contact pressing the button) posts."""
    page = client.get("/beheren")
    return client.post("/beheren/openen", data={
        "code": code, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def age(token: str, *, created=None, used=None) -> None:
    row = row_of(token)
    if created is not None:
        row.created_at = created
    row.last_used_at = used
    db.session.commit()


# --------------------------------------------------------------------------- the link
def test_the_mailed_link_keeps_the_token_in_the_fragment(csrf_client, published):
    url, token = new_link(published)
    parts = urlsplit(url)
    assert (parts.path, parts.query, parts.fragment) == ("/beheren", "", token)
    assert len(token) >= 43


def test_the_page_posts_the_fragment_and_the_session_holds_no_token(csrf_client, published):
    url, token = new_link(published)
    page = csrf_client.get("/beheren")  # what a browser requests for /beheren#<token>
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "js/manage-open.js" in html
    assert "data-manage-open" in html
    assert 'name="code"' in html
    response = post_code(csrf_client, token)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/beheren"
    assert token not in response.headers["Location"]
    overview = csrf_client.get("/beheren")
    assert published.reference in overview.get_data(as_text=True)
    assert token not in overview.get_data(as_text=True)
    cookie = csrf_client.get_cookie("session")
    assert cookie is not None
    assert token not in cookie.value
    # Every manage page is token-less now.
    for path in ("/beheren/bewerken", "/beheren/intrekken", "/beheren/gegevens-wissen",
                 "/beheren/mijn-gegevens.json"):
        assert csrf_client.get(path).status_code == 200, path
    assert row_of(token).last_used_at is not None


def test_without_javascript_the_contact_pastes_the_code_or_the_whole_link(csrf_client,
                                                                          published):
    url, token = new_link(published)
    html = csrf_client.get("/beheren").get_data(as_text=True)
    assert "JavaScript" in html  # the fallback explained in Dutch
    assert "#-teken" in html
    assert 'lang="nl"' in html
    assert post_code(csrf_client, f"  {url}  ").status_code == 303  # the whole link
    csrf_client.post("/beheren/sluiten", data={
        "csrf_token": csrf_token_from(csrf_client.get("/beheren").get_data(as_text=True))})
    assert post_code(csrf_client, token).status_code == 303  # the code alone
    assert code_from(f"https://register.example.nl/beheren/{token}?x=1") == token  # old link
    empty = post_code(csrf_client, "")
    assert empty.status_code == 422
    assert "Plak de code uit de link" in empty.get_data(as_text=True)


def test_a_wrong_code_opens_nothing(csrf_client, published):
    _url, token = new_link(published)
    for code in (token[:-2], "x" * 43, "<script>", "a" * 5000):
        response = post_code(csrf_client, code)
        assert response.status_code in (404, 422), code
        assert published.reference not in response.get_data(as_text=True)
    assert csrf_client.get("/beheren/bewerken").status_code == 303  # no session


def test_pages_without_a_session_send_the_visitor_to_the_opening_page(csrf_client, published):
    response = csrf_client.get("/beheren/bewerken")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/beheren"
    obstacle = published.obstacles[0]
    token = csrf_token_from(csrf_client.get("/beheren").get_data(as_text=True))
    for path in (f"/beheren/knelpunten/{obstacle.id}/opgelost",
                 f"/beheren/knelpunten/{obstacle.id}/zichtbaarheid"):
        response = csrf_client.post(path, data={"csrf_token": token,
                                                "visibility": "confidential"})
        assert response.status_code == 303, path
    db.session.refresh(obstacle)
    assert (obstacle.status, obstacle.visibility) == ("open", "public")


def test_an_old_link_in_the_path_still_opens_and_redirects(csrf_client, published):
    _url, token = new_link(published)
    response = csrf_client.get(f"/beheren/{token}")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/beheren"
    assert published.reference in csrf_client.get("/beheren").get_data(as_text=True)
    assert csrf_client.get("/beheren/onbekend-maar-lang-genoeg-1234").status_code == 404


def test_signing_off_ends_the_session_in_this_browser(csrf_client, published):
    url, _token = new_link(published)
    open_manage_link(csrf_client, url)
    response = post_with_csrf(csrf_client, "/beheren", "/beheren/sluiten")
    assert response.status_code == 303
    html = csrf_client.get("/beheren").get_data(as_text=True)
    assert published.reference not in html
    assert 'name="code"' in html


# --------------------------------------------------------------------------- expiry
def test_a_link_not_used_for_twelve_months_is_refused(csrf_client, published):
    assert csrf_client.application.config["MANAGE_LINK_IDLE_MONTHS"] == 12
    _url, token = new_link(published)
    now = utcnow()
    age(token, created=months_before(now, 12) - timedelta(hours=1), used=None)  # never used
    for response in (post_code(csrf_client, token), csrf_client.get(f"/beheren/{token}")):
        html = response.get_data(as_text=True)
        assert response.status_code == 410
        assert "Deze link is verlopen" in html
        assert "12 maanden" in html
        assert 'action="/beheren/nieuwe-link"' in html  # offers a new link
        assert published.reference not in html
    assert csrf_client.get("/beheren/bewerken").status_code == 303  # no session was started

    # Used eleven months ago (created long before): still works, and the use counts.
    age(token, created=now - timedelta(days=3 * 365), used=months_before(now, 11))
    assert post_code(csrf_client, token).status_code == 303
    assert as_utc(row_of(token).last_used_at) > now - timedelta(minutes=5)


def test_the_idle_period_is_configurable(csrf_client, published):
    csrf_client.application.config["MANAGE_LINK_IDLE_MONTHS"] = 1
    _url, token = new_link(published)
    age(token, used=utcnow() - timedelta(days=40))
    response = post_code(csrf_client, token)
    assert response.status_code == 410
    assert "1 maanden" in response.get_data(as_text=True)


def test_an_open_session_ends_when_its_link_has_expired(csrf_client, published):
    url, token = new_link(published)
    open_manage_link(csrf_client, url)
    age(token, created=months_before(utcnow(), 13), used=months_before(utcnow(), 13))
    html = csrf_client.get("/beheren").get_data(as_text=True)
    assert published.reference not in html
    assert "Uw beheerlink is verlopen" in html
    assert csrf_client.get("/beheren/bewerken").status_code == 303


# --------------------------------------------------------------------------- revocation
def test_a_new_link_revokes_the_older_ones_of_that_entry(csrf_client, app, published):
    other = make_initiative(state=InitiativeState.PUBLISHED, title="Andere school",
                            postcode="9711 AA")
    old_url, old_token = new_link(published)
    _other_url, other_token = new_link(other)
    browser_a = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    open_manage_link(browser_a, old_url)

    new_url, new_token = new_link(published)
    assert row_of(old_token).revoked_at is not None
    assert row_of(new_token).revoked_at is None
    assert row_of(other_token).revoked_at is None  # another entry keeps its link

    response = post_code(csrf_client, old_token)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "Deze link is vervangen" in html
    assert "nieuwste" in html
    assert csrf_client.get(f"/beheren/{old_token}").status_code == 410
    # The session opened with the old link ends too.
    html = browser_a.get("/beheren").get_data(as_text=True)
    assert published.reference not in html
    assert "nieuwere beheerlink" in html
    assert open_manage_link(csrf_client, new_url) == "/beheren"
    assert published.reference in csrf_client.get("/beheren").get_data(as_text=True)


def test_requesting_a_link_by_mail_revokes_the_old_one(csrf_client, smtp_server, published):
    _url, old_token = new_link(published)
    response = post_with_csrf(csrf_client, "/beheren/nieuwe-link", "/beheren/nieuwe-link",
                              {"email": "anne@example.org"})
    assert response.status_code == 200
    mailed = manage_link(smtp_server.last(to="anne@example.org"))
    assert urlsplit(mailed).path == "/beheren"
    assert row_of(old_token).revoked_at is not None
    assert post_code(csrf_client, old_token).status_code == 410
    assert open_manage_link(csrf_client, mailed) == "/beheren"
    tokens = db.session.scalars(select(ManageToken).where(
        ManageToken.initiative_id == published.id)).all()
    assert sum(1 for t in tokens if t.revoked_at is None) == 1


# --------------------------------------------------------------------------- in a browser
def _seed(live_server, title: str, **overrides) -> tuple[str, str]:
    with live_server.app_context():
        initiative = make_initiative(state=InitiativeState.PUBLISHED, title=title, **overrides)
        url = issue_manage_link(initiative)
        db.session.commit()
        return url, initiative.reference


def test_with_javascript_the_link_opens_the_entry_and_leaves_no_token_behind(live_server,
                                                                            browser):
    url, reference = _seed(live_server, "Leerroute met JavaScript")
    assert urlsplit(url).netloc == urlsplit(live_server.base_url).netloc
    browser.get(url)
    # read <main> by script: the opening page is replaced while the wait polls it
    pages.wait(browser).until(lambda d: reference in d.execute_script(
        "return (document.querySelector('main') || {}).textContent || ''"))
    assert browser.current_url == live_server.url("/beheren")  # the fragment is gone
    assert urlsplit(url).fragment not in browser.execute_script("return location.href")
    assert browser.find_element(By.LINK_TEXT, "Aanmelding wijzigen")

    # A link of another entry opened in the same browser switches to that entry.
    other_url, other_reference = _seed(live_server, "Tweede leerroute", postcode="9711 AA")
    browser.get(other_url)
    pages.wait(browser).until(
        lambda d: other_reference in d.find_element(By.TAG_NAME, "main").text)
    assert browser.current_url == live_server.url("/beheren")


def test_without_javascript_the_contact_pastes_the_code(live_server, browser_nojs):
    url, reference = _seed(live_server, "Leerroute zonder JavaScript")
    browser_nojs.get(url)
    main = browser_nojs.find_element(By.TAG_NAME, "main")
    assert reference not in main.text
    assert "#-teken" in main.text
    field = browser_nojs.find_element(By.NAME, "code")
    field.send_keys(urlsplit(url).fragment)
    browser_nojs.find_element(By.CSS_SELECTOR, "form[data-manage-open] button").click()
    # wait for the new page first: reading the old page's <main> while it is replaced
    # raises a stale-element error
    pages.wait(browser_nojs).until(
        lambda d: d.current_url == live_server.url("/beheren")
        and d.execute_script("return document.readyState") == "complete"
        and reference in d.execute_script(
            "return (document.querySelector('main') || {}).textContent || ''"))
