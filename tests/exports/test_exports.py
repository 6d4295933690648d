"""Exports read back with independent readers (csv, openpyxl, json) and checked against the DB."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.conftest import csrf_token_from
from tests.exports import data as testdata
from tests.exports.data import CONSENTED_NAME, PERSONAL, db_obstacle_ids, db_published_ids

DATASETS = ("initiatieven", "knelpunten", "themas")
FORMATS = ("csv", "xlsx", "json", "geojson")


@pytest.fixture
def d(app):
    return testdata.build()


def read_csv(response, sep=","):
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=sep))


def xlsx_text(data: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)


def test_initiatives_csv_unfiltered_matches_database(client, d):
    response = client.get("/export/initiatieven.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = read_csv(response)
    assert sorted(int(r["initiatief_id"]) for r in rows) == db_published_ids()
    assert d.e.id not in [int(r["initiatief_id"]) for r in rows]  # pending never exported
    a = next(r for r in rows if int(r["initiatief_id"]) == d.a.id)
    assert a["brin"] == "11AA" and a["provincie"] == "Gelderland" and a["sector"] == "mbo"
    assert a["aantal_lerenden"] == "100" and a["aantal_knelpunten"] == "2"
    assert a["knelpunt_gebieden"] == "examineren,diplomeren"
    assert a["gepubliceerd_op"] == "2026-02-10"
    assert a["url"].endswith(f"/initiatieven/{d.a.id}")


def test_obstacles_csv_semicolon_filtered_mbo_examineren(client, d):
    response = client.get("/export/knelpunten.csv?sep=;&sector=mbo&area=examineren")
    rows = read_csv(response, sep=";")
    assert len(rows[0]) > 10  # really split on ';'
    assert sorted(int(r["knelpunt_id"]) for r in rows) == db_obstacle_ids("mbo", "examineren")
    assert {r["gebied"] for r in rows} == {"examineren"}
    assert {r["thema_titel"] for r in rows} == {"Vaste examenmomenten"}
    disposition = response.headers["Content-Disposition"]
    assert "knelpunten_" in disposition and "sector-mbo" in disposition
    assert "area-examineren" in disposition and "_live_" in disposition
    assert response.headers["X-Data-Filter"] == "sector=mbo;area=examineren"


def test_csv_neutralises_formulas(client, d):
    d.a.title = "=HYPERLINK(\"http://evil\")"
    d.b.summary = "@SUM(A1)"
    db.session.commit()
    rows = read_csv(client.get("/export/initiatieven.csv"))
    titles = {r["titel"] for r in rows}
    assert "'=HYPERLINK(\"http://evil\")" in titles
    assert "'@SUM(A1)" in {r["samenvatting"] for r in rows}
    ws = openpyxl.load_workbook(io.BytesIO(client.get("/export/initiatieven.xlsx").data))
    values = [c for row in ws["initiatieven"].iter_rows(values_only=True) for c in row]
    assert "'=HYPERLINK(\"http://evil\")" in values


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_personal_data_in_public_exports(client, d, dataset, fmt):
    response = client.get(f"/export/{dataset}.{fmt}")
    assert response.status_code == 200
    text = xlsx_text(response.data) if fmt == "xlsx" else response.data.decode("utf-8-sig")
    for secret in PERSONAL:
        assert secret not in text
    if dataset == "initiatieven" or fmt == "xlsx":
        assert CONSENTED_NAME in text  # consented to publishing the name


def test_xlsx_workbook_structure(client, d):
    response = client.get("/export/knelpunten.xlsx?province=Gelderland")
    assert response.status_code == 200
    assert "province-Gelderland" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["knelpunten", "initiatieven", "themas", "woordenboek", "over"]
    ws = wb["knelpunten"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    header = [c.value for c in ws[1]]
    assert header[:3] == ["knelpunt_id", "initiatief_id", "referentie"]
    assert ws.column_dimensions["A"].width > 0
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    expected = sorted(o.id for i in (d.a, d.c, d.d) for o in i.obstacles)
    assert sorted(r["knelpunt_id"] for r in rows) == expected
    assert all(isinstance(r["gemeld_op"], datetime | date) for r in rows)  # dates as dates
    init = wb["initiatieven"]
    ids = [r[0] for r in init.iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == db_published_ids() and d.b.id not in ids or sorted(ids) == sorted(
        [d.a.id, d.c.id, d.d.id])
    dictionary = [r[1] for r in wb["woordenboek"].iter_rows(min_row=2, values_only=True)]
    assert "knelpunt_id" in dictionary and "aantal_scholen" in dictionary
    assert "province=Gelderland" in wb.properties.keywords
    assert json.loads(wb.properties.description)["source"] == "live"
    about = dict(wb["over"].iter_rows(min_row=2, values_only=True))
    assert about["filter"] == "province=Gelderland"


def test_json_and_meta(client, d):
    body = client.get("/export/knelpunten.json?sector=vo").get_json()
    assert body["meta"]["source"] == "live" and body["meta"]["snapshot"] is None
    assert body["meta"]["filter"] == "sector=vo"
    assert body["meta"]["data_date"][:4] == str(date.today().year)
    assert [r["knelpunt_id"] for r in body["data"]] == db_obstacle_ids("vo")
    assert body["data"][0]["ernst"] == 3


def _check_geojson(doc: dict) -> None:
    """Minimal RFC 7946 validation of what we produce."""
    assert doc["type"] == "FeatureCollection"
    assert isinstance(doc["features"], list)
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        if geometry is None:
            continue
        points = ([geometry["coordinates"]] if geometry["type"] == "Point"
                  else geometry["coordinates"])
        assert geometry["type"] in ("Point", "MultiPoint")
        for lon, lat in points:
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            assert 3 < lon < 8 and 50 < lat < 54  # the Netherlands: lon first


@pytest.mark.parametrize("dataset", DATASETS)
def test_geojson_is_valid(client, d, dataset):
    response = client.get(f"/export/{dataset}.geojson")
    assert response.mimetype == "application/geo+json"
    doc = json.loads(response.data)
    _check_geojson(doc)
    assert doc["meta"]["filter"] == "alle"
    if dataset == "initiatieven":
        assert sorted(f["id"] for f in doc["features"]) == db_published_ids()
    if dataset == "themas":
        t1 = next(f for f in doc["features"] if f["id"] == d.t1.id)
        assert len(t1["geometry"]["coordinates"]) == 3  # A, B, C at three schools


def test_themes_export_counts_and_small_numbers(client, login, d):
    rows = read_csv(client.get("/export/themas.csv?sector=mbo"))
    t1 = next(r for r in rows if int(r["thema_id"]) == d.t1.id)
    assert t1["aantal_knelpunten"] == "2" and t1["aantal_initiatieven"] == "2"
    assert t1["aantal_scholen"] == "<3"  # public
    assert t1["aantal_lerenden"] == "150"
    assert t1["categorie"] == "regelgeving" and "amvb" in t1["regelniveaus"]
    assert next(r for r in rows if int(r["thema_id"]) == d.t2.id)["categorie"] == "school"
    login(client, "advisor")
    rows = read_csv(client.get("/export/themas.csv?sector=mbo"))
    assert next(r for r in rows if int(r["thema_id"]) == d.t1.id)["aantal_scholen"] == "2"


def test_snapshot_export_is_reproducible(client, login, d):
    from registry.summary.services import create_snapshot

    snap = create_snapshot(note="test")
    db.session.commit()
    urls = [f"/export/{ds}.csv?snapshot={snap.code}" for ds in DATASETS]
    urls += [f"/export/knelpunten.csv?snapshot={snap.code}&sector=mbo&area=examineren"]
    before = [client.get(u).data for u in urls]
    # live data changes: a title, a status, an unpublished initiative, a new one
    d.a.title = "Nieuwe titel"
    d.b.obstacles[1].status = "opgelost"
    d.c.state = "withdrawn"
    testdata.make_initiative(sector="mbo")
    db.session.commit()
    assert [client.get(u).data for u in urls] == before
    assert client.get("/export/initiatieven.csv").data != before[0]
    response = client.get(f"/export/initiatieven.json?snapshot={snap.code}")
    assert response.get_json()["meta"]["snapshot"] == snap.code
    assert f"snapshot-{snap.code}" in response.headers["Content-Disposition"]


def test_unknown_snapshot_is_404(client, d):
    assert client.get("/export/initiatieven.csv?snapshot=1999-01-a").status_code == 404
    assert client.get("/export/initiatieven.csv?snapshot=../etc").status_code == 404


def test_dictionary_page_lists_columns_in_both_languages(client, d):
    response = client.get("/export/woordenboek?sector=mbo")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in ("initiatief_id", "knelpunt_id", "aantal_scholen", "vraag_aan_beleid"):
        assert f"<code>{name}</code>" in html
    assert "Policy ask" in html and "Vraag aan beleid" in html
    assert "/export/knelpunten.csv?sector=mbo" in html.replace("&amp;", "&") or \
        "sector=mbo" in html


def test_contact_export_requires_moderator(client, login, d):
    response = client.get("/export/contact")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "advisor")
    assert client.get("/export/contact").status_code == 403


def test_contact_export_needs_purpose_and_is_audited(client, login, d):
    user = login(client, "moderator")
    page = client.get("/export/contact?sector=mbo")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/export/contact?sector=mbo",
                           data={"purpose": "", "format": "csv", "csrf_token": token})
    assert response.status_code == 422
    assert "Beschrijf waarvoor" in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent)).all() == []
    purpose = "Uitnodiging voor de bijeenkomst met OCW"
    response = client.post("/export/contact?sector=mbo",
                           data={"purpose": purpose, "format": "csv", "csrf_token": token})
    assert response.status_code == 200
    rows = read_csv(response, sep=";")
    assert {r["contact_email"] for r in rows} == {"anne@example.org", "bert@example.org",
                                                  "dirk@example.org"}
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.action == "export.contacts" and event.reason == purpose
    assert event.actor_id == user.id and event.after["count"] == 3
    assert event.after["filter"] == "sector=mbo"
    response = client.post("/export/contact", data={"purpose": purpose, "format": "xlsx",
                                                         "csrf_token": token})
    assert "carla@example.org" in xlsx_text(response.data)


def test_live_records_stream(app, d):
    """Records come from a generator (yield_per), not from a list built in memory."""
    import types

    from registry.exports.records import live_initiatives
    from registry.filters import InitiativeFilter

    gen = live_initiatives(InitiativeFilter.empty())
    assert isinstance(gen, types.GeneratorType)
    assert [r["id"] for r in gen] == db_published_ids()
