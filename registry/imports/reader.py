"""Reading a spreadsheet file as a header and rows of text, streamed, with clear refusals.

CSV in any delimiter (``csv.Sniffer``, with the header line as a fallback) and encoding: UTF-8
with or without BOM, UTF-16 with BOM, else Windows-1252 (what Dutch Excel writes with "CSV
(gescheiden door lijstscheidingsteken)", with ``;``). XLSX with openpyxl in read-only mode:
rows come from the sheet XML as it is read, never the whole workbook in memory.

A file that cannot be read is refused as a whole with a Dutch message (``FileProblem``):
binary or of an unknown type, old Excel (.xls), not decodable, empty, more columns than
``MAX_COLUMNS``, more rows than ``MAX_ROWS``, a cell longer than the csv module allows, an
XLSX whose parts unpack to more than ``MAX_UNPACKED`` times the allowed upload.

Cells are data, never formulas. A workbook says which cells hold a formula: those are not
read (``FormulaText`` marks them; the row gets a message at that field), every other cell is
its value, whatever character it starts with. A CSV file has no such mark, and a spreadsheet
runs a cell that starts with ``=`` as a formula when it opens the file: there a text that
starts like a formula (``=``, ``@``, or ``+``/``-`` followed by a function name, e.g.
``+cmd|...`` or ``-SUM(...)``) is not read (``formula_like``); ``+31 6 ...`` and ``- a
point`` are text. In both, a leading apostrophe before ``= + - @`` (how the registry's own
exports neutralise such text, and the spreadsheet's mark for "this is text") is removed:
``'=A1`` is the text ``=A1`` (``registry.imports.fields.RowBuilder``).
"""
from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

MAX_COLUMNS = 200
MAX_ROWS = 50_000
# An XLSX is a zip: its parts may unpack to at most this many times the upload limit.
MAX_UNPACKED = 20
SNIFF_BYTES = 64 * 1024
DELIMITERS = ";,\t|"

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
CSV, XLSX = "csv", "xlsx"

# The two sheets of the registry's own workbook export (registry.exports.services).
INITIATIVES_SHEET, OBSTACLES_SHEET = "initiatieven", "knelpunten"

_FORMULA = re.compile(r"^(?:[=@]|[+-]\s*[A-Za-z_][A-Za-z0-9_.]*\s*[(!|])")


class FormulaText(str):
    """The text of a workbook cell that holds a formula (it is not read as data)."""

    __slots__ = ()


class FileProblem(Exception):
    """The file cannot be imported; ``message`` says why, in the interface language."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass
class Table:
    """A header and its rows: ``(row number as a spreadsheet shows it, cells)``; the header is
    row 1. Completely empty rows are skipped (their numbers too). ``typed``: the file says
    which cells are formulas (a workbook), else (CSV) a text may only look like one."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    typed: bool = False


@dataclass
class FileInfo:
    kind: str  # CSV | XLSX
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)


def formula_like(text: str) -> bool:
    """Whether a cell's text starts like a spreadsheet formula (it is then not read)."""
    return bool(_FORMULA.match(text))


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing ``.0``, dates as ISO dates; the text of a
    formula stays a ``FormulaText``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "ja" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _has_content(cells: list[str]) -> bool:
    return any(c.strip() for c in cells)


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _check_header(header: list[str]) -> list[str]:
    header = _trim([cell.replace("\ufeff", "").strip() for cell in header])
    if not header:
        raise FileProblem(_l("Het bestand is leeg: er staat geen kopregel met kolomnamen in."))
    if len(header) > MAX_COLUMNS:
        raise FileProblem(_l(
            "Het bestand heeft %(n)d kolommen; het register leest er hoogstens %(max)d. "
            "Haal de kolommen weg die u niet nodig heeft.", n=len(header), max=MAX_COLUMNS))
    return header


# --------------------------------------------------------------------------- type

def sniff_kind(path: Path) -> str:
    """CSV or XLSX from the first bytes; anything else is refused."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise FileProblem(_l("Het bestand is leeg."))
    if head.startswith(XLSX_MAGIC):
        return XLSX
    if head.startswith(XLS_MAGIC):
        raise FileProblem(_l(
            "Dit is een Excel-bestand in het oude formaat (.xls). Sla het in Excel op als "
            "Excel-werkmap (.xlsx) of als CSV en kies het opnieuw."))
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return CSV
    if b"\x00" in head:
        raise FileProblem(_l(
            "Dit bestand is geen tekst- of Excel-bestand. Kies een CSV-bestand of een "
            "Excel-werkmap (.xlsx)."))
    return CSV


# --------------------------------------------------------------------------- CSV

def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-16 (with BOM), utf-8, else cp1252; refused when none decodes."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem(_l(
        "De tekens in dit bestand zijn niet te lezen. Sla het bestand op als CSV in UTF-8 "
        "(in Excel: 'CSV UTF-8 (door komma's gescheiden)') en kies het opnieuw."))


def detect_delimiter(sample: str) -> str:
    """The delimiter by ``csv.Sniffer``; when it cannot tell, the most frequent candidate in
    the header line (a file of one column has none: ``,``)."""
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        sample = "\n".join(lines[:-1])  # the sample may end in the middle of a line
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def inspect_csv(path: Path) -> FileInfo:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, newline="") as fh:
        sample = fh.read(SNIFF_BYTES)
    if not sample.strip():
        raise FileProblem(_l("Het bestand is leeg."))
    return FileInfo(CSV, encoding=encoding, delimiter=detect_delimiter(sample))


def _csv_rows(path: Path, info: FileInfo) -> Iterator[list[str]]:
    with path.open("r", encoding=info.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=info.delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            raise FileProblem(_l(
                "Rij %(row)d van het bestand is niet te lezen (%(reason)s). Controleer de "
                "aanhalingstekens en de lengte van de cellen in die rij.",
                row=reader.line_num, reason=str(exc))) from None


# --------------------------------------------------------------------------- XLSX

def _check_zip(path: Path, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise FileProblem(_l(
            "Dit Excel-bestand is beschadigd of geen echte Excel-werkmap.")) from None
    if "xl/workbook.xml" not in names:
        raise FileProblem(_l(
            "Dit is een zip-bestand maar geen Excel-werkmap (.xlsx). Kies een CSV-bestand of "
            "een Excel-werkmap."))
    if unpacked > MAX_UNPACKED * max_bytes:
        raise FileProblem(_l(
            "Dit Excel-bestand is uitgepakt te groot om in te lezen. Bewaar alleen de rijen "
            "en kolommen die u nodig heeft, of sla het op als CSV."))


def inspect_xlsx(path: Path, max_bytes: int) -> FileInfo:
    _check_zip(path, max_bytes)
    with _workbook(path) as book:
        sheets = list(book.sheetnames)
    if not sheets:
        raise FileProblem(_l("Het bestand is leeg."))
    return FileInfo(XLSX, sheets=sheets)


@contextmanager
def _workbook(path: Path):
    try:
        book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise FileProblem(_l(
            "Dit Excel-bestand is beschadigd of geen echte Excel-werkmap.")) from None
    try:
        yield book
    finally:
        book.close()


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[list[Any]]:
    with _workbook(path) as book:
        ws = book[sheet] if sheet else book.worksheets[0]
        for cells in ws.iter_rows():
            yield [FormulaText(cell.value) if cell.data_type == "f" else cell.value
                   for cell in cells]


# --------------------------------------------------------------------------- both

def inspect(path: Path, max_bytes: int) -> FileInfo:
    """The file's type and how to read it (refuses what cannot be read)."""
    size = path.stat().st_size
    if size == 0:
        raise FileProblem(_l("Het bestand is leeg."))
    if size > max_bytes:
        raise too_large(max_bytes)
    kind = sniff_kind(path)
    return inspect_xlsx(path, max_bytes) if kind == XLSX else inspect_csv(path)


def too_large(max_bytes: int) -> FileProblem:
    return FileProblem(_l(
        "Het bestand is groter dan %(mb)s MB. Splits de lijst in kleinere bestanden of "
        "bewaar alleen de kolommen die u nodig heeft.", mb=_megabytes(max_bytes)))


def _megabytes(size: int) -> str:
    mb = size / (1024 * 1024)
    return str(int(mb)) if mb.is_integer() else f"{mb:.1f}".replace(".", ",")


@contextmanager
def open_table(path: Path, info: FileInfo, sheet: str | None = None):
    """The table of a CSV file, or of a sheet of a workbook (the first when None)."""
    raw = _csv_rows(path, info) if info.kind == CSV else _xlsx_rows(path, sheet)
    try:
        header = _check_header([cell_text(v) for v in next(raw, [])])
        yield Table(header=header, rows=_numbered(raw), typed=info.kind == XLSX)
    finally:
        close = getattr(raw, "close", None)
        if close is not None:
            close()


def _numbered(raw: Iterator[list[Any]]) -> Iterator[tuple[int, list[str]]]:
    count = 0
    for number, values in enumerate(raw, start=2):
        cells = [cell_text(v) for v in values]
        if not _has_content(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise FileProblem(_l(
                "Het bestand heeft meer dan %(max)d rijen. Splits het in kleinere bestanden.",
                max=MAX_ROWS))
        cells = _trim(cells)
        if len(cells) > MAX_COLUMNS:
            raise FileProblem(_l(
                "Rij %(row)d heeft %(n)d cellen; het register leest hoogstens %(max)d kolommen.",
                row=number, n=len(cells), max=MAX_COLUMNS))
        yield number, cells


def count_rows(path: Path, info: FileInfo, sheet: str | None = None) -> int | None:
    """The number of data rows, for the progress: counted for CSV (fast), from the sheet's
    stated size for XLSX (None when the sheet does not state it)."""
    if info.kind == CSV:
        with open_table(path, info) as table:
            return sum(1 for _ in table.rows)
    with _workbook(path) as book:
        ws = book[sheet] if sheet else book.worksheets[0]
        try:
            rows = ws.max_row
        except Exception:  # a sheet without a stated size
            return None
        return max(0, rows - 1) if rows else None

