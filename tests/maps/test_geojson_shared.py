"""The map's GeoJSON built once per data version for every worker (issue 20).

Oracles: the builder the map used before issue 20 (full records through
``registry.published.records``, kept here only as the reference for the bytes the public
sees), plain SQL on ``shared_result`` and gzip from the standard library.
"""
from __future__ import annotations

import gzip
import json

import pytest
from flask import request
from sqlalchemy import text

from registry import create_app
from registry.extensions import db as _db
from registry.maps import services
from registry.moderation.models import Theme
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative

URL = "/kaart/initiatieven.geojson"
PREFIX = "/initiatieven/"


def old_build_geojson(flt: InitiativeFilter, detail_url_prefix: str) -> bytes:
    """The map's GeoJSON as built before issue 20 (the reference output)."""
    features = []
    for rec in records.initiatives(PUBLISHED, flt, fields=services.FEATURE_FIELDS,
                                   obstacle_fields=("area_code",), obstacles="all",
                                   dimensions=False):
        school = rec["school"]
        lat, lon = school["latitude"], school["longitude"]
        if lat is None or lon is None:
            continue
        features.append({
            "type": "Feature",
            "id": rec["id"],
            "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
            "properties": {
                "title": rec["title"],
                "school": school["name"],
                "place": school["city"] or school["municipality"] or "",
                "province": school["province"] or "",
                "sector": school["sector"],
                "areas": sorted({o["area"] for o in rec["obstacles"]}),
                "url": f"{detail_url_prefix}{rec['id']}",
            },
        })
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ob(area: str, title: str = "Knelpunt", visibility: str = "public") -> ObstacleData:
    return ObstacleData(area=area, title=title, severity=2, visibility=visibility)


@pytest.fixture
def builds(monkeypatch):
    """Counts the builds of the GeoJSON (the expensive part) in this process."""
    calls: list[str] = []
    real = services.build_geojson

    def counting(flt, prefix):
        calls.append(flt.cache_key())
        return real(flt, prefix)

    monkeypatch.setattr(services, "build_geojson", counting)
    services.geojson_cache.clear()
    yield calls
    services.geojson_cache.clear()


@pytest.fixture
def varied(db):
    """Published entries with every shape a feature can take, and some that are no feature."""
    made = [
        make_initiative(title="Zeeuws leerlab", sector="vo", phase="lopend", postcode="4331 AA",
                        city="Middelburg",
                        obstacles=[ob("examineren"), ob("diplomeren"), ob("examineren", "Nog een"),
                                   ob("valideren", "Vertrouwelijk", "confidential")]),
        make_initiative(title="Leerroute \"eigen tempo\" \\ </script> \u2028 é ß 😀 \x07",
                        sector="mbo", postcode="3511 AB",
                        obstacles=[ob("kwalificeren"), ob("overig")]),
        make_initiative(title="Alleen vertrouwelijk", sector="po", postcode="9712 CP",
                        obstacles=[ob("certificeren", visibility="confidential")]),
        make_initiative(title="Zonder plaatsnaam", sector="hbo", postcode="8911 AB", city=""),
        make_initiative(title="Zonder provincie en gemeente", sector="wo", postcode="6211 AA"),
        make_initiative(title="Zonder locatie", postcode="0000 AA"),
        make_initiative(title="Nog in behandeling", state=InitiativeState.PENDING,
                        postcode="3511 AB"),
        *[make_initiative(title=f"Reeks {i}", sector=("po", "vo", "mbo")[i % 3],
                          postcode=("1012 AB", "2511 AA", "5611 AA", "7511 AA")[i % 4],
                          phase=("idee", "pilot", "lopend")[i % 3],
                          obstacles=[ob(("examineren", "diplomeren", "overig")[i % 3])])
          for i in range(7)],
    ]
    bare = made[4].organisation
    bare.province = None
    bare.municipality = None
    bare.city = ""
    made[3].organisation.city = ""
    theme = Theme(area_code="examineren", title="Vaste examenmomenten")
    db.session.add(theme)
    db.session.flush()
    made[0].obstacles[0].theme_id = theme.id
    made[9].obstacles[0].theme_id = theme.id
    db.session.commit()
    return {"theme": theme.id, "made": made}


def gunzip_get(client, query: str = "") -> tuple[bytes, bytes]:
    """(plain body, gunzipped body) of the GeoJSON under ``query``."""
    plain = client.get(URL + query)
    zipped = client.get(URL + query, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    return plain.get_data(), gzip.decompress(zipped.get_data())


def test_geojson_is_byte_for_byte_what_the_old_builder_wrote(client, app, varied, builds,
                                                             monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)  # several batches, joined as one document
    queries = ["", "?area=examineren", "?area=valideren", "?area=certificeren",
               "?sector=vo&sector=mbo", "?province=Utrecht", "?q=ZEEUWS", "?q=tempo",
               "?phase=lopend", "?dimension=tempo&min_level=1",
               "?dimension=tempo&min_level=3", f"?theme={varied['theme']}",
               "?province=Limburg"]
    for query in queries:
        plain, unzipped = gunzip_get(client, query)
        with app.test_request_context(URL + query):
            expected = old_build_geojson(InitiativeFilter.from_args(request.args), PREFIX)
        assert plain == expected, query
        assert unzipped == expected, query
    doc = json.loads(client.get(URL).get_data())
    titles = {f["properties"]["title"] for f in doc["features"]}
    assert "Zonder locatie" not in titles
    assert "Nog in behandeling" not in titles
    assert len(doc["features"]) == 12
    bare = next(f for f in doc["features"]
                if f["properties"]["title"] == "Zonder provincie en gemeente")
    assert bare["properties"]["place"] == ""
    assert bare["properties"]["province"] == ""
    zeeland = next(f for f in doc["features"] if f["properties"]["title"] == "Zeeuws leerlab")
    assert zeeland["properties"]["areas"] == ["diplomeren", "examineren"]  # not the confidential
    # one build per filter; the repeats came from memory
    assert len(builds) == len(queries)


def test_a_second_app_on_the_same_database_gets_the_stored_geojson(client, app, varied,
                                                                    builds):
    first = client.get(URL, headers={"Accept-Encoding": "gzip"})
    assert len(builds) == 1
    version = _db.session.execute(
        text("SELECT token FROM data_version WHERE name = 'public'")).scalar()
    stored = _db.session.execute(
        text("SELECT body FROM shared_result WHERE version = :v"), {"v": version}).all()
    assert len(stored) == 1  # stored once, gzipped, for the current data version
    assert bytes(stored[0][0]) == first.get_data()

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       DOCUMENT_CACHE_DIR=app.config["DOCUMENT_CACHE_DIR"])
    try:
        second = other.test_client().get(URL, headers={"Accept-Encoding": "gzip"})
        plain = other.test_client().get(URL)
    finally:
        with other.app_context():
            _db.session.remove()
            _db.engine.dispose()
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert plain.get_data() == gzip.decompress(first.get_data())
    assert len(builds) == 1  # the other app built nothing


def test_a_public_change_rebuilds_and_a_non_public_change_does_not(client, db, varied,
                                                                    builds):
    first = client.get(URL)
    etag = first.headers["ETag"]
    assert len(builds) == 1
    pending = make_initiative(title="Wacht op moderatie", state=InitiativeState.PENDING,
                              postcode="1012 AB")
    varied["made"][6].title = "Ander concept"  # the pending entry: not public
    db.session.commit()
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    services.geojson_cache.clear()  # as another worker: only the stored result
    again = client.get(URL)
    assert again.headers["ETag"] == etag
    assert again.get_data() == first.get_data()
    assert len(builds) == 1

    pending.state = InitiativeState.PUBLISHED
    db.session.commit()
    changed = client.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert len(builds) == 2
    assert "Wacht op moderatie" in changed.get_data(as_text=True)
    assert client.get(URL).get_data() == changed.get_data()
    assert len(builds) == 2
    # the older version's row is gone once it is stale; the current one is there
    rows = db.session.execute(text("SELECT version FROM shared_result")).scalars().all()
    current = db.session.execute(
        text("SELECT token FROM data_version WHERE name = 'public'")).scalar()
    assert current in rows


NEGOTIATION = [
    (None, False), ("identity", False), ("gzip", True), ("deflate, gzip;q=0.5", True),
    ("gzip;q=0, br", False), ("*", True), ("*;q=0", False), ("br, x-gzip", True),
]


def test_gzip_negotiation(client, varied, builds):
    for accept, gzipped in NEGOTIATION:
        headers = {"Accept-Encoding": accept} if accept is not None else {}
        response = client.get(URL, headers=headers)
        assert response.status_code == 200, accept
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        assert int(response.headers["Content-Length"]) == len(body), accept
        if gzipped:
            assert response.headers["Content-Encoding"] == "gzip", accept
            body = gzip.decompress(body)
        else:
            assert "Content-Encoding" not in response.headers, accept
        assert len(json.loads(body)["features"]) == 12, accept
    assert len(builds) == 1  # one document, sent both ways
