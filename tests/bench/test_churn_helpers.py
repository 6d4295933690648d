"""The helpers of the churn benchmark (bench/churn.py, issue 20): percentiles, merging the
latency distributions of two wrk runs, reading wrk's output, and the forms the writer and the
moderator fill in through the app. No timing here; every check has its own oracle (counting,
the exact percentile of all samples, SQL)."""
from __future__ import annotations

import math
import random
import re

import pytest
from sqlalchemy import text

from bench.churn import (
    CHURN_MARKER,
    Churn,
    form_body,
    hidden_fields,
    merge_quantiles,
    parse_wrk,
    percentile,
    summarise_runs,
)
from registry.extensions import db
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


def test_percentile_is_the_nearest_rank():
    rnd = random.Random(5)
    for n in (1, 2, 7, 100, 1001):
        values = [rnd.expovariate(1 / 20) for _ in range(n)]
        for q in (1, 50, 95, 99, 100):
            p = percentile(values, q)
            # at least q% of the values are at or below it, fewer than q% strictly below
            assert sum(v <= p for v in values) >= q / 100 * n
            assert sum(v < p for v in values) < q / 100 * n
    assert percentile([], 95) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def _table(samples: list[float]) -> list[float]:
    """What report.lua prints: the latency at every 0.1 percentile (0 = the minimum)."""
    ordered = sorted(samples)
    n = len(ordered)
    return [ordered[0]] + [ordered[max(1, math.ceil(i / 1000 * n)) - 1] for i in range(1, 1001)]


def test_merged_percentiles_match_the_percentiles_of_all_samples():
    rnd = random.Random(11)
    fast = [rnd.lognormvariate(1.0, 0.4) for _ in range(40_000)]  # one server: ~3 ms
    slow = [rnd.lognormvariate(3.0, 0.8) for _ in range(9_000)]   # the other: ~20 ms, fewer
    both = sorted(fast + slow)
    parts = [(len(fast), _table(fast)), (len(slow), _table(slow))]
    for q in (50, 95, 99):
        merged = merge_quantiles(parts, q)
        rank = math.ceil(q / 100 * len(both))
        # the tables have 0.1-percentile resolution: the answer lies within a few tenths of a
        # percent (in ranks) of the exact percentile of all samples together
        slack = int(0.003 * len(both))
        assert both[max(rank - 1 - slack, 0)] <= merged <= both[min(rank - 1 + slack,
                                                                    len(both) - 1)]
    # one part: its own table
    assert merge_quantiles([(len(fast), _table(fast))], 95) == _table(fast)[950]
    # a part without requests does not count
    assert merge_quantiles([(0, [999.0] * 1001), (len(fast), _table(fast))], 50) == \
        _table(fast)[500]
    assert merge_quantiles([], 95) is None


WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000/
  1 threads and 8 connections
BENCH_JSON {"requests": 1200, "duration_us": 2000000, "bytes": 5000, "p50_ms": 1.500, \
"p95_ms": 4.000, "p99_ms": 9.000, "max_ms": 20.000, "mean_ms": 2.000, "errors_connect": 0, \
"errors_read": 0, "errors_write": 0, "errors_status": 200, "errors_timeout": 0}
BENCH_Q [0.100,0.200,0.300]
"""


def test_wrk_output_is_read_with_only_good_answers_counted():
    data = parse_wrk(WRK_OUTPUT)
    assert data["p95_ms"] == 4.0
    assert data["errors"] == 200
    assert data["rps"] == (1200 - 200) / 2  # 2xx/3xx responses per second
    assert data["quantiles"] == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="no BENCH_JSON"):
        parse_wrk("wrk: connection refused\n")


def test_the_hidden_fields_of_the_right_form_are_found():
    page = """<form action="/zoeken"><input type="hidden" name="q" value="x"></form>
    <form method="post" action="/moderatie/7/publiceren">
      <input type="hidden" name="csrf_token" value="abc"><input type="hidden" name="version_id"
      value="3"><input type="text" name="note" value="not hidden"></form>
    <form method="post" action="/moderatie/7/afwijzen">
      <input type="hidden" name="csrf_token" value="abc"><input type="hidden" name="version_id"
      value="3"><textarea name="reason"></textarea></form>"""
    assert hidden_fields(page, "/moderatie/7/publiceren") == {"csrf_token": "abc",
                                                               "version_id": "3"}
    assert hidden_fields(page, "/moderatie/8/publiceren") == {}
    assert hidden_fields(page) == {"q": "x", "csrf_token": "abc", "version_id": "3"}


def test_the_moderators_publish_form_parsed_from_the_real_entry_page_publishes(app, client,
                                                                              login):
    item = make_initiative(state=InitiativeState.PENDING)
    login(client, "moderator")
    page = client.get(f"/moderatie/{item.id}").get_data(as_text=True)
    action = f"/moderatie/{item.id}/publiceren"
    fields = hidden_fields(page, action)
    assert set(fields) >= {"csrf_token", "version_id"}
    assert client.post(action, data=fields).status_code == 302
    state = db.session.execute(text("select state from initiative where id = :i"),
                               {"i": item.id}).scalar_one()
    assert state == InitiativeState.PUBLISHED


def test_the_writers_submission_parsed_from_the_real_form_is_stored(app, client):
    app.config["MIN_FILL_SECONDS"] = 0
    page = client.get("/aanmelden").get_data(as_text=True)
    fields = hidden_fields(page, "/aanmelden") or hidden_fields(page)
    assert "csrf_token" in fields
    response = client.post("/aanmelden", data={**fields, **form_body(42)})
    assert response.status_code in (302, 303)
    titles = db.session.execute(text("select title from initiative where title like :p"),
                                {"p": f"{CHURN_MARKER} %"}).scalars().all()
    assert titles == [f"{CHURN_MARKER} 42"]


def test_writes_are_counted_per_measurement_window():
    churn = Churn([1], moderator=None, pending=[])  # type: ignore[arg-type]
    churn.submitted = [1.0, 2.0, 3.0, 4.0, 5.5]
    churn.published = [2.5, 7.0]
    assert churn.writes_between(2.0, 5.0) == {"submissions": 3, "publications": 1}
    assert churn.writes_between(6.0, 8.0) == {"submissions": 0, "publications": 1}


def test_repeated_runs_give_the_median_and_the_best_p95():
    runs = [{"status": "ok", "path": "/x", "p50_ms": p50, "p95_ms": p95, "p99_ms": p95 * 2,
             "rps": rps, "writes": {"submissions": w, "publications": 1}}
            for p50, p95, rps, w in ((1.0, 30.0, 100.0, 9), (2.0, 10.0, 300.0, 10),
                                     (3.0, 20.0, 200.0, 11))]
    out = summarise_runs(runs)
    assert (out["p50_ms"], out["p95_ms"], out["rps"]) == (2.0, 20.0, 200.0)
    assert out["best_p95_ms"] == 10.0
    assert out["writes"] == {"submissions": 10, "publications": 1}
    assert len(out["runs"]) == 3
    assert summarise_runs([{"status": "none answered within 10 s"}])["status"].startswith(
        "none")


def test_the_churn_table_is_well_formed_markdown_with_the_targets():
    from bench.scale_report import churn_table

    fig = {"status": "ok", "path": "/knelpunten", "p50_ms": 2.0, "p95_ms": 150.0,
           "p99_ms": 400.0, "rps": 900.0, "writes": {"submissions": 10, "publications": 2}}
    res = {"reads": {"knelpunten": {"anonymous": fig, "session": {**fig, "p95_ms": 50.0}}}}
    lines = churn_table(10_000, [("SQLite", res), ("PostgreSQL", res)])
    widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
    assert len(widths) == 1  # every row has as many cells as the header
    summary = [line for line in lines if "`/knelpunten`" in line]
    assert summary[0].endswith("| NO / NO |")  # 150 ms is over the 100 ms target at 10,000
    assert summary[1].endswith("| yes / yes |")
    assert "10 + 2" in summary[0]  # submissions + publications during the measurement


def test_the_section_is_rendered_from_partial_figures_and_replaced_in_place(tmp_path):
    from bench.scale_report import END, START, render, write_section

    empty = render({})
    assert empty.count("Not measured yet") == 4  # churn, two servers, Datasette, cold
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n## Older results\n\nKept.\n")
    write_section(doc, empty)
    write_section(doc, "### Reads while the data changes (churn)\n\nnew figures\n")
    text = doc.read_text()
    assert text.count(START) == text.count(END) == 1
    assert "new figures" in text
    assert "Not measured yet" not in text
    assert text.index(START) < text.index("## Older results")
    assert text.endswith("## Older results\n\nKept.\n")
