"""Exports read back with independent readers (csv, openpyxl, json) and checked against the DB."""
from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import date, datetime
from urllib.parse import urlencode

import openpyxl
import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.conftest import csrf_token_from
from tests.exports import data as testdata
from tests.exports.data import CONSENTED_NAME, PERSONAL, db_obstacle_ids, db_published_ids
from tests.factories import AREA_CODES, DIMENSION_CODES, SECTOR_CODES
from tests.summary import oracle
from tests.summary.varied import build_varied

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
    assert a["brin"] == "11AA"
    assert a["provincie"] == "Gelderland"
    assert a["sector"] == "mbo"
    assert a["aantal_lerenden"] == "100"
    assert a["aantal_knelpunten"] == "2"
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
    assert "knelpunten_" in disposition
    assert "sector-mbo" in disposition
    assert "area-examineren" in disposition
    assert "_live_" in disposition
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
    assert sorted(r["knelpunt_id"] for r in rows) == expected == db_obstacle_ids(
        province="Gelderland")
    assert all(isinstance(r["gemeld_op"], datetime | date) for r in rows)  # dates as dates
    init = wb["initiatieven"]
    ids = [r[0] for r in init.iter_rows(min_row=2, values_only=True)]
    assert ids == db_published_ids(province="Gelderland") == sorted([d.a.id, d.c.id, d.d.id])
    dictionary = [r[1] for r in wb["woordenboek"].iter_rows(min_row=2, values_only=True)]
    assert "knelpunt_id" in dictionary
    assert "aantal_scholen" in dictionary
    assert "province=Gelderland" in wb.properties.keywords
    assert json.loads(wb.properties.description)["source"] == "live"
    about = dict(wb["over"].iter_rows(min_row=2, values_only=True))
    assert about["filter"] == "province=Gelderland"


def test_json_and_meta(client, d):
    body = client.get("/export/knelpunten.json?sector=vo").get_json()
    assert body["meta"]["source"] == "live"
    assert body["meta"]["snapshot"] is None
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
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
            assert 3 < lon < 8
            assert 50 < lat < 54


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


def test_themes_export_counts(client, login, d):
    rows = read_csv(client.get("/export/themas.csv?sector=mbo"))
    t1 = next(r for r in rows if int(r["thema_id"]) == d.t1.id)
    assert t1["aantal_knelpunten"] == "2"
    assert t1["aantal_initiatieven"] == "2"
    assert t1["aantal_scholen"] == "2"  # public reports: exact
    assert t1["aantal_lerenden"] == "150"
    assert t1["herkomst"] == "regelgeving"  # a law and an AMvB
    assert "amvb" in t1["regelniveaus"]
    assert next(r for r in rows if int(r["thema_id"]) == d.t2.id)["herkomst"] == "school"
    login(client, "advisor")
    rows = read_csv(client.get("/export/themas.csv?sector=mbo"))
    assert next(r for r in rows if int(r["thema_id"]) == d.t1.id)["aantal_scholen"] == "2"


def test_snapshot_export_is_reproducible(client, login, d):
    from registry.published.snapshots import create_snapshot

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
    assert "Policy ask" in html
    assert "Vraag aan beleid" in html
    links = re.findall(r'href="(/export/[^"]+)"', html.replace("&amp;", "&"))
    downloads = [link for link in links
                 if re.match(r"/export/(initiatieven|knelpunten|themas)\.\w+", link)]
    assert len(downloads) == 15  # three datasets in five variants
    assert all("sector=mbo" in link.split("?", 1)[1].split("&") for link in downloads)
    assert "/export/knelpunten.csv?sector=mbo" in downloads


def test_contact_export_requires_moderator(client, login, d):
    response = client.get("/export/contact")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
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
    assert event.action == "export.contacts"
    assert event.reason == purpose
    assert event.actor_id == user.id
    assert event.after["count"] == 3
    assert event.after["filter"] == "sector=mbo"
    response = client.post("/export/contact", data={"purpose": purpose, "format": "xlsx",
                                                         "csrf_token": token})
    assert "carla@example.org" in xlsx_text(response.data)


def test_live_records_stream(app, d, monkeypatch):
    """Records come from a generator in keyset batches, not from a list built in memory."""
    import types

    from registry.published import records
    from registry.published.filters import InitiativeFilter
    from registry.published.sources import PUBLISHED

    monkeypatch.setattr(records, "BATCH_SIZE", 2)  # four initiatives: three batches
    gen = records.initiatives(PUBLISHED, InitiativeFilter.empty())
    assert isinstance(gen, types.GeneratorType)
    assert [r["id"] for r in gen] == db_published_ids()


# --- every dataset under many filters, against the oracle ----------------------------------

@pytest.fixture
def varied(app):
    """The varied data set of the summary tests (accents, every area, sector and province,
    themes at every rule level) and a snapshot of it."""
    from registry.published.snapshots import create_snapshot

    themes = build_varied(random.Random(11), count=35)
    snap = create_snapshot()
    db.session.commit()
    return [t.id for t in themes], snap.code


def _filters(theme_ids: list[int]) -> list[oracle.Args]:
    rnd = random.Random(12)
    fixed = [{}, {"sector": "mbo"}, {"area": "examineren"}, {"area": ["diplomeren", "overig"]},
             {"theme": theme_ids[0]}, {"theme": theme_ids[:3], "area": "examineren"},
             {"province": ["Fryslân", "Utrecht"]}, {"phase": "idee"}, {"q": "ÉCOLE"},
             {"q": "een"}, {"q": "nergens"}, {"dimension": "tempo", "min_level": "3"},
             {"dimension": "samen", "min_level": "0", "sector": ["po", "vo"]}]
    for _ in range(8):
        fixed.append({"sector": rnd.sample(SECTOR_CODES, 2), "area": rnd.sample(AREA_CODES, 2),
                      "theme": rnd.sample(theme_ids, 2) if rnd.random() < 0.5 else []})
    return [oracle.Args.of(a) for a in fixed]


def _cells(counts: dict) -> dict[str, str]:
    """A theme's counts as the CSV shows them."""
    return {
        "aantal_knelpunten": str(counts["obstacles"]),
        "aantal_initiatieven": str(counts["initiatives"]),
        "aantal_scholen": str(counts["schools"]), "aantal_lerenden": str(counts["learners"]),
        "sectoren": ", ".join(f"{k}: {v}" for k, v in counts["sectors"].items()),
        "provincies": ", ".join(f"{k}: {v}" for k, v in counts["provinces"].items()),
        "opgelost": str(counts["solved"]), "omzeild": str(counts["worked_around"]),
    }


def _check_datasets(client, rows: oracle.Rows, args: oracle.Args, suffix: str,
                    exact: bool) -> int:
    query = urlencode(args.query_string()) + suffix
    chosen = oracle.selected(rows, args)
    initiatives = read_csv(client.get(f"/export/initiatieven.csv?{query}"))
    assert [int(r["initiatief_id"]) for r in initiatives] == [rec["id"] for rec, _ in chosen]
    for row, (rec, obs) in zip(initiatives, chosen, strict=True):
        areas = {o["area_code"] for o in obs}
        assert row["aantal_knelpunten"] == str(len(obs)), (args, rec["id"])
        assert row["knelpunt_gebieden"] == ",".join(c for c in AREA_CODES if c in areas)
        assert (row["sector"], row["provincie"], row["fase"]) == (
            rec["sector"], rec["province"] or "", rec["phase"])
        for code in DIMENSION_CODES:
            levels = rows.dimensions[rec["id"]].get(code)
            assert (row[f"dimensie_{code}_nu"], row[f"dimensie_{code}_ambitie"]) == (
                (str(levels[0]), str(levels[1])) if levels else ("", "")), (rec["id"], code)
    obstacles = read_csv(client.get(f"/export/knelpunten.csv?{query}"))
    expected = [(rec, o) for rec, obs in chosen for o in obs]
    assert [int(r["knelpunt_id"]) for r in obstacles] == [o["id"] for _, o in expected], args
    for row, (rec, o) in zip(obstacles, expected, strict=True):
        assert (int(row["initiatief_id"]), row["gebied"], row["ernst"], row["status"],
                row["thema_id"]) == (rec["id"], o["area_code"], str(o["severity"]),
                                     o["status"], "" if o["theme_id"] is None
                                     else str(o["theme_id"]))
    themes = read_csv(client.get(f"/export/themas.csv?{query}"))
    in_scope = [t for t in rows.themes if (not args.area or t["area"] in args.area)
                and (not args.theme or t["id"] in args.theme)]
    assert [int(r["thema_id"]) for r in themes] == [t["id"] for t in in_scope], args
    for row, theme in zip(themes, in_scope, strict=True):
        counts = oracle.group_counts(
            [(rec, o) for rec, o in expected if o["theme_id"] == theme["id"]],
            sectors=rows.sectors)
        assert {k: row[k] for k in _cells(counts)} == _cells(counts), (args, theme["id"])
        assert row["herkomst"] == ",".join(oracle.origin_groups(theme))
    return len(chosen)


def test_datasets_match_the_oracle_under_many_filters(client, varied):
    """Initiatives (ids, counted obstacles, areas, dimensions), obstacles (ids in order and
    fields) and themes (every count, public) equal the recomputation from plain SQL rows,
    for live data and, for the same data, its snapshot."""
    theme_ids, code = varied
    rows = oracle.load(db.session)
    sizes = set()
    for i, args in enumerate(_filters(theme_ids)):
        sizes.add(_check_datasets(client, rows, args, "", exact=False))
        if i % 3 == 0:
            _check_datasets(client, rows, args, f"&snapshot={code}", exact=False)
    assert len(sizes) > 5
    assert 0 in sizes


def test_advisor_theme_export_is_exact(client, login, varied):
    login(client, "advisor")
    rows = oracle.load(db.session)
    for args in (oracle.Args(), oracle.Args.of(sector="mbo")):
        _check_datasets(client, rows, args, "", exact=True)
