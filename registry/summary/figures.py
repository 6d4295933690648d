"""The obstacle summary's figures (issue 20): the database selects, numpy counts.

``registry.summary.services.compute_summary`` shows what is computed here. The old path built
a record per initiative and counted in Python (4.6 s per worker at 100,000 initiatives). Plain
GROUP BY / COUNT(DISTINCT) per area, theme, rule level, sector and province were tried and
were no better: SQLite sorts every grouped row (about 1 µs a row: each of the dozen
aggregates over 300,000 reports cost 0.2-0.4 s) and PostgreSQL sorts per group for
COUNT(DISTINCT) (9 s for the distinct initiatives and schools per group). So:

1. The database does what it does well: the filter (``InitiativeFilter.where`` /
   ``obstacle_where`` on a ``Source``, live tables or a snapshot's, the same SQL), the joins,
   the school key (``records.school_key``) and small codes for areas, statuses and dates.
   It hands over each column of the matching rows as **one** delimited string
   (``group_concat`` / ``string_agg``): two result rows instead of 400,000 (building a
   Python row costs more than everything numpy does with it); on PostgreSQL one row per
   ``CHUNK`` ids, so that no connection keeps a 20 MB input buffer.
2. numpy counts: distinct initiatives and schools per group by sorting (group, initiative)
   and (group, school) pairs, learners summed once per initiative, sectors and provinces
   with ``np.bincount``, severity and status per report.
3. Texts: rules and asks arrive as numbers into their distinct spellings, which Python
   folds into keys; quotes come from small targeted queries (the consent of the few
   candidate initiatives, then the descriptions of the chosen reports); the annex from the
   initiatives' columns.

The time goes into reading the rows (the initiative and obstacle rows are wide: their long
texts sit before the columns read here), see docs/benchmarks.md and bench/summary_probe.py.

"Record order" is the order of ``registry.published.records`` (initiative id, then the
report's position in the form, then its id): it decides which spelling of a rule or ask is
shown and which quotes come first.
"""
from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
    true,
)

from registry.database import joined_text
from registry.extensions import db
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import Source
from registry.taxonomy.constants import CONFIDENTIAL, PROVINCES

SEVERITY_KEYS = ("1", "2", "3", "4")
STATUS_KEYS = ("open", "omzeild", "opgelost")
UNKNOWN_LEVEL = "onbekend"  # no theme, or no rule of a known level
SEP = "\x1f"  # between the values of a text column (forms refuse control characters)
NULL = "\x1e"  # a NULL in a text column
CANDIDATES = 200  # quote candidates looked at per round
CHUNK = 4096  # values of the first integer column per result row (``fetch_columns``)

Array = np.ndarray


# --- fetching columns ---------------------------------------------------------------------

def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _aggregate_text(expr: ColumnElement[Any], sep: str) -> ColumnElement[str]:
    return joined_text(expr, sep, postgresql=_postgres())


class Coded(NamedTuple):
    """A text column as numbers: ``values[codes[k]]`` is row k's text (None for NULL)."""

    codes: Array
    values: list[str | None]

    def at(self, k: int) -> str | None:
        return self.values[self.codes[k]]


def _coded(values: list[str]) -> Coded:
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return Coded(codes, [None if v == NULL else v for v in index])


def fetch_columns(stmt: Select[Any], ints: Sequence[str], texts: Sequence[str] = (),
                  coded: Sequence[str] = ()) -> dict[str, Any]:
    """The columns of ``stmt`` (labelled as named; integer columns must not be NULL), each
    column aggregated into delimited strings: integers as numpy arrays, texts as lists (None
    for NULL), ``coded`` texts as ``Coded`` (few distinct values, little memory). Should a
    text hold the separator (a control character, which forms refuse), the rows are read
    one by one instead.

    On PostgreSQL the rows come in slices of ``CHUNK`` values of the first integer column, one
    result row each: libpq keeps its input buffer at the size of the largest row it received for as
    long as the connection lives, and one row holding every value (20 MB at 100,000
    entries) kept that much in every pooled PostgreSQL connection (issue 20)."""
    rows = stmt.subquery("rows")
    columns: list[ColumnElement[Any]] = [func.count()]
    columns += [_aggregate_text(cast(rows.c[name], String), ",") for name in ints]
    columns += [_aggregate_text(func.coalesce(rows.c[name], NULL), SEP)
                for name in (*texts, *coded)]
    query = select(*columns)
    if _postgres():  # SQLite keeps no such buffer, and would sort every row to group them
        query = query.group_by(rows.c[ints[0]] // CHUNK)
    found = [list(row) for row in db.session.connection().execute(query)]
    n = sum(int(row[0]) for row in found)
    if n and any(value is None for row in found for value in row):
        return _fetch_rows(stmt, ints, texts, coded)  # NULL in an integer column
    out: dict[str, Any] = {"n": n}
    # Each column's strings are let go of as soon as the column is read: at 100,000 entries
    # the texts are some 20 MB, and a list of all their values 50 MB more (so ``coded``
    # texts are split and numbered a slice at a time).
    for k, name in enumerate(ints, start=1):
        parts = [np.fromstring(row[k], dtype=np.int64, sep=",") for row in found] if n else []
        values = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        if len(values) != n:
            return _fetch_rows(stmt, ints, texts, coded)
        out[name] = values
        for row in found:
            row[k] = None
    for k, name in enumerate((*texts, *coded), start=1 + len(ints)):
        pieces = [row[k] for row in found] if n else []
        for row in found:
            row[k] = None
        if name in coded:
            column, count = _coded_slices(_slices(piece) for piece in pieces)
            out[name] = column
        else:
            items = [v for piece in pieces for v in piece.split(SEP)]
            count = len(items)
            out[name] = [None if v == NULL else v for v in items]
        del pieces
        if count != n:  # a value held the separator: read the rows instead
            return _fetch_rows(stmt, ints, texts, coded)
    return out


SLICE = 1 << 20  # characters of a joined text column split at a time


def _slices(text: str) -> Iterator[list[str]]:
    """The values of a ``SEP``-joined text, a list per slice of about ``SLICE`` characters."""
    start = 0
    while True:
        end = text.find(SEP, start + SLICE) if start + SLICE < len(text) else -1
        if end < 0:
            yield text[start:].split(SEP)
            return
        yield text[start:end].split(SEP)
        start = end + 1


def _coded_slices(slices: Iterable[Iterable[list[str]]]) -> tuple[Coded, int]:
    """One ``Coded`` column from lists of values (first seen, first numbered), and how many
    values there were."""
    index: dict[str, int] = {}
    codes = []
    for per_piece in slices:
        for items in per_piece:
            for value in dict.fromkeys(items):
                index.setdefault(value, len(index))
            codes.append(np.fromiter(map(index.__getitem__, items), dtype=np.int64,
                                     count=len(items)))
    column = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    return Coded(column, [None if v == NULL else v for v in index]), len(column)


def _fetch_rows(stmt: Select[Any], ints: Sequence[str], texts: Sequence[str],
                coded: Sequence[str]) -> dict[str, Any]:
    rows = db.session.connection().execute(stmt).mappings().all()
    out: dict[str, Any] = {"n": len(rows)}
    for name in ints:
        out[name] = np.array([r[name] for r in rows], dtype=np.int64)
    for name in texts:
        out[name] = [r[name] for r in rows]
    for name in coded:
        out[name] = _coded([NULL if r[name] is None else r[name] for r in rows])
    return out


def _year_month(column: ColumnElement[Any]) -> ColumnElement[int]:
    """SQL: year * 12 + month - 1 of a timestamp in UTC, -1 when NULL."""
    if _postgres():  # timestamptz: in UTC, not the session's time zone
        utc = func.timezone(literal_column("'UTC'"), column)
        value = (cast(extract("year", utc), Integer) * 12
                 + cast(extract("month", utc), Integer) - 1)
    else:  # SQLite keeps UTC as text, "2026-03-31 23:30:00.000000"
        value = (cast(func.substr(column, 1, 4), Integer) * 12
                 + cast(func.substr(column, 6, 2), Integer) - 1)
    return func.coalesce(value, -1)


def _code(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[int]:
    """SQL: the index of the column's value in ``values`` (len(values) for any other)."""
    return case(*[(column == v, i) for i, v in enumerate(values)], else_=len(values))


def quarter(ym: int) -> str:
    return f"{ym // 12}-K{(ym % 12) // 3 + 1}"


# --- the facts ----------------------------------------------------------------------------

@dataclass
class Facts:
    """The rows of one summary as arrays: the matching initiatives (sorted by id) and the
    reports that count under the filter (in record order)."""

    ids: Array           # initiative id
    learners: Array
    sector: Array        # index into ``sectors``
    sectors: list[str]   # the taxonomy's order, then any others (sorted)
    province: Array      # index into PROVINCES, -1 none or another
    province_texts: Coded  # as stored (None, "" or a name)
    provinces: set[str]  # every province of a matching initiative
    school: Array        # a dense school number (records.school_key)
    school_keys: list[str]  # the key of each school number
    published: Array     # year-month of publication, -1 none
    withdrawn: Array     # bool: withdrawn since the snapshot (figures only)
    # reports
    o_id: Array
    o_ini: Array         # index into the initiative arrays
    o_area: Array        # index into ``areas``
    areas: list[str]
    o_theme: Array       # theme id, 0 without one
    o_severity: Array
    o_status: Array      # index into STATUS_KEYS, 3 another
    o_confidential: Array  # bool
    o_described: Array   # bool: the description is not blank to SQL's trim
    o_reported: Array    # year-month it was reported, -1 none
    o_rule: Array        # the rule each report cites: an index into ``rules``
    rules: list[str]     # the distinct spellings
    o_ask: Array         # the policy ask: an index into ``asks``
    asks: list[str]

    @property
    def n(self) -> int:
        return len(self.ids)


def load_facts(src: Source, flt: InitiativeFilter, *, sector_order: Sequence[str],
               area_order: Sequence[str], texts: bool, only: Sequence[int] | None = None
               ) -> Facts:
    """Fetch the facts of ``src`` under ``flt`` (two queries; the initiatives' from the
    covering indexes alone). ``texts``: also the rules and asks (for the public summary);
    the annex's texts are read by ``entry_columns``, for the few entries it lists.
    ``only``: of these initiatives only (those published since facts were read, ``merge``)."""
    chosen = [src.col("id").in_(list(only))] if only is not None else []
    withdrawn = (literal(0) if src.is_live
                 else case((src.col("withdrawn") == true(), 1), else_=0))
    ini_columns = [
        src.col("id").label("iid"),
        func.coalesce(src.col("learners_count"), 0).label("learners"),
        _year_month(src.col("published_at")).label("published"),
        withdrawn.label("withdrawn"),
        src.col("sector").label("sector"), src.col("province").label("province"),
        records.school_key(src).label("school"),
    ]
    ini = fetch_columns(
        select(*ini_columns).select_from(records.matching_from(src, flt, school=True))
        .where(src.scope, *flt.where(src), *chosen),
        ints=("iid", "learners", "published", "withdrawn"),
        coded=("sector", "province", "school"))
    in_order = bool(np.all(ini["iid"][1:] > ini["iid"][:-1]))  # as SQLite reads them
    order = np.arange(ini["n"]) if in_order else np.argsort(ini["iid"], kind="stable")
    ids = ini["iid"][order]

    def recode(column: Coded) -> Coded:
        return column if in_order else Coded(column.codes[order], column.values)

    sector, province, school = (recode(ini[name]) for name in ("sector", "province", "school"))
    others = sorted({v for v in sector.values if v is not None} - set(sector_order))
    sectors = [*sector_order, *others]

    ob = src.obstacle.c
    areas = len(area_order) + 1  # the taxonomy's areas and "another"
    matching = (select(src.col("id").label("iid")).select_from(records.matching_from(src, flt))
                .where(src.scope, *flt.where(src), *chosen).subquery("ini"))
    o_columns = [
        ob.id.label("id"), ob.initiative_id.label("iid"),
        func.coalesce(ob.theme_id, 0).label("theme"),
        # small codes in one number: position, area, severity (1-4), status, confidential,
        # described
        (((((cast(ob.position, BigInteger) * areas + _code(ob.area_code, area_order)) * 8
             + ob.severity) * 4 + _code(ob.status, STATUS_KEYS)) * 2
          + case((ob.visibility == CONFIDENTIAL, 1), else_=0)) * 2
         + (case((func.trim(ob.description) != "", 1), else_=0) if texts else 0)
         ).label("small"),
        _year_month(ob.reported_at).label("reported"),
    ]
    if texts:
        o_columns += [ob.rule.label("rule"), ob.policy_ask.label("ask")]
    obs = fetch_columns(
        select(*o_columns).select_from(src.obstacle.join(matching,
                                                         ob.initiative_id == matching.c.iid))
        .where(*flt.obstacle_where(src)),
        ints=("id", "iid", "theme", "small", "reported"),
        coded=("rule", "ask") if texts else ())
    small = obs["small"]
    described, small = small % 2, small // 2
    confidential, small = small % 2, small // 2
    status, small = small % 4, small // 4
    severity, small = small % 8, small // 8
    area, position = small % areas, small // areas
    o_ini = np.searchsorted(ids, obs["iid"])
    record_order = np.lexsort((obs["id"], position, o_ini))
    none = Coded(np.zeros(len(record_order), dtype=np.int64), [""])
    rules, asks = obs.get("rule", none), obs.get("ask", none)
    return Facts(
        ids=ids, learners=ini["learners"][order],
        sector=_indexes(sector, sectors), sectors=sectors,
        province=_indexes(province, PROVINCES), province_texts=province,
        provinces={p for p in province.values if p},
        school=school.codes, school_keys=[v or "" for v in school.values],
        published=ini["published"][order],
        withdrawn=ini["withdrawn"][order].astype(bool),
        o_id=obs["id"][record_order], o_ini=o_ini[record_order],
        o_area=area[record_order], areas=list(area_order),
        o_theme=obs["theme"][record_order], o_severity=severity[record_order],
        o_status=status[record_order], o_confidential=confidential[record_order].astype(bool),
        o_described=described[record_order].astype(bool),
        o_reported=obs["reported"][record_order],
        o_rule=rules.codes[record_order], rules=[v or "" for v in rules.values],
        o_ask=asks.codes[record_order], asks=[v or "" for v in asks.values])


def _union(first: Sequence[Any], second: Sequence[Any]) -> tuple[list[Any], Array, Array]:
    """The values of ``first`` then the new ones of ``second``, and for each list the index
    of its values in the union (with -1 last, so that -1 stays -1)."""
    union = list(first)
    at = {v: i for i, v in enumerate(union)}
    for v in second:
        if v not in at:
            at[v] = len(union)
            union.append(v)
    return (union, np.array([*range(len(first)), -1], dtype=np.int64),
            np.array([*(at[v] for v in second), -1], dtype=np.int64))


def merge(old: Facts, new: Facts, sector_order: Sequence[str]) -> Facts:
    """The facts of ``old`` and ``new`` together: ``new`` holds other initiatives (published
    since ``old`` was read) under the same source, filter and taxonomy. Initiatives in id
    order, reports in record order, every coded column numbered anew."""
    ids = np.concatenate([old.ids, new.ids])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]

    def both(name: str) -> Array:
        return np.concatenate([getattr(old, name), getattr(new, name)])[order]

    others = sorted((set(old.sectors) | set(new.sectors)) - set(sector_order))
    sectors = [*sector_order, *others]
    place = {code: i for i, code in enumerate(sectors)}
    sector = np.concatenate([
        np.array([*(place[c] for c in old.sectors), -1], dtype=np.int64)[old.sector],
        np.array([*(place[c] for c in new.sectors), -1], dtype=np.int64)[new.sector]])[order]
    texts, first, second = _union(old.province_texts.values, new.province_texts.values)
    province_texts = Coded(np.concatenate([first[old.province_texts.codes],
                                           second[new.province_texts.codes]])[order], texts)
    keys, first, second = _union(old.school_keys, new.school_keys)
    school = np.concatenate([first[old.school], second[new.school]])[order]
    # reports: each initiative's come from one side, in record order; a stable sort on the
    # initiative keeps them so
    o_ini = np.searchsorted(ids, np.concatenate([old.ids[old.o_ini], new.ids[new.o_ini]]))
    record_order = np.argsort(o_ini, kind="stable")

    def reports(name: str) -> Array:
        return np.concatenate([getattr(old, name), getattr(new, name)])[record_order]

    rules, first, second = _union(old.rules, new.rules)
    o_rule = np.concatenate([first[old.o_rule], second[new.o_rule]])[record_order]
    asks, first, second = _union(old.asks, new.asks)
    o_ask = np.concatenate([first[old.o_ask], second[new.o_ask]])[record_order]
    return Facts(
        ids=ids, learners=both("learners"), sector=sector, sectors=sectors,
        province=both("province"), province_texts=province_texts,
        provinces=old.provinces | new.provinces, school=school, school_keys=keys,
        published=both("published"), withdrawn=both("withdrawn"),
        o_id=reports("o_id"), o_ini=o_ini[record_order], o_area=reports("o_area"),
        areas=old.areas, o_theme=reports("o_theme"), o_severity=reports("o_severity"),
        o_status=reports("o_status"), o_confidential=reports("o_confidential"),
        o_described=reports("o_described"), o_reported=reports("o_reported"),
        o_rule=o_rule, rules=rules, o_ask=o_ask, asks=asks)


_ARRAYS = ("ids", "learners", "sector", "province", "school", "published", "withdrawn",
           "o_id", "o_ini", "o_area", "o_theme", "o_severity", "o_status", "o_confidential",
           "o_described", "o_reported", "o_rule", "o_ask")


def pack(head: dict[str, Any], arrays: dict[str, Array]) -> bytes:
    """Texts (``head``, JSON) and arrays in one compressed body, as stored for every worker
    (``unpack`` reads it)."""
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    text = json.dumps(head).encode()
    return zlib.compress(len(text).to_bytes(4, "big") + text + buffer.getvalue(), 1)


def unpack(body: bytes) -> tuple[dict[str, Any], dict[str, Array]]:
    """The texts and arrays ``pack`` stored (each array as stored)."""
    raw = zlib.decompress(body)
    size = int.from_bytes(raw[:4], "big")
    with np.load(io.BytesIO(raw[4 + size:]), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    return json.loads(raw[4:4 + size]), arrays


def encode_facts(facts: Facts) -> bytes:
    """Facts as stored for every worker: narrowed (``narrowed``), the texts as JSON."""
    small = narrowed(facts)
    return pack({"sectors": facts.sectors, "areas": facts.areas,
                 "province_values": facts.province_texts.values,
                 "school_keys": facts.school_keys, "rules": facts.rules, "asks": facts.asks,
                 "provinces": sorted(facts.provinces)},
                {**{name: getattr(small, name) for name in _ARRAYS},
                 "province_codes": small.province_texts.codes})


def decode_facts(body: bytes) -> Facts:
    """The facts ``encode_facts`` stored, with the types ``load_facts`` gives."""
    head, arrays = unpack(body)
    return widened(Facts(**{name: arrays[name] for name in _ARRAYS},
                         sectors=head["sectors"], areas=head["areas"],
                         province_texts=Coded(arrays["province_codes"],
                                              head["province_values"]),
                         school_keys=head["school_keys"], rules=head["rules"],
                         asks=head["asks"], provinces=set(head["provinces"])))


def narrowed(facts: Facts) -> Facts:
    """``facts`` with each array in the smallest integer type that holds it (a third of the
    memory, for facts kept between computations); ``widened`` gives them back."""
    changes: dict[str, Any] = {name: _narrow(getattr(facts, name)) for name in _ARRAYS}
    changes["province_texts"] = Coded(_narrow(facts.province_texts.codes),
                                      facts.province_texts.values)
    return replace(facts, **changes)


def widened(facts: Facts) -> Facts:
    """``narrowed`` facts with the types ``load_facts`` gives (new arrays)."""
    def wide(values: Array) -> Array:
        return values.astype(bool if values.dtype == bool else np.int64)

    changes: dict[str, Any] = {name: wide(getattr(facts, name)) for name in _ARRAYS}
    changes["province_texts"] = Coded(wide(facts.province_texts.codes),
                                      facts.province_texts.values)
    return replace(facts, **changes)


def _narrow(values: Array) -> Array:
    if values.dtype == bool or not len(values):
        return values
    return values.astype(np.promote_types(np.min_scalar_type(int(values.min())),
                                          np.min_scalar_type(int(values.max()))))


def _indexes(column: Coded, known: Sequence[str]) -> Array:
    """Per row the index of its value in ``known`` (-1 for another or None)."""
    index: dict[str | None, int] = {v: i for i, v in enumerate(known)}
    lookup = np.array([index.get(v, -1) for v in column.values] or [-1], dtype=np.int64)
    return lookup[column.codes]


def _theme_index(themes: Array, theme_ids: Sequence[int]) -> Array:
    """Per report the index of its theme in ``theme_ids`` (-1: none or another)."""
    if not len(themes):
        return np.zeros(0, dtype=np.int64)
    known = np.array([t for t in theme_ids if t >= 0], dtype=np.int64)
    size = int(max(themes.max(), known.max() if len(known) else 0)) + 1
    lookup = np.full(size, -1, dtype=np.int64)
    lookup[np.array(theme_ids, dtype=np.int64)] = np.arange(len(theme_ids))
    lookup[0] = -1  # no theme
    return lookup[themes]


# --- counting -------------------------------------------------------------------------------

def empty_counts() -> dict[str, Any]:
    return {"initiatives": 0, "schools": 0, "learners": 0, "obstacles": 0, "sectors": {},
            "provinces": {}, "severity": dict.fromkeys(SEVERITY_KEYS, 0),
            "status": dict.fromkeys(STATUS_KEYS, 0), "solved": 0, "worked_around": 0}


def _bincount(values: Array, size: int, weights: Array | None = None) -> Array:
    return np.bincount(values, weights=weights, minlength=size)[:size].astype(np.int64)


def _unique(values: Array) -> Array:
    """The distinct values, sorted (``np.unique`` hashes: ~100 times slower here)."""
    ordered = np.sort(values)
    if not len(ordered):
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _distinct(groups: Array, values: Array, size: int) -> Array:
    """Per group 0..size-1: how many distinct values (pairs given as two arrays)."""
    if not len(groups):
        return np.zeros(size, dtype=np.int64)
    pairs = _unique(groups * (int(values.max()) + 1) + values)
    return _bincount(pairs // (int(values.max()) + 1), size)


def tally(facts: Facts, reports: Array, groups: Array, size: int) -> list[dict[str, Any]]:
    """The counts (see ``compute_summary``) of groups 0..size-1: report ``reports[k]`` (an
    index into the report arrays) is in group ``groups[k]``."""
    out = [empty_counts() for _ in range(size)]
    if not len(reports):
        return out
    ini = facts.o_ini[reports]
    obstacles = _bincount(groups, size)
    severity = _bincount(groups * 8 + facts.o_severity[reports], size * 8).reshape(size, 8)
    status = _bincount(groups * 4 + facts.o_status[reports], size * 4).reshape(size, 4)
    pairs = _unique(groups * facts.n + ini)  # distinct (group, initiative)
    g, i = pairs // facts.n, pairs % facts.n
    initiatives = _bincount(g, size)
    learners = _bincount(g, size, weights=facts.learners[i])
    schools = _distinct(g, facts.school[i], size)
    n_sectors = len(facts.sectors)
    known = facts.sector[i] >= 0
    sectors = _bincount(g[known] * n_sectors + facts.sector[i][known],
                        size * n_sectors).reshape(size, n_sectors)
    located = facts.province[i] >= 0
    provinces = _bincount(g[located] * len(PROVINCES) + facts.province[i][located],
                          size * len(PROVINCES)).reshape(size, len(PROVINCES))
    for k in range(size):
        if not obstacles[k]:
            continue
        counts = out[k]
        counts.update({
            "initiatives": int(initiatives[k]), "schools": int(schools[k]),
            "learners": int(learners[k]), "obstacles": int(obstacles[k]),
            "sectors": {code: int(n) for code, n in zip(facts.sectors, sectors[k], strict=True)
                        if n},
            "provinces": {p: int(n) for p, n in zip(PROVINCES, provinces[k], strict=True) if n},
            "severity": {key: int(severity[k][int(key)]) for key in SEVERITY_KEYS},
            "status": {key: int(status[k][j]) for j, key in enumerate(STATUS_KEYS)},
            "solved": int(status[k][2]), "worked_around": int(status[k][1]),
        })
    return out


def levels_of(themes: list[dict[str, Any]], known_levels: Sequence[str]
              ) -> dict[int, tuple[str, ...]]:
    """Theme id -> the levels among its rules (in ``known_levels`` order), or ("onbekend",)."""
    out = {}
    for theme in themes:
        present = {r["level"] for r in theme.get("rules", [])}
        out[theme["id"]] = tuple(lv for lv in known_levels if lv in present) or (UNKNOWN_LEVEL,)
    return out


def figures(facts: Facts, themes: list[dict[str, Any]], *, public: bool,
            known_levels: Sequence[str]) -> dict[str, Any]:
    """The counts of the summary over the reports of ``facts`` (only the public ones when
    ``public``): ``totals``, ``areas`` {code: counts}, ``themes`` {theme id: counts} (themes
    with reports), ``origins`` {level: counts} (a report counts at every level of its
    theme's rules, "onbekend" without one), ``quarters`` {"2026-K3": {initiatives
    (published then), obstacles (reported then)}}, ``provinces`` (of every matching
    initiative), ``theme_ids`` (themes with reports)."""
    reports = (np.flatnonzero(~facts.o_confidential) if public
               else np.arange(len(facts.o_id)))
    totals = tally(facts, reports, np.zeros(len(reports), dtype=np.int64), 1)[0]
    areas = tally(facts, reports, facts.o_area[reports], len(facts.areas) + 1)
    theme_ids = [t["id"] for t in themes]
    theme_index = {tid: i for i, tid in enumerate(theme_ids)}
    theme_of = _theme_index(facts.o_theme[reports], theme_ids)
    themed = theme_of >= 0
    per_theme = tally(facts, reports[themed], theme_of[themed], len(theme_ids))
    levels = levels_of(themes, known_levels)
    level_names = [*known_levels, UNKNOWN_LEVEL]
    level_index = {name: i for i, name in enumerate(level_names)}
    level_reports, level_groups = [], []
    for name in level_names:
        with_level = np.array([theme_index[tid] for tid in theme_ids if name in levels[tid]],
                              dtype=np.int64)
        chosen = np.isin(theme_of, with_level)
        if name == UNKNOWN_LEVEL:
            chosen |= ~themed
        level_reports.append(reports[chosen])
        level_groups.append(np.full(int(chosen.sum()), level_index[name], dtype=np.int64))
    origins = tally(facts, np.concatenate(level_reports), np.concatenate(level_groups),
                    len(level_names))
    quarters: dict[str, dict[str, int]] = {}
    months, counts = np.unique(facts.published[facts.published >= 0], return_counts=True)
    for ym, n in zip(months.tolist(), counts.tolist(), strict=True):
        entry = quarters.setdefault(quarter(ym), {"initiatives": 0, "obstacles": 0})
        entry["initiatives"] += n
    reported = facts.o_reported[reports]
    months, counts = np.unique(reported[reported >= 0], return_counts=True)
    for ym, n in zip(months.tolist(), counts.tolist(), strict=True):
        entry = quarters.setdefault(quarter(ym), {"initiatives": 0, "obstacles": 0})
        entry["obstacles"] += n
    return {
        "totals": totals,
        "areas": {code: areas[i] for i, code in enumerate(facts.areas) if areas[i]["obstacles"]},
        "themes": {tid: per_theme[i] for i, tid in enumerate(theme_ids)
                   if per_theme[i]["obstacles"]},
        "origins": {name: origins[i] for i, name in enumerate(level_names)
                    if origins[i]["obstacles"]},
        "quarters": quarters,
        "provinces": facts.provinces,
        "theme_ids": {tid for i, tid in enumerate(theme_ids) if per_theme[i]["obstacles"]},
    }


# --- what changed since the previous snapshot ------------------------------------------------

class Basis(NamedTuple):
    """What the summary compares with the previous snapshot, taken once from its facts under
    a filter and exactness (``basis``): ``theme_schools`` {theme id: schools} of its themes
    with reports, its ``provinces``, the ids of the reports that counted then (sorted) and
    whether each was solved then. A snapshot's rows change only with a change that moves the
    lineage (withdrawal, erasure), so the basis is kept per lineage."""

    theme_schools: dict[int, int]
    provinces: set[str]
    ids: Array     # int64, sorted
    solved: Array  # bool, per id

    def encode(self) -> bytes:
        return pack({"theme_schools": list(self.theme_schools.items()),
                     "provinces": sorted(self.provinces)},
                    {"ids": self.ids, "solved": self.solved})

    @classmethod
    def decode(cls, body: bytes) -> Basis:
        head, arrays = unpack(body)
        return cls({int(k): v for k, v in head["theme_schools"]}, set(head["provinces"]),
                   arrays["ids"].astype(np.int64), arrays["solved"].astype(bool))


def basis(before: Facts, prev_themes: list[dict[str, Any]], *, public: bool) -> Basis:
    """The ``Basis`` of the previous snapshot's facts ``before`` (its themes
    ``prev_themes``), over the public reports when ``public``."""
    old = (np.flatnonzero(~before.o_confidential) if public
           else np.arange(len(before.o_id)))
    theme_ids = [t["id"] for t in prev_themes]
    theme_of = _theme_index(before.o_theme[old], theme_ids)
    per_theme = tally(before, old[theme_of >= 0], theme_of[theme_of >= 0], len(theme_ids))
    schools = {tid: per_theme[i]["schools"] for i, tid in enumerate(theme_ids)
               if per_theme[i]["obstacles"]}
    ids = before.o_id[old]
    order = np.argsort(ids, kind="stable")
    return Basis(schools, set(before.provinces), ids[order],
                 before.o_status[old][order] == 2)


def previous(now: Facts, then: Basis, *, public: bool) -> dict[str, Any]:
    """What the summary says of the previous snapshot: ``theme_schools`` and ``theme_ids``
    of its themes with reports, its ``provinces``, and of the reports that count now:
    ``new_obstacles`` (not there before) and ``solved_obstacles`` (solved now, there before
    and not solved then)."""
    new = (np.flatnonzero(~now.o_confidential) if public else np.arange(len(now.o_id)))
    now_ids, now_status = now.o_id[new], now.o_status[new]
    old_ids = then.ids
    at = np.minimum(np.searchsorted(old_ids, now_ids), max(len(old_ids) - 1, 0))
    there = (old_ids[at] == now_ids) if len(old_ids) else np.zeros(len(now_ids), dtype=bool)
    solved = there & (now_status == 2) & ~then.solved[at] if len(old_ids) else there
    return {"theme_schools": then.theme_schools, "theme_ids": set(then.theme_schools),
            "provinces": then.provinces, "new_obstacles": int((~there).sum()),
            "solved_obstacles": int(solved.sum())}


# --- texts ----------------------------------------------------------------------------------

def spelling(raw: str) -> str:
    """A text as shown: whitespace collapsed ("" for a blank one)."""
    return " ".join(raw.split())


def rule_key(raw: str) -> str:
    """One rule in other case, spacing or with a final full stop is the same rule."""
    return spelling(raw).casefold().rstrip(".")


def _keys(values: list[str], key: Callable[[str], str | None]) -> tuple[Array, int]:
    """Per distinct text the number of its key (-1: ``key`` gives None), and the number of
    keys."""
    numbers: dict[str, int] = {}
    out = []
    for raw in values:
        k = key(raw)
        out.append(-1 if k is None else numbers.setdefault(k, len(numbers)))
    return np.array(out or [-1], dtype=np.int64), len(numbers)


def top_rules(facts: Facts, limit: int) -> list[dict[str, Any]]:
    """The rules public reports cite most: [{rule, obstacles, initiatives}], the spelling met
    first (record order) shown."""
    key_of, size = _keys(facts.rules, lambda raw: rule_key(raw) if raw.strip() else None)
    reports = np.flatnonzero(~facts.o_confidential)
    keys = key_of[facts.o_rule[reports]]
    cited = keys >= 0
    reports, keys = reports[cited], keys[cited]
    obstacles = _bincount(keys, size)
    initiatives = _distinct(keys, facts.o_ini[reports], size)
    found, first = np.unique(keys, return_index=True)  # reports are in record order
    shown = {int(k): spelling(facts.rules[facts.o_rule[reports[at]]])
             for k, at in zip(found.tolist(), first.tolist(), strict=True)}
    ranked = sorted(shown, key=lambda k: (-obstacles[k], -initiatives[k], shown[k]))
    return [{"rule": shown[k], "obstacles": int(obstacles[k]),
             "initiatives": int(initiatives[k])} for k in ranked[:limit]]


def policy_asks(facts: Facts, theme_ids: Sequence[int]
                ) -> dict[int | None, dict[str, dict[str, Any]]]:
    """The asks of public reports per theme of ``theme_ids`` (None: none or another):
    {key: {text, count}}, the spelling met first in the theme (record order) shown."""
    key_of, size = _keys(facts.asks,
                         lambda raw: spelling(raw).casefold() if raw.strip() else None)
    reports = np.flatnonzero(~facts.o_confidential)
    keys = key_of[facts.o_ask[reports]]
    asked = keys >= 0
    reports, keys = reports[asked], keys[asked]
    theme_of = _theme_index(facts.o_theme[reports], theme_ids)
    theme_of[theme_of < 0] = len(theme_ids)  # no theme (or another): one group
    groups, first, counts = np.unique(theme_of * max(size, 1) + keys, return_index=True,
                                      return_counts=True)
    out: dict[int | None, dict[str, dict[str, Any]]] = {}
    for group, at, n in zip(groups.tolist(), first.tolist(), counts.tolist(), strict=True):
        theme = group // max(size, 1)
        theme_id = theme_ids[theme] if theme < len(theme_ids) else None
        text = spelling(facts.asks[facts.o_ask[reports[at]]])
        out.setdefault(theme_id, {})[text.casefold()] = {"text": text, "count": n}
    return out


def quotes(src: Source, facts: Facts, theme_ids: Sequence[int], limit: int
           ) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The first ``limit`` quotes (non-blank descriptions of public reports whose contact
    allows anonymised quotes, record order) and the first quote of each theme of
    ``theme_ids``. Looked up a few candidates at a time: the consent of their initiatives
    and the descriptions of those that may be quoted."""
    every = np.flatnonzero(~facts.o_confidential & facts.o_described)  # record order
    candidates = every.tolist()
    known = set(theme_ids)
    by_theme = _per_theme(every, _theme_index(facts.o_theme[every], theme_ids), theme_ids)
    look = _LookUp(src, facts)
    out: list[dict[str, Any]] = []
    per_theme: dict[int, dict[str, Any]] = {}
    at = 0
    theme_at = dict.fromkeys(by_theme, 0)
    while True:
        wanted = candidates[at:at + CANDIDATES] if len(out) < limit else []
        for theme_id, reports in by_theme.items():
            if theme_id not in per_theme:
                wanted += reports[theme_at[theme_id]:theme_at[theme_id] + 8].tolist()
        if not wanted:
            return out, per_theme
        look.fetch(wanted)
        while len(out) < limit and at < len(candidates) and look.known(candidates[at]):
            report = candidates[at]
            at += 1
            text = look.text(report)
            if text:
                theme_id = int(facts.o_theme[report])
                out.append({"text": text, "area": look.area[int(facts.o_id[report])],
                            "theme_id": theme_id if theme_id in known else None,
                            **_place(facts, report)})
        if len(out) >= limit:
            at = len(candidates)
        for theme_id, reports in by_theme.items():
            while (theme_id not in per_theme and theme_at[theme_id] < len(reports)
                   and look.known(reports[theme_at[theme_id]])):
                report = int(reports[theme_at[theme_id]])
                theme_at[theme_id] += 1
                text = look.text(report)
                if text:
                    per_theme[theme_id] = {"text": text, **_place(facts, report)}


def _per_theme(reports: Array, theme_of: Array, theme_ids: Sequence[int]
               ) -> dict[int, Array]:
    """The reports of each theme (``theme_of``: index into ``theme_ids``, -1 none), each
    theme's in their order."""
    if not len(reports):
        return {}
    order = np.argsort(theme_of, kind="stable")
    themes, starts = np.unique(theme_of[order], return_index=True)
    ends = [*starts[1:].tolist(), len(order)]
    return {theme_ids[t]: reports[order[start:end]]
            for t, start, end in zip(themes.tolist(), starts.tolist(), ends, strict=True)
            if t >= 0}


def _place(facts: Facts, report: int) -> dict[str, Any]:
    """The sector and province of a report's initiative, as stored."""
    i = int(facts.o_ini[report])
    return {"sector": facts.sectors[facts.sector[i]], "province": facts.province_texts.at(i)}


class _LookUp:
    """The consent of candidate initiatives and the descriptions of their reports."""

    def __init__(self, src: Source, facts: Facts) -> None:
        self.src, self.facts = src, facts
        self.consent: dict[int, bool] = {}
        self.texts: dict[int, str] = {}
        self.area: dict[int, str] = {}

    def _initiative(self, report: int) -> int:
        return int(self.facts.ids[self.facts.o_ini[report]])

    def known(self, report: int) -> bool:
        consent = self.consent.get(self._initiative(report))
        return consent is not None and (not consent or int(self.facts.o_id[report])
                                        in self.texts)

    def text(self, report: int) -> str:
        """The stripped description ("" without consent or when blank)."""
        if not self.consent[self._initiative(report)]:
            return ""
        return self.texts[int(self.facts.o_id[report])]

    def fetch(self, reports: list[int]) -> None:
        src, conn = self.src, db.session.connection()
        ids = sorted({self._initiative(r) for r in reports} - set(self.consent))
        if ids:
            allowed = set(conn.execute(
                select(src.col("id")).select_from(src.select_from(contact=True))
                .where(src.scope, src.col("id").in_(ids),
                       src.col("consent_quotes") == true())).scalars())
            self.consent.update({iid: iid in allowed for iid in ids})
        wanted = sorted({int(self.facts.o_id[r]) for r in reports
                         if self.consent[self._initiative(r)]} - set(self.texts))
        if wanted:
            ob = src.obstacle.c
            for oid, area, description in conn.execute(
                    select(ob.id, ob.area_code, ob.description)
                    .where(ob.id.in_(wanted), src.obstacle_scope())):
                self.texts[oid] = (description or "").strip()
                self.area[oid] = area


ENTRY_KEYS = ("id", "reference", "title", "school", "sector", "province", "obstacles")
ANNEX_LIMIT = 500  # entries listed in the summary's annex (page, DOCX, PDF); all: the exports


def entry_columns(src: Source, facts: Facts, limit: int | None = None
                  ) -> dict[str, list[Any]]:
    """The annex, one list per field (``ENTRY_KEYS``): the first ``limit`` (``ANNEX_LIMIT``)
    matching initiatives (not withdrawn since a snapshot) in id order, with their number of
    public reports that count. Their texts are read here, for these entries only."""
    limit = ANNEX_LIMIT if limit is None else limit
    counts = _bincount(facts.o_ini[~facts.o_confidential], facts.n)
    kept = np.flatnonzero(~facts.withdrawn)[:limit]
    ids = facts.ids[kept].tolist()
    found: dict[int, tuple[Any, Any, Any]] = {}
    for start in range(0, len(ids), 900):  # SQLite's bound parameters
        chunk = ids[start:start + 900]
        for iid, reference, title, school in db.session.execute(
                select(src.col("id"), src.col("reference"), src.col("title"),
                       src.col("school_name"))
                .select_from(src.select_from()).where(src.scope, src.col("id").in_(chunk))):
            found[iid] = (reference, title, school)

    def pick(values: list[Any], at: list[int]) -> list[Any]:
        return [values[k] for k in at]

    return {
        "id": ids,
        "reference": [found[i][0] for i in ids],
        "title": [found[i][1] for i in ids],
        "school": [found[i][2] for i in ids],
        "sector": pick(facts.sectors, facts.sector[kept].tolist()),
        "province": pick(facts.province_texts.values,
                         facts.province_texts.codes[kept].tolist()),
        "obstacles": counts[kept].tolist(),
    }


def entry_count(facts: Facts) -> int:
    """How many entries the annex would list without its limit."""
    return int(np.count_nonzero(~facts.withdrawn))


def entries(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The annex as records, from ``entry_columns``."""
    return [{"id": a, "reference": b, "title": c, "school": d, "sector": e, "province": f,
             "obstacles": g}
            for a, b, c, d, e, f, g in zip(*(columns[key] for key in ENTRY_KEYS),
                                            strict=True)]


# --- the national table (registry.summary.disclosure) -----------------------------------------

def national_rows(facts: Facts, theme_ids: Sequence[int]) -> dict[tuple, dict[str, int]]:
    """Per row of the national table (("total",), ("area", code), ("theme", id),
    ("unthemed",): reports without a theme of ``theme_ids``), over every report of ``facts``
    (unfiltered, confidential ones included): ``initiatives``, ``learners``, ``schools``,
    ``reports``, ``confidential``, ``severity:k``, and the schools behind the confidential
    part: ``conf_only`` (schools of initiatives in the row through confidential reports
    only), ``public_schools`` (schools with an initiative that has a public report in the
    row), ``conf_schools`` (schools with a confidential report in the row) and
    ``conf_severity:k`` (... of severity k). Only rows with reports."""
    theme_of = _theme_index(facts.o_theme, list(theme_ids))
    everything = np.arange(len(facts.o_id))
    kinds: list[tuple[list[tuple], Array, Array]] = [
        ([("total",)], everything, np.zeros(len(everything), dtype=np.int64)),
        ([("area", code) for code in facts.areas], everything, facts.o_area),
        ([("theme", int(tid)) for tid in theme_ids], everything[theme_of >= 0],
         theme_of[theme_of >= 0]),
        ([("unthemed",)], everything[theme_of < 0],
         np.zeros(int((theme_of < 0).sum()), dtype=np.int64)),
    ]
    out: dict[tuple, dict[str, int]] = {}
    for keys, reports, groups in kinds:
        size = len(keys)
        if not len(reports):
            continue
        conf = facts.o_confidential[reports]
        severity = facts.o_severity[reports]
        # the (row, initiative) pairs: what each initiative has in the row
        pairs, pair_of = np.unique(groups * facts.n + facts.o_ini[reports], return_inverse=True)
        g, i = pairs // facts.n, pairs % facts.n
        has_public = np.bincount(pair_of, weights=~conf, minlength=len(pairs)) > 0
        has_conf = np.bincount(pair_of, weights=conf, minlength=len(pairs)) > 0
        schools = _Schools(g, facts.school[i], size)
        values = {
            "reports": _bincount(groups, size),
            "confidential": _bincount(groups[conf], size),
            "initiatives": _bincount(g, size),
            "learners": _bincount(g, size, weights=facts.learners[i]),
            "schools": schools.count(),
            "conf_only": schools.count(~has_public),
            "public_schools": schools.count(has_public),
            "conf_schools": schools.count(has_conf),
        }
        for level in SEVERITY_KEYS:
            of_level = severity == int(level)
            values[f"severity:{level}"] = _bincount(groups[of_level], size)
            with_conf = np.bincount(pair_of, weights=conf & of_level,
                                    minlength=len(pairs)) > 0
            values[f"conf_severity:{level}"] = schools.count(with_conf)
        for k, key in enumerate(keys):
            if values["reports"][k]:
                out[key] = {name: int(v[k]) for name, v in values.items()}
    return out


class _Schools:
    """Distinct schools per group among chosen (group, school) pairs: one sort, then a
    count per choice."""

    def __init__(self, groups: Array, schools: Array, size: int) -> None:
        width = int(schools.max()) + 1 if len(schools) else 1
        unique, self.of = np.unique(groups * width + schools, return_inverse=True)
        self.group = unique // width
        self.size = size

    def count(self, chosen: Array | None = None) -> Array:
        if chosen is None:
            return _bincount(self.group, self.size)
        present = np.zeros(len(self.group), dtype=bool)
        present[self.of[chosen]] = True
        return _bincount(self.group[present], self.size)
