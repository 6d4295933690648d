"""The Frictionless Data Package of the CSV exports (/export/datapackage.json, issue 21).

The oracle is the ``frictionless`` library: the package as served, with its paths pointed at
the CSV files the test client downloads, must validate (types, enums, primary and foreign
keys checked row by row), and a schema with a wrong type must not. Field names are compared
with the CSV header as Python's csv module reads it, codes with the taxonomy tables in plain
SQL.
"""
from __future__ import annotations

import copy
import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from frictionless import Package
from sqlalchemy import text

from registry.extensions import db
from registry.published.snapshots import create_snapshot
from tests.exports import data


def _local(url: str, base: str) -> str:
    """The path and query of an absolute URL under BASE_URL (for the test client)."""
    assert url.startswith(base.rstrip("/") + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _download(client, package: dict, base: str, folder) -> dict[str, bytes]:
    """Save every resource the package names; point its paths at the saved files."""
    bodies = {}
    for resource in package["resources"]:
        response = client.get(_local(resource["path"], base))
        assert response.status_code == 200, resource["path"]
        assert response.mimetype == resource["mediatype"] == "text/csv"
        bodies[resource["name"]] = response.data
        (folder / f"{resource['name']}.csv").write_bytes(response.data)
        resource["path"] = f"{resource['name']}.csv"
    return bodies


def _validate(package: dict, folder):
    return Package(copy.deepcopy(package), basepath=str(folder)).validate()


def _errors(report) -> list[list]:
    return report.flatten(["type", "fieldName", "note"])


def test_the_package_validates_against_the_served_csv_files(app, client, tmp_path):
    data.build()
    response = client.get("/export/datapackage.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    package = json.loads(response.data)
    base = app.config["BASE_URL"]
    assert [r["name"] for r in package["resources"]] == ["initiatieven", "knelpunten", "themas"]
    assert package["licenses"][0]["path"] == app.config["OPEN_DATA_LICENSE"]
    bodies = _download(client, package, base, tmp_path)

    report = _validate(package, tmp_path)
    assert report.valid, _errors(report)
    # every row was read: as many as plain SQL counts
    rows = {task.name: task.stats["rows"] for task in report.tasks}
    assert rows == {
        "initiatieven": db.session.scalar(text(
            "SELECT count(*) FROM initiative WHERE state = 'published'")),
        "knelpunten": db.session.scalar(text(
            "SELECT count(*) FROM obstacle JOIN initiative ON initiative.id = "
            "obstacle.initiative_id WHERE state = 'published' AND visibility = 'public'")),
        "themas": db.session.scalar(text("SELECT count(*) FROM theme")),
    }

    # the fields are the CSV columns, in file order, each with Dutch and English texts
    for resource in package["resources"]:
        header = next(csv.reader(io.StringIO(bodies[resource["name"]].decode("utf-8-sig"))))
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == header
        assert all(f["title"] and f["x-title-en"] and "`" not in f["description"]
                   for f in fields)
    # coded columns carry the codes of the taxonomy tables
    by_name = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    sectors = db.session.scalars(text("SELECT code FROM sector")).all()
    assert sorted(by_name["sector"]["constraints"]["enum"]) == sorted(sectors)
    assert by_name["aantal_lerenden"]["type"] == "integer"
    assert by_name["gepubliceerd_op"]["type"] == "date"

    # a wrong type in the schema makes the same files invalid
    broken = copy.deepcopy(package)
    for field in broken["resources"][0]["schema"]["fields"]:
        if field["name"] == "titel":
            field["type"] = "integer"
    report = _validate(broken, tmp_path)
    assert not report.valid
    assert {(e[0], e[1]) for e in _errors(report)} == {("type-error", "titel")}

    # an obstacle whose initiative is missing from initiatieven.csv breaks the foreign key
    lines = (tmp_path / "initiatieven.csv").read_bytes().split(b"\r\n")
    (tmp_path / "initiatieven.csv").write_bytes(b"\r\n".join(lines[:1] + lines[2:]))
    report = _validate(package, tmp_path)
    assert "foreign-key" in {e[0] for e in _errors(report)}


def test_a_snapshot_or_a_selection_has_its_own_package(app, client, tmp_path):
    """The package takes the parameters of the exports: a snapshot and the filter; its
    files of one selection still reference each other."""
    data.build()
    snap = create_snapshot(note="Kwartaal", actor="cli")
    db.session.commit()
    query = f"snapshot={snap.code}&sector=mbo&area=examineren"
    package = json.loads(client.get(f"/export/datapackage.json?{query}").data)
    assert package["version"] == snap.code
    assert all(parse_qs(urlsplit(r["path"]).query) == parse_qs(query)
               for r in package["resources"])
    bodies = _download(client, package, app.config["BASE_URL"], tmp_path)
    report = _validate(package, tmp_path)
    assert report.valid, _errors(report)
    # the selection: mbo initiatives with an examination obstacle (A and B of data.py)
    rows = list(csv.DictReader(io.StringIO(bodies["initiatieven"].decode("utf-8-sig"))))
    assert sorted(r["titel"] for r in rows) == ["Eigen leerroute Arnhem", "Leren op de werkvloer"]
    assert client.get("/export/datapackage.json?snapshot=2001-01-z").status_code == 404
    assert client.get("/export/datapackage.json?page=2").status_code == 400


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_export_page_links_to_the_package_and_the_catalog(app, client, lang):
    data.build()
    snap = create_snapshot(actor="cli")
    db.session.commit()
    page = client.get(f"/export/?lang={lang}").get_data(as_text=True)
    assert 'href="/export/datapackage.json"' in page
    assert 'href="/api/v1/catalog"' in page
    page = client.get(f"/export/?snapshot={snap.code}&lang={lang}").get_data(as_text=True)
    assert f'href="/export/datapackage.json?snapshot={snap.code}"' in page
    assert 'href="/api/v1/catalog"' in client.get(f"/api/v1/docs?lang={lang}").get_data(
        as_text=True)
