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
from registry.published.filters import InitiativeFilter
from registry.published.models import Snapshot
from registry.published.snapshots import create_snapshot
from registry.published.sources import PUBLISHED, SnapshotSource
from registry.summary.services import compute_summary
from tests.conftest import csrf_token_from
from tests.exports import data as testdata
from tests.exports.data import CONSENTED_QUOTE, PERSONAL, SECRET_QUOTES, db_figures
from tests.factories import AREA_CODES
from tests.summary import oracle
from tests.summary.oracle import Args

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


def live(args: dict | None = None, exact: bool = False) -> dict:
    return compute_summary(flt(**(args or {})), PUBLISHED, exact=exact)


def test_unfiltered_figures_match_database(app, d):
    s = live(exact=True)
    assert pick(s["totals"]) == db_figures() == {
        "initiatives": 4, "schools": 3, "learners": 360, "obstacles": 6, "solved": 1,
        "worked_around": 1}
    assert [a["code"] for a in s["areas"]] == list(AREA_CODES)
    for area in s["areas"]:
        assert pick(area) == db_figures(area=area["code"])
    assert oracle.comparable(s) == oracle.summary(oracle.load(db.session), Args())
    assert s["totals"]["severity"] == {"1": 1, "2": 2, "3": 2, "4": 1}
    assert s["totals"]["sectors"] == {"vo": 1, "mbo": 3}
    assert s["totals"]["provinces"] == {"Gelderland": 3, "Utrecht": 1}
    json.dumps(s)  # the API serves it as is


def test_filtered_public_figures_are_exact(app, d):
    """Public reports are public by name: their figures are exact for everyone (issue 16);
    confidential reports are protected by counting only in the national figures."""
    public = live({"sector": "mbo", "area": "examineren"}, exact=False)
    advisor = live({"sector": "mbo", "area": "examineren"}, exact=True)
    expected = db_figures("mbo", "examineren")
    assert pick(advisor["totals"]) == expected == {
        "initiatives": 2, "schools": 2, "learners": 150, "obstacles": 2, "solved": 1,
        "worked_around": 0}
    assert pick(public["totals"]) == expected
    assert [a["code"] for a in public["areas"]] == ["examineren"]
    assert public["meta"]["filter"] == "sector=mbo;area=examineren"
    assert public["meta"]["exact"] is False
    assert advisor["meta"]["exact"] is True


def test_themes_rules_and_policy_asks(app, d):
    s = live(exact=True)
    t1 = next(t for t in s["themes"] if t["id"] == d.t1.id)
    assert (t1["obstacles"], t1["initiatives"], t1["schools"], t1["learners"]) == (3, 3, 3, 350)
    assert (t1["origins"], t1["mixed"]) == (["wet", "amvb"], False)  # both regelgeving
    t2 = next(t for t in s["themes"] if t["id"] == d.t2.id)
    assert (t2["origins"], t2["mixed"]) == (["bestuur"], False)
    origins = {o["level"]: o for o in s["origins"]}
    assert list(origins) == ["wet", "amvb", "ministeriele_regeling", "toezicht",
                             "sectorafspraak", "bestuur", "onbekend"]
    assert (origins["wet"]["obstacles"], origins["amvb"]["obstacles"]) == (3, 3)
    assert origins["wet"]["group"] == "regelgeving"
    assert origins["toezicht"]["obstacles"] == 0
    assert origins["bestuur"]["obstacles"] == 1
    assert origins["onbekend"]["obstacles"] == 2  # not yet grouped in a theme
    # the two spellings of the same rule are counted together
    assert s["top_rules"][0] == {"rule": "Examen- en kwalificatiebesluit WEB", "obstacles": 2,
                                 "initiatives": 2}
    asks = {g["title"]: g["asks"] for g in s["policy_asks"]}
    assert asks["Vaste examenmomenten"] == [{"text": "Flexibele examenmomenten", "count": 2}]


def test_quotes_only_with_consent(app, d):
    s = live()
    texts = [q["text"] for q in s["quotes"]]
    assert texts == [CONSENTED_QUOTE]
    assert s["quotes"][0] == {"text": CONSENTED_QUOTE, "area": "examineren",
                              "theme_id": d.t1.id, "sector": "mbo", "province": "Gelderland"}


def test_quarters(app, d):
    s = live()
    assert s["quarters"] == [
        {"quarter": "2026-K1", "initiatives": 1, "obstacles": 2},
        {"quarter": "2026-K2", "initiatives": 2, "obstacles": 3},
        {"quarter": "2026-K3", "initiatives": 1, "obstacles": 1},
    ]


def test_changes_since_previous_snapshot(app, d):
    first = create_snapshot(note="eerste")
    db.session.commit()
    s = live()
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
    changes = live()["changes"]
    assert changes["solved_obstacles"] == 1
    assert changes["new_obstacles"] == 1
    assert changes["new_provinces"] == ["Zeeland"]
    assert changes["new_themes"] == [{"id": t3.id, "title": "EVC erkennen"}]
    second = create_snapshot()
    db.session.commit()
    # taken from the second snapshot, the comparison is with the first
    from_snapshot = compute_summary(InitiativeFilter.empty(), SnapshotSource(second))["changes"]
    assert from_snapshot == {**changes, "previous_date": from_snapshot["previous_date"]}


def test_snapshot_summary_is_reproducible(app, d):
    snap = create_snapshot()
    db.session.commit()
    rows = oracle.load(db.session)
    before = compute_summary(flt(sector="mbo"), SnapshotSource(snap), exact=True)
    assert oracle.comparable(before) == oracle.summary(rows, Args.of(sector="mbo"))
    d.b.state = "withdrawn"
    d.a.learners_count = 5000
    db.session.commit()
    after = compute_summary(flt(sector="mbo"), SnapshotSource(snap), exact=True)
    before["meta"].pop("generated_at")
    after["meta"].pop("generated_at")
    assert after == before
    now = live({"sector": "mbo"}, exact=True)
    assert now["totals"] != before["totals"]
    assert pick(now["totals"]) == db_figures("mbo")




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
    assert snap.note == "voor OCW"
    assert snap.created_by_label == "cli"
    result = runner.invoke(args=["snapshot", "list"])
    assert snap.code in result.output


def test_snapshot_page_for_advisors(client, login, d):
    response = client.get("/knelpunten/momentopnamen")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    user = login(client, "advisor")
    page = client.get("/knelpunten/momentopnamen")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/knelpunten/momentopnamen",
                           data={"note": "Overleg OCW", "csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200
    snap = db.session.scalars(select(Snapshot)).one()
    assert snap.created_by_id == user.id
    assert snap.note == "Overleg OCW"
    assert snap.code in response.get_data(as_text=True)


# --- the page and its downloads ---

def numbers_in(text: str) -> str:
    return " ".join(text.split())


def test_public_page_is_anonymised(client, d):
    response = client.get(f"/knelpunten?{MBO_EXAM}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="count-number">2</span>' in html  # two schools, public by name anyway
    for secret in PERSONAL + SECRET_QUOTES:
        assert secret not in html
    assert CONSENTED_QUOTE in html
    assert "<svg" in html
    assert "<table" in html
    assert 'style="' not in html
    assert "<script>" not in html


AREA_TABLE = "Per gebied: initiatieven, scholen, lerenden en meldingen"
THEME_TABLE = "Per thema, met de regels en hun herkomst"


@pytest.mark.parametrize("role", [None, "advisor"])
def test_page_tables_match_the_oracle(client, login, d, role):
    """The area and theme tables of /knelpunten, read back with an HTML parser, show the
    recomputed figures (public: small numbers of schools suppressed)."""
    if role:
        login(client, role)
    rows = oracle.load(db.session)
    labels = {a["code"]: a["label_nl"] for a in rows.areas}
    for args in FILTERS:
        query = "&".join(f"{k}={v}" for k, v in Args.of(args).query_string())
        tables = oracle.html_tables(client.get(f"/knelpunten?{query}").get_data(as_text=True))
        expected = oracle.summary(rows, Args.of(args))
        body = [r[:8] for r in tables[AREA_TABLE][1:]]
        assert body == [[labels[a["code"]], *oracle.count_cells(a)] for a in expected["areas"]]\
            + [["Totaal", *oracle.count_cells(expected["totals"])]], args
        themes = [[r[0], *r[3:10]] for r in tables.get(THEME_TABLE, [])[1:]]
        assert themes == [[t["title"], *oracle.count_cells(t)] for t in expected["themes"]], args


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
    expected = db_figures("mbo", "examineren")
    assert "Selectie: Sector: mbo; Gebied: Examineren." in text  # the filter in words
    assert "Werkwijze" in text
    summary_table = _docx_area_table(tables)
    total_row = summary_table[-1]
    assert total_row[0] == "Totaal"
    assert total_row[1:5] == [str(expected[k]) for k in
                              ("initiatives", "schools", "learners", "obstacles")]
    assert total_row[1:5] == ["2", "2", "150", "2"]
    annex = tables[-1]
    assert {row[1] for row in annex[1:]} == {d.a.title, d.b.title}
    assert {d.a.id, d.b.id} == set(testdata.db_published_ids("mbo", "examineren"))
    assert all(row[-1].startswith("http") for row in annex[1:])
    for secret in PERSONAL + SECRET_QUOTES:
        assert secret not in text
    doc = Document(io.BytesIO(response.data))
    assert len(doc.inline_shapes) >= 2  # charts


def _docx_area_table(tables: list[list[list[str]]]) -> list[list[str]]:
    """The area table of the DOCX (after the key figures): its rows, the total last."""
    return next(t for t in tables if t[0][:2] == ["Gebied", "Initiatieven"])


def test_docx_public_figures_are_exact(client, d):
    _, tables = _docx_text(client.get(f"/knelpunten/knelpuntenoverzicht.docx?{MBO_EXAM}").data)
    assert _docx_area_table(tables)[-1][1:5] == ["2", "2", "150", "2"]


def test_pdf_matches_page(client, login, d):
    login(client, "advisor")
    response = client.get(f"/knelpunten/knelpuntenoverzicht.pdf?{MBO_EXAM}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = numbers_in("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data))
                                .pages))
    assert "Selectie: Sector: mbo; Gebied: Examineren." in text  # the filter in words
    # the totals row of the area table: initiatives, schools, learners, obstacles, severity
    assert "Totaal 2 2 150 2 0/0/1/1 0 1" in text
    assert "Vaste examenmomenten" in text
    assert CONSENTED_QUOTE in text
    for secret in PERSONAL + SECRET_QUOTES:
        assert secret not in text
    html = client.get(f"/knelpunten?{MBO_EXAM}").get_data(as_text=True)
    assert '<td class="num">150</td>' in html


def _sheet(wb, name: str) -> list[dict]:
    rows = list(wb[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _xlsx_counts(counts: dict) -> dict:
    """The summary counts as the workbook's Dutch columns (numbers, read back as int)."""
    return {"Initiatieven": counts["initiatives"], "Scholen": counts["schools"],
            "Lerenden": counts["learners"], "Meldingen": counts["obstacles"],
            **{f"Ernst {k}": counts["severity"][k] for k in "1234"},
            "Omzeild": counts["worked_around"], "Opgelost": counts["solved"]}


def test_xlsx_figures_match_summary(client, d):
    response = client.get("/knelpunten/knelpuntenoverzicht.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = oracle.load(db.session)
    s = oracle.summary(rows, Args())
    labels = {a["code"]: a["label_nl"] for a in rows.areas}
    assert wb.sheetnames[0] == "Toelichting"
    by_area = {r["Gebied"]: r for r in _sheet(wb, "Gebieden")}
    assert list(by_area) == [*(labels[c] for c in AREA_CODES), "Totaal"]
    for area in [*s["areas"], {"code": "totaal", **s["totals"]}]:
        row = by_area[labels.get(area["code"], "Totaal")]
        assert {k: row[k] for k in _xlsx_counts(area)} == _xlsx_counts(area), area["code"]
    assert by_area["Totaal"]["Meldingen"] == 6
    assert by_area["Totaal"]["Scholen"] == 3
    themes = _sheet(wb, "Thema's")
    assert [r["Thema-id"] for r in themes] == [t["id"] for t in s["themes"]]
    for row, theme in zip(themes, s["themes"], strict=True):
        assert row["Thema"] == theme["title"]
        assert row["Gemengde herkomst"] == ("ja" if theme["mixed"] else "nee")
        assert {k: row[k] for k in _xlsx_counts(theme)} == _xlsx_counts(theme)
    assert {r["Thema"] for r in themes} == {"Vaste examenmomenten", "Roosters in jaarklassen"}
    origins = _sheet(wb, "Herkomst")
    assert len(origins) == len(s["origins"])
    for row, origin in zip(origins, s["origins"], strict=True):
        assert (row["Thema's"], row["Waarvan gemengd"]) == (origin["themes"],
                                                            origin["mixed_themes"])
        assert {k: row[k] for k in _xlsx_counts(origin)} == _xlsx_counts(origin)
    assert [(r["Regel"], r["Meldingen"], r["Initiatieven"]) for r in _sheet(wb, "Regels")] == [
        (r["rule"], r["obstacles"], r["initiatives"]) for r in s["top_rules"]]
    key = _sheet(wb, "Kernboodschap")
    assert [(r["Thema-id"], r["Scholen"], r["Lerenden"], r["Meldingen"]) for r in key] == [
        (t["id"], t["schools"], t["learners"], t["reports"]) for t in s["key_message"]["themes"]]
    assert wb["Gebieden"].freeze_panes == "A2"
    assert "alle" in wb.properties.keywords


FILTERS = [
    {}, {"sector": "mbo"}, {"area": "examineren"}, {"province": "Gelderland"},
    {"sector": "mbo", "area": "examineren"}, {"phase": "pilot"}, {"q": "arnhem"},
    {"q": "ARNHEM"}, {"dimension": "doelen", "min_level": "2"},
    {"dimension": "doelen", "min_level": "3"}, {"area": ["diplomeren", "overig"]},
]


def test_snapshot_and_live_figures_equal_the_oracle(app, d):
    """Under each filter the summary of live data and of a snapshot of the same data both
    equal the recomputation from plain SQL rows (for every figure, public and exact)."""
    snap = SnapshotSource(create_snapshot())
    db.session.commit()
    rows = oracle.load(db.session)
    seen = set()
    for args in FILTERS:
        for exact in (False, True):
            # live data compares with the snapshot (the same data); the snapshot with none
            expected = oracle.summary(rows, Args.of(args), previous=rows)
            assert oracle.comparable(live(args, exact=exact)) == expected, (args, exact)
            frozen = compute_summary(flt(**args), snap, exact=exact)
            expected = oracle.summary(rows, Args.of(args))
            assert oracle.comparable(frozen) == expected, ("snapshot", args, exact)
            seen.add(len(expected["entries"]))
    assert len(seen) > 3  # the filters really select different sets


def test_quarters_and_dates_are_utc_whatever_the_database_time_zone(app, database, request):
    """Records promise UTC datetimes (registry/published/records.py). A PostgreSQL server
    set up with the machine's time zone (Europe/Amsterdam) returns ``timestamptz`` values in
    that zone; an initiative published at 2026-03-31 23:30 UTC belongs to 2026-K1 and was
    published on 2026-03-31, as the oracle (which converts to UTC) says."""
    if database[0] != "postgresql":
        pytest.skip("SQLite has no session time zone")
    from datetime import UTC, datetime

    from sqlalchemy import text

    from registry.published import records
    from registry.summary import services

    initiative = testdata.make_initiative()
    initiative.published_at = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    initiative.obstacles[0].reported_at = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    db.session.commit()
    services.summary_cache.clear()
    db.session.execute(text("SET LOCAL TIME ZONE 'Europe/Amsterdam'"))  # this transaction
    expected = oracle.summary(oracle.load(db.session), Args())
    assert expected["quarters"] == [{"quarter": "2026-K1", "initiatives": 1, "obstacles": 1}]
    assert live(exact=True)["quarters"] == expected["quarters"]
    rec = next(records.initiatives(PUBLISHED))
    assert rec["published_at"] == datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert rec["published_at"].utcoffset().total_seconds() == 0
