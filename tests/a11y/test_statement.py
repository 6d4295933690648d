"""The accessibility statement page (no browser needed)."""
from __future__ import annotations


def test_statement_describes_status_tests_limits_and_contact(client, app):
    app.config["ACCESSIBILITY_CONTACT_EMAIL"] = "digitoegankelijk@example.nl"
    html = client.get("/toegankelijkheid").get_data(as_text=True)
    assert "<h1>Toegankelijkheidsverklaring</h1>" in html
    for heading in ("Status", "Wat we toetsen en hoe", "Bekende beperkingen",
                    "Loopt u tegen een probleem aan?"):
        assert f">{heading}</h2>" in html
    assert "WCAG 2.1" in html
    assert "axe-core" in html
    assert 'href="mailto:digitoegankelijk@example.nl"' in html


def test_statement_in_english_and_linked_from_every_page(client):
    html = client.get("/toegankelijkheid?lang=en").get_data(as_text=True)
    assert "<h1>Accessibility statement</h1>" in html
    assert "Known limitations" in html
    home = client.get("/").get_data(as_text=True)
    assert 'href="/toegankelijkheid"' in home
