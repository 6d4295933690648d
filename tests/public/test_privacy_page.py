"""The privacy statement (/privacy) and the register for developers and the DPO
(docs/privacy.md) say what the code does: every category of personal data with its purpose,
legal basis, retention and who sees it, and the retention periods the code actually uses."""
from __future__ import annotations

import re
from pathlib import Path

from registry.connect.services import MESSAGE_RETENTION_DAYS, UNCONFIRMED_SUBSCRIPTION_DAYS
from registry.manage.services import PURGE_AFTER_DAYS

ROOT = Path(__file__).resolve().parent.parent.parent
CATEGORIES = ("Contactpersoon van een initiatief", "Persoonlijke beheerlink",
              "Berichten tussen scholen", "Attenderingen", "Medewerkers van het register",
              "Logboek", "Verstuurde e-mail", "Serverlogboeken", "Back-ups")


def _text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_statement_lists_each_category_with_the_five_questions(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for title in CATEGORIES:
        assert f">{title}</h3>" in html, title
    for label in ("Welke gegevens", "Waarvoor", "Grondslag", "Hoe lang", "Wie ziet ze"):
        assert html.count(f"<dt>{label}</dt>") == len(CATEGORIES), label
    text = _text(html)
    for basis in ("Toestemming (artikel 6 lid 1 sub a AVG)",
                  "Gerechtvaardigd belang (artikel 6 lid 1 sub f AVG)"):
        assert basis in text
    assert "Beleidsadviseurs zien nooit contactgegevens" in text
    assert 'href="/beheren/nieuwe-link"' in html
    assert "Autoriteit Persoonsgegevens" in text


def test_the_periods_are_the_ones_the_code_uses(app, client):
    app.config["RETENTION_MONTHS"] = 18
    app.config["SMALL_NUMBER_THRESHOLD"] = 5
    text = _text(client.get("/privacy").get_data(as_text=True))
    assert f"niet binnen {PURGE_AFTER_DAYS} dagen is bevestigd" in text
    assert "ingetrokken aanmelding wordt 18 maanden na de laatste wijziging verwijderd" in text
    assert f"{MESSAGE_RETENTION_DAYS} dagen." in text
    assert f"Niet-bevestigde aanmeldingen verwijderen we na {UNCONFIRMED_SUBSCRIPTION_DAYS}" in text
    assert "Maximaal 30 dagen. Wat we verwijderen of wissen" in text  # backups


def test_confidential_obstacles_are_explained_in_plain_words(app, client):
    app.config["SMALL_NUMBER_THRESHOLD"] = 4
    text = _text(client.get("/privacy").get_data(as_text=True))
    assert "Vertrouwelijke knelpunten" in text
    assert "Alleen moderatoren en beleidsadviseurs kunnen een vertrouwelijk knelpunt lezen" in text
    assert "alleen als daar ten minste 4 scholen vertrouwelijk een knelpunt meldden" in text
    assert "verschijnt nooit bij uw school" in text


def test_the_statement_is_linked_from_every_page_and_renders_in_english(client):
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)
    client.get("/taal/en")
    assert client.get("/privacy").status_code == 200


def test_the_register_for_developers_matches_the_code():
    doc = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    for needle in ("RETENTION_MONTHS", "purge-retention", "purge-unconfirmed", "connect-purge",
                   f"{PURGE_AFTER_DAYS} days", f"{MESSAGE_RETENTION_DAYS} days",
                   f"{UNCONFIRMED_SUBSCRIPTION_DAYS} days", "SMALL_NUMBER_THRESHOLD",
                   "Art. 6(1)(a)", "Art. 6(1)(f)", "TOTP", "backup"):
        assert needle in doc, needle
    assert "\n## Disclosure control\n" in doc
    assert "docs/privacy.md" in (ROOT / "README.md").read_text(encoding="utf-8")
