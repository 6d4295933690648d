"""The export writers.

XLSX (``registry.exports.xlsx``): every workbook is read back with openpyxl, a parser
independent of XlsxWriter, and compared with values written out literally here. openpyxl
does not decode the ``_xHHHH_`` escapes of OOXML strings (ECMA-376 part 1, 22.9.2.19
ST_Xstring) as Excel does, so ``_excel_text`` below decodes them per that rule, in each text
element (each run of a rich string) on its own.

The CSV writer and the one-pass export of ``registry.exports.services`` are tested against
their plain definitions; services is imported inside those tests, so the XLSX tests do not
depend on it.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from xml.etree import ElementTree

import openpyxl
import pytest

from registry.exports import xlsx
from registry.exports.xlsx import XlsxBook

AUTHOR = "Register gepersonaliseerd leren"
MARKER = "\u2026 [ingekort]"  # how a text cut at Excel's limit of 32,767 characters ends


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    width: int = 16


COLUMNS = [
    Col("tekst", "tekst", 30),
    Col("getal", "geheel getal", 8),
    Col("decimaal", "decimaal getal", 11),
    Col("datum", "datum", 12),
    Col("moment", "datum-tijd", 17),
    Col("link", "url", 35),
]


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _decode(text: str) -> str:
    """ST_Xstring: ``_xHHHH_`` is the character U+HHHH."""
    return re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


class Read:
    """A finished workbook: its zip parts (every XML part parsed), openpyxl's view, and the
    inline strings of each sheet as Excel shows them.

    openpyxl reads the workbook. It does not decode the ``_xHHHH_`` escapes of strings
    (ECMA-376 part 1, 22.9.2.19 ST_Xstring) as Excel does (with ``rich_text=True`` it decodes
    some of them), so the strings are also read here from the sheet XML, every text element
    (every run of a rich string) decoded on its own, and ``rows`` shows those.
    """

    def __init__(self, out) -> None:
        with out:
            data = out.read()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.parts = {name: z.read(name) for name in z.namelist()}
        self.xml = {}
        for name, body in self.parts.items():
            if name.endswith((".xml", ".rels")):
                self.xml[name] = ElementTree.fromstring(body)  # well-formed, or this raises
        self.wb = openpyxl.load_workbook(io.BytesIO(data))
        rels = self.xml["xl/_rels/workbook.xml.rels"].iter(f"{PACKAGE_REL}Relationship")
        targets = {rel.get("Id"): rel.get("Target").removeprefix("/xl/") for rel in rels}
        self.paths = {sheet.get("name"): "xl/" + targets[sheet.get(f"{REL}id")]
                      for sheet in self.xml["xl/workbook.xml"].iter(f"{MAIN}sheet")}

    def strings(self, sheet: str) -> dict[str, tuple[str, str]]:
        """Cell reference -> (the text as stored, the text as Excel shows it)."""
        out = {}
        for cell in self.xml[self.paths[sheet]].iter(f"{MAIN}c"):
            if cell.get("t") == "inlineStr":
                texts = [t.text or "" for t in cell.find(f"{MAIN}is").iter(f"{MAIN}t")]
                out[cell.get("r")] = ("".join(texts), "".join(_decode(t) for t in texts))
        return out

    def rows(self, sheet: str) -> list[tuple]:
        strings = self.strings(sheet)
        rows = []
        for row in self.wb[sheet].iter_rows():
            values = []
            for cell in row:
                if cell.coordinate in strings:
                    stored, shown = strings[cell.coordinate]
                    assert cell.value == stored, cell.coordinate  # two parsers agree
                    values.append(shown)
                else:
                    values.append(cell.value)
            rows.append(tuple(values))
        return rows


def _book(rows, columns=COLUMNS, title="proef") -> Read:
    book = XlsxBook()
    sheet = book.add_sheet(title, columns)
    for row in rows:
        sheet.write(row)
    sheet.close()
    return Read(book.finish(title="t"))


def _texts(texts) -> list:
    """Each text in column A of its own row; what openpyxl + Excel's unescaping read back."""
    read = _book([{"tekst": t} for t in texts], [Col("tekst", "tekst")])
    return [row[0] for row in read.rows("proef")[1:]]


def _cells(read: Read, sheet: str) -> list[str]:
    """The references of the cells in the sheet XML; fails on any formula."""
    root = read.xml[read.paths[sheet]]
    assert not list(root.iter(f"{MAIN}f"))
    return [cell.get("r") for cell in root.iter(f"{MAIN}c")]


def _widths(ws) -> dict[int, float]:
    widths = {}
    for dim in ws.column_dimensions.values():
        if dim.customWidth:
            for i in range(dim.min, dim.max + 1):
                widths[i] = dim.width
    return widths


# --- XLSX: layout ---

def test_header_widths_freeze_autofilter_and_properties():
    book = XlsxBook()
    sheet = book.add_sheet("proef", COLUMNS)
    for i in range(3):
        sheet.write({"tekst": f"rij {i}", "getal": i})
    assert sheet.close() == 3
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    read = Read(book.finish(title="Titel", subject="Onderwerp", comments='{"a": 1}',
                            keywords="sector=mbo"))
    after = datetime.now(UTC).replace(tzinfo=None)
    ws = read.wb["proef"]
    assert read.wb.sheetnames == ["proef"]
    assert read.rows("proef") == [
        ("tekst", "getal", "decimaal", "datum", "moment", "link"),
        ("rij 0", 0, None, None, None, None),
        ("rij 1", 1, None, None, None, None),
        ("rij 2", 2, None, None, None, None),
    ]
    assert [c.font.b for c in ws[1]] == [True] * 6
    assert ws["A2"].font.b is False
    assert ws["B2"].font.b is False
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    widths = _widths(ws)
    # Excel stores a width plus a little padding (XlsxWriter: 30 -> 30.7109375)
    for i, width in enumerate([30, 8, 11, 12, 17, 35], start=1):
        assert width <= widths[i] < width + 1, (i, widths[i])
    props = read.wb.properties
    assert (props.title, props.subject, props.description, props.keywords, props.creator) == (
        "Titel", "Onderwerp", '{"a": 1}', "sector=mbo", AUTHOR)
    assert before - timedelta(seconds=1) <= props.created <= after


def test_empty_sheet_has_header_filter_and_freeze():
    book = XlsxBook()
    empty = book.add_sheet("leeg", [Col("a", "tekst", 10), Col("b", "geheel getal", 10),
                                    Col("c", "datum", 12)])
    assert empty.close() == 0
    read = Read(book.finish(title="t"))
    ws = read.wb["leeg"]
    assert read.rows("leeg") == [("a", "b", "c")]
    assert ws.auto_filter.ref == "A1:C1"
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b is True


def test_finish_closes_open_sheets_and_a_sheet_may_have_one_column():
    book = XlsxBook()
    sheet = book.add_sheet("een", [Col("alleen", "tekst", 20)])
    sheet.write({"alleen": "x"})
    sheet.write({"anders": "y"})
    read = Read(book.finish(title="t"))  # close() not called: finish does it
    assert read.rows("een") == [("alleen",), ("x",)]  # the second row is empty
    assert read.wb["een"].auto_filter.ref == "A1:A3"


def test_a_sheet_refuses_rows_beyond_excels_limit(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    book = XlsxBook()
    sheet = book.add_sheet("vol", [Col("a", "tekst")])
    sheet.write({"a": "1"})
    sheet.write({"a": "2"})
    with pytest.raises(ValueError, match="at most 2 rows"):
        sheet.write({"a": "3"})
    assert sheet.close() == 2
    assert Read(book.finish(title="t")).rows("vol") == [("a",), ("1",), ("2",)]


# --- XLSX: cell types ---

class Label(str):
    pass


def test_values_become_text_numbers_booleans_dates_or_empty():
    cest = timezone(timedelta(hours=2))
    rows = [
        {"tekst": "gewoon", "getal": 42, "decimaal": 52.0907, "datum": date(2026, 1, 2),
         "moment": datetime(2026, 6, 1, 14, 30, tzinfo=cest), "link": "https://example.org/1"},
        {"tekst": Label("label"), "getal": True, "decimaal": -2.5e-7,
         "datum": datetime(2026, 3, 4, 5, 6), "moment": date(2026, 7, 8), "link": None},
        {"tekst": "0123", "getal": 123456789012345678901, "decimaal": float("nan"),
         "datum": date(1900, 3, 1), "moment": datetime(2026, 1, 2, 3, 4, 5), "link": ""},
        {"tekst": date(2026, 5, 4), "getal": False, "decimaal": float("-inf"),
         "datum": date(1900, 2, 28), "moment": "geen moment", "link": Decimal("1.50")},
        {"tekst": "", "getal": None, "decimaal": 0.1 + 0.2, "datum": "2026-01-01",
         "moment": None, "extra": "genegeerd"},
        MappingProxyType({"getal": 7}),
    ]
    read = _book(rows)
    ws = read.wb["proef"]
    assert read.rows("proef")[1:] == [
        ("gewoon", 42, 52.0907, datetime(2026, 1, 2), datetime(2026, 6, 1, 12, 30),
         "https://example.org/1"),
        ("label", True, -2.5e-7, datetime(2026, 3, 4, 5, 6), datetime(2026, 7, 8), None),
        ("0123", 1.234567890123457e20, "nan", datetime(1900, 3, 1),  # 16 digits kept
         datetime(2026, 1, 2, 3, 4, 5), None),
        ("2026-05-04", False, "'-inf", datetime(1900, 2, 28), "geen moment", "1.50"),
        (None, None, 0.3, "2026-01-01", None, None),  # 0.1 + 0.2 to 16 digits
        (None, 7, None, None, None, None),
    ]
    types = [[c.data_type for c in row] for row in ws.iter_rows(min_row=2, max_row=5)]
    assert types == [
        ["s", "n", "n", "d", "d", "s"],
        ["s", "b", "n", "d", "d", "n"],  # an empty cell reads as type "n"
        ["s", "n", "s", "d", "d", "n"],
        ["s", "b", "s", "d", "s", "s"],
    ]
    assert ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["D3"].number_format == "yyyy-mm-dd"  # a datetime in a date column
    assert ws["E3"].number_format == "yyyy-mm-dd hh:mm"  # a date in a date-time column
    assert ws["B2"].number_format == "General"
    assert ws["A5"].number_format == "General"
    # text is never a link
    assert ws["F2"].hyperlink is None
    assert not any(name.startswith("xl/worksheets/_rels/") for name in read.parts)


TEXTS = {
    "=1+2": "'=1+2",
    "+31 6 12345678": "'+31 6 12345678",
    "-5": "'-5",
    "@SOM(A1)": "'@SOM(A1)",
    "\ttab": "'\ttab",
    "\rterug": "'\rterug",
    "=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
    " =spatie eerst": " =spatie eerst",
    "a=b": "a=b",
    "{=SOM(A1)}": "{=SOM(A1)}",
    "gewoon": "gewoon",
}


def test_formulas_are_neutralised_and_never_written_as_formulas():
    texts = list(TEXTS)
    assert _texts(texts) == [TEXTS[t] for t in texts]
    read = _book([{"tekst": t} for t in texts], [Col("tekst", "tekst")])
    assert _cells(read, "proef") == [f"A{i}" for i in range(1, len(texts) + 2)]
    assert all(c.data_type == "s" for c in read.wb["proef"]["A"][1:])


RAW_XML_LOOKALIKES = [
    "<r>rijk</r>",
    "<r></r>",
    "<r><t>x</t></r>",
    "<r>a</r></is></c><c r=\"Z9\"><f>1+1</f></c><r></r>",  # an injection attempt
    "<r> spaties </r>",
    "<r>_x0041_ letterlijk _X0042_ _x00e9__x005F_</r>",
    "<r>tab\ten\nregel & \"quote\"</r>",
    "<r>half",
    "half</r>",
    "<R>hoofdletters</R>",
]


def test_text_looking_like_xlsxwriters_rich_string_xml_stays_text():
    """Constant-memory XlsxWriter writes a string '<r>...</r>' as raw XML; not here."""
    assert _texts(RAW_XML_LOOKALIKES) == RAW_XML_LOOKALIKES
    read = _book([{"tekst": t} for t in RAW_XML_LOOKALIKES], [Col("tekst", "tekst")])
    assert _cells(read, "proef") == [f"A{i}" for i in range(1, len(RAW_XML_LOOKALIKES) + 2)]


def test_control_characters_in_raw_xml_lookalikes_become_replacement_characters():
    """XlsxWriter escapes the text of a rich string twice in constant-memory mode; control
    characters (its own _xHHHH_ escapes) cannot survive that, so they are replaced."""
    assert _texts(["<r>stuur\x01teken\rterug\ufffe</r>"]) == [
        "<r>stuur\ufffdteken\ufffdterug\ufffd</r>"]


def test_header_looking_like_rich_string_xml_stays_text():
    read = _book([{"<r>kop</r>": "x"}], [Col("<r>kop</r>", "tekst"), Col("=kop", "tekst")])
    assert read.rows("proef") == [("<r>kop</r>", "'=kop"), ("x", None)]


def test_control_characters_and_whitespace_survive():
    texts = [
        "stuur\x01teken", "nul\x00byte", "\x1f", "bel\x07 en vt\x0b en ff\x0c",
        "_x0041_ letterlijk", "_X0041_ ook", "niet\ufffeteken", "\uffff", "twee\nregels",
        "regel\n", " spatie voor", "spatie na ", "  ", "&<>\"'", "é ü ñ 中文 🙂",
        "\x7f\x80\x9f",
    ]
    assert _texts(texts) == texts


def test_lone_surrogates_become_replacement_characters():
    assert _texts(["a\ud800b", "\udfff", "=\udc00"]) == ["a\ufffdb", "\ufffd", "'=\ufffd"]


def test_text_longer_than_excel_allows_is_cut_with_a_marker():
    texts = [
        "a" * 32_767,  # exactly the limit: unchanged
        "b" * 32_768,
        "c" * 100_000,
        "=" + "d" * 40_000,  # the apostrophe counts too
        "\U0001f642" * 16_383 + "e",  # 32,767 UTF-16 code units: unchanged
        "\U0001f642" * 20_000,  # 40,000 code units
        "<r>" + "f" * 40_000 + "</r>",
        "g" * 20_000,
    ]
    assert _texts(texts) == [
        "a" * 32_767,
        "b" * 32_755 + MARKER,
        "c" * 32_755 + MARKER,
        "'=" + "d" * 32_753 + MARKER,
        "\U0001f642" * 16_383 + "e",
        "\U0001f642" * 16_377 + MARKER,  # no half emoji: 32,754 units + the marker
        "<r>" + "f" * 32_752 + MARKER,
        "g" * 20_000,
    ]


# --- XLSX: several sheets written in turn ---

def test_three_sheets_written_interleaved_row_by_row():
    """Constant-memory mode: each sheet keeps its own rows in order; any interleaving works."""
    book = XlsxBook()
    a = book.add_sheet("a", [Col("n", "geheel getal", 6), Col("t", "tekst", 10),
                             Col("d", "datum", 12)])
    b = book.add_sheet("b", [Col("t", "tekst", 20), Col("x", "decimaal getal", 9)])
    c = book.add_sheet("c", [Col("t", "tekst", 8)])
    for i in range(300):
        a.write({"n": i, "t": f"a{i}", "d": date(2026, 1, 1) + timedelta(days=i)})
        if i % 3 == 0:
            b.write({"t": f"b{i}", "x": i / 4})
        if i % 100 == 99:
            c.write({"t": f"c{i}"})
        if i == 150:
            a.write({"t": "<r>tussendoor</r>"})
    assert (a.close(), b.close(), c.close()) == (301, 100, 3)
    read = Read(book.finish(title="t"))
    expected_a = [("n", "t", "d")]
    for i in range(300):
        expected_a.append((i, f"a{i}", datetime(2026, 1, 1) + timedelta(days=i)))
        if i == 150:
            expected_a.append((None, "<r>tussendoor</r>", None))
    assert read.rows("a") == expected_a
    assert read.rows("b") == [("t", "x")] + [(f"b{i}", i / 4) for i in range(0, 300, 3)]
    assert read.rows("c") == [("t",), ("c99",), ("c199",), ("c299",)]
    assert [read.wb[s].auto_filter.ref for s in ("a", "b", "c")] == ["A1:C302", "A1:B101",
                                                                     "A1:A4"]
    assert [read.wb[s].freeze_panes for s in ("a", "b", "c")] == ["A2"] * 3


def test_no_temporary_files_are_left_behind(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    book = XlsxBook()
    sheets = [book.add_sheet(f"s{i}", [Col("t", "tekst")]) for i in range(3)]
    for i in range(100):
        sheets[i % 3].write({"t": "x" * 100})
    assert len(list(tmp_path.iterdir())) == 3  # one row file per worksheet
    Read(book.finish(title="t"))
    assert list(tmp_path.iterdir()) == []


# --- CSV and the one-pass export (registry.exports.services) ---

VALUES = [0, -3, 7, 123456789012345678901, 1.5, 0.1 + 0.2, 1e20, -2.5e-7, True, False, None]
CSV_TEXTS = [
    "gewoon", " spatie voor", "spatie na ", "twee\nregels", "regel\n", "&<>\"'",
    "=1+2", "+31", "-5", "@SOM(A1)", "\ttab", "\rterug", "stuur\x01teken", "_x0041_ letterlijk",
    "niet\ufffeteken", "<r>rijk</r>", "<r>half", "é ü ñ 中文 🙂", "a" * 20_000, "", None,
]
DATES = [date(2026, 1, 2), date(1900, 2, 28), date(1900, 3, 1), None, "geen datum"]
MOMENTS = [datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 6, 1, 12, 0, tzinfo=UTC), None]


def _rows():
    n = max(len(CSV_TEXTS), len(VALUES), len(DATES), len(MOMENTS)) * 2
    for i in range(n):
        yield {
            "tekst": CSV_TEXTS[i % len(CSV_TEXTS)], "getal": VALUES[i % len(VALUES)],
            "datum": DATES[i % len(DATES)], "moment": MOMENTS[i % len(MOMENTS)],
            # a date in a column without a date format, and a row without some keys
            "link": date(2026, 5, 4) if i % 7 == 3 else f"https://example.org/{i}",
        } if i % 11 != 5 else {"tekst": "alleen tekst"}
    yield {}  # an empty row


def test_csv_fast_path_matches_cell_text():
    from registry.exports import services
    from registry.exports.services import Column, _cell_text

    columns = [Column(name, type_, "", "", "", "") for name, type_ in [
        ("tekst", services.TEXT), ("getal", services.INT), ("datum", services.DATE),
        ("moment", services.DATETIME), ("link", services.URL)]]
    rows = list(_rows()) + [{"tekst": Label("=label"), "getal": 2**70, "datum": date(2026, 1, 1),
                             "moment": datetime(2026, 1, 1, 8, 30), "link": 1.0}]
    for sep in (",", ";"):
        expected = io.StringIO()
        writer = csv.writer(expected, delimiter=sep, lineterminator="\r\n")
        writer.writerow([c.name for c in columns])
        writer.writerows([[_cell_text(row.get(c.name)) for c in columns] for row in rows])
        for batch in (1, 3, 500):
            body = b"".join(services.to_csv(iter(rows), columns, sep=sep, batch=batch))
            assert body == ("\ufeff" + expected.getvalue()).encode("utf-8")
    assert b"".join(services.to_csv([], columns, bom=False)) == b"tekst,getal,datum,moment,link\r\n"


def _parts(out) -> dict[str, bytes]:
    with out, zipfile.ZipFile(out) as z:
        # docProps/core.xml holds the creation time
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _published(args: dict[str, str]):
    """The test data set built; its taxonomy, a filter, the live source, themes, records."""
    from werkzeug.datastructures import MultiDict

    from registry.published import records
    from registry.published.filters import InitiativeFilter
    from registry.published.snapshots import PUBLISHED
    from registry.taxonomy.services import current
    from tests.exports import data as testdata

    testdata.build()
    tax = current()
    flt = InitiativeFilter.from_args(MultiDict(args), taxonomy=tax)
    return tax, flt, PUBLISHED, records.themes(PUBLISHED), list(records.initiatives(PUBLISHED, flt))


@pytest.mark.parametrize("args", [{}, {"area": "examineren"}, {"province": "Gelderland"}])
@pytest.mark.parametrize("first", ["knelpunten", "initiatieven", "themas"])
def test_one_pass_workbook_equals_one_sheet_at_a_time(app, args, first):
    """datasets_to_xlsx (one pass over the records) == to_xlsx with each sheet's own rows."""
    from registry.exports import services

    tax, flt, _src, themes, recs = _published(args)

    def link(i):
        return f"https://example.org/initiatieven/{i}"

    rows = services.Rows(tax, themes, link)
    columns = services.datasets(tax)
    order = [first] + [d for d in services.DATASET_NAMES if d != first]
    sheet_rows = {
        "knelpunten": lambda: rows.obstacles(recs),
        "initiatieven": lambda: rows.initiatives(recs),
        "themas": lambda: services.theme_rows(recs, flt, tax, themes),
    }
    meta = {"source": "live", "filter": flt.describe()}
    separate = services.to_xlsx([(d, columns[d], sheet_rows[d]()) for d in order], meta,
                                title="t")
    one_pass = services.datasets_to_xlsx(order, iter(recs), flt, tax, themes, link,
                                         meta, title="t")
    assert _parts(one_pass) == _parts(separate)


def test_theme_tallies_match_the_summary_aggregate(app):
    """The themes export counts exactly what the summary counts, per theme."""
    from registry.exports import services
    from registry.summary.services import aggregate

    tax, _flt, _src, themes, recs = _published({})
    tallies = services.ThemeTallies(themes)
    for rec in recs:
        tallies.add(rec)
    agg = aggregate(iter(recs), themes)
    sectors = tax.codes("sectors")
    assert tallies.tallies
    assert tallies.tallies.keys() == agg["themes"].keys()
    for theme_id, tally in tallies.tallies.items():
        assert tally.as_dict(sectors) == agg["themes"][theme_id].as_dict(sectors)


def test_records_without_dimensions_differ_only_there(app):
    """The obstacle export reads records without dimensions: nothing else may change."""
    from registry.published import records

    _tax, flt, src, _themes, full = _published({})
    lean = list(records.initiatives(src, flt, dimensions=False))
    assert any(rec["dimensions"] for rec in full)
    assert [{k: v for k, v in rec.items() if k != "dimensions"} for rec in full] == lean
