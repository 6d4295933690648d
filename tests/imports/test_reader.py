"""Reading files: encodings and delimiters as spreadsheets write them, formula cells, limits.
The oracle is the text the test wrote into the file."""
from __future__ import annotations

import codecs

import pytest
from openpyxl import Workbook

from registry.imports import reader
from registry.imports.fields import RowBuilder
from registry.taxonomy.services import current as current_taxonomy

ROWS = [["Naam", "Plaats", "Opmerking"],
        ["Sint-Jozefschool", "’s-Hertogenbosch", "café; “leren”, één"],
        ["De Wilg", "Tiel", 'zegt "ja"']]


def _csv(rows, sep: str) -> str:
    def cell(value: str) -> str:
        if any(c in value for c in (sep, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value
    return "\r\n".join(sep.join(cell(v) for v in row) for row in rows) + "\r\n"


def _read(path, app):
    with app.test_request_context("/"):
        info = reader.inspect(path, 10_000_000)
        with reader.open_table(path, info) as table:
            return info, table.header, [cells for _n, cells in table.rows]


@pytest.mark.parametrize(("encoding", "bom", "sep", "expected"), [
    ("cp1252", b"", ";", "cp1252"),  # Dutch Excel: "CSV (gescheiden door lijstscheidingsteken)"
    ("utf-8", codecs.BOM_UTF8, ",", "utf-8-sig"),  # "CSV UTF-8"
    ("utf-8", b"", "\t", "utf-8"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "\t", "utf-16"),  # "Unicode-tekst"
    ("utf-8", b"", "|", "utf-8"),
])
def test_encodings_and_delimiters_are_detected(app, tmp_path, encoding, bom, sep, expected):
    path = tmp_path / "lijst.csv"
    path.write_bytes(bom + _csv(ROWS, sep).encode(encoding))
    info, header, rows = _read(path, app)
    assert (info.encoding, info.delimiter) == (expected, sep)
    assert [header, *rows] == ROWS


def test_one_column_and_blank_rows(app, tmp_path):
    path = tmp_path / "een.csv"
    path.write_bytes(b"Naam\r\nDe Wilg\r\n\r\nHet Anker\r\n")
    _info, header, rows = _read(path, app)
    assert header == ["Naam"]
    assert rows == [["De Wilg"], ["Het Anker"]]
    path.write_bytes(b"Naam;Plaats\r\nDe Wilg;Tiel\r\n;\r\n\r\nHet Anker;Ede\r\n")
    info, header, rows = _read(path, app)
    assert info.delimiter == ";"
    assert rows == [["De Wilg", "Tiel"], ["Het Anker", "Ede"]]


def test_workbook_cells_become_text(app, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Naam", "Startjaar", "Aantal", "Datum", "Formule", "Tekst"])
    sheet.append(["De Wilg", 2021, 1200.0, __import__("datetime").date(2024, 5, 1), "=1+1",
                  "'=A1"])
    sheet.append(["Het Anker", 2022.5, None, None, "=SUM(B2:B3)", "-eerste punt"])
    path = tmp_path / "lijst.xlsx"
    book.save(path)
    with app.test_request_context("/"):
        info = reader.inspect(path, 10_000_000)
        with reader.open_table(path, info) as table:
            assert table.typed
            assert table.header[0] == "Naam"
            rows = [cells for _n, cells in table.rows]
    assert rows[0][:4] == ["De Wilg", "2021", "1200", "2024-05-01"]
    assert rows[1][:2] == ["Het Anker", "2022.5"]
    # the formula cells are marked, the text cells are not
    assert [isinstance(r[4], reader.FormulaText) for r in rows] == [True, True]
    assert not isinstance(rows[0][5], reader.FormulaText)


@pytest.mark.parametrize(("cell", "typed", "value", "formula"), [
    ("=HYPERLINK(\"http://x\")", False, "=HYPERLINK(\"http://x\")", True),
    ("@SUM(A1)", False, "@SUM(A1)", True),
    ("+cmd|' /C calc'!A0", False, "+cmd|' /C calc'!A0", True),
    ("-SUM(A1:A2)", False, "-SUM(A1:A2)", True),
    ("+31 6 12345678", False, "+31 6 12345678", False),
    ("- eerste punt", False, "- eerste punt", False),
    ("'=A1", False, "=A1", False),  # the registry's export (and a spreadsheet) mark text
    ("'+31", True, "+31", False),
    ("=A1", True, "=A1", False),  # a text cell of a workbook is text
    (reader.FormulaText("=A1"), True, "=A1", True),  # a formula cell is not
])
def test_formula_cells_are_never_read_as_data(app, cell, typed, value, formula):
    with app.test_request_context("/"):
        builder = RowBuilder(current_taxonomy(), ["Naam"], {"title": "Naam"}, typed=typed)
        assert builder.cell(cell) == (value, formula)
        row = builder.build(2, [cell])
    assert bool(row.problems) is formula
    if formula:
        assert str(row.problems[0][1]).startswith(
            "Deze cel bevat een formule of begint als een formule")


def test_rows_beyond_the_limits_are_refused(app, tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    path = tmp_path / "lang.csv"
    path.write_text("Naam\n" + "".join(f"School {i}\n" for i in range(4)), encoding="utf-8")
    with app.test_request_context("/"):
        info = reader.inspect(path, 10_000)
        with pytest.raises(reader.FileProblem) as problem:
            with reader.open_table(path, info) as table:
                list(table.rows)
        assert "meer dan 3 rijen" in str(problem.value.message)
        wide = tmp_path / "breed.csv"
        wide.write_text("Naam;Plaats\n" + ";".join(["x"] * 300) + "\n", encoding="utf-8")
        info = reader.inspect(wide, 10_000)
        with pytest.raises(reader.FileProblem) as problem:
            with reader.open_table(wide, info) as table:
                list(table.rows)
        assert "300 cellen" in str(problem.value.message)
