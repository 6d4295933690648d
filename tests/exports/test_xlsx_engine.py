"""The XLSX engine of issue 20 writes the cells the previous engine wrote.

``registry.exports.xlsx`` writes SpreadsheetML itself (XlsxWriter spent 80% of the export
of all obstacles on its per-cell work). The oracle is the previous engine, XlsxWriter's
public API in constant-memory mode (``tests/exports/xlsxwriter_reference.py``, unchanged):
both workbooks are read back with openpyxl (and the strings from the sheet XML, decoded as
Excel does, by ``test_writers.Read``) and compared cell by cell: value, type, number format
and boldness, and per sheet the widths, frozen header, autofilter and document properties.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.exports import xlsx
from tests.exports import data as testdata
from tests.exports import xlsxwriter_reference as reference
from tests.exports.test_writers import COLUMNS, Col, Read

FRAGMENTS = ["=", "+", "-", "@", "\t", "\r", "\n", " ", "<r>", "</r>", "<", ">", "&", '"', "'",
             "_x0041_", "_X0041_", "_x00e9__x005F_", "\x00", "\x01", "\x0b", "\x1f", "\x7f",
             "\x85", "\u2028", "\ufffe", "\uffff", "\ud800", "\udfff", "é", "中", "🙂",
             "gewoon", "0123", "1e5"]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)),
                 max_size=6).map("".join)
zones = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)),
                  st.integers(min_value=-23 * 60, max_value=23 * 60))
moments = st.datetimes(min_value=datetime(1900, 1, 1, 12), max_value=datetime(9998, 1, 1),
                       timezones=st.none() | zones)
values = st.one_of(
    st.none(), texts, texts.map(lambda t: f"<r>{t}</r>"), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**15 - 1, 10**15, -(10**15), 10**16 + 1, 2**53 + 1, -0.0, 1e16]),
    st.floats(), st.dates(min_value=date(1900, 1, 1)), moments,
    st.decimals(allow_nan=False, places=2, max_value=10**6, min_value=-(10**6)),
)
rows = st.lists(st.dictionaries(st.sampled_from([c.name for c in COLUMNS]), values),
                max_size=12)


def view(out) -> dict:
    """What a reader gets from a workbook, per sheet."""
    read = Read(out)
    props = read.wb.properties
    sheets = {}
    for name in read.wb.sheetnames:
        ws = read.wb[name]
        cells = [[(c.data_type, c.number_format, bool(c.font.b)) for c in row]
                 for row in ws.iter_rows()]
        widths = {i: dim.width for dim in ws.column_dimensions.values() if dim.customWidth
                  for i in range(dim.min, dim.max + 1)}
        sheets[name] = {"rows": read.rows(name), "cells": cells, "widths": widths,
                        "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref}
    return {"sheets": sheets, "order": read.wb.sheetnames,
            "properties": (props.title, props.subject, props.description, props.keywords,
                           props.creator)}


def write(engine, sheets: list[tuple[str, list, list[dict]]]):
    book = engine.XlsxBook()
    for title, columns, sheet_rows in sheets:
        sheet = book.add_sheet(title, columns)
        for row in sheet_rows:
            sheet.write(row)
    return book.finish(title="Titel & <meer>", subject="bron=live; filter=alle",
                       comments='{"a": "é"}', keywords="sector=mbo")


def same_workbook(sheets: list[tuple[str, list, list[dict]]]) -> dict:
    ours = view(write(xlsx, sheets))
    assert ours == view(write(reference, sheets))
    return ours


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(first=rows, second=rows)
def test_any_values_give_the_cells_of_the_previous_engine(first, second):
    same_workbook([("proef", COLUMNS, first),
                   ("tweede", [Col("tekst", "tekst", 12), Col("datum", "datum", 9)], second)])


def test_headers_titles_and_odd_values_as_before():
    columns = [Col("<r>kop</r>", "tekst", 7), Col("=kop", "geheel getal", 0.5),
               Col(" spatie", "datum-tijd", 100), Col("_x0041_", "url", 1), Col("", "tekst", 3)]
    odd = [{"<r>kop</r>": "<r>stuur\x01teken\rterug\ufffe</r>", "=kop": 10**15,
            " spatie": datetime(1900, 1, 1, 6), "_x0041_": Decimal("1.50")},
           {"<r>kop</r>": "x" * 40_000, "=kop": -(10**15) + 1, " spatie": date(1900, 2, 28)},
           {"=kop": 2**53 + 1, " spatie": datetime(1900, 3, 1, 0, 0, 0, 1)},
           {}]
    read = same_workbook([("o'ver & <zo>", columns, odd), ("leeg", COLUMNS, [])])
    assert read["order"] == ["o'ver & <zo>", "leeg"]
    assert read["sheets"]["leeg"]["rows"] == [tuple(c.name for c in COLUMNS)]


def test_the_parts_are_those_of_a_workbook():
    out = write(xlsx, [("a", COLUMNS, [{"tekst": "x"}]), ("b", COLUMNS, [])])
    with out, zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        names = z.namelist()
    assert names[0] == "[Content_Types].xml"
    assert set(names) == {"[Content_Types].xml", "_rels/.rels", "docProps/core.xml",
                          "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                          "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}


def test_exports_and_the_summary_workbook_match_the_previous_engine(app, client, monkeypatch):
    """The real downloads, rendered by each engine (nothing kept between them)."""
    testdata.build()
    app.config["DOCUMENT_CACHE_DIR"] = ""
    paths = ["/export/knelpunten.xlsx", "/export/initiatieven.xlsx?sector=mbo",
             "/knelpunten/knelpuntenoverzicht.xlsx"]

    def downloads():
        out = {}
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            out[path] = view(io.BytesIO(response.get_data()))
        return out

    ours = downloads()
    monkeypatch.setattr("registry.exports.services.XlsxBook", reference.XlsxBook)
    monkeypatch.setattr("registry.summary.documents.XlsxBook", reference.XlsxBook)
    theirs = downloads()
    for path in paths:
        assert ours[path]["order"] == theirs[path]["order"], path
        assert ([_undated(p) for p in ours[path]["properties"]]
                == [_undated(p) for p in theirs[path]["properties"]]), path
        for name, sheet in ours[path]["sheets"].items():
            other = theirs[path]["sheets"][name]
            for key in ("freeze", "filter", "widths"):
                assert sheet[key] == other[key], (path, name, key)
            for i, (row, cells) in enumerate(zip(sheet["rows"], sheet["cells"], strict=True)):
                if "data_date" not in row:  # the moment of rendering differs
                    assert row == other["rows"][i], (path, name, i)
                assert cells == other["cells"][i], (path, name, i)
    knelpunten = ours["/export/knelpunten.xlsx"]["sheets"]["knelpunten"]["rows"]
    assert len(knelpunten) == 1 + 6  # the header and the six public obstacles


def _undated(text: str | None) -> str | None:
    """Metadata without the moment of rendering."""
    return re.sub(r'"data_date": "[^"]*"', "", text) if text else text
