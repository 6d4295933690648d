"""A term added to a taxonomy table the way a migration adds it (a plain SQL INSERT, no
application code) reaches every read path: the submission form accepts it, the exports, the
data dictionary, the summary and the API (data, vocabularies, OpenAPI enums) show it.

The row is removed again afterwards (the taxonomy tables are kept between tests). As in a
migration (CONTRIBUTING.md), the change ends with a new public data version written by plain
SQL; the running app is told nothing else, so its per-process caches (taxonomy, summary,
pages) must notice by themselves.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from registry.extensions import db
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.summary.services import compute_summary
from tests.dbs import reset_database
from tests.factories import AREA_CODES, DIMENSION_CODES, form_post
from tests.summary import oracle
from tests.summary.oracle import Args

AREA = {"code": "bekostiging", "label_nl": "Bekostiging", "label_en": "Funding",
        "description_nl": "Bekostiging per teldatum en inschrijving per cohort.",
        "description_en": "Funding by count date and enrolment per cohort.", "position": 6}
DIMENSION = {"code": "reflectie", "label_nl": "Reflectie (terugkijken)",
             "label_en": "Reflection (looking back)", "position": 8}


def _new_data_version() -> None:
    """What the migration ends with (its ``_new_data_version``), in plain SQL."""
    db.session.execute(text("DELETE FROM data_version WHERE name = 'public'"))
    db.session.execute(text("INSERT INTO data_version (name, token, changed_at) "
                            "VALUES ('public', :token, CURRENT_TIMESTAMP)"),
                       {"token": uuid.uuid4().hex})


@contextmanager
def terms_added(app):
    db.session.execute(text(
        "INSERT INTO obstacle_area (code, label_nl, label_en, description_nl, description_en, "
        "position) VALUES (:code, :label_nl, :label_en, :description_nl, :description_en, "
        ":position)"), AREA)
    db.session.execute(text(
        "INSERT INTO dimension (code, label_nl, label_en, position) "
        "VALUES (:code, :label_nl, :label_en, :position)"), DIMENSION)
    _new_data_version()
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        yield
    finally:
        reset_database()  # rows that refer to the new terms
        db.session.execute(text("DELETE FROM obstacle_area WHERE code = :code"), AREA)
        db.session.execute(text("DELETE FROM dimension WHERE code = :code"), DIMENSION)
        _new_data_version()
        db.session.commit()


@pytest.fixture
def new_terms(app, client):
    # The app has cached the vocabularies and pages before the migration runs.
    assert client.get("/aanmelden").status_code == 200
    assert client.get("/api/v1/taxonomies").status_code == 200
    with terms_added(app):
        yield


def _options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _submit_and_publish(client) -> int:
    """The public form with one obstacle in the new area (and one in an old area) and a
    level on the new dimension; the entry is then published."""
    data = form_post(obstacles=2, **{
        "obstacles-1-area": AREA["code"], "obstacles-1-title": "Teldatum 1 oktober",
        f"dimensions-{len(DIMENSION_CODES)}-code": DIMENSION["code"],
        f"dimensions-{len(DIMENSION_CODES)}-current_level": "2",
        f"dimensions-{len(DIMENSION_CODES)}-ambition_level": "3",
    })
    response = client.post("/aanmelden", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    (initiative_id,) = db.session.execute(text("SELECT id FROM initiative")).one()
    stored = db.session.execute(text(
        "SELECT area_code, title FROM obstacle WHERE initiative_id = :id ORDER BY position"),
        {"id": initiative_id}).all()
    assert [tuple(r) for r in stored] == [("examineren", "Knelpunt 1"),
                                          (AREA["code"], "Teldatum 1 oktober")]
    levels = db.session.execute(text(
        "SELECT current_level, ambition_level FROM initiative_dimension "
        "WHERE initiative_id = :id AND dimension_code = :code"),
        {"id": initiative_id, "code": DIMENSION["code"]}).one()
    assert tuple(levels) == (2, 3)
    from registry.database import utcnow
    from registry.submissions.models import Initiative

    initiative = db.session.get(Initiative, initiative_id)
    initiative.state, initiative.published_at = "published", utcnow()
    db.session.commit()
    return initiative_id


def test_new_area_and_dimension_reach_every_read_path(client, new_terms):
    # --- the submission form offers them and accepts them
    html = client.get("/aanmelden").get_data(as_text=True)
    areas = _options(html, "obstacles-0-area")
    assert [code for code, _ in areas[1:]] == [*AREA_CODES, AREA["code"]]
    assert areas[-1] == (AREA["code"], AREA["label_nl"])
    assert f'value="{DIMENSION["code"]}"' in html
    assert DIMENSION["label_nl"] in html
    initiative_id = _submit_and_publish(client)

    # --- exports: the obstacle row, the initiative's areas and dimension, the dictionary
    obstacles = _csv(client.get("/export/knelpunten.csv?area=bekostiging"))
    assert [(int(r["initiatief_id"]), r["gebied"], r["titel"]) for r in obstacles] == [
        (initiative_id, AREA["code"], "Teldatum 1 oktober")]
    (row,) = _csv(client.get("/export/initiatieven.csv"))
    assert row["knelpunt_gebieden"] == "examineren,bekostiging"
    assert (row["dimensie_reflectie_nu"], row["dimensie_reflectie_ambitie"]) == ("2", "3")
    header = next(csv.reader(io.StringIO(
        client.get("/export/initiatieven.csv").data.decode("utf-8-sig"))))
    assert header.index("dimensie_reflectie_nu") == header.index("dimensie_toetsing_ambitie") + 1
    dictionary = client.get("/export/woordenboek").get_data(as_text=True)
    # the codes are marked as code: <code>kwalificeren</code>, ...
    assert ("Code: kwalificeren, examineren, diplomeren, certificeren, valideren, overig, "
            "bekostiging.") in re.sub(r"</?code>", "", dictionary)
    assert "<code>dimensie_reflectie_nu</code>" in dictionary
    assert "Niveau nu (0-3) op de dimensie Reflectie (terugkijken)." in dictionary

    # --- the summary: its figures and its page
    rows = oracle.load(db.session)
    summary = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert [a["code"] for a in summary["areas"]] == [*AREA_CODES, AREA["code"]]
    expected = oracle.summary(rows, Args())
    assert summary["areas"] == expected["areas"]
    new = summary["areas"][-1]
    assert (new["label_nl"], new["label_en"], new["initiatives"], new["obstacles"]) == (
        AREA["label_nl"], AREA["label_en"], 1, 1)
    tables = oracle.html_tables(client.get("/knelpunten").get_data(as_text=True))
    area_rows = tables["Per gebied: initiatieven, scholen, lerenden en meldingen"]
    assert [r[0] for r in area_rows[1:-1]][-1] == AREA["label_nl"]
    assert area_rows[-2][:8] == [AREA["label_nl"], *oracle.count_cells(
        oracle.summary(rows, Args())["areas"][-1])]
    filtered = oracle.html_tables(client.get("/knelpunten?area=bekostiging").get_data(
        as_text=True))["Per gebied: initiatieven, scholen, lerenden en meldingen"]
    assert [r[0] for r in filtered[1:]] == [AREA["label_nl"], "Totaal"]

    # --- the API: vocabularies, OpenAPI enums, data filtered on the new terms
    vocab = client.get("/api/v1/taxonomies/areas").get_json()["data"]
    assert vocab[-1] == {k: v for k, v in AREA.items() if k != "position"}
    dims = client.get("/api/v1/taxonomies/dimensions").get_json()["data"]
    assert dims[-1] == {k: v for k, v in DIMENSION.items() if k != "position"}
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/obstacles"]["get"]["parameters"]}
    assert params["area"]["items"]["enum"] == [*AREA_CODES, AREA["code"]]
    assert params["dimension"]["enum"] == [*DIMENSION_CODES, DIMENSION["code"]]
    body = client.get("/api/v1/obstacles?area=bekostiging").get_json()
    assert [(o["initiative_id"], o["area"], o["title"]) for o in body["data"]] == [
        (initiative_id, AREA["code"], "Teldatum 1 oktober")]
    found = client.get("/api/v1/initiatives?dimension=reflectie&min_level=3").get_json()
    assert [i["id"] for i in found["data"]] == [initiative_id]
    assert found["data"][0]["areas"] == sorted(["examineren", AREA["code"]])
    detail = client.get(f"/api/v1/initiatives/{initiative_id}").get_json()
    assert detail["dimensions"][-1] == {"code": "reflectie", "current_level": 2,
                                        "ambition_level": 3}
    stats = client.get("/api/v1/statistics?area=bekostiging").get_json()
    assert [a["code"] for a in stats["areas"]] == [AREA["code"]]
    assert stats["totals"]["obstacles"] == 1


def test_a_form_opened_before_the_new_dimension_is_shown_again(client, new_terms):
    """A school opened the form before the migration and sends it after (eight dimension
    rows, not nine): the form comes back with the new row and one message at the dimensions
    - not a message at every level the school did choose."""
    response = client.post("/aanmelden", data=form_post())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html.split('class="error-summary"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'<li><a href="#([^"]*)">', summary) == ["dimensions"]
    assert f'value="{DIMENSION["code"]}"' in html
    assert db.session.execute(text("SELECT count(*) FROM initiative")).scalar() == 0


def test_the_terms_are_gone_again(app, client):
    """When the terms are removed again (a downgrade) the running app shows the vocabularies
    of DOMAIN.md again, without a restart (and a leak would change every later test)."""
    with terms_added(app):
        tax = client.get("/api/v1/taxonomies").get_json()
        assert AREA["code"] in [a["code"] for a in tax["areas"]]
    tax = client.get("/api/v1/taxonomies").get_json()
    assert [a["code"] for a in tax["areas"]] == list(AREA_CODES)
    assert [d["code"] for d in tax["dimensions"]] == list(DIMENSION_CODES)
    assert client.get("/api/v1/obstacles?area=bekostiging").status_code == 400
