"""Every staff page renders in both languages (Dutch default, English via ?lang=en)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.moderation.models import Theme
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post


@pytest.mark.parametrize(("lang", "expected"), [
    ("nl", ["Moderatiewachtrij", "Mogelijke dubbele aanmeldingen", "Thema's (knelpunten)",
            "Auditlog", "Iemand uitnodigen", "Aanmeldingen samenvoegen", "Regels"]),
    ("en", ["Moderation queue", "Possible duplicate entries", "Merge entries", "Audit log",
            "Invite someone", "Rules", "Staff menu"]),
])
def test_staff_pages_in_both_languages(client, login, db, lang, expected):
    login(client, "admin")
    a = make_initiative(state=InitiativeState.PENDING, brin="25LH", postcode="3511 AB")
    b = make_initiative(brin="25LH", postcode="3511 AB")
    csrf_post(client, "/moderatie/themas/nieuw", {"area": "overig", "title": "Teldatum",
                                                  "rules-0-title": "", "action": "save"})
    theme = db.session.scalar(select(Theme))
    html = ""
    for url in ("/moderatie/", f"/moderatie/{a.id}", f"/moderatie/{a.id}/bewerken",
                f"/moderatie/{a.id}/samenvoegen/{b.id}", "/moderatie/themas",
                f"/moderatie/themas/{theme.id}", f"/moderatie/themas/{theme.id}/bewerken",
                "/moderatie/themas/nieuw", "/beheer/gebruikers", "/beheer/audit",
                "/account/wachtwoord"):
        response = client.get(url + f"?lang={lang}")
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in page
        assert 'style="' not in page  # CSP-friendly
        assert "onclick" not in page
        html += page
    for text in expected:
        assert text in html, text
