"""XLSX workbooks, written as SpreadsheetML row by row with constant memory.

One engine for every workbook of the registry (the exports and the summary figures). Each
worksheet keeps only its current row in memory and appends finished rows, as XML, to a
temporary file of its own; ``XlsxBook.finish`` packs the parts into the zip container.
Several sheets of one book may be filled in turn, even row by row interleaved (the export of
all obstacles fills three sheets in one pass over the records): only the rows of *each*
sheet must come in order, and every ``XlsxSheet`` numbers its own rows.

Why not XlsxWriter (issue 20): its constant-memory mode spent about 3 microseconds per cell
in Python (type dispatch, a cell tuple, then the XML of the cell), 80% of the export of all
obstacles, whose workbook has some nine million cells at 100,000 initiatives (23 s). The
workbook here uses a small subset of the format (inline strings, numbers, booleans, dates in
two number formats, a bold header, column widths, a frozen header row, an autofilter and the
document properties), which is written directly, as XlsxWriter wrote it: about half a
microsecond per plain cell. Libraries that write faster either keep the whole workbook in
memory or are young bindings. The cells keep XlsxWriter's rules, value for value
(``tests/exports/test_xlsx_engine.py`` compares both engines, read back with openpyxl).

Cells, per value (the column's ``type`` matters only for dates):

* ``str``: an inline string, never a formula or a link. Text a spreadsheet would run as a
  formula (starting with ``= + - @``, TAB or CR) gets a leading apostrophe, as
  ``neutralise()`` in ``registry.exports.services`` does for every format. Text longer than
  Excel's limit of 32,767 characters (UTF-16 code units) is cut and ends in ``TRUNCATED``.
  Control characters are written as Excel's ``_xHHHH_`` escapes (and a literal ``_xHHHH_``
  as ``_x005F_xHHHH_``, so it reads back as typed); lone surrogates (which cannot be
  encoded) become U+FFFD. Text of the form ``<r>...</r>`` keeps the values the previous
  engine gave it (it wrote such text as rich-string fragments): control characters, U+FFFE
  and U+FFFF in it become U+FFFD.
* ``int``/``float`` (finite): a number, to 16 significant digits; ``bool``: a boolean.
* ``date``/``datetime`` in a ``datum``/``datum-tijd`` column: an Excel date formatted
  yyyy-mm-dd or yyyy-mm-dd hh:mm (aware datetimes in UTC, without the zone).
* ``None`` and ``""``: no cell; anything else: ``str(value)`` as text.
"""
from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import IO, Any, Protocol

AUTHOR = "Register gepersonaliseerd leren"
MAX_TEXT = 32_767  # Excel's limit on the text of a cell, in UTF-16 code units
TRUNCATED = "\u2026 [ingekort]"  # ends a text that was cut at MAX_TEXT
MAX_ROWS = 1_048_576  # rows of a worksheet, the header included
MAX_COLUMNS = 16_384
DATE_FORMATS = {"datum": "yyyy-mm-dd", "datum-tijd": "yyyy-mm-dd hh:mm"}
# Cell styles (cellXfs of styles.xml): 0 plain, 1 bold (the header), then the date formats.
BOLD = 1
DATE_STYLES = {"datum": 2, "datum-tijd": 3}
# zlib level of the zip container: 1 packs the sheet XML about three times faster than the
# default 6, for a file about a quarter larger (issue 20).
ZIP_LEVEL = 1
_ROWS_PER_WRITE = 256  # rows joined and encoded per write to a sheet's file

# Text a spreadsheet would run as a formula (CSV injection); as ``neutralise()`` in
# registry.exports.services, copied so this module stands on its own.
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_SHORT = MAX_TEXT // 2  # a text of at most this many code points fits in MAX_TEXT units
# Text that goes into a cell as it is: no character that needs escaping or replacing, no
# underscore (a literal ``_xHHHH_`` escape needs one), not starting like a formula, no
# whitespace at either end (that needs xml:space). One match instead of five tests per cell
# (issue 20); text it refuses takes the full path (``XlsxSheet._cell``).
_PLAIN = re.compile("(?![=+\\-@\\s])[^\x00-\x08\x0b-\x1f&<>_\ud800-\udfff\ufffe\uffff]*"
                    "(?<!\\s)").fullmatch
_SURROGATES = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")  # written as _xHHHH_
_ESCAPE_LIKE = re.compile("(_x[0-9a-fA-F]{4}_)")  # a literal escape: written as _x005F_xHHHH_
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")
_BIG_INT = 10 ** 15  # smaller integers are written as str() writes them (= 16 digits)
# Excel's day 0; days after 28 February 1900 count Excel's phantom 29 February 1900.
_EPOCH = datetime(1899, 12, 31)
_EPOCH_ORDINAL = _EPOCH.toordinal()

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SHEET_NAME_CHARS = re.compile(r"[\[\]:*?/\\]")


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


def _escape(text: str) -> str:
    """XML character data: markup characters as entities, XML-invalid characters (and
    literal escapes) as Excel's ``_xHHHH_`` escapes (ECMA-376 part 1, 22.9.2.19)."""
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F\1", text)
    if _ESCAPED.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _string_cell(ref: str, text: str, style: int | None) -> str:
    """The <c> element of a text (already passed through ``_text``)."""
    if text.startswith("<r>") and text.endswith("</r>"):
        text = _ESCAPED.sub("\ufffd", text)  # the values of the previous engine
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _excel_date(value: date) -> float:
    """An Excel serial date (1900 system) of a naive date or datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromordinal(value.toordinal())
    delta = moment - _EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / 86400
    if isinstance(value, datetime) and moment.isocalendar() == (1900, 1, 1):
        serial -= 1  # as XlsxWriter: a datetime on 1 January 1900
    if serial > 59:
        serial += 1
    return serial


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _attr(value: str) -> str:
    return (_xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _xml_safe(value: str) -> str:
    """Text for document properties and attributes: characters XML cannot hold become
    U+FFFD."""
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "\ufffd", value)


def _width(width: float) -> str:
    """A column width in characters as Excel stores it (Calibri 11: 7 pixels per digit and
    5 of padding), as XlsxWriter writes it."""
    if width < 1:
        pixels = int(width * 12 + 0.5)
    else:
        pixels = int(width * 7 + 0.5) + 5
    return f"{(pixels * 256 // 7) / 256.0:.16g}"


class XlsxSheet:
    """One worksheet: bold frozen header row, column widths, rows as they come, autofilter."""

    def __init__(self, book: XlsxBook, title: str, columns: Sequence[ColumnLike]) -> None:
        if not columns:
            raise ValueError("a sheet needs at least one column")
        if len(columns) > MAX_COLUMNS:
            raise ValueError(f"a sheet holds at most {MAX_COLUMNS} columns")
        self.title = book.check_title(title)
        self._names = [col.name for col in columns]
        self._refs = [column_letters(i) for i in range(len(columns))]
        self._styles = [DATE_STYLES.get(col.type) for col in columns]
        self._widths = [col.width for col in columns]
        names = self._names
        name = names[0]
        self._pick: Callable[[Mapping[str, Any]], Sequence[Any]] = (
            itemgetter(*names) if len(names) > 1 else lambda row: (row[name],))
        # One named file per sheet in the temporary directory, removed when it is closed.
        self._file: IO[bytes] = tempfile.NamedTemporaryFile(prefix="xlsx-sheet-",
                                                            suffix=".xml")
        self._pending: list[str] = []
        self._rows = 0
        self._closed = False
        header = "".join(_string_cell(f"{ref}1", _text(str(col)), BOLD)
                         for ref, col in zip(self._refs, names, strict=True))
        self._pending.append(f'<row r="1">{header}</row>')

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
        r = str(n + 1)
        cells: list[str] = []
        add = cells.append
        plain, short, big, epoch = _PLAIN, _SHORT, _BIG_INT, _EPOCH_ORDINAL
        for ref, style, v in zip(self._refs, self._styles, values, strict=True):
            t = type(v)
            if t is str:
                if not v:
                    continue
                if len(v) <= short and plain(v) is not None:
                    add(f'<c r="{ref}{r}" t="inlineStr"><is><t>{v}</t></is></c>')
                    continue
            elif v is None:
                continue
            elif t is int and -big < v < big:
                add(f'<c r="{ref}{r}"><v>{v}</v></c>')
                continue
            elif t is date and style is not None:  # a whole day: an integer serial
                days = v.toordinal() - epoch
                add(f'<c r="{ref}{r}" s="{style}"><v>{days + 1 if days > 59 else days}</v></c>')
                continue
            cell = self._cell(ref + r, style, v)
            if cell is not None:
                add(cell)
        if cells:
            pending = self._pending
            pending.append(f'<row r="{r}">{"".join(cells)}</row>')
            if len(pending) >= _ROWS_PER_WRITE:
                self._flush()

    def _cell(self, ref: str, style: int | None, value: Any) -> str | None:
        """The <c> element of a value that is not plain (see the module docstring)."""
        if isinstance(value, str):
            text = _text(str.__str__(value))
            return _string_cell(ref, text, None) if text else None
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            if math.isfinite(value):
                number = float(value) if isinstance(value, float) else int(value)
                return f'<c r="{ref}"><v>{number:.16G}</v></c>'
            return self._cell(ref, style, str(value))
        if isinstance(value, date) and style is not None:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return f'<c r="{ref}" s="{style}"><v>{_excel_date(value):.16G}</v></c>'
        return self._cell(ref, style, str(value))

    def _flush(self) -> None:
        if self._pending:
            self._file.write("".join(self._pending).encode("utf-8"))
            self._pending.clear()

    def close(self) -> int:
        """No more rows; the number of rows written (below the header)."""
        if not self._closed:
            self._flush()
            self._closed = True
        return self._rows

    # -- packing ------------------------------------------------------------------------------
    @property
    def _range(self) -> str:
        return f"A1:{self._refs[-1]}{self._rows + 1}"

    def _head(self, selected: bool) -> bytes:
        cols = "".join(f'<col min="{i}" max="{i}" width="{_width(w)}" customWidth="1"/>'
                       for i, w in enumerate(self._widths, start=1))
        tab = ' tabSelected="1"' if selected else ""
        return (f'{_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                f'<dimension ref="{self._range}"/><sheetViews><sheetView{tab} '
                'workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
                ).encode()

    def _tail(self) -> bytes:
        return (f'</sheetData><autoFilter ref="{self._range}"/><pageMargins left="0.7" '
                'right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                '</worksheet>').encode()

    def _filter_name(self, index: int) -> str:
        """The hidden name Excel keeps for a sheet's autofilter range."""
        quoted = "'" + self.title.replace("'", "''") + "'"
        last = f"${self._refs[-1]}${self._rows + 1}"
        return (f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" '
                f'hidden="1">{_attr(quoted)}!$A$1:{last}</definedName>')

    def _pack(self, zf: zipfile.ZipFile, part: str, selected: bool) -> None:
        self.close()
        head, tail = self._head(selected), self._tail()
        size = len(head) + self._file.tell() + len(tail)
        with zf.open(part, "w", force_zip64=size > 2**31 - 2**24) as out:
            out.write(head)
            self._file.seek(0)
            shutil.copyfileobj(self._file, out, 1024 * 1024)
            out.write(tail)
        self._file.close()

    def discard(self) -> None:
        self._closed = True
        self._file.close()


class XlsxBook:
    """A workbook written to a SpooledTemporaryFile (see the module docstring)."""

    def __init__(self) -> None:
        self._out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        self._sheets: list[XlsxSheet] = []

    def check_title(self, title: str) -> str:
        """``title`` if Excel accepts it as the name of a new sheet of this book."""
        if not title or len(title) > 31 or _SHEET_NAME_CHARS.search(title):
            raise ValueError(f"invalid sheet name {title!r}")
        if title.startswith("'") or title.endswith("'") or title.lower() == "history":
            raise ValueError(f"invalid sheet name {title!r}")
        if any(sheet.title.lower() == title.lower() for sheet in self._sheets):
            raise ValueError(f"duplicate sheet name {title!r}")
        return title

    def add_sheet(self, title: str, columns: Sequence[ColumnLike]) -> XlsxSheet:
        sheet = XlsxSheet(self, title, columns)
        self._sheets.append(sheet)
        return sheet

    def finish(self, *, title: str, subject: str = "", comments: str = "",
               keywords: str = "") -> IO[bytes]:
        """Set the document properties (author 'Register gepersonaliseerd leren', created
        now), close any sheet still open and the workbook; the rewound file."""
        if not self._sheets:
            raise ValueError("a workbook needs at least one sheet")
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with zipfile.ZipFile(self._out, "w", zipfile.ZIP_DEFLATED,
                                 compresslevel=ZIP_LEVEL) as zf:
                zf.writestr("[Content_Types].xml", self._content_types())
                zf.writestr("_rels/.rels", _ROOT_RELS)
                zf.writestr("docProps/core.xml", _core(title, subject, comments, keywords,
                                                       created))
                zf.writestr("xl/workbook.xml", self._workbook())
                zf.writestr("xl/_rels/workbook.xml.rels", self._workbook_rels())
                zf.writestr("xl/styles.xml", _STYLES)
                for i, sheet in enumerate(self._sheets, start=1):
                    sheet._pack(zf, f"xl/worksheets/sheet{i}.xml", selected=i == 1)
        finally:
            for sheet in self._sheets:
                sheet.discard()
        self._out.seek(0)
        return self._out

    def _content_types(self) -> str:
        sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                         f'ContentType="{sheet}"/>' for i in range(1, len(self._sheets) + 1))
        return (f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                'ContentType="application/xml"/><Override PartName="/docProps/core.xml" '
                'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override '
                'PartName="/xl/workbook.xml" ContentType="application/'
                f'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{sheets}'
                '</Types>')

    def _workbook(self) -> str:
        sheets = "".join(f'<sheet name="{_attr(s.title)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self._sheets, start=1))
        names = "".join(s._filter_name(i) for i, s in enumerate(self._sheets))
        return (f'{_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                '<workbookPr/><bookViews><workbookView xWindow="240" yWindow="15" '
                'windowWidth="16095" windowHeight="9660"/></bookViews>'
                f'<sheets>{sheets}</sheets><definedNames>{names}</definedNames></workbook>')

    def _workbook_rels(self) -> str:
        kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        rels = [f'<Relationship Id="rId{i}" Type="{kind}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(self._sheets) + 1)]
        rels.append(f'<Relationship Id="rId{len(self._sheets) + 1}" Type="{kind}/styles" '
                    'Target="styles.xml"/>')
        return f'{_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">{"".join(rels)}</Relationships>'


def _core(title: str, subject: str, comments: str, keywords: str, created: str) -> str:
    def text(value: str) -> str:
        return _xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return (f'{_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
            'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{text(title)}</dc:title><dc:subject>{text(subject)}</dc:subject>'
            f'<dc:creator>{AUTHOR}</dc:creator><cp:keywords>{text(keywords)}</cp:keywords>'
            f'<dc:description>{text(comments)}</dc:description>'
            f'<cp:lastModifiedBy>{AUTHOR}</cp:lastModifiedBy>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
            '</cp:coreProperties>')


_ROOT_RELS = (
    f'{_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org'
    '/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '</Relationships>')
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_STYLES = (
    f'{_DECLARATION}<styleSheet xmlns="{_MAIN_NS}"><numFmts count="2">'
    f'<numFmt numFmtId="164" formatCode="{DATE_FORMATS["datum"]}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMATS["datum-tijd"]}"/></numFmts>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
    '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
    'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles><dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9"'
    ' defaultPivotStyle="PivotStyleLight16"/></styleSheet>')
