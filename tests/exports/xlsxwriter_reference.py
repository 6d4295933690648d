"""The XLSX engine before issue 20 (XlsxWriter's public API, constant-memory mode), kept
only as a reference: ``test_xlsx_engine.py`` checks that ``registry.exports.xlsx`` writes
the same cells, read back with openpyxl. Unchanged from the version the exports used.
"""
from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import IO, Any, Protocol

import xlsxwriter

AUTHOR = "Register gepersonaliseerd leren"
MAX_TEXT = 32_767  # Excel's limit on the text of a cell, in UTF-16 code units
TRUNCATED = "\u2026 [ingekort]"  # ends a text that was cut at MAX_TEXT
MAX_ROWS = 1_048_576  # rows of a worksheet, the header included
DATE_FORMATS = {"datum": "yyyy-mm-dd", "datum-tijd": "yyyy-mm-dd hh:mm"}

# Text a spreadsheet would run as a formula (CSV injection); as ``neutralise()`` in
# registry.exports.services, copied so this module stands on its own.
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# First characters for which a text needs a closer look: the dangerous ones and "<" (the
# "<r>...</r>" trap). Other text shorter than this and pure ASCII goes straight to XlsxWriter.
_SPECIAL_FIRST = frozenset(_DANGEROUS) | {"<"}
_SHORT = MAX_TEXT // 2  # a text of at most this many code points fits in MAX_TEXT units
_SURROGATES = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")  # what XlsxWriter writes as _xHHHH_
_ESCAPE_LIKE = re.compile("_x[0-9a-fA-F]{4}_")  # what it escapes as _x005F_xHHHH_


class ColumnLike(Protocol):
    # read-only, so that frozen dataclasses and named tuples qualify
    @property
    def name(self) -> str: ...  # header text and row key
    @property
    def type(self) -> str: ...  # tekst | geheel getal | decimaal getal | datum | datum-tijd | url
    @property
    def width(self) -> int: ...


def _text(value: str) -> str:
    """A text as it goes into a cell: neutralised, encodable, at most MAX_TEXT units."""
    if value.startswith(_DANGEROUS):
        value = "'" + value
    if not value.isascii() and _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    if len(value) > _SHORT:
        units = value.encode("utf-16-le")
        if len(units) > 2 * MAX_TEXT:
            # cut at a code-unit boundary; "ignore" drops half of a cut surrogate pair
            keep = 2 * (MAX_TEXT - len(TRUNCATED))
            value = units[:keep].decode("utf-16-le", "ignore") + TRUNCATED
    return value


def _is_raw_xml_trap(text: str) -> bool:
    """What XlsxWriter's constant-memory mode would write as raw XML."""
    return text.startswith("<r>") and text.endswith("</r>")


def _plain_fragments(text: str) -> list[str]:
    """A text that XlsxWriter would take for raw XML, as plain rich-string fragments.

    ``write_rich_string`` renders and escapes the fragments itself, so the cell holds the
    text, not markup. It needs at least three tokens: the text is cut after its first and
    before its last character. In constant-memory mode XlsxWriter escapes a rich string's
    ``_xHHHH_`` sequences twice (when rendering the fragments and again when writing the
    cell), so Excel would show them escaped once: the text is also cut inside every such
    sequence (Excel decodes them per fragment, so a cut one is plain text). Characters
    XlsxWriter itself writes as ``_xHHHH_`` (control characters, U+FFFE, U+FFFF) cannot come
    out unchanged on this path; they become U+FFFD.
    """
    text = _ESCAPED.sub("\ufffd", text)
    cuts = sorted({1, len(text) - 1, *(m.start() + 2 for m in _ESCAPE_LIKE.finditer(text))})
    return [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]


class XlsxSheet:
    """One worksheet: bold frozen header row, column widths, rows as they come, autofilter."""

    def __init__(self, book: XlsxBook, title: str, columns: Sequence[ColumnLike]) -> None:
        if not columns:
            raise ValueError("a sheet needs at least one column")
        ws = book.workbook.add_worksheet(title)
        self._ws = ws
        self._names = [col.name for col in columns]
        self._date_formats = [book.date_format(col.type) for col in columns]
        names = self._names
        name = names[0]
        self._pick: Callable[[Mapping[str, Any]], Sequence[Any]] = (
            itemgetter(*names) if len(names) > 1 else lambda row: (row[name],))
        self._later: list[tuple[int, Any]] = []  # dates and rich strings of the current row
        self._rows = 0
        self._closed = False
        for i, col in enumerate(columns):
            ws.set_column(i, i, col.width)
        ws.freeze_panes(1, 0)
        for i, col in enumerate(columns):
            self._write_text(0, i, _text(str(col.name)), book.bold)

    def write(self, row: Mapping[str, Any]) -> None:
        """Append a row: values by column name, a missing name is an empty cell."""
        if self._closed:
            raise ValueError("the sheet is closed")
        n = self._rows + 1
        if n >= MAX_ROWS:
            raise ValueError(f"a worksheet holds at most {MAX_ROWS - 1} rows below the header")
        self._rows = n
        try:
            values = self._pick(row)
        except KeyError:
            values = [row.get(name) for name in self._names]
        cell, special, short = self._cell, _SPECIAL_FIRST, _SHORT
        # Plain values stay as they are (write_row writes str as text, int as number and
        # skips None and ""); the rest is decided per value by _cell.
        values = [
            v if v is None or (t := type(v)) is int
            or (t is str and v[:1] not in special and len(v) <= short and v.isascii())
            else cell(i, v)
            for i, v in enumerate(values)
        ]
        ws = self._ws
        if ws.write_row(n, 0, values):  # stops at the first cell it cannot write
            raise ValueError(f"row {n} of sheet {ws.name!r} could not be written")
        if self._later:
            for i, value in self._later:
                if type(value) is str:
                    self._write_text(n, i, value, None)
                else:
                    ws.write_datetime(n, i, value, self._date_formats[i])
            self._later.clear()

    def _cell(self, i: int, value: Any) -> Any:
        """What write_row gets for a value that is not plain; None when it is written later
        (dates, and text XlsxWriter would take for raw XML)."""
        if isinstance(value, str):
            text = _text(str.__str__(value))
            if _is_raw_xml_trap(text):
                self._later.append((i, text))
                return None
            return text
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int | float):
            if math.isfinite(value):
                return float(value) if isinstance(value, float) else int(value)
            return self._cell(i, str(value))
        if isinstance(value, date) and self._date_formats[i] is not None:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            self._later.append((i, value))
            return None
        return self._cell(i, str(value))

    def _write_text(self, r: int, c: int, text: str, fmt: Any) -> None:
        if not _is_raw_xml_trap(text):
            self._ws.write_string(r, c, text, fmt)
            return
        fragments: list[Any] = _plain_fragments(text)
        if fmt is not None:
            fragments.append(fmt)  # the cell's format
        self._ws.write_rich_string(r, c, *fragments)

    def close(self) -> int:
        """Set the autofilter over the header and the rows; the number of rows written."""
        if not self._closed:
            self._ws.autofilter(0, 0, self._rows, len(self._names) - 1)
            self._closed = True
        return self._rows


class XlsxBook:
    """A constant-memory workbook written to a SpooledTemporaryFile."""

    def __init__(self) -> None:
        self._out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        self.workbook = xlsxwriter.Workbook(self._out, {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        })
        self.bold = self.workbook.add_format({"bold": True})
        self._formats: dict[str, Any] = {}
        self._sheets: list[XlsxSheet] = []

    def date_format(self, column_type: str) -> Any:
        """The cell format of dates in a column of this type; None if it holds no dates."""
        num_format = DATE_FORMATS.get(column_type)
        if num_format is None:
            return None
        if column_type not in self._formats:
            self._formats[column_type] = self.workbook.add_format({"num_format": num_format})
        return self._formats[column_type]

    def add_sheet(self, title: str, columns: Sequence[ColumnLike]) -> XlsxSheet:
        sheet = XlsxSheet(self, title, columns)
        self._sheets.append(sheet)
        return sheet

    def finish(self, *, title: str, subject: str = "", comments: str = "",
               keywords: str = "") -> IO[bytes]:
        """Set the document properties (author 'Register gepersonaliseerd leren', created
        now), close any sheet still open and the workbook; the rewound file."""
        for sheet in self._sheets:
            sheet.close()
        self.workbook.set_properties({
            "title": title, "subject": subject, "comments": comments, "keywords": keywords,
            "author": AUTHOR, "created": datetime.now(UTC).replace(tzinfo=None),
        })
        self.workbook.close()
        self._out.seek(0)
        return self._out
