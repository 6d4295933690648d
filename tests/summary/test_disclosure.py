"""Disclosure control (issue 16): confidential reports count only in the national table,
and nothing there can be traced to fewer than SMALL_NUMBER_THRESHOLD schools.

The oracles are independent of ``registry.summary.disclosure``: the national figures are
recomputed from plain SQL rows; who "contributes" to a figure is found by brute force
(remove one school's confidential reports and see whether the figure changes); and whether
a hidden cell can be recovered from the published ones is decided by numpy's matrix rank
(a unit vector in the row space of the adding-up equations).
"""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from registry.extensions import db
from registry.moderation import services as moderation
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.services import ObstacleData
from registry.summary.services import compute_summary, national, summary_cache
from tests.factories import AREA_CODES, make_initiative

SEVERITIES = ("1", "2", "3", "4")
FIGURES = ("initiatives", "schools", "learners", "reports", "confidential",
           *(f"severity:{k}" for k in SEVERITIES))


# --- data ---------------------------------------------------------------------------------

def build_random(seed: int, count: int = 30) -> list[int]:
    """Published initiatives at distinct schools with random public and confidential
    reports over a few areas and themes (so most cells have 0, 1, 2 or 3+ confidential
    schools)."""
    rnd = random.Random(seed)
    themes = []
    for i, area in enumerate(("examineren", "examineren", "diplomeren", "kwalificeren")):
        themes.append(moderation.save_theme(
            None, moderation.ThemeData(area=area, title=f"Thema {i} {area}"), actor=None))
    db.session.commit()
    ids = []
    for i in range(count):
        obstacles = []
        for _ in range(rnd.randint(1, 4)):
            area = rnd.choice(("examineren", "diplomeren", "kwalificeren", "valideren"))
            obstacles.append(ObstacleData(
                area=area, title=f"K{i}", severity=rnd.randint(1, 4),
                visibility="confidential" if rnd.random() < 0.25 else "public"))
        initiative = make_initiative(
            obstacles=obstacles, brin=f"{i:02d}ZZ", learners_count=rnd.randint(5, 400),
            sector=rnd.choice(("po", "vo", "mbo")), commit=False)
        for obstacle in initiative.obstacles:
            candidates = [t for t in themes if t.area_code == obstacle.area_code]
            if candidates and rnd.random() < 0.8:
                obstacle.theme_id = rnd.choice(candidates).id
        ids.append(initiative.id)
    db.session.commit()
    return ids


# --- the oracle ---------------------------------------------------------------------------

def load_reports() -> list[dict[str, Any]]:
    """Every report of a published entry, with its school, by plain SQL."""
    rows = db.session.execute(text(
        "SELECT o.id, o.initiative_id, o.area_code, o.theme_id, o.severity, o.visibility, "
        "i.learners_count, upper(g.brin) || '/' || coalesce(g.location_number, '') AS school "
        "FROM obstacle o JOIN initiative i ON i.id = o.initiative_id "
        "JOIN organisation g ON g.id = i.organisation_id WHERE i.state = 'published'"))
    themes = {r[0] for r in db.session.execute(text("SELECT id FROM theme"))}
    out = []
    for r in rows:
        row = dict(r._mapping)
        if row["theme_id"] not in themes:
            row["theme_id"] = None
        out.append(row)
    return out


def row_keys(report: dict[str, Any]) -> list[tuple]:
    theme = ("theme", report["theme_id"]) if report["theme_id"] else ("unthemed",)
    return [("total",), ("area", report["area_code"]), theme]


def figures_of(reports: list[dict[str, Any]]) -> dict[tuple, dict[str, int]]:
    """The national figures of every row, recomputed from reports."""
    grouped: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for report in reports:
        for key in row_keys(report):
            grouped[key].append(report)
    out = {}
    for key, items in grouped.items():
        initiatives = {r["initiative_id"]: r["learners_count"] or 0 for r in items}
        out[key] = {
            "initiatives": len(initiatives), "schools": len({r["school"] for r in items}),
            "learners": sum(initiatives.values()), "reports": len(items),
            "confidential": sum(r["visibility"] == "confidential" for r in items),
            **{f"severity:{k}": sum(str(r["severity"]) == k for r in items)
               for k in SEVERITIES},
        }
    return out


def contributors(reports: list[dict[str, Any]]) -> dict[tuple, dict[str, int]]:
    """Per row and figure: how many schools change the figure when their confidential
    reports are left out (brute force, one school at a time)."""
    full = figures_of(reports)
    schools = {r["school"] for r in reports if r["visibility"] == "confidential"}
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for school in schools:
        without = figures_of([r for r in reports if not (
            r["school"] == school and r["visibility"] == "confidential")])
        for key, values in full.items():
            other = without.get(key, dict.fromkeys(FIGURES, 0))
            for figure in FIGURES:
                if values[figure] != other[figure]:
                    counts[key][figure] += 1
    return counts


def table_cells(table: dict[str, Any]) -> dict[tuple, dict[str, int | None]]:
    out = {}
    for row in table["rows"]:
        key: tuple = ((row["kind"],) if row["kind"] in ("total", "unthemed")
                      else (row["kind"], row["area"] if row["kind"] == "area"
                            else row["theme_id"]))
        out[key] = {**{f: row[f] for f in ("initiatives", "schools", "learners", "reports",
                                           "confidential")},
                    **{f"severity:{k}": row["severity"][k] for k in SEVERITIES}}
    return out


def recoverable(cells: dict[tuple, dict[str, int | None]]) -> list[tuple]:
    """Hidden cells an attacker can compute from the shown ones and the public figures:
    the equations are the sums (areas = total, themes + no theme = total, severities =
    reports, reports - confidential = public reports); a hidden cell is recoverable when its
    unit vector lies in the row space of the equations restricted to hidden cells."""
    hidden = sorted(((key, f) for key, row in cells.items() for f, v in row.items()
                     if v is None), key=repr)
    if not hidden:
        return []
    index = {cell: i for i, cell in enumerate(hidden)}
    equations = []

    def add(total, parts):
        vector = np.zeros(len(hidden))
        for cell, sign in [(total, 1), *((p, -1) for p in parts)]:
            if cell in index:
                vector[index[cell]] += sign
        if vector.any():
            equations.append(vector)

    keys = list(cells)
    areas = [k for k in keys if k[0] == "area"]
    themes = [k for k in keys if k[0] in ("theme", "unthemed")]
    for key in keys:
        add((key, "reports"), [(key, f"severity:{k}") for k in SEVERITIES])
        add((key, "reports"), [(key, "confidential")])
    for figure in ("reports", "confidential", *(f"severity:{k}" for k in SEVERITIES)):
        add((("total",), figure), [(k, figure) for k in areas])
        add((("total",), figure), [(k, figure) for k in themes])
    if not equations:
        return []
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    out = []
    for cell, i in index.items():
        unit = np.zeros(len(hidden))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            out.append(cell)
    return out


def assert_table_holds(table: dict[str, Any], threshold: int) -> None:
    reports = load_reports()
    truth = figures_of(reports)
    who = contributors(reports)
    cells = table_cells(table)
    assert set(truth) <= set(cells) | {("theme", None)}
    for key, row in cells.items():
        expected = truth.get(key, dict.fromkeys(FIGURES, 0))
        conf_schools = who[key]["reports"]
        if 0 < conf_schools < threshold:
            assert all(v is None for v in row.values()), (key, row)
        for figure, value in row.items():
            if value is None:
                continue
            assert value == expected[figure], (key, figure)
            assert who[key][figure] == 0 or who[key][figure] >= threshold, (key, figure)
    assert recoverable(cells) == []


# --- tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_national_table_is_right_and_protects_small_cells(app, seed):
    build_random(seed)
    summary_cache.clear()
    threshold = int(app.config["SMALL_NUMBER_THRESHOLD"])
    table = national(PUBLISHED, exact=False)
    assert_table_holds(table, threshold)
    hidden = sum(v is None for row in table_cells(table).values() for v in row.values())
    assert hidden > 0  # the data really has small confidential cells
    # Staff see the exact table: every figure equals the recomputation.
    exact = table_cells(national(PUBLISHED, exact=True))
    truth = figures_of(load_reports())
    for key, row in exact.items():
        assert row == truth.get(key, dict.fromkeys(FIGURES, 0)), key


def test_threshold_is_configurable(app):
    build_random(4)
    for threshold in (2, 5):
        app.config["SMALL_NUMBER_THRESHOLD"] = threshold
        summary_cache.clear()
        table = national(PUBLISHED, exact=False)
        assert table["threshold"] == threshold
        assert_table_holds(table, threshold)


def test_public_figures_count_public_reports_only(app):
    """Under any filter the public summary is what it would be without the confidential
    reports; staff figures include them."""
    build_random(5)
    public_only = load_reports()
    tally = {"reports": sum(r["visibility"] == "public" for r in public_only),
             "all": len(public_only)}
    assert 0 < tally["reports"] < tally["all"]
    public = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=False)
    staff = compute_summary(InitiativeFilter.empty(), PUBLISHED, exact=True)
    assert public["totals"]["obstacles"] == tally["reports"]
    assert staff["totals"]["obstacles"] == tally["all"]
    for area in AREA_CODES:
        expected = sum(1 for r in public_only
                       if r["area_code"] == area and r["visibility"] == "public")
        got = next(a for a in public["areas"] if a["code"] == area)["obstacles"]
        assert got == expected, area
    # The national table is the same under every filter (it is never filtered).
    filtered = compute_summary(InitiativeFilter.from_args(
        __import__("werkzeug").datastructures.MultiDict({"sector": "po"})), PUBLISHED)
    assert filtered["national"] == public["national"]


def test_page_api_and_documents_show_the_national_table(client, app):
    build_random(6)
    summary_cache.clear()
    table = national(PUBLISHED, exact=False)
    api = client.get("/api/v1/statistics?sector=po").get_json()
    assert api["national"] == table
    html = client.get("/knelpunten?area=examineren").get_data(as_text=True)
    assert "Landelijk, met vertrouwelijke meldingen" in html
    assert "niet getoond" in html
    total = table["rows"][0]
    assert f'<td class="num">{total["reports"]}</td>' in html


def test_cells_pinned_down_by_several_lines_together_are_found():
    """Each line below has two hidden cells, so no single "total minus the rest" works;
    solved by hand: x - q and y - q alone pin nothing down, but with x + y known as well,
    x - y = (x - q) - (y - q) gives x and y, and then q. Hiding T as well undoes that."""
    from registry.summary.disclosure import _determined_cells

    lines = [(("x",), [("p",), ("q",)]),          # x = p + q
             (("y",), [("s",), ("q",)])]          # y = s + q
    assert _determined_cells(lines, {("x",), ("y",), ("q",)}) == []
    lines.append((("T",), [("x",), ("y",)]))     # T = x + y
    assert sorted(_determined_cells(lines, {("x",), ("y",), ("q",)})) == [
        ("q",), ("x",), ("y",)]
    assert _determined_cells(lines, {("T",), ("x",), ("y",), ("q",)}) == []


def test_advisors_read_confidential_reports_without_schools_and_each_view_is_logged(
        client, login):
    from registry.audit.models import AuditEvent

    secret = make_initiative(
        school_name="Geheime School", title="Geheim initiatief", obstacles=[ObstacleData(
            area="examineren", title="Examen buiten het reglement", severity=4,
            status="omzeild", workaround="Afspraak met de commissie",
            visibility="confidential")])
    make_initiative(obstacles=[ObstacleData(area="examineren", title="Openbaar knelpunt",
                                            severity=2)])
    assert client.get("/knelpunten/vertrouwelijk").status_code == 302  # to the login
    login(client, "advisor")
    count = db.session.query(AuditEvent).filter_by(action="obstacle.confidential_view").count
    before = count()
    html = client.get("/knelpunten/vertrouwelijk").get_data(as_text=True)
    assert "Examen buiten het reglement" in html
    assert "Afspraak met de commissie" in html
    assert "Openbaar knelpunt" not in html
    assert "Geheime School" not in html
    assert "Geheim initiatief" not in html
    assert f"/initiatieven/{secret.id}" not in html
    assert count() == before + 1
    client.get("/knelpunten/vertrouwelijk")
    assert count() == before + 2
