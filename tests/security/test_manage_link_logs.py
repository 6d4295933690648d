"""Issue 17, item 5: no manage (or confirmation) token in the access log of the documented
production setup.

The attack: whoever reads the access log (an operator, a log shipper, a backup of it) used to
find ``GET /beheren/<token>`` there and could manage the entry. Now the mailed link keeps the
token in the URL fragment, which a browser never sends; old links in the path, confirmation
links and every other private link are redacted by the logger class of gunicorn.conf.py.

The test runs the documented command (``gunicorn -c gunicorn.conf.py 'registry:create_app()'``,
production configuration, access log to a file), follows the links as a browser does (requests
sends no fragment; and headless Chromium runs the page's script), and searches the logs.
"""
from __future__ import annotations

import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests
from selenium.webdriver.common.by import By

from registry.extensions import db
from registry.manage.services import confirmation_token, issue_manage_link
from registry.taxonomy.constants import InitiativeState
from tests.conftest import csrf_token_from
from tests.e2e import pages
from tests.factories import make_initiative
from tests.gunicornserver import ROOT, documented_gunicorn, seed_app

pytestmark = pytest.mark.slow
CONF = runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def _seed(server) -> dict[str, str]:
    app = seed_app(server)
    with app.app_context():
        published = make_initiative(state=InitiativeState.PUBLISHED, title="Leerroute Log")
        unconfirmed = make_initiative(state=InitiativeState.UNCONFIRMED, title="Nog bevestigen")
        url = issue_manage_link(published)
        db.session.commit()
        seeded = {"url": url, "token": urlsplit(url).fragment,
                  "reference": published.reference,
                  "confirm": confirmation_token(unconfirmed)}
        db.session.remove()
        db.engine.dispose()
    return seeded


def _assert_no_secret(server, *secrets: str) -> str:
    server.stop()  # the workers flush their logs
    logs = server.logs()
    for secret in secrets:
        assert secret not in logs, f"a token is in the logs:\n{logs[-3000:]}"
    return logs


def test_following_manage_links_leaves_no_token_in_the_access_log(tmp_path):
    with documented_gunicorn(tmp_path, workers=2) as server:
        seeded = _seed(server)
        token = seeded["token"]
        assert seeded["url"] == server.url(f"/beheren#{token}")

        # A browser opening the mailed link requests /beheren (requests, like a browser,
        # sends no fragment), and the page's script posts the code.
        with requests.Session() as browser:
            page = browser.get(seeded["url"], timeout=20)
            assert page.status_code == 200
            assert "js/manage-open.js" in page.text
            opened = browser.post(server.url("/beheren/openen"), timeout=20, data={
                "code": token, "csrf_token": csrf_token_from(page.text)})
            assert opened.status_code == 200
            assert opened.url == server.url("/beheren")
            assert seeded["reference"] in opened.text
            for path in ("/beheren/bewerken", "/beheren/mijn-gegevens.json",
                         "/taal/en?next=/beheren"):
                assert browser.get(server.url(path), timeout=20).status_code == 200, path

        # A link mailed before the change (/beheren/<token>) still works...
        with requests.Session() as old_mail:
            response = old_mail.get(server.url(f"/beheren/{token}"), timeout=20)
            assert response.status_code == 200
            assert response.url == server.url("/beheren")
            assert seeded["reference"] in response.text
            # ...and so does a confirmation link, a private path too.
            confirm = old_mail.get(server.url(f"/bevestigen/{seeded['confirm']}"), timeout=20)
            assert confirm.status_code == 200
            # Secrets in query strings and encoded in a next= are redacted as well.
            old_mail.get(server.url(f"/taal/en?next=%2Fbeheren%2F{token}&token={token}"),
                         timeout=20)

        logs = _assert_no_secret(server, token, seeded["confirm"])
    access = server.access_log.read_text()
    assert '"POST /beheren/openen HTTP/1.1" 303' in access
    assert '"GET /beheren/bewerken HTTP/1.1" 200' in access
    assert '"GET /beheren/[redacted] HTTP/1.1" 303' in access  # the old link, redacted
    assert '"GET /bevestigen/[redacted] HTTP/1.1" 200' in access
    assert "token=[redacted]" in access
    assert "Leerroute Log" not in logs


@pytest.mark.browser
def test_a_real_browser_opening_the_link_leaves_no_token_in_the_access_log(tmp_path, browser):
    with documented_gunicorn(tmp_path, workers=1) as server:
        seeded = _seed(server)
        browser.get(seeded["url"])
        pages.wait(browser, 20).until(
            lambda d: seeded["reference"] in d.find_element(By.TAG_NAME, "main").text)
        assert browser.current_url == server.url("/beheren")
        browser.find_element(By.LINK_TEXT, "Aanmelding wijzigen").click()
        pages.wait(browser, 20).until(lambda d: d.current_url.endswith("/beheren/bewerken"))
        _assert_no_secret(server, seeded["token"])
    access = server.access_log.read_text()
    assert re.search(r'"GET /beheren HTTP/1\.1" 200 .*Chrome', access)
    assert '"POST /beheren/openen HTTP/1.1" 303' in access


# --------------------------------------------------------------------------- the logger
def test_the_logger_redacts_every_atom_of_the_access_log():
    token = "S3cr3t_tok-en" * 3
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/beheren/{token}?token={token}",
        "PATH_INFO": f"/beheren/{token}", "QUERY_STRING": f"token={token}",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://register.example.nl/wachtwoord/{token}",
    }
    resp = SimpleNamespace(status="303 SEE OTHER", sent=0,
                           headers=[("Location", f"/volgen/afmelden/{token}")])
    req = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger = CONF["RedactingLogger"].__new__(CONF["RedactingLogger"])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=3))
    assert atoms["r"] == "GET /beheren/[redacted]?token=[redacted] HTTP/1.1"
    assert token not in repr(atoms)


@pytest.mark.parametrize(("line", "expected"), [
    ("GET /beheren/abcDEF_123-xyz HTTP/1.1", "GET /beheren/[redacted] HTTP/1.1"),
    ("GET /beheren/abc/bewerken HTTP/1.1", "GET /beheren/[redacted]/bewerken HTTP/1.1"),
    ("GET /beheren//abc HTTP/1.1", "GET /beheren//[redacted] HTTP/1.1"),
    ("GET /bevestigen/eyJpIjoxfQ.aw1.x-y HTTP/1.1", "GET /bevestigen/[redacted] HTTP/1.1"),
    ("GET /wachtwoord/a.b.c HTTP/1.1", "GET /wachtwoord/[redacted] HTTP/1.1"),
    ("POST /contact/antwoord/abc HTTP/1.1", "POST /contact/antwoord/[redacted] HTTP/1.1"),
    ("GET /volgen/afmelden/abc HTTP/1.1", "GET /volgen/afmelden/[redacted] HTTP/1.1"),
    ("GET /taal/en?next=%2Fbeheren%2Fabc HTTP/1.1",
     "GET /taal/en?next=%2Fbeheren%2F[redacted] HTTP/1.1"),
    ("GET /x?token=abc&q=b HTTP/1.1", "GET /x?token=[redacted]&q=b HTTP/1.1"),
    ("GET /x?q=b&reset_code=abc HTTP/1.1", "GET /x?q=b&reset_code=[redacted] HTTP/1.1"),
    # not secrets: the token-less manage pages and ordinary searches stay readable
    ("GET /beheren HTTP/1.1", "GET /beheren HTTP/1.1"),
    ("GET /beheren/nieuwe-link HTTP/1.1", "GET /beheren/nieuwe-link HTTP/1.1"),
    ("POST /beheren/openen HTTP/1.1", "POST /beheren/openen HTTP/1.1"),
    ("GET /beheren/mijn-gegevens.json HTTP/1.1", "GET /beheren/mijn-gegevens.json HTTP/1.1"),
    ("POST /beheren/knelpunten/3/opgelost HTTP/1.1",
     "POST /beheren/knelpunten/3/opgelost HTTP/1.1"),
    ("GET /initiatieven?q=examen HTTP/1.1", "GET /initiatieven?q=examen HTTP/1.1"),
])
def test_redact(line, expected):
    assert CONF["redact"](line) == expected


def test_the_documented_commands_use_the_config_file():
    readme = (ROOT / "README.md").read_text()
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    commands = [line for text in (readme, deployment) for line in text.splitlines()
                if "bin/gunicorn" in line and not line.lstrip().startswith("#")]
    assert commands
    for line in commands:
        assert "-c gunicorn.conf.py" in line, line
    assert Path(ROOT / "gunicorn.conf.py").exists()


def _nginx_map() -> list[tuple[re.Pattern, str]]:
    """The regex lines of the documented nginx ``map $request_uri $loggable_uri`` (PCRE
    named groups written the Python way), in order."""
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    block = deployment.split("map $request_uri $loggable_uri {", 1)[1].split("}\n", 1)[0]
    rules = []
    for pattern, value in re.findall(r'^\s*"~\*([^"]+)"\s+"([^"]+)";', block, re.M):
        rules.append((re.compile(pattern.replace("(?<", "(?P<"), re.IGNORECASE),
                      re.sub(r"\$\{(\w+)\}", r"\\g<\1>", value)))
    assert len(rules) == 2
    assert re.search(r"access_log \S+ registry;", deployment)
    assert "$loggable_uri" in deployment.split("log_format registry", 1)[1].split(";", 1)[0]
    return rules


@pytest.mark.parametrize(("uri", "expected"), [
    ("/beheren/abcDEF_123-xyz", "/beheren/[redacted]"),
    ("/beheren/abc?x=1", "/beheren/[redacted]"),
    ("/bevestigen/eyJpIjoxfQ.aw1.x-y", "/bevestigen/[redacted]"),
    ("/wachtwoord/a.b.c", "/wachtwoord/[redacted]"),
    ("/contact/afmelden/abc", "/contact/afmelden/[redacted]"),
    ("/taal/en?next=%2Fbeheren%2Fabc", "/taal/en?[redacted]"),
    ("/x?token=abc", "/x?[redacted]"),
    ("/beheren", "/beheren"),
    ("/beheren/nieuwe-link", "/beheren/nieuwe-link"),
    ("/beheren/knelpunten/3/opgelost", "/beheren/knelpunten/3/opgelost"),
    ("/initiatieven?q=examen", "/initiatieven?q=examen"),
])
def test_the_documented_nginx_map_redacts_the_same_links(uri, expected):
    for pattern, value in _nginx_map():  # nginx: the first matching regex wins
        match = pattern.search(uri)
        if match:
            assert match.expand(value) == expected
            return
    assert uri == expected  # default $request_uri
