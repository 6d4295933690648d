"""The public map: page, GeoJSON (RFC 7946, filters, caching, gzip) and the province view."""
from __future__ import annotations

import gzip
import json
import re

import pytest

from registry.cache import clear_page_caches
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


@pytest.fixture
def data(db):
    """Three published initiatives in three provinces, one pending, one without location."""
    groningen = make_initiative(postcode="9712 CP", sector="vo", title="Groningse leerroute",
                                phase="lopend")
    utrecht = make_initiative(postcode="3511 AB", sector="mbo", title="Utrechts leerhuis",
                              obstacles=[
                                  ObstacleData(area="diplomeren", title="Geen deeldiploma",
                                               severity=2),
                                  ObstacleData(area="examineren", title="Vaste momenten",
                                               severity=3),
                              ])
    fryslan = make_initiative(postcode="8911 AB", sector="po", title="Friese tijdlijn")
    pending = make_initiative(state=InitiativeState.PENDING, postcode="9712 CP",
                              title="Nog niet gepubliceerd")
    nowhere = make_initiative(postcode="0000 AA", title="Zonder locatie", sector="overig")
    return {"groningen": groningen, "utrecht": utrecht, "fryslan": fryslan,
            "pending": pending, "nowhere": nowhere}


def geojson(client, query: str = "", **headers):
    response = client.get("/kaart/initiatieven.geojson" + query, headers=headers)
    assert response.status_code == 200
    return response, json.loads(response.data)


def test_geojson_is_valid_rfc7946_with_published_entries_only(client, data):
    response, doc = geojson(client)
    assert response.mimetype == "application/geo+json"
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    titles = {f["properties"]["title"] for f in doc["features"]}
    assert titles == {"Groningse leerroute", "Utrechts leerhuis", "Friese tijdlijn"}
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["id"], int)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        assert len(geometry["coordinates"]) == 2
        lon, lat = geometry["coordinates"]
        assert 3 < lon < 8  # [longitude, latitude] order
        assert 50 < lat < 54
        props = feature["properties"]
        assert props["url"] == f"/initiatieven/{feature['id']}"
        assert set(props) >= {"title", "school", "place", "province", "areas"}
    utrecht = next(f for f in doc["features"] if f["properties"]["title"] == "Utrechts leerhuis")
    assert utrecht["properties"]["areas"] == ["diplomeren", "examineren"]
    assert utrecht["properties"]["province"] == "Utrecht"


def test_geojson_has_no_personal_data(client, data):
    body = client.get("/kaart/initiatieven.geojson").get_data(as_text=True)
    for initiative in (data["groningen"], data["utrecht"], data["fryslan"]):
        contact = initiative.contact
        assert contact.email not in body
        assert contact.name not in body
        assert contact.phone not in body


@pytest.mark.parametrize(("query", "expected"), [
    ("?province=Groningen", {"Groningse leerroute"}),
    ("?sector=mbo", {"Utrechts leerhuis"}),
    ("?area=diplomeren", {"Utrechts leerhuis"}),
    ("?phase=lopend", {"Groningse leerroute"}),
    ("?q=tijdlijn", {"Friese tijdlijn"}),
    ("?province=Limburg", set()),
])
def test_geojson_filters(client, data, query, expected):
    _, doc = geojson(client, query)
    assert {f["properties"]["title"] for f in doc["features"]} == expected


def test_etag_gives_304_until_the_data_changes(client, data, db):
    first, _ = geojson(client)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"  # revalidated every time
    again = client.get("/kaart/initiatieven.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    # another filter is another document
    other = client.get("/kaart/initiatieven.geojson?sector=po", headers={"If-None-Match": etag})
    assert other.status_code == 200
    data["pending"].state = InitiativeState.PUBLISHED
    db.session.commit()
    changed = client.get("/kaart/initiatieven.geojson", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert len(json.loads(changed.data)["features"]) == 4


def test_gzip_when_the_client_accepts_it(client, data):
    plain, doc = (lambda r: (r, json.loads(r.data)))(client.get("/kaart/initiatieven.geojson"))
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/kaart/initiatieven.geojson", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.data)) == doc


def test_map_page_filters_change_map_list_counts_and_export_links_together(client, data):
    html = client.get("/kaart?sector=mbo").get_data(as_text=True)
    assert "1 initiatief gevonden" in html
    assert "met 2 knelpunten" in html
    assert "Utrechts leerhuis" in html
    assert "Groningse leerroute" not in html
    assert 'data-geojson="/kaart/initiatieven.geojson?sector=mbo&amp;v=' in html
    assert 'href="/kaart/initiatieven.geojson?sector=mbo"' in html
    assert 'href="/export/initiatieven.csv?sector=mbo"' in html
    assert 'href="/kaart/provincies?sector=mbo"' in html
    html = client.get("/kaart").get_data(as_text=True)
    assert "4 initiatieven gevonden" in html
    assert "1 initiatief heeft nog geen locatie" in html
    assert "Zonder locatie" in html  # the list is the full alternative
    assert "Nog niet gepubliceerd" not in html


def test_map_page_serves_leaflet_itself_without_inline_code(client, data):
    html = client.get("/kaart").get_data(as_text=True)
    assert "/kaart/vendor/leaflet/leaflet.js" in html
    assert "/kaart/vendor/markercluster/leaflet.markercluster.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html
    assert "onclick" not in html
    assert "unpkg" not in html
    assert "cdn" not in html.lower()
    for path in ("/kaart/vendor/leaflet/leaflet.js", "/kaart/vendor/leaflet/leaflet.css",
                 "/kaart/vendor/markercluster/MarkerCluster.css", "/static/js/map.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()
    assert client.get("/kaart/vendor/other/x.js").status_code == 404
    assert client.get("/kaart/vendor/leaflet/leaflet.js.map").status_code == 404


def test_map_without_tiles_draws_the_province_outlines(client, app, data):
    html = client.get("/kaart").get_data(as_text=True)
    assert 'data-tile-url=""' in html
    outlines = json.loads(client.get("/geo/provincies.geojson").data)
    assert len(outlines["features"]) == 12
    app.config["MAP_TILE_URL"] = "https://tile.example.org/{z}/{x}/{y}.png"
    clear_page_caches(app)  # settings are read at start-up in production
    html = client.get("/kaart").get_data(as_text=True)
    assert 'data-tile-url="https://tile.example.org/{z}/{x}/{y}.png"' in html


def test_province_view_counts_initiatives_and_obstacles_per_area(client, data):
    html = client.get("/kaart/provincies").get_data(as_text=True)
    assert "<caption" in html
    assert 'scope="col"' in html
    rows = dict(re.findall(r'<th scope="row">(?:<a [^>]*>)?([^<]+)(?:</a>)?</th>\s*'
                           r'<td class="num">(\d+)</td>', html))
    assert rows["Utrecht"] == "1"
    assert rows["Groningen"] == "1"
    assert rows["Fryslân"] == "1"
    assert rows["Limburg"] == "0"
    assert rows["Locatie onbekend"] == "1"
    utrecht_row = re.search(r'<a href="[^"]*">Utrecht</a></th>(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', utrecht_row) == [
        "1", "0", "1", "1", "0", "0", "0", "2"]
    filtered = client.get("/kaart/provincies?sector=po").get_data(as_text=True)
    rows = dict(re.findall(r'<th scope="row">(?:<a [^>]*>)?([^<]+)(?:</a>)?</th>\s*'
                           r'<td class="num">(\d+)</td>', filtered))
    assert rows["Utrecht"] == "0"
    assert rows["Fryslân"] == "1"


def test_map_pages_in_english(client, data):
    client.get("/taal/en")
    html = client.get("/kaart").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Map of initiatives" in html


def test_absurd_page_numbers_do_not_break_the_map_page(client, data):
    for page in ("99999999999999999999", "-5", "abc", "0"):
        assert client.get(f"/kaart?page={page}").status_code == 200
