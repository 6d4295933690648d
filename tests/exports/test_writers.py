"""The fast paths of the export writers (issue 11) give exactly what the plain paths give."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pytest

from registry.exports import services
from registry.exports.records import DataSource
from registry.exports.services import Column, _cell_text
from registry.filters import InitiativeFilter
from tests.exports import data as testdata

COLUMNS = [
    Column("tekst", services.TEXT, "", "", "", ""),
    Column("getal", services.INT, "", "", "", ""),
    Column("datum", services.DATE, "", "", "", ""),
    Column("moment", services.DATETIME, "", "", "", ""),
    Column("link", services.URL, "", "", "", ""),
]

TEXTS = [
    "gewoon", " spatie voor", "spatie na ", "twee\nregels", "regel\n", "&<>\"'",
    "=1+2", "+31", "-5", "@SOM(A1)", "\ttab", "\rterug", "stuur\x01teken", "_x0041_ letterlijk",
    "niet\ufffeteken", "<r>rijk</r>", "<r>half", "é ü ñ 中文 🙂", "a" * 20_000, "", None,
]
VALUES = [0, -3, 7, 123456789012345678901, 1.5, 0.1 + 0.2, 1e20, -2.5e-7, True, False, None]
DATES = [date(2026, 1, 2), date(1900, 2, 28), date(1900, 3, 1), None, "geen datum"]
MOMENTS = [datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 6, 1, 12, 0, tzinfo=UTC), None]


def _rows():
    n = max(len(TEXTS), len(VALUES), len(DATES), len(MOMENTS)) * 2
    for i in range(n):
        yield {
            "tekst": TEXTS[i % len(TEXTS)], "getal": VALUES[i % len(VALUES)],
            "datum": DATES[i % len(DATES)], "moment": MOMENTS[i % len(MOMENTS)],
            # a date in a column without a date format, and a row without some keys
            "link": date(2026, 5, 4) if i % 7 == 3 else f"https://example.org/{i}",
        } if i % 11 != 5 else {"tekst": "alleen tekst"}
    yield {}  # an empty row


def _parts(out) -> dict[str, bytes]:
    with out, zipfile.ZipFile(out) as z:
        # docProps/core.xml holds the creation time
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _workbook(monkeypatch, fast: bool):
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(services._XlsxSheet, "_write_fast", lambda self, n, values: False)
        return services.to_xlsx([("proef", COLUMNS, _rows())], {"source": "live"}, title="t")


def test_fast_xlsx_rows_are_the_xml_xlsxwriter_writes(monkeypatch):
    """Rows written as XML directly are byte for byte what XlsxWriter's own cell writers
    (the only path before issue 11, still used for unusual values) produce."""
    fast, plain = _parts(_workbook(monkeypatch, True)), _parts(_workbook(monkeypatch, False))
    assert fast.keys() == plain.keys()
    for name in plain:
        assert fast[name] == plain[name], name


def test_fast_xlsx_values_read_back():
    with services.to_xlsx([("proef", COLUMNS, _rows())], {}, title="t") as out:
        wb = openpyxl.load_workbook(out)
    ws = wb["proef"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("tekst", "getal", "datum", "moment", "link")
    assert rows[1][:4] == ("gewoon", 0, datetime(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5))
    texts = [r[0] for r in rows[1:]]
    assert " spatie voor" in texts and "spatie na " in texts and "&<>\"'" in texts
    assert "'=1+2" in texts and "'-5" in texts and "'\ttab" in texts and "'@SOM(A1)" in texts
    assert "a" * 20_000 in texts and "é ü ñ 中文 🙂" in texts
    assert "<r>rijk</r>" in texts and "<r>half" in texts  # text, never raw XML
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:E{len(list(_rows())) + 1}"  # the empty last row too
    assert ws["C2"].number_format == "yyyy-mm-dd" and ws["D2"].number_format == "yyyy-mm-dd hh:mm"


def test_csv_fast_path_matches_cell_text():
    class Label(str):
        pass

    rows = list(_rows()) + [{"tekst": Label("=label"), "getal": 2**70, "datum": date(2026, 1, 1),
                             "moment": datetime(2026, 1, 1, 8, 30), "link": 1.0}]
    for sep in (",", ";"):
        expected = io.StringIO()
        writer = csv.writer(expected, delimiter=sep, lineterminator="\r\n")
        writer.writerow([c.name for c in COLUMNS])
        writer.writerows([[_cell_text(row.get(c.name)) for c in COLUMNS] for row in rows])
        for batch in (1, 3, 500):
            body = b"".join(services.to_csv(iter(rows), COLUMNS, sep=sep, batch=batch))
            assert body == ("\ufeff" + expected.getvalue()).encode("utf-8")
    assert b"".join(services.to_csv([], COLUMNS, bom=False)) == b"tekst,getal,datum,moment,link\r\n"


@pytest.mark.parametrize("args", [{}, {"area": "examineren"}, {"province": "Gelderland"}])
@pytest.mark.parametrize("first", ["knelpunten", "initiatieven", "themas"])
def test_one_pass_workbook_equals_one_sheet_at_a_time(app, args, first):
    """datasets_to_xlsx (one pass over the records) == to_xlsx with each sheet's own rows."""
    from werkzeug.datastructures import MultiDict

    testdata.build()
    flt = InitiativeFilter.from_args(MultiDict(args), areas={"examineren", "diplomeren"},
                                     dimensions=set())
    source = DataSource()
    themes = source.themes()
    records = list(source.initiatives(flt))

    def link(i):
        return f"https://example.org/initiatieven/{i}"

    order = [first] + [d for d in services.DATASETS if d != first]
    rows = {
        "knelpunten": lambda: services.obstacle_rows(records, flt, themes, link),
        "initiatieven": lambda: services.initiative_rows(records, flt, link),
        "themas": lambda: services.theme_rows(records, flt, themes, False, 3),
    }
    meta = {"source": "live", "filter": flt.describe()}
    separate = services.to_xlsx([(d, services.DATASETS[d], rows[d]()) for d in order], meta,
                                title="t")
    one_pass = services.datasets_to_xlsx(order, iter(records), flt, themes, link, False, 3,
                                         meta, title="t")
    assert _parts(one_pass) == _parts(separate)


def test_theme_tallies_match_the_summary_aggregate(app):
    """The themes export counts exactly what the summary counts, per theme."""
    from registry.summary.services import aggregate

    testdata.build()
    flt = InitiativeFilter.empty()
    source = DataSource()
    themes = source.themes()
    tallies = services.ThemeTallies(flt, themes)
    for rec in source.initiatives(flt):
        tallies.add(rec)
    agg = aggregate(source.initiatives(flt), flt, themes)
    assert tallies.tallies.keys() == agg["themes"].keys()
    for theme_id, tally in tallies.tallies.items():
        assert tally.as_dict() == agg["themes"][theme_id].as_dict()


def test_records_without_dimensions_differ_only_there(app):
    from registry.exports.records import live_initiatives

    testdata.build()
    full = list(live_initiatives(InitiativeFilter.empty()))
    lean = list(live_initiatives(InitiativeFilter.empty(), dimensions=False))
    assert any(rec["dimensions"] for rec in full)
    assert [{**rec, "dimensions": {}} for rec in full] == lean
