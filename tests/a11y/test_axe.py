"""axe-core (WCAG 2.0/2.1, A and AA) on every public and every staff page, in both languages.

Pages are discovered from ``app.url_map``: every GET route, filled in with sample ids from a
seeded database. Each URL is first requested with the live app's test client, anonymously and
then per role (advisor < moderator < admin), to learn who may see it and whether it is an HTML
page at all (JSON, CSV, GeoJSON, files and redirects are not pages). The page is then opened in
headless Chromium with that role's session and axe must report zero violations, in Dutch and
in English (``?lang=en``). What axe leaves "incomplete" for colour contrast is computed by the
test from the rendered pixels (tests/a11y/contrast.py), form fields need a 3:1 boundary, and no
page may scroll sideways on a 390 px phone window: the Dutch pass checks the desktop layout
(1280 px) and then narrows the same page load; the English pass runs entirely at 390 px, so axe
also sees the phone layout.

A GET route that yields no HTML page for anybody with the sample data fails the test: give it a
sample below (SAMPLE_PATHS / SESSION_EXTRAS) or list it in NOT_PAGES with a reason.
"""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from registry.extensions import db
from tests.a11y.axe import axe_results, format_violations
from tests.a11y.contrast import (
    LAYERS_JS,
    PHONE_WIDTH,
    check_control_boundaries,
    check_incomplete_contrast,
    check_reflow,
    focus_indicator_failures,
)
from tests.factories import sample_import_job
from tests.fixtures.browser import _safe_name, save_artifacts

pytestmark = pytest.mark.browser

ROLES = ("advisor", "moderator", "admin")
DESKTOP = (1280, 1000)  # the browser fixture's window
PHONE = (PHONE_WIDTH, 1000)
# The Dutch pass runs axe on the desktop layout and then narrows each page to a phone; the
# English pass loads every page on a phone-sized window (axe on the phone layout, no resizing).
WINDOW = {"nl": DESKTOP, "en": PHONE}

# Endpoints that are not HTML pages for people (or only redirect); checked to stay non-HTML.
NOT_PAGES = {
    "static": "static files",
    "maps.vendor": "vendored Leaflet files",
    "public.set_language": "redirect back to the page",
    "pow_challenge": "JSON for the anti-spam script",
    "exports.export": "CSV/XLSX/JSON/GeoJSON downloads",
    "summary.download": "DOCX/PDF/XLSX downloads",
    "manage.download": "the school's own data as JSON",
    "manage.legacy_link": "an old manage link: opens the session and redirects to /beheren",
}
NOT_PAGE_PATTERN = re.compile(r"(^/api/v1/(?!docs)|\.(json|geojson|csv|xlsx|docx|pdf)$)")


def _sample_values(initiative_a, initiative_b, theme, tokens) -> dict[str, dict]:
    """URL values per endpoint (by argument name, overridden per endpoint)."""
    return {
        "_default": {"initiative_id": initiative_a.id, "other_id": initiative_b.id,
                     "theme_id": theme.id, "name": "areas", "lang": "en",
                     "dataset": "initiatieven", "fmt": "csv", "package": "leaflet",
                     "filename": "leaflet.js"},
        "moderation.entry": {"initiative_id": initiative_b.id},
        "moderation.edit": {"initiative_id": initiative_b.id},
        "manage.legacy_link": {"token": tokens["manage"]},
        "manage.confirm": {"token": tokens["confirm"]},
        "auth.set_password": {"token": tokens["password"]},
        "summary.download": {"fmt": "pdf"},
        "static": {"filename": "css/app.css"},
    }


def _queue_sample_mail(app, initiative, theme) -> None:
    """Let other domains mail their private links (reply, opt-out, subscriptions...)."""
    if "connect.reply" in app.view_functions:
        from registry.connect import services as connect

        initiative.contact.accepts_messages = True
        connect.relay_message(initiative, connect.MessageData(
            sender_name="Bea Bakker", sender_email="bea@example.org",
            message="Mogen we een keer komen kijken?", sender_school="De Linde"))
        connect.subscribe("volger@example.org", theme_ids=[theme.id], area_codes=["examineren"])
        from registry.mail.services import queue_mail  # the opt-in link (manage page later)

        queue_mail(to=initiative.contact.email, subject="opt-in", kind="connect_opt_in",
                   body_text=connect.opt_in_url(initiative.contact))


def _samples_from_outbox(app, samples: dict) -> None:
    """URL values for token routes, read from the links in the queued mail."""
    from urllib.parse import urlsplit

    from werkzeug.exceptions import HTTPException

    from registry.mail.models import OutboxMessage

    adapter = app.url_map.bind("localhost")
    for body in db.session.scalars(select(OutboxMessage.body_text)):
        for url in re.findall(r"https?://[^\s<>\"']+", body):
            try:
                endpoint, values = adapter.match(urlsplit(url).path, method="GET")
            except HTTPException:
                continue
            samples.setdefault(endpoint, values)


@pytest.fixture(scope="module")
def site(_live_server_session):
    """Seed the live server's database once for this module and work out every page."""
    live = _live_server_session
    app = live.app
    live.reset()
    with live.app_context():
        from registry.auth.models import User
        from registry.auth.services import set_password_token
        from registry.manage.models import ManageToken
        from registry.manage.services import confirmation_token, issue_manage_link
        from registry.moderation.models import Theme, ThemeRule
        from registry.taxonomy.constants import InitiativeState
        from tests.factories import make_initiative

        a = make_initiative(title="Leerroutes op maat", school_name="Het Baken College")
        b = make_initiative(state=InitiativeState.PENDING, title="Flexibel examineren",
                            school_name="Het Baken College")
        make_initiative(state=InitiativeState.UNCONFIRMED, title="Nog niet bevestigd")
        theme = Theme(area_code="examineren", title="Vaste examenmomenten",
                      description="Examens alleen op vaste momenten in het jaar.",
                      ask="Sta examens op afroep toe in een experiment.")
        theme.rules.append(ThemeRule(title="Examen- en kwalificatiebesluit WEB", level="wet",
                                     source_url="https://wetten.overheid.nl/",
                                     existing_room="Experiment flexibilisering."))
        theme.rules.append(ThemeRule(title="Eigen examenreglement", level="bestuur"))
        db.session.add(theme)
        users = {}
        for role in ROLES:
            user = User(email=f"a11y-{role}@example.org", name=f"A11y {role}", role=role,
                        password_hash=None)
            db.session.add(user)
            users[role] = user
        # issue 17, item 6: the code page needs an enrolled account, the enrolment page a
        # pending secret (set when a set-password link was used); sample secrets
        users["admin"].totp_secret = "JBSWY3DPEHPK3PXP"
        users["advisor"].totp_pending_secret = "KRUGS4ZANFZSAYLTMVRXEZLU"
        db.session.flush()
        # The theme page shows an initiative facing it, with a workaround it may quote.
        a.obstacles[0].theme_id = theme.id
        a.obstacles[0].status = "omzeild"
        a.obstacles[0].workaround = "We examineren in blokken wanneer een student klaar is."
        a.contact.consent_quotes = True
        manage_url = issue_manage_link(a)
        db.session.flush()
        manage_token_id = db.session.scalars(
            select(ManageToken.id).where(ManageToken.initiative_id == a.id,
                                         ManageToken.revoked_at.is_(None))).one()
        tokens = {"manage": manage_url.rsplit("#", 1)[1],
                  "confirm": confirmation_token(a),
                  "password": set_password_token(users["moderator"])}
        _queue_sample_mail(app, a, theme)
        import_job = sample_import_job()
        db.session.commit()
        samples = _sample_values(a, b, theme, tokens)
        samples["_default"]["job_id"] = import_job
        _samples_from_outbox(app, samples)
        user_ids = {role: u.get_id() for role, u in users.items()}
        reference_a = a.reference

    serializer = app.session_interface.get_signing_serializer(app)
    # The manage pages (/beheren...) with the session a manage link opens (the token row id);
    # /beheren/openen is the page without it.
    manage_session = {"manage_token": manage_token_id}
    extras = {"submissions.thanks": {"submitted_reference": reference_a},
              **{f"manage.{name}": manage_session
                 for name in ("overview", "edit", "erase", "withdraw", "download")},
              "auth.second_factor": {"totp_user": user_ids["admin"]}}

    def session_for(role: str | None, endpoint: str) -> dict:
        data = dict(extras.get(endpoint, {}))
        # the pending second step and enrolment expire (10 and 30 minutes): start them now
        if endpoint == "auth.second_factor":
            data["totp_started"] = int(time.time())
        if endpoint == "auth.enrol_second_factor":
            data.update(totp_enrol_user=user_ids["advisor"], totp_enrol_started=int(time.time()))
        if role:
            data.update({"_user_id": user_ids[role], "_fresh": True})
        return data

    def cookie(data: dict) -> str:
        return serializer.dumps(data)

    pages, uncovered, not_pages, targets = [], [], [], []
    with app.test_request_context(base_url=live.base_url):
        from flask import url_for

        rules = sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods),
                       key=lambda r: r.rule)
        for rule in rules:
            values = {k: v for k, v in samples["_default"].items() if k in rule.arguments}
            values.update(samples.get(rule.endpoint, {}))
            try:
                targets.append((rule.endpoint, url_for(rule.endpoint, **values)))
            except Exception as exc:  # no sample for an argument
                uncovered.append(f"{rule.endpoint} ({rule.rule}): cannot build URL: {exc}")
    # outside any request context: the test client must not share flask.g (current_user)
    client = app.test_client()
    seen_paths = set()
    for endpoint, path in targets:
        if path in seen_paths:
            continue
        seen_paths.add(path)
        if endpoint in NOT_PAGES or NOT_PAGE_PATTERN.search(path):
            not_pages.append(endpoint)  # files and JSON: not requested (PDFs are slow)
            continue
        found, html, statuses = False, False, []
        for role in (None, *ROLES):
            client.set_cookie(app.config["SESSION_COOKIE_NAME"],
                              cookie(session_for(role, endpoint)))
            response = client.get(path)
            status, mimetype = response.status_code, response.mimetype
            response.close()
            statuses.append(f"{role or 'anonymous'}={status}")
            if status == 200:
                found, html = True, mimetype == "text/html"
                break
            if status not in (301, 302, 303, 401, 403):
                break
        if (found and not html) or (not found and endpoint in NOT_PAGES):
            not_pages.append(endpoint)
        elif not found:
            uncovered.append(f"{endpoint} {path}: {', '.join(statuses)}")
        else:
            pages.append((endpoint, path, role))
    return {"pages": pages, "uncovered": uncovered, "not_pages": not_pages,
            "session_for": session_for, "cookie": cookie, "live": live}


def test_every_get_route_is_checked_or_explained(site):
    assert site["uncovered"] == [], (
        "GET routes that gave no HTML page with the sample data - add a sample in "
        "tests/a11y/test_axe.py or list them in NOT_PAGES:\n" + "\n".join(site["uncovered"]))
    endpoints = {e for e, _p, _r in site["pages"]}
    assert {"public.home", "submissions.submit", "public.initiatives",
            "public.initiative", "themes.index", "themes.theme"} <= endpoints


def _check_pages(site, driver, request, audience: str, lang: str) -> None:
    live = site["live"]
    name = site["live"].app.config["SESSION_COOKIE_NAME"]
    checked, failures, current, timings = 0, [], None, []
    window = WINDOW[lang]
    driver.set_window_size(*window)
    driver.get(live.base_url + "/static/css/app.css")  # be on the origin to set cookies
    for endpoint, path, role in site["pages"]:
        if (role is None) != (audience == "public"):
            continue
        session = site["session_for"](role, endpoint)
        if session != current:
            driver.delete_all_cookies()
            if session:
                driver.add_cookie({"name": name, "value": site["cookie"](session), "path": "/"})
            current = session
        started = time.monotonic()
        url = live.base_url + path + ("&" if "?" in path else "?") + f"lang={lang}"
        driver.get(url)
        html_lang = driver.find_element("css selector", "html").get_attribute("lang")
        if html_lang != lang:
            failures.append(f"{endpoint} ({role or 'anonymous'}) {url}: <html lang="
                            f"{html_lang!r}>, expected {lang!r}")
        who = f"{endpoint} ({role or 'anonymous'}) {url}"
        results = axe_results(driver)
        violations = results["violations"]
        # axe's "incomplete" colour contrast (text over an image, a gradient, an overlapping
        # element, SVG text...) is computed here from the real pixels, never skipped
        contrast = check_incomplete_contrast(driver, results["incomplete"])
        contrast += check_control_boundaries(driver)
        checked += 1
        if violations:
            failures.append(f"{who}:\n" + format_violations(violations))
        if contrast:
            failures.append(f"{who}: contrast (computed by the test):\n    "
                            + "\n    ".join(contrast))
        if violations or contrast:
            save_artifacts(driver, f"axe-{lang}-{_safe_name(endpoint)}")
        # the same page on a phone: no horizontal scrolling (WCAG 1.4.10)
        overflow = check_reflow(driver, PHONE_WIDTH, narrow=window != PHONE,
                                save_as=f"reflow-{lang}-{_safe_name(endpoint)}")
        if overflow:
            failures.append(f"{who}: scrolls sideways at {PHONE_WIDTH}px: {overflow}")
        timings.append((round(time.monotonic() - started, 2), endpoint))
    print(sorted(timings, reverse=True))
    assert checked, f"no {audience} pages found"
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def axe_browser(_browser_pool):
    from tests.fixtures.browser import _drain_logs

    driver = _browser_pool(True)
    driver.delete_all_cookies()
    yield driver
    driver.get("about:blank")
    driver.delete_all_cookies()
    _drain_logs(driver)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_public_pages_have_no_wcag_violations(site, axe_browser, request, lang):
    _check_pages(site, axe_browser, request, "public", lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_staff_pages_have_no_wcag_violations(site, axe_browser, request, lang):
    _check_pages(site, axe_browser, request, "staff", lang)


def test_pages_found(site):
    """A readable inventory in the test log (-rP) of what the axe tests cover."""
    for endpoint, path, role in site["pages"]:
        print(f"{role or 'public':10} {endpoint:30} {path}")
    assert re.search(r"moderat", " ".join(e for e, _p, _r in site["pages"]))


# Every focusable element, focused after a real key press (keyboard modality, so
# :focus-visible applies), must draw a focus indicator: an outline or a box-shadow, whose
# colours (one of them) reach 3:1 against the background around the element (WCAG 1.4.11).
FOCUS_AUDIT = LAYERS_JS + """
const sel = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), '
          + 'select:not([disabled]), textarea:not([disabled]), summary, '
          + '[tabindex]:not([tabindex="-1"])';
const bad = [], samples = [], seen = new Set();
for (const el of document.querySelectorAll(sel)) {
  const rects = el.getClientRects();
  if (!rects.length || getComputedStyle(el).visibility === 'hidden') continue;
  el.focus({preventScroll: true});
  if (document.activeElement !== el) continue;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  if (!outline && !shadow) { bad.push(el.outerHTML.slice(0, 160)); continue; }
  const sample = {html: el.outerHTML.slice(0, 160), outline: outline ? s.outlineColor : null,
                  shadow: shadow ? s.boxShadow : '', behind: window.__a11yLayers(el.parentElement)};
  const key = JSON.stringify([sample.outline, sample.shadow, sample.behind]);
  if (!seen.has(key)) { seen.add(key); samples.push(sample); }
}
return [bad, samples];
"""


def test_focus_is_visible_on_every_page(site, axe_browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    live, driver = site["live"], axe_browser
    name = live.app.config["SESSION_COOKIE_NAME"]
    driver.get(live.base_url + "/static/css/app.css")
    failures, current = [], None
    for endpoint, path, role in site["pages"]:
        session = site["session_for"](role, endpoint)
        if session != current:
            driver.delete_all_cookies()
            if session:
                driver.add_cookie({"name": name, "value": site["cookie"](session), "path": "/"})
            current = session
        driver.get(live.base_url + path)
        ActionChains(driver).send_keys(Keys.TAB).perform()  # keyboard modality
        bad, samples = driver.execute_script(FOCUS_AUDIT)
        bad += focus_indicator_failures(samples)
        if bad:
            failures.append(f"{endpoint} ({role or 'anonymous'}):\n    " + "\n    ".join(bad[:8]))
    assert not failures, "no visible focus indicator (or below 3:1):\n" + "\n".join(failures)


CONTRAST_AUDIT = """
function lum(rgb) {
  const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
}
const out = [];
for (const el of document.querySelectorAll('.site-header a, .site-header button')) {
  const fg = lum(getComputedStyle(el).color), bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) out.push(el.textContent.trim() + ': ' + ratio.toFixed(2));
}
return out;
"""


def test_staff_header_controls_have_enough_contrast(site, axe_browser):
    """axe reports the logout button on the header colour only as "incomplete" (issue 19):
    compute the WCAG contrast of every header link and button on a staff page ourselves."""
    live, driver = site["live"], axe_browser
    name = live.app.config["SESSION_COOKIE_NAME"]
    endpoint, path, role = next(p for p in site["pages"] if p[2] == "moderator")
    driver.get(live.base_url + "/static/css/app.css")
    driver.delete_all_cookies()
    driver.add_cookie({"name": name, "value": site["cookie"](site["session_for"](
        role, endpoint)), "path": "/"})
    driver.get(live.base_url + path)
    controls = driver.execute_script(
        "return [...document.querySelectorAll('.site-header button')].map(b => b.textContent)")
    assert any("Uitloggen" in c for c in controls)  # really a staff page
    assert driver.execute_script(CONTRAST_AUDIT) == []
