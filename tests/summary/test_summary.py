"""The obstacle summary: figures against the database, small numbers, quotes, snapshots, and
every download (DOCX, PDF, XLSX) read back with an independent reader."""
from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.summary.models import Snapshot
from registry.summary.services import compute_summary, create_snapshot
from tests.conftest import csrf_token_from
from tests.exports import data as testdata
from tests.exports.data import CONSENTED_QUOTE, PERSONAL, SECRET_QUOTES, db_figures

MBO_EXAM = "sector=mbo&area=examineren"


@pytest.fixture
def d(app):
    return testdata.build()


def flt(**args) -> InitiativeFilter:
    from werkzeug.datastructures import MultiDict

    return InitiativeFilter.from_args(MultiDict(args))


def pick(summary_counts: dict) -> dict:
    return {k: summary_counts[k] for k in
            ("initiatives", "schools", "learners", "obstacles", "solved", "worked_around")}


def test_unfiltered_figures_match_database(app, d):
    s = compute_summary(InitiativeFilter.empty(), exact=True)
    assert pick(s["totals"]) == db_figures()
    assert s["totals"] == {**s["totals"], "initiatives": 4, "schools": 3, "learners": 360,
                           "obstacles": 6}
    for area in s["areas"]:
        assert pick(area) == db_figures(area=area["code"])
    assert s["totals"]["severity"] == {"1": 1, "2": 2, "3": 2, "4": 1}
    assert s["totals"]["sectors"] == {"vo": 1, "mbo": 3}
    assert s["totals"]["provinces"] == {"Gelderland": 3, "Utrecht": 1}
    json.dumps(s)  # the API serves it as is


def test_filtered_figures_and_small_numbers(app, d):
    public = compute_summary(flt(sector="mbo", area="examineren"), exact=False)
    advisor = compute_summary(flt(sector="mbo", area="examineren"), exact=True)
    expected = db_figures("mbo", "examineren")
    assert pick(advisor["totals"]) == expected == {
        "initiatives": 2, "schools": 2, "learners": 150, "obstacles": 2, "solved": 1,
        "worked_around": 0}
    assert public["totals"]["schools"] == "<3"  # fewer than 3 schools: suppressed publicly
    assert public["totals"]["initiatives"] == 2
    assert [a["code"] for a in public["areas"]] == ["examineren"]
    assert public["meta"]["filter"] == "sector=mbo;area=examineren"
    assert public["meta"]["exact"] is False and advisor["meta"]["exact"] is True


def test_threshold_is_configurable(app, d):
    app.config["SMALL_NUMBER_THRESHOLD"] = 4
    s = compute_summary(InitiativeFilter.empty())
    assert s["totals"]["schools"] == "<4"
    app.config["SMALL_NUMBER_THRESHOLD"] = 2
    assert compute_summary(InitiativeFilter.empty())["totals"]["schools"] == 3


def test_themes_rules_and_policy_asks(app, d):
    s = compute_summary(InitiativeFilter.empty(), exact=True)
    t1 = next(t for t in s["themes"] if t["id"] == d.t1.id)
    assert (t1["obstacles"], t1["initiatives"], t1["schools"], t1["learners"]) == (3, 3, 3, 350)
    assert t1["category"] == "regelgeving"  # its most national rule is a law
    t2 = next(t for t in s["themes"] if t["id"] == d.t2.id)
    assert t2["category"] == "school"
    cats = {c["code"]: c for c in s["categories"]}
    assert cats["regelgeving"]["obstacles"] == 3 and cats["school"]["obstacles"] == 1
    assert cats["onbekend"]["obstacles"] == 2  # not yet grouped in a theme
    # the two spellings of the same rule are counted together
    assert s["top_rules"][0] == {"rule": "Examen- en kwalificatiebesluit WEB", "obstacles": 2,
                                 "initiatives": 2}
    asks = {g["title"]: g["asks"] for g in s["policy_asks"]}
    assert asks["Vaste examenmomenten"] == [{"text": "Flexibele examenmomenten", "count": 2}]


def test_quotes_only_with_consent(app, d):
    s = compute_summary(InitiativeFilter.empty())
    texts = [q["text"] for q in s["quotes"]]
    assert texts == [CONSENTED_QUOTE]
    assert s["quotes"][0] == {"text": CONSENTED_QUOTE, "area": "examineren",
                              "theme_id": d.t1.id, "sector": "mbo", "province": "Gelderland"}


def test_quarters(app, d):
    s = compute_summary(InitiativeFilter.empty())
    assert s["quarters"] == [
        {"quarter": "2026-K1", "initiatives": 1, "obstacles": 2},
        {"quarter": "2026-K2", "initiatives": 2, "obstacles": 3},
        {"quarter": "2026-K3", "initiatives": 1, "obstacles": 1},
    ]


def test_changes_since_previous_snapshot(app, d):
    first = create_snapshot(note="eerste")
    db.session.commit()
    s = compute_summary(InitiativeFilter.empty())
    assert s["changes"]["previous"] == first.code
    assert s["changes"]["new_obstacles"] == 0
    # a school in a new province reports a new theme; an obstacle gets solved
    from registry.moderation.models import Theme

    t3 = Theme(area_code="valideren", title="EVC erkennen")
    db.session.add(t3)
    new = testdata.make_initiative(sector="vo")
    new.organisation.province = "Zeeland"
    new.obstacles[0].theme_id = t3.id
    d.a.obstacles[0].status = "opgelost"
    db.session.commit()
    changes = compute_summary(InitiativeFilter.empty())["changes"]
    assert changes["solved_obstacles"] == 1
    assert changes["new_obstacles"] == 1
    assert changes["new_provinces"] == ["Zeeland"]
    assert changes["new_themes"] == [{"id": t3.id, "title": "EVC erkennen"}]
    second = create_snapshot()
    db.session.commit()
    # taken from the second snapshot, the comparison is with the first
    from_snapshot = compute_summary(InitiativeFilter.empty(), snapshot=second)["changes"]
    assert from_snapshot == {**changes, "previous_date": from_snapshot["previous_date"]}


def test_snapshot_summary_is_reproducible(app, d):
    snap = create_snapshot()
    db.session.commit()
    before = compute_summary(flt(sector="mbo"), snapshot=snap, exact=True)
    d.b.state = "withdrawn"
    d.a.learners_count = 5000
    db.session.commit()
    after = compute_summary(flt(sector="mbo"), snapshot=snap, exact=True)
    before["meta"].pop("generated_at")
    after["meta"].pop("generated_at")
    assert after == before
    assert compute_summary(flt(sector="mbo"), exact=True)["totals"] != before["totals"]




def test_snapshot_codes_per_month(app, d):
    codes = [create_snapshot().code for _ in range(3)]
    db.session.commit()
    assert re.fullmatch(r"\d{4}-\d{2}-a", codes[0])
    assert [c[-1] for c in codes] == ["a", "b", "c"]
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "snapshot.create")).all()
    assert len(events) == 3


def test_snapshot_cli(runner, d):
    result = runner.invoke(args=["snapshot", "create", "--note", "voor OCW"])
    assert result.exit_code == 0, result.output
    assert "4 initiatives, 6 obstacles" in result.output
    snap = db.session.scalars(select(Snapshot)).one()
    assert snap.note == "voor OCW" and snap.created_by_label == "cli"
    result = runner.invoke(args=["snapshot", "list"])
    assert snap.code in result.output


def test_snapshot_page_for_advisors(client, login, d):
    response = client.get("/knelpunten/momentopnamen")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    user = login(client, "advisor")
    page = client.get("/knelpunten/momentopnamen")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/knelpunten/momentopnamen",
                           data={"note": "Overleg OCW", "csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200
    snap = db.session.scalars(select(Snapshot)).one()
    assert snap.created_by_id == user.id and snap.note == "Overleg OCW"
    assert snap.code in response.get_data(as_text=True)


# --- the page and its downloads ---

def numbers_in(text: str) -> str:
    return " ".join(text.split())


def test_public_page_is_anonymised(client, d):
    response = client.get(f"/knelpunten?{MBO_EXAM}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;3" in html  # two schools, shown as <3
    for secret in PERSONAL + SECRET_QUOTES:
        assert secret not in html
    assert CONSENTED_QUOTE in html
    assert "<svg" in html and "<table" in html and 'style="' not in html
    assert "<script>" not in html


def test_advisor_page_shows_exact_figures(client, login, d):
    login(client, "advisor")
    html = client.get(f"/knelpunten?{MBO_EXAM}").get_data(as_text=True)
    assert "&lt;3" not in html
    assert 'class="count-number">2</span>' in html


def test_page_in_english(client, d):
    response = client.get("/knelpunten?lang=en")
    assert response.status_code == 200
    assert "Examinations" in response.get_data(as_text=True)


def test_unknown_snapshot_404(client, d):
    assert client.get("/knelpunten?snapshot=2020-01-z").status_code == 404


def _docx_text(data: bytes) -> tuple[str, list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return text, tables


def test_docx_matches_summary(client, login, d):
    login(client, "advisor")
    response = client.get(f"/knelpunten/knelpuntenoverzicht.docx?{MBO_EXAM}")
    assert response.status_code == 200
    assert "sector-mbo_area-examineren" in response.headers["Content-Disposition"]
    text, tables = _docx_text(response.data)
    s = compute_summary(flt(sector="mbo", area="examineren"), exact=True)
    assert "Filter: sector=mbo;area=examineren" in text
    assert "Werkwijze" in text
    summary_table = tables[0]
    total_row = summary_table[-1]
    assert total_row[0] == "Totaal"
    assert total_row[1:5] == [str(s["totals"][k]) for k in
                              ("initiatives", "schools", "learners", "obstacles")]
    assert total_row[1:5] == ["2", "2", "150", "2"]
    annex = tables[-1]
    assert {row[1] for row in annex[1:]} == {d.a.title, d.b.title}
    assert all(row[-1].startswith("http") for row in annex[1:])
    for secret in PERSONAL + SECRET_QUOTES:
        assert secret not in text
    doc = Document(io.BytesIO(response.data))
    assert len(doc.inline_shapes) >= 2  # charts


def test_docx_public_suppresses_small_numbers(client, d):
    _, tables = _docx_text(client.get(f"/knelpunten/knelpuntenoverzicht.docx?{MBO_EXAM}").data)
    assert tables[0][-1][2] == "<3"


def test_pdf_matches_page(client, login, d):
    login(client, "advisor")
    response = client.get(f"/knelpunten/knelpuntenoverzicht.pdf?{MBO_EXAM}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = numbers_in("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data))
                                .pages))
    assert "Filter: sector=mbo;area=examineren" in text
    # the totals row of the area table: initiatives, schools, learners, obstacles, severity
    assert "Totaal 2 2 150 2 0/0/1/1 0 1" in text
    assert "Vaste examenmomenten" in text and CONSENTED_QUOTE in text
    for secret in PERSONAL + SECRET_QUOTES:
        assert secret not in text
    html = client.get(f"/knelpunten?{MBO_EXAM}").get_data(as_text=True)
    assert '<td class="num">150</td>' in html


def test_xlsx_figures_match_summary(client, d):
    response = client.get("/knelpunten/knelpuntenoverzicht.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    s = compute_summary(InitiativeFilter.empty())
    rows = list(wb["gebieden"].iter_rows(values_only=True))
    header = rows[0]
    by_area = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    for area in s["areas"]:
        row = by_area[area["code"]]
        assert (row["initiatieven"], row["scholen"], row["lerenden"], row["meldingen"]) == (
            area["initiatives"], area["schools"], area["learners"], area["obstacles"])
    assert by_area["totaal"]["meldingen"] == 6 and by_area["totaal"]["scholen"] == 3
    themes = {r[0]: r for r in wb["themas"].iter_rows(min_row=2, values_only=True)}
    assert "Vaste examenmomenten" in themes
    assert wb["gebieden"].freeze_panes == "A2"
    assert "alle" in wb.properties.keywords


@pytest.mark.parametrize("args", [
    {}, {"sector": "mbo"}, {"area": "examineren"}, {"province": "Gelderland"},
    {"sector": "mbo", "area": "examineren"}, {"phase": "pilot"}, {"q": "arnhem"},
    {"dimension": "doelen", "min_level": "2"}, {"dimension": "doelen", "min_level": "3"},
])
def test_snapshot_filter_equals_live_filter(app, d, args):
    """Filtering frozen records gives what the SQL filter gives on the same data."""
    snap = create_snapshot()
    db.session.commit()
    live = compute_summary(flt(**args), exact=True)
    frozen = compute_summary(flt(**args), snapshot=snap, exact=True)
    for key in ("totals", "areas", "themes", "categories", "top_rules", "policy_asks", "quotes",
                "quarters", "entries"):
        assert frozen[key] == live[key], key
