"""Issue 18: a moderator records on a theme the one ask to OCW ("Vraag aan OCW") and the
experiment provisions that already exist ("Bestaande experimenteerruimte"); the staff theme
page shows them and links to the theme's pilot dossier."""
from __future__ import annotations

from sqlalchemy import func, select, text

from registry.audit.models import AuditEvent
from registry.moderation.models import Theme
from tests.fixtures.auth import csrf_post

ASK = "Sta examens op elk moment toe als de examencommissie dat goedkeurt."
PROVISIONS = "Experiment flexibel examineren (Besluit experimenten mbo, art. 3)."


def theme_post(**overrides) -> dict[str, str]:
    data = {
        "area": "examineren", "title": "Examens alleen op vaste momenten",
        "description": "Examens mogen alleen in vaste periodes worden afgenomen.",
        "ask": ASK, "experiment_provisions": PROVISIONS,
        "rules-0-title": "Examen- en kwalificatiebesluit WEB art. 3",
        "rules-0-level": "amvb",
        "rules-0-source_url": "https://wetten.overheid.nl/BWBR0019939/",
        "rules-0-existing_room": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def stored(db) -> list[tuple[str, str]]:
    return [tuple(row) for row in db.session.execute(text(
        "SELECT ask, experiment_provisions FROM theme ORDER BY id")).all()]


def test_the_form_offers_both_fields(client, login):
    login(client, "moderator")
    html = client.get("/moderatie/themas/nieuw").get_data(as_text=True)
    assert '<label for="ask" class="label">Vraag aan OCW' in html
    assert '<label for="experiment_provisions" class="label">Bestaande experimenteerruimte' in html
    assert 'aria-describedby="ask-hint"' in html
    assert "De vraag is openbaar" in html


def test_a_moderator_saves_the_ask_and_the_provisions(client, login, db):
    login(client, "moderator")
    response = csrf_post(client, "/moderatie/themas/nieuw", theme_post())
    assert response.status_code == 302
    assert stored(db) == [(ASK, PROVISIONS)]
    theme = db.session.scalar(select(Theme))
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "theme.create"))
    assert created.after["ask"] == ASK
    assert created.after["experiment_provisions"] == PROVISIONS

    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert "<h2>Vraag aan OCW</h2>" in page
    assert ASK in page
    assert "<h2>Bestaande experimenteerruimte</h2>" in page
    assert PROVISIONS in page
    assert f'href="/knelpunten/thema/{theme.id}/pilotdossier.docx"' in page

    # the edit form shows them; an edit changes them and is audited with before and after
    form = client.get(f"/moderatie/themas/{theme.id}/bewerken").get_data(as_text=True)
    assert ASK in form
    assert PROVISIONS in form
    response = csrf_post(client, f"/moderatie/themas/{theme.id}/bewerken", theme_post(
        ask="Een andere vraag.", experiment_provisions="", version_id=str(theme.version_id)))
    assert response.status_code == 302
    assert stored(db) == [("Een andere vraag.", "")]
    edited = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "theme.edit"))
    assert edited.before["ask"] == ASK
    assert edited.after["experiment_provisions"] == ""
    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert "Nog geen experimenteerruimte vastgelegd." in page


def test_both_are_optional(client, login, db):
    login(client, "moderator")
    response = csrf_post(client, "/moderatie/themas/nieuw",
                         theme_post(ask="  ", experiment_provisions=""))
    assert response.status_code == 302
    assert stored(db) == [("", "")]
    theme = db.session.scalar(select(Theme))
    page = client.get(f"/moderatie/themas/{theme.id}").get_data(as_text=True)
    assert "Nog geen vraag aan OCW vastgelegd." in page


def test_too_long_texts_are_refused_and_nothing_is_stored(client, login, db):
    login(client, "moderator")
    for field, size in (("ask", 2001), ("experiment_provisions", 5001)):
        response = csrf_post(client, "/moderatie/themas/nieuw", theme_post(**{field: "x" * size}))
        assert response.status_code == 422, field
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Theme)) == 0


def test_an_advisor_cannot_edit_a_theme(client, login, db):
    login(client, "advisor")
    assert client.get("/moderatie/themas/nieuw").status_code == 403
    assert csrf_post(client, "/moderatie/themas/nieuw", theme_post()).status_code == 403
    assert stored(db) == []
