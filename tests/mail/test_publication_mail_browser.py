"""End to end (issue 19): the app served on a real port with BASE_URL at that host and port,
as `make run` serves it; a moderator publishes an entry in Chromium; the publication mail
reaches the SMTP server with no send-mail (cron) run at all, and its link opens the public
page on that port."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from selenium.webdriver.common.by import By

from registry.extensions import db
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from tests.e2e.pages import login, wait
from tests.factories import make_initiative
from tests.fixtures.mail import SmtpServer, links, message_text, smtp_config

TITLE = "Leerroutes zonder vaste leerjaren"


def test_the_publication_mail_arrives_without_cron_and_opens_the_public_page(
        live_server, browser):
    smtp = SmtpServer()
    smtp.up()
    try:
        live_server.config.update(smtp_config(smtp))
        assert live_server.config["BASE_URL"] == live_server.base_url  # http://127.0.0.1:<port>
        with live_server.app_context():
            initiative = make_initiative(state=InitiativeState.PENDING, title=TITLE)
            initiative.contact.email = "anne@hetbaken.nl"
            db.session.commit()
            entry_id = initiative.id
        email = "moderator@example.org"
        live_server.make_user("moderator", email=email)

        login(browser, live_server, email)
        browser.get(live_server.url(f"/moderatie/{entry_id}"))
        browser.find_element(By.CSS_SELECTOR, "form[action$='/publiceren'] button").click()
        wait(browser).until(lambda d: f"/moderatie/{entry_id}" not in d.current_url)

        deadline = time.monotonic() + 10
        while not smtp.to("anne@hetbaken.nl") and time.monotonic() < deadline:
            time.sleep(0.05)
        (mail,) = smtp.to("anne@hetbaken.nl")
        with live_server.app_context():
            reference = db.session.get(Initiative, entry_id).reference
        assert mail["Subject"] == f"Uw aanmelding {reference} is gepubliceerd"
        (public,) = [u for u in links(mail) if "/initiatieven/" in u]
        assert public == f"{live_server.base_url}/initiatieven/{entry_id}", message_text(mail)
        assert urlsplit(public).port == live_server.port

        response = requests.get(public, timeout=10)
        assert response.status_code == 200
        assert TITLE in response.text
        assert f"<title>{TITLE}" in response.text
    finally:
        smtp.down()
