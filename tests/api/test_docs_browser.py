"""The API docs page reads on a phone: at 390 CSS px nothing scrolls sideways (issue 19)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WIDE = """
const out = [];
for (const el of document.querySelectorAll('main *')) {
  const r = el.getBoundingClientRect();
  if (r.right > document.documentElement.clientWidth + 1) out.push(el.outerHTML.slice(0, 120));
}
return out.slice(0, 5);
"""


def test_the_api_docs_page_fits_a_phone(live_server, browser):
    browser.set_window_size(390, 900)
    try:
        for lang in ("nl", "en"):
            browser.get(live_server.url("/api/v1/docs") + f"?lang={lang}")
            assert browser.find_element("css selector", "html").get_attribute("lang") == lang
            inner, client, scroll = browser.execute_script(
                "const d = document.documentElement;"
                "return [window.innerWidth, d.clientWidth, d.scrollWidth]")
            assert inner <= 390, f"the window did not shrink ({inner}px)"
            assert scroll <= client, (lang, scroll, client, browser.execute_script(WIDE))
    finally:
        browser.set_window_size(1280, 1000)
