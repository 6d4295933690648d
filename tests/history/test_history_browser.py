"""A moderator reads an entry's history in words, also on a phone (issue 19)."""
from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from registry.extensions import db
from registry.history import services as history
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.a11y.contrast import check_reflow
from tests.e2e.pages import login
from tests.factories import make_initiative

pytestmark = pytest.mark.browser

TITLE = "Examens alleen op vaste momenten"


def test_a_moderator_reads_the_history_in_words(live_server, browser):
    with live_server.app_context():
        entry = make_initiative(state=InitiativeState.PENDING, obstacles=[
            ObstacleData(area="diplomeren", title="Diploma pas na vier jaar", severity=2),
            ObstacleData(area="examineren", title=TITLE, severity=3)])
        before = history.snapshot(entry)
        entry.obstacles[1].status = "opgelost"
        entry.summary = "Lerenden kiezen hun eigen tempo."
        history.record_change(entry, "submitter", "edit", before)
        db.session.commit()
        entry_id = entry.id
    live_server.make_user("moderator", email="mia@example.org", name="Mia Moderator")
    login(browser, live_server, "mia@example.org")
    browser.get(live_server.url("moderation.entry", initiative_id=entry_id))
    text = browser.find_element(By.CSS_SELECTOR, "[aria-labelledby=history-title]").text
    for words in ("school (indiener)", "Wijziging", "doorgevoerd",
                  f"Knelpunt 2 (“{TITLE}”): Status", "Samenvatting"):
        assert words in text, words
    for code in ("submitter", "applied", "edit", "obstacles.", "initiative."):
        assert not re.search(rf"(?<![\w-]){re.escape(code)}", text), code
    try:
        overflow = check_reflow(browser, 390)
        assert overflow is None, overflow
    finally:
        browser.set_window_size(1280, 1000)
