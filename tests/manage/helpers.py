"""Helpers for the submitter-side tests: submit through the real form, publish, public pages."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from registry.database import utcnow
from registry.extensions import db
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState
from tests.conftest import _CSRF, csrf_token_from
from tests.factories import form_post

# Every public page, export and API listing an initiative could show up in.
PUBLIC_LISTINGS = (
    "/initiatieven", "/kaart/initiatieven.geojson", "/export/initiatieven.csv",
    "/export/initiatieven.json", "/export/knelpunten.csv", "/api/v1/initiatives",
    "/api/v1/obstacles",
)


def submit(client, **overrides) -> Initiative:
    """Post the public form (with its CSRF token) and return the stored initiative."""
    page = client.get("/aanmelden")
    data = dict(form_post(**overrides), csrf_token=csrf_token_from(page.get_data(as_text=True)))
    response = client.post("/aanmelden", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalars(select(Initiative).order_by(Initiative.id.desc())).first()


def publish(initiative: Initiative) -> None:
    """What a moderator's publish does, as far as the public side is concerned."""
    initiative.state = InitiativeState.PUBLISHED
    initiative.published_at = utcnow()
    db.session.commit()


def post_with_csrf(client, page_url: str, url: str, data: dict | None = None, **kwargs):
    """GET a page, take its CSRF token and POST ``data`` to ``url``."""
    page = client.get(page_url)
    assert page.status_code in (200, 410), page.status_code
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(url, data=dict(data or {}, csrf_token=token), **kwargs)


def public_texts(client, initiative_id: int) -> dict[str, str]:
    """The text of every public page/export for the marker checks (detail page included)."""
    texts = {}
    for url in (*PUBLIC_LISTINGS, f"/initiatieven/{initiative_id}",
                f"/api/v1/initiatives/{initiative_id}"):
        # buffered: streamed exports are read inside the request (see exports' views)
        response = client.get(url, buffered=True)
        assert response.status_code in (200, 404), (url, response.status_code)
        texts[url] = response.get_data(as_text=True) if response.status_code == 200 else ""
    return texts


def open_manage_link(client, url: str) -> str:
    """Follow a mailed manage link (``.../beheren#<token>``) as a browser with JavaScript does:
    GET /beheren (a browser never sends the fragment), then post the fragment with the page's
    form (manage-open.js). Returns the token-less manage page, "/beheren"."""
    parts = urlsplit(url)
    assert parts.path == "/beheren", url
    assert parts.fragment, url
    page = client.get(parts.path)
    assert page.status_code == 200, page.status_code
    found = _CSRF.search(page.get_data(as_text=True))
    data = {"code": parts.fragment}
    if found:
        data["csrf_token"] = found.group(1) or found.group(2)
    response = client.post("/beheren/openen", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert urlsplit(response.headers["Location"]).path == "/beheren"
    return "/beheren"


def edit_form_data(client, url: str, **changes) -> dict[str, str]:
    """What a browser posts from the edit form at ``url + "/bewerken"``: text fields, chosen
    options, checked radios and checkboxes (an unticked checkbox is not sent), with
    ``changes`` applied (None leaves a field out)."""
    html = client.get(f"{url}/bewerken").get_data(as_text=True)
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or "__INDEX__" in name.group(1):
            continue
        if re.search(r'type="(radio|checkbox)"', tag) and " checked" not in tag:
            continue
        data[name.group(1)] = value.group(1) if value else ""
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>',
                                  html, re.S):
        data[name] = value
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                             body)
        if selected:
            data[name] = selected.group(1) or selected.group(2)
    data = {k: v.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
            for k, v in data.items() if "__INDEX__" not in k}
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    data["action"] = "submit"
    return data
