"""A confidential obstacle (issue 16) never leaves the staff screens and the national figures.

One published school reports a public obstacle and a confidential one whose title,
description, rule, workaround and policy ask each carry a unique marker, in an area no public
obstacle of that school has and linked to a theme no other obstacle has. Every public GET URL
of the application (and the detail pages, the map's GeoJSON, the API, every export format
live and from a snapshot, the summary and its documents, filtered by that theme and area) is
requested anonymously; no marker may appear in any body, inside the XLSX and DOCX archives
included, or in the text of a PDF. And nowhere may the confidential theme or area show up as
used by that school.
"""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from pypdf import PdfReader

from registry.extensions import db
from registry.moderation import services as moderation
from registry.public import services as public_services
from registry.published.snapshots import create_snapshot
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import CONFIDENTIAL
from tests.factories import make_initiative
from tests.security.test_headers import all_get_urls

MARKERS = {
    "title": "Zqxgeheimtitel",
    "description": "Zqxgeheimbeschrijving",
    "rule": "Zqxgeheimregel",
    "workaround": "Zqxgeheimeomweg",
    "policy_ask": "Zqxgeheimevraag",
}
CONFIDENTIAL_AREA = "valideren"  # the school reports it only confidentially
CONFIDENTIAL_THEME = "Erkenning van werkervaring buiten de opleiding"


def build() -> dict:
    """School A: a public obstacle (examineren, theme P) and a confidential one (valideren,
    theme C, markers). School B: a public obstacle in theme P (so A and B are similar).
    Both published, located; a snapshot of it all."""
    public_theme = moderation.save_theme(
        None, moderation.ThemeData(area="examineren", title="Vaste examenmomenten"),
        actor=None)
    secret_theme = moderation.save_theme(
        None, moderation.ThemeData(area=CONFIDENTIAL_AREA, title=CONFIDENTIAL_THEME),
        actor=None)
    a = make_initiative(
        title="Leerroutes in eigen tempo", school_name="Het Vertrouwelijk College",
        obstacles=[
            ObstacleData(area="examineren", title="Examens alleen in juni", severity=3,
                         description="Vaste momenten.", rule="Examenbesluit",
                         policy_ask="Flexibele momenten"),
            ObstacleData(area=CONFIDENTIAL_AREA, severity=4, status="omzeild",
                         title=f"{MARKERS['title']} eerdere leerervaring",
                         description=f"Wij tellen {MARKERS['description']} mee.",
                         rule=f"Artikel {MARKERS['rule']}",
                         workaround=f"We {MARKERS['workaround']} via de examencommissie.",
                         policy_ask=f"Graag {MARKERS['policy_ask']} ruimte.",
                         visibility=CONFIDENTIAL),
        ])
    b = make_initiative(
        title="Open leerlijnen", school_name="Het Open Lyceum", sector="mbo",
        obstacles=[ObstacleData(area="examineren", title="Ook vaste examens", severity=2,
                                description="Alleen in juni.")])
    a.organisation.latitude, a.organisation.longitude = 52.0901, 5.1201
    a.organisation.province = "Utrecht"
    b.organisation.latitude, b.organisation.longitude = 52.1001, 5.1301
    b.organisation.province = "Utrecht"
    public_a, secret = a.obstacles
    assert secret.visibility == CONFIDENTIAL
    moderation.link_obstacle(public_a, public_theme, actor=None)
    moderation.link_obstacle(secret, secret_theme, actor=None)
    moderation.link_obstacle(b.obstacles[0], public_theme, actor=None)
    db.session.commit()
    snapshot = create_snapshot()
    db.session.commit()
    return {"a": a, "b": b, "secret": secret, "public_theme": public_theme,
            "secret_theme": secret_theme, "snapshot": snapshot.code}


def public_urls(app, w: dict) -> list[str]:
    a, b, t = w["a"].id, w["b"].id, w["secret_theme"].id
    code = w["snapshot"]
    filters = ["", f"?theme={t}", f"?area={CONFIDENTIAL_AREA}",
               f"?theme={t}&area={CONFIDENTIAL_AREA}", "?province=Utrecht&sector=mbo"]
    urls = list(all_get_urls(app))
    urls += [f"/initiatieven/{a}", f"/initiatieven/{b}", f"/initiatieven/{a}/contact",
             f"/initiatieven/{a}?lang=en", f"/api/v1/initiatives/{a}",
             f"/api/v1/initiatives/{b}", f"/api/v1/themes/{t}",
             f"/volgen?theme={t}", "/knelpunten/momentopnamen"]
    for query in filters:
        snap = f"{query}&snapshot={code}" if query else f"?snapshot={code}"
        for base in ("/", "/initiatieven", "/kaart", "/kaart/initiatieven.geojson",
                     "/kaart/provincies", "/api/v1/initiatives", "/api/v1/obstacles",
                     "/api/v1/statistics", "/knelpunten",
                     "/knelpunten/knelpuntenoverzicht.docx",
                     "/knelpunten/knelpuntenoverzicht.xlsx",
                     "/knelpunten/knelpuntenoverzicht.pdf"):
            urls.append(base + query)
        for dataset in ("initiatieven", "knelpunten", "themas"):
            for fmt in ("csv", "json", "geojson", "xlsx"):
                urls.append(f"/export/{dataset}.{fmt}{query}")
                urls.append(f"/export/{dataset}.{fmt}{snap}")
        urls += [f"/api/v1/statistics{snap}", f"/knelpunten{snap}",
                 f"/knelpunten/knelpuntenoverzicht.xlsx{snap}",
                 f"/knelpunten/knelpuntenoverzicht.docx{snap}"]
    return sorted(set(urls))


def texts_of(body: bytes) -> list[bytes]:
    """The body, and what an archive (XLSX, DOCX) or a PDF holds, as bytes to search."""
    out = [body]
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            out += [archive.read(name) for name in archive.namelist()]
    elif body.startswith(b"%PDF"):
        reader = PdfReader(io.BytesIO(body))
        out.append("\n".join(page.extract_text() or "" for page in reader.pages).encode())
    return out


def leaked(body: bytes) -> list[str]:
    found = []
    for part in texts_of(body):
        low = part.lower()
        for field, marker in MARKERS.items():
            if marker.lower().encode() in low:
                found.append(field)
    return sorted(set(found))


@pytest.fixture
def world(app):
    return build()


def test_no_public_url_shows_a_confidential_text(app, client, world):
    urls = public_urls(app, world)
    assert len(urls) > 150
    leaks, ok = {}, 0
    for url in urls:
        response = client.get(url)
        if response.status_code == 200:
            ok += 1
        found = leaked(response.get_data())
        if found:
            leaks[url] = found
    assert leaks == {}
    assert ok > 120  # not vacuous: the pages and files exist


def test_the_check_would_catch_a_leak(app, client, world, login):
    """The same search finds the markers where they belong: on the staff entry page and in
    a workbook that holds them."""
    staff = app.test_client()
    login(staff, "moderator")
    page = staff.get(f"/moderatie/{world['a'].id}").get_data()
    assert leaked(page) == sorted(MARKERS)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("xl/sharedStrings.xml", MARKERS["workaround"])
    assert leaked(archive.getvalue()) == ["workaround"]


def _json(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return json.loads(response.get_data())


def test_the_confidential_theme_and_area_are_not_shown_as_used_by_the_school(client, world):
    a, b = world["a"], world["b"]
    t = world["secret_theme"].id
    secret_link = re.compile(rf"theme={t}(?!\d)")

    # The detail pages: no confidential obstacle, no link or reason naming its theme or area.
    html_a = client.get(f"/initiatieven/{a.id}").get_data(as_text=True)
    assert "Examens alleen in juni" in html_a
    assert not secret_link.search(html_a)
    assert f"area={CONFIDENTIAL_AREA}" not in html_a
    html_b = client.get(f"/initiatieven/{b.id}").get_data(as_text=True)
    assert f'href="/initiatieven/{a.id}"' in html_b  # similar through the public theme...
    assert "zelfde thema: Vaste examenmomenten" in html_b
    for html in (html_a, html_b):  # ...never through the confidential one or its area
        assert f"zelfde thema: {CONFIDENTIAL_THEME}" not in html
        assert "Valideren" not in html

    # Filtering by the theme or the area finds nothing of A.
    for query in (f"theme={t}", f"area={CONFIDENTIAL_AREA}"):
        assert a.title not in client.get(f"/initiatieven?{query}").get_data(as_text=True)
        assert a.title not in client.get(f"/kaart?{query}").get_data(as_text=True)
        assert _json(client, f"/kaart/initiatieven.geojson?{query}")["features"] == []
        assert _json(client, f"/api/v1/initiatives?{query}")["meta"]["total"] == 0
        assert _json(client, f"/api/v1/obstacles?{query}")["meta"]["total"] == 0
        assert _json(client, f"/export/initiatieven.json?{query}")["data"] == []
        assert _json(client, f"/export/knelpunten.json?{query}")["data"] == []
    # Nor does searching for words of its title.
    assert a.title not in client.get("/initiatieven?q=eerdere+leerervaring").get_data(
        as_text=True)

    # The map, the API and the exports name only A's public area and theme.
    [feature] = [f for f in _json(client, "/kaart/initiatieven.geojson")["features"]
                 if f["id"] == a.id]
    assert feature["properties"]["areas"] == ["examineren"]
    detail = _json(client, f"/api/v1/initiatives/{a.id}")
    detail = detail.get("data", detail)
    assert detail["areas"] == ["examineren"]
    assert detail["obstacle_count"] == 1
    assert [o["theme_id"] for o in detail["obstacles"]] == [world["public_theme"].id]
    for item in _json(client, "/api/v1/initiatives")["data"]:
        if item["id"] == a.id:
            assert item["areas"] == ["examineren"]
            assert item["obstacle_count"] == 1
    rows = _json(client, "/export/knelpunten.json")["data"]
    assert {r["initiatief_id"] for r in rows} == {a.id, b.id}
    assert all(r["thema_id"] != t for r in rows)
    themes = {f["id"]: f for f in _json(client, "/export/themas.geojson")["features"]}
    assert themes[t]["geometry"] is None  # no school is placed at the confidential theme
    row = next(r for r in _json(client, "/export/themas.json")["data"] if r["thema_id"] == t)
    # Suppressed or zero, never "one initiative of one school in Utrecht".
    assert not (isinstance(row["aantal_initiatieven"], int) and row["aantal_initiatieven"] > 0)
    assert "Utrecht" not in str(row.get("provincies", ""))

    # The list's area counts and the home page count public obstacles only.
    assert public_services.area_counts([a.id]) == {a.id: {"examineren": 1}}
    assert 'data-count="obstacles">2<' in client.get("/").get_data(as_text=True)
    listing = client.get("/initiatieven").get_data(as_text=True)
    assert "tag-valideren" not in listing


def test_making_an_obstacle_confidential_later_removes_it_from_public(client, world):
    """A public obstacle that turns confidential disappears from the public pages at once
    (the page cache follows the data)."""
    a = world["a"]
    assert "Examens alleen in juni" in client.get(f"/initiatieven/{a.id}").get_data(
        as_text=True)
    a.obstacles[0].visibility = CONFIDENTIAL
    db.session.commit()
    html = client.get(f"/initiatieven/{a.id}").get_data(as_text=True)
    assert "Examens alleen in juni" not in html
    assert "Geen knelpunten gemeld." in html
    assert "Examens alleen in juni" not in client.get(
        f"/api/v1/initiatives/{a.id}").get_data(as_text=True)
