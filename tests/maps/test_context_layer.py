"""The map's context layer (/kaart/context.geojson): caching, size and geometry.

Oracles are independent of the code that builds the layer: a plain ray-casting
point-in-polygon loop, the shipped PC4 centroids (GeoNames) and province polygons read as
plain JSON, and the raw CBS municipality file.
"""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "registry" / "geo" / "data"
URL = "/kaart/context.geojson"


def point_in_ring(lon: float, lat: float, ring: list) -> bool:
    """Even-odd ray casting (a horizontal ray to the east)."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(geometry: dict, lon: float, lat: float) -> bool:
    polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]])
    for rings in polygons:
        if point_in_ring(lon, lat, rings[0]) and not any(
                point_in_ring(lon, lat, hole) for hole in rings[1:]):
            return True
    return False


@pytest.fixture(scope="module")
def layer() -> dict:
    with open(DATA / "map_context.geojson", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def pc4() -> list:
    with gzip.open(DATA / "pc4.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


def features(layer: dict, kind: str) -> dict[str, dict]:
    return {f["properties"]["name"]: f for f in layer["features"]
            if f["properties"]["kind"] == kind}


def test_endpoint_sends_a_strong_etag_caches_and_answers_304(client):
    first = client.get(URL)
    assert first.status_code == 200
    assert first.mimetype == "application/geo+json"
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag  # strong: no W/ prefix
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=" in first.headers["Cache-Control"]
    assert "Accept-Encoding" in first.headers["Vary"]
    assert json.loads(first.data)["type"] == "FeatureCollection"

    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(URL, headers={"If-None-Match": '"something-else"'}).status_code == 200

    zipped = client.get(URL, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data
    assert zipped.headers["ETag"] != etag  # another representation, another strong tag
    assert client.get(URL, headers={"Accept-Encoding": "gzip",
                                    "If-None-Match": zipped.headers["ETag"]}).status_code == 304


def test_pages_use_the_versioned_url_which_may_be_cached_for_good(client):
    html = client.get("/kaart").get_data(as_text=True)
    url = re.search(r'data-context="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert url.startswith(URL + "?v=")
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert "immutable" not in client.get(URL + "?v=old").headers["Cache-Control"]
    form = client.get("/aanmelden").get_data(as_text=True)  # the pin picker
    assert re.search(r'data-context="([^"]+)"', form).group(1).replace("&amp;", "&") == url


def test_layer_stays_small(client):
    body = client.get(URL).data
    assert len(body) < 400_000
    assert len(gzip.compress(body)) < 100_000  # what a browser downloads


def test_every_municipality_and_province_once_with_a_valid_geometry(layer):
    from shapely.geometry import shape

    with open(DATA / "gemeente_2025.geojson", encoding="utf-8") as fh:
        source = {f["properties"]["statcode"]: f["properties"]["statnaam"]
                  for f in json.load(fh)["features"]}
    municipalities = [f for f in layer["features"] if f["properties"]["kind"] == "municipality"]
    assert {f["properties"]["code"]: f["properties"]["name"] for f in municipalities} == source
    assert len(municipalities) == 342
    assert sorted(features(layer, "province")) == sorted([
        "Drenthe", "Flevoland", "Fryslân", "Gelderland", "Groningen", "Limburg",
        "Noord-Brabant", "Noord-Holland", "Overijssel", "Utrecht", "Zeeland", "Zuid-Holland"])
    ranks = sorted(f["properties"]["rank"] for f in municipalities)
    assert ranks == list(range(1, 343))
    for feature in layer["features"]:
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in {"Polygon", "MultiPolygon"}
        assert geometry.is_valid, feature["properties"]["name"]
        lon, lat = feature["properties"]["label"]
        assert contains(feature["geometry"], lon, lat), feature["properties"]["name"]
    assert "CC BY 4.0" in layer["attribution"]


@pytest.mark.parametrize(("municipality", "place"), [
    ("Roermond", "Roermond"), ("Maastricht", "Maastricht"), ("Venlo", "Venlo"),
    ("Groningen", "Groningen"), ("Leeuwarden", "Leeuwarden"), ("Zwolle", "Zwolle"),
    ("Middelburg (Z.)", "Middelburg"), ("Eindhoven", "Eindhoven"), ("Arnhem", "Arnhem"),
    ("Terschelling", "West-Terschelling"), ("Vaals", "Vaals"),
])
def test_known_places_lie_in_their_municipality_and_in_no_other(layer, pc4, municipality,
                                                                 place):
    polygons = features(layer, "municipality")
    points = [(lon, lat) for _, name, lat, lon in pc4 if name == place]
    assert points, place
    for lon, lat in points:
        assert contains(polygons[municipality]["geometry"], lon, lat), (place, lon, lat)
        others = [name for name, f in polygons.items()
                  if name != municipality and contains(f["geometry"], lon, lat)]
        assert others == [], (place, others)


def test_province_of_each_municipality_matches_the_cbs_province_polygons(layer):
    with open(DATA / "provincie_2023.geojson", encoding="utf-8") as fh:
        cbs = {f["properties"]["name"]: f["geometry"] for f in json.load(fh)["features"]}
    expected_counts = {"Groningen": 10, "Fryslân": 18, "Drenthe": 12, "Overijssel": 25,
                       "Flevoland": 6, "Gelderland": 51, "Utrecht": 26, "Noord-Holland": 44,
                       "Zuid-Holland": 50, "Zeeland": 13, "Noord-Brabant": 56, "Limburg": 31}
    counts: dict[str, int] = {}
    for name, feature in features(layer, "municipality").items():
        lon, lat = feature["properties"]["label"]
        found = [p for p, geometry in cbs.items() if contains(geometry, lon, lat)]
        assert found == [feature["properties"]["province"]], name
        counts[found[0]] = counts.get(found[0], 0) + 1
    assert counts == expected_counts  # CBS: the 342 municipalities of 2025 per province
    provinces = features(layer, "province")
    assert contains(provinces["Limburg"]["geometry"], 5.99, 51.19)  # Roermond
    assert not contains(provinces["Limburg"]["geometry"], 5.47, 51.44)  # Eindhoven


def test_labels_rank_bigger_places_first(layer):
    rank = {n: f["properties"]["rank"] for n, f in features(layer, "municipality").items()}
    for big, small in (("Amsterdam", "Vaals"), ("Rotterdam", "Roermond"),
                       ("Roermond", "Roerdalen"), ("Maastricht", "Eijsden-Margraten")):
        assert rank[big] < rank[small], (big, small)


def test_shipped_file_is_what_the_build_step_produces(tmp_path):
    """Reproducible from the shipped CBS polygons and school list."""
    from registry.geo.build_data import build_map_context

    counts = build_map_context(target=tmp_path / "context.geojson")
    assert counts == {"provinces": 12, "municipalities": 342}
    built = (tmp_path / "context.geojson").read_bytes()
    assert built == (DATA / "map_context.geojson").read_bytes()
