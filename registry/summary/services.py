"""The obstacle summary (knelpuntenoverzicht) and citable snapshots.

``compute_summary`` is the single source of every figure: the /knelpunten page, the DOCX,
PDF and XLSX downloads, the themes export and the API all show its output.
"""
from __future__ import annotations

import json
import sys
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from flask import current_app
from sqlalchemy import select

from registry.cache import (
    Local,
    LocalResults,
    SharedResults,
    Versions,
    has_pending_public_changes,
    public_versions,
    shared_get,
    shared_key,
    shared_put,
)
from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.localized import localized
from registry.moderation.models import RULE_LEVELS
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.models import Snapshot
from registry.published.snapshots import previous_snapshot, withdrawn_since
from registry.published.sources import PUBLISHED, LiveSource, SnapshotSource, Source
from registry.summary import figures
from registry.summary.disclosure import national_figures
from registry.summary.labels import filter_words
from registry.taxonomy.constants import CONFIDENTIAL, PROVINCES, InitiativeState
from registry.taxonomy.services import Taxonomy
from registry.taxonomy.services import current as current_taxonomy

SEVERITY_KEYS = ("1", "2", "3", "4")
STATUS_KEYS = ("open", "omzeild", "opgelost")

# Where a rule comes from decides who can remove the obstacle (DOMAIN.md). Counted per rule,
# not per theme: a theme with rules at several levels counts in each of them ("mixed" when
# they fall in more than one group), so the rows of ``origins`` do not add up.
ORIGIN_LEVELS = (*RULE_LEVELS, "onbekend")  # "onbekend": no theme, or no rule of known level
RULE_LEVEL_GROUP = {
    # a change of law or regulation
    "wet": "regelgeving", "amvb": "regelgeving", "ministeriele_regeling": "regelgeving",
    # the inspection framework and sector agreements
    "toezicht": "toezicht_sector", "sectorafspraak": "toezicht_sector",
    # the board's or school's own choices: information or a change at the school
    "bestuur": "school",
}
ORIGIN_GROUPS = ("regelgeving", "toezicht_sector", "school", "onbekend")
TOP_THEMES = 5  # themes in the key message
TOP_RULES = 10
MAX_QUOTES = 30
MAX_ASKS_PER_THEME = 20
# The form of a summary stored in ``shared_result``: raise it when the summary's shape changes,
# so that no worker reads a result stored by an older release.
SUMMARY_FORMAT = 2  # 2: the annex holds at most ANNEX_LIMIT entries, with entry_count
ENTRY_KEYS = figures.ENTRY_KEYS


class Tally:
    """Counts for one group (an area, a theme, a rule level or everything).

    Lean, so the summary of 100,000 initiatives fits in memory (issue 11: ~40 of these
    held per-initiative dicts and sets, ~300 MB): an initiative is counted, with its
    learners, sector and province, when its first obstacle is added. ``add`` gets all
    obstacles of one record before the next record (as ``aggregate`` does); records have
    distinct ids. Schools stay a set, of interned keys shared by every tally.
    """

    __slots__ = ("initiatives", "schools", "learners", "sectors", "provinces", "obstacles",
                 "severity", "status", "_last_id")

    def __init__(self) -> None:
        self.initiatives = 0
        self.schools: set[str] = set()
        self.learners = 0
        self.sectors: Counter[str] = Counter()
        self.provinces: Counter[str] = Counter()
        self.obstacles = 0
        self.severity: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self._last_id: int | None = None

    def add(self, rec: dict[str, Any], obstacle: dict[str, Any]) -> None:
        if rec["id"] != self._last_id:
            self._last_id = rec["id"]
            school = rec["school"]
            self.initiatives += 1
            # A school without an institution code (not in DUO's list) is its own school;
            # records have no organisation id, but every entry has its own organisation.
            self.schools.add(sys.intern(f"{school['brin']}\x00{school['location_number']}"
                                        if school["brin"] else f"ini:{rec['id']}"))
            self.learners += rec["learners_count"] or 0
            self.sectors[school["sector"]] += 1
            if school["province"]:
                self.provinces[school["province"]] += 1
        self.obstacles += 1
        self.severity[str(obstacle["severity"])] += 1
        self.status[obstacle["status"]] += 1

    def as_dict(self, sector_order: Sequence[str]) -> dict[str, Any]:
        """The counts; sectors in ``sector_order`` (the taxonomy's), then any others."""
        sectors, provinces = self.sectors, self.provinces
        order = [*sector_order, *sorted(set(sectors) - set(sector_order))]
        return {
            "initiatives": self.initiatives,
            "schools": len(self.schools),
            "learners": self.learners,
            "obstacles": self.obstacles,
            "sectors": {code: sectors[code] for code in order if sectors[code]},
            "provinces": {p: provinces[p] for p in PROVINCES if provinces[p]},
            "severity": {k: self.severity[k] for k in SEVERITY_KEYS},
            "status": {k: self.status[k] for k in STATUS_KEYS},
            "solved": self.status["opgelost"],
            "worked_around": self.status["omzeild"],
        }


def rule_group(level: str) -> str:
    """The group of a rule level: regelgeving, toezicht_sector, school (onbekend if unknown)."""
    return RULE_LEVEL_GROUP.get(level, "onbekend")


def theme_origins(theme: dict[str, Any]) -> list[str]:
    """The levels of a theme's rules, in ``RULE_LEVELS`` order (unknown levels left out)."""
    levels = {r["level"] for r in theme.get("rules", [])}
    return [level for level in RULE_LEVELS if level in levels]


def theme_mixed(theme: dict[str, Any]) -> bool:
    """Whether a theme's rules come from more than one group (e.g. a law and the school's
    own choices)."""
    return len({RULE_LEVEL_GROUP[level] for level in theme_origins(theme)}) > 1


def theme_origin_groups(theme: dict[str, Any]) -> list[str]:
    """The groups of a theme's rules in ``ORIGIN_GROUPS`` order (["onbekend"] if none)."""
    groups = {RULE_LEVEL_GROUP[level] for level in theme_origins(theme)}
    return [g for g in ORIGIN_GROUPS if g in groups] or ["onbekend"]


def _quarter(value: datetime | None) -> str | None:
    """``2026-K3`` for a record's datetime."""
    if not value:
        return None
    return _QUARTERS.get((value.year, value.month)) or _quarter_label(value.year, value.month)


_QUARTERS: dict[tuple[int, int], str] = {}


def _quarter_label(year: int, month: int) -> str:
    label = _QUARTERS[(year, month)] = f"{year}-K{(month - 1) // 3 + 1}"
    return label


def _normalise_rule(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".")


def aggregate(rows: figures.Facts | Iterable[dict[str, Any]], themes: list[dict[str, Any]],
              *, public: bool = False) -> dict[str, Any]:
    """The counts of the summary: one call per computation.

    ``rows`` ``figures.Facts`` (what ``compute_summary`` uses): counted by
    ``registry.summary.figures.figures``, counts as dicts (``public``: the public reports
    among them only). ``rows`` records (an iterable): the same counts in one Python pass
    (``aggregate_records``, with ``Tally`` objects: the streaming form that the themes
    export's ``ThemeTallies`` follows).
    """
    if isinstance(rows, figures.Facts):
        return figures.figures(rows, themes, public=public, known_levels=RULE_LEVELS)
    return aggregate_records(rows, themes)


def aggregate_records(items: Iterable[dict[str, Any]], themes: list[dict[str, Any]]
                      ) -> dict[str, Any]:
    """One pass over initiative records: every count the summary and exports need (exact).

    The records carry the obstacles that count under the filter (the record path narrows
    them), so every obstacle of a record is counted.

    The loop runs once per obstacle (300,000 at 100,000 initiatives), so what does not
    depend on the obstacle is looked up once: each theme's rule levels, the normalised form
    of each distinct rule and policy ask (issue 11).
    """
    theme_by_id = {t["id"]: t for t in themes}
    # A report counts at every level of its theme's rules ("onbekend": none known).
    levels_of = {t["id"]: tuple(theme_origins(t)) or ("onbekend",) for t in themes}
    unknown = ("onbekend",)
    totals = Tally()
    areas: dict[str, Tally] = defaultdict(Tally)
    per_theme: dict[int, Tally] = defaultdict(Tally)
    origins: dict[str, Tally] = defaultdict(Tally)
    rules: dict[str, dict[str, Any]] = {}
    rule_forms: dict[str, tuple[str, str] | None] = {}  # raw text -> (key, display) | None
    asks: dict[int | None, dict[str, dict[str, Any]]] = defaultdict(dict)
    ask_forms: dict[str, tuple[str, str] | None] = {}  # raw text -> (key, display) | None
    quotes: list[dict[str, Any]] = []
    theme_quotes: dict[int, dict[str, Any]] = {}  # the first consented quote of each theme
    quarters: dict[str, Counter[str]] = defaultdict(Counter)
    obstacle_status: dict[int, str] = {}
    theme_ids: set[int] = set()
    provinces: set[str] = set()
    entries: list[dict[str, Any]] = []
    for rec in items:
        in_scope = rec["obstacles"]
        school = rec["school"]
        quarter = _quarter(rec["published_at"])
        if quarter:
            quarters[quarter]["initiatives"] += 1
        if school["province"]:
            provinces.add(school["province"])
        if not rec.get("withdrawn"):  # a row withdrawn since the snapshot only counts
            entries.append({
                "id": rec["id"], "reference": rec["reference"], "title": rec["title"],
                "school": school["name"], "sector": school["sector"],
                "province": school["province"], "obstacles": len(in_scope),
            })
        for o in in_scope:
            totals.add(rec, o)
            areas[o["area"]].add(rec, o)
            theme_id = o["theme_id"]
            theme = theme_by_id.get(theme_id) if theme_id is not None else None
            if theme is not None:
                per_theme[theme_id].add(rec, o)
                levels = levels_of[theme_id]
                theme_ids.add(theme_id)
            else:
                theme_id = None
                levels = unknown
            for level in levels:
                origins[level].add(rec, o)
            obstacle_status[o["id"]] = o["status"]
            # Reports over time: the date the school reported it (issue 18), not the row's.
            oq = _quarter(o["reported_at"])
            if oq:
                quarters[oq]["obstacles"] += 1
            raw = o["rule"]
            if raw not in rule_forms:
                rule_forms[raw] = ((_normalise_rule(raw), " ".join(raw.split()))
                                   if raw.strip() else None)
            form = rule_forms[raw]
            if form is not None:
                entry = rules.get(form[0])
                if entry is None:
                    entry = rules[form[0]] = {"rule": form[1], "obstacles": 0,
                                              "initiatives": set()}
                entry["obstacles"] += 1
                entry["initiatives"].add(rec["id"])
            raw = o["policy_ask"]
            if raw not in ask_forms:
                text = " ".join(raw.split())
                ask_forms[raw] = (text.casefold(), text) if raw.strip() else None
            form = ask_forms[raw]
            if form is not None:
                group = asks[theme_id]
                item = group.get(form[0])
                if item is None:
                    item = group[form[0]] = {"text": form[1], "count": 0}
                item["count"] += 1
            if rec["consent_quotes"] and o["description"].strip():
                if len(quotes) < MAX_QUOTES:
                    quotes.append({
                        "text": o["description"].strip(), "area": o["area"],
                        "theme_id": theme_id,
                        "sector": school["sector"], "province": school["province"],
                    })
                if theme_id is not None and theme_id not in theme_quotes:
                    theme_quotes[theme_id] = {
                        "text": o["description"].strip(),
                        "sector": school["sector"], "province": school["province"],
                    }
    return {
        "totals": totals, "areas": areas, "themes": per_theme, "origins": origins,
        "rules": rules, "asks": asks, "quotes": quotes, "theme_quotes": theme_quotes,
        "quarters": quarters, "obstacle_status": obstacle_status, "theme_ids": theme_ids,
        "provinces": provinces, "entries": entries,
    }


def themes_in_scope(flt: InitiativeFilter, themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in themes
            if (not flt.area or t["area"] in flt.area) and (not flt.theme or t["id"] in flt.theme)]


def compute_summary(flt: InitiativeFilter, src: Source, exact: bool = False) -> dict[str, Any]:
    """All figures of the obstacle summary for the published data matching ``flt``.

    ``src``: live data (``registry.published.sources.PUBLISHED``) or a snapshot's source.
    ``exact``: staff (advisor and up). The public figures count public reports only, exactly
    (they are shown with the school's name anyway); staff figures count confidential
    reports too. Confidential reports reach the public only through ``national``, the fixed
    unfiltered table of ``registry.summary.disclosure`` (suppressed below
    ``SMALL_NUMBER_THRESHOLD`` contributing schools; exact for staff). Texts (top rules,
    policy asks, quotes, the key message's quotes) and the annex of entries come from public
    reports for everyone.

    A snapshot's figures also count the entries withdrawn since it was made (they are
    frozen); those entries are in no list, text or annex.

    The result is JSON-serialisable (str keys, int/float/str/bool/list/dict/None values)::

        meta:     source ("live"|"snapshot"), snapshot (code|None), data_date (ISO),
                  generated_at, filter (describe()), filter_args, filter_words (the filter
                  in words, interface language), exact, threshold, withdrawn_since
                  (snapshot entries withdrawn since it was made)
        key_message: {themes, new_themes, figures}: what an advisor reads first
                  themes: the TOP_THEMES themes with the most schools affected (then the
                  highest share of severity 3-4, most reports, title):
                  [{id, title, area, problem (the theme's description), ask (the theme's
                  ask to OCW, "" if none), rules[{title, level, group, source_url,
                  existing_room}], origins, mixed, quote {text, sector, province} | None
                  (the first consented quote of the theme), initiatives, schools, learners,
                  reports, severe_share (0..1: severity 3-4 / reports), sectors{code:
                  initiatives}, provinces{name: initiatives}, schools_change (schools now
                  minus in the previous snapshot, same filter; None without one)}]
                  new_themes: [{id, title}] since the previous snapshot (= changes)
                  figures: {initiatives, schools, learners, reports, themes (with reports)}
        totals:   counts (see below) over all obstacles in scope
        areas:    [{code, label_nl, label_en, **counts}] in the taxonomy's order of the areas
        themes:   [{id, title, area, description, origins (the levels of its rules in
                  RULE_LEVELS order), mixed (rules in more than one group), rules[{title,
                  level, source_url, existing_room}], **counts}], most obstacles first
                  (themes with >= 1 obstacle)
        origins:  [{level, group, themes, mixed_themes, **counts}] one row per level of
                  ORIGIN_LEVELS: the reports in themes with at least one rule of that level
                  (a report counts at every level of its theme: the rows do not add up);
                  "onbekend": reports without a theme or in a theme without rules. group
                  (RULE_LEVEL_GROUP): regelgeving (wet/amvb/ministeriele_regeling: a change
                  of law or regulation), toezicht_sector (toezicht/sectorafspraak), school
                  (bestuur: information or a change at the school), onbekend. themes: theme
                  rows with that level (onbekend: without a known level); mixed_themes: of
                  those, the mixed ones
        top_rules: [{rule, obstacles, initiatives}] the rules schools cite most (max 10)
        policy_asks: [{theme_id|None, title|None, asks[{text, count}]}] grouped per theme
                  (the 20 most frequent asks of each theme)
        quotes:   [{text, area, theme_id, sector, province}] only from consenting contacts
                  (at most 30)
        quarters: [{quarter "2026-K3", initiatives published, obstacles reported (by the
                  date the school reported them: ``reported_at``)}]
        changes:  {previous: code|None, previous_date, new_themes[{id, title}],
                  solved_obstacles, new_obstacles, new_provinces[]}
        entries:  [{id, reference, title, school, sector, province, obstacles}] (annex)
        national: see ``registry.summary.disclosure.national_figures``

    counts = {initiatives, schools (distinct BRIN + location; a school without an institution
    code is a school of its own: ``records.school_key``), learners (sum of
    learners_count over distinct initiatives), obstacles, sectors{code: initiatives},
    provinces{name: initiatives}, severity{"1".."4": obstacles}, status{open, omzeild,
    opgelost: obstacles}, solved, worked_around}.

    Obstacle-level figures count only obstacles in the filtered areas/themes (all obstacles
    when no area or theme filter is given) of the initiatives passing the filter.

    Computed by ``registry.summary.figures`` once per version of the public data
    (``registry.cache``) for every worker and app server: stored in ``shared_result`` and
    kept in a small per-process cache in front of it, so the page, the downloads and the API
    share one computation per change (issues 11 and 20); a stored result gets a fresh
    ``generated_at``, ``data_date`` and ``filter_words`` (in the language of the request),
    as a new computation would.
    """
    summary = _summary(flt, src, exact)
    return {key: value for key, value in summary.items() if not key.startswith("_")}


def _summary(flt: InitiativeFilter, src: Source, exact: bool) -> dict[str, Any]:
    """The summary with its private parts (keys starting with "_", kept in the cache):
    ``_theme_quotes`` {theme id: quote} (for the staff summary of the same filter, whose
    texts are the public ones), ``_filter_themes`` {theme id: title} of the filter and
    ``_entry_columns`` (the annex as ``encode_summary`` stores it; None when read back).

    Computed once per data version for every worker and app server
    (``registry.cache.SharedResults``: this process's ``summary_cache`` in front of the
    database). While one worker computes it after a publication, the others serve the
    previous public summary (nothing it shows was taken away since); staff figures wait."""
    threshold = int(current_app.config["SMALL_NUMBER_THRESHOLD"])
    key = _cache_key(flt, src, exact, threshold)

    def compute() -> dict[str, Any]:
        return _compute_summary(flt, src, exact, threshold, current_taxonomy())

    if key is None:
        return compute()
    found = summary_cache.get(key.shared, key.versions, compute, encode=encode_summary,
                              decode=decode_summary,
                              weight=lambda summary: len(summary["entries"]) + 1,
                              stale_ok=not exact)
    cached = found.value
    return {**cached, "meta": {**cached["meta"], **_meta(flt, src, cached["_filter_themes"])}}


def encode_summary(summary: dict[str, Any]) -> bytes:
    """A summary as stored for every worker: compressed JSON. Theme ids that are dict keys
    become pairs and the annex becomes one list per field (compact, quick to read back)."""
    out = {key: value for key, value in summary.items() if key != "_entry_columns"}
    out["_theme_quotes"] = list(summary["_theme_quotes"].items())
    out["_filter_themes"] = list(summary["_filter_themes"].items())
    out["entries"] = summary.get("_entry_columns") or {
        key: [entry[key] for entry in summary["entries"]] for key in ENTRY_KEYS}
    text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode(), 1)


def decode_summary(body: bytes) -> dict[str, Any]:
    """The summary ``encode_summary`` stored, as ``_compute_summary`` returned it."""
    out = json.loads(zlib.decompress(body))
    out["_theme_quotes"] = {int(k): v for k, v in out["_theme_quotes"]}
    out["_filter_themes"] = {int(k): v for k, v in out["_filter_themes"]}
    out["entries"] = figures.entries(out["entries"])
    return out


def _meta(flt: InitiativeFilter, src: Source, theme_titles: dict[int, str]
          ) -> dict[str, Any]:
    """The parts of ``meta`` that depend on the moment and the request's language
    (``theme_titles``: the titles of the filter's themes)."""
    return {**src.meta(flt), "generated_at": utcnow().isoformat(),
            "filter_words": filter_words(flt, theme_titles)}


def national(src: Source, exact: bool, facts: figures.Facts | None = None) -> dict[str, Any]:
    """The unfiltered national table (``registry.summary.disclosure``) of ``src``, computed
    once per data version like the summary (kept in this process and for every worker).
    ``facts``: the unfiltered facts of ``_all_reports(src)`` when the caller has them."""
    threshold = int(current_app.config["SMALL_NUMBER_THRESHOLD"])
    key = _cache_key(None, src, exact, threshold)

    def compute() -> dict[str, Any]:
        taxonomy = current_taxonomy()
        table_facts = facts
        if table_facts is None:
            table_facts = _load(_all_reports(src), InitiativeFilter.empty(), taxonomy,
                                texts=False)
        return national_figures(table_facts, taxonomy, records.themes(src),
                                threshold=threshold, exact=exact)

    if key is None:
        return compute()
    return summary_cache.get(
        key.shared, key.versions, compute,
        encode=lambda table: zlib.compress(json.dumps(table, separators=(",", ":")).encode(), 1),
        decode=lambda body: json.loads(zlib.decompress(body)),
        weight=lambda table: len(table["rows"]), stale_ok=not exact).value


def _all_reports(src: Source) -> Source:
    """Every row figures can count: with confidential reports and the entries withdrawn
    since a snapshot (the national table; and, masked, the unfiltered summaries)."""
    return src.for_aggregates().with_confidential()


def _load(src: Source, flt: InitiativeFilter, taxonomy: Taxonomy, *, texts: bool
          ) -> figures.Facts:
    """The facts of ``src`` under ``flt``. Of published live data, brought up to date from
    the facts this process read at an earlier version of the same lineage when it has them:
    since then entries were only published, so only theirs are read (issue 20). Facts read
    in full are also stored for every worker, once per lineage (``shared_result``); a worker
    without facts of its own starts from those. Only the public national summary's (the one
    every visitor of /knelpunten gets) are kept."""
    sector_order, area_order = taxonomy.codes("sectors"), taxonomy.codes("areas")

    def load(only: Sequence[int] | None = None) -> figures.Facts:
        return figures.load_facts(src, flt, sector_order=sector_order, area_order=area_order,
                                  texts=texts, only=only)

    # only the public national summary's facts are kept (memory)
    versions = (_cache_versions() if texts and flt.is_empty() and isinstance(src, LiveSource)
                and src.states == (InitiativeState.PUBLISHED,) else None)
    if versions is None:
        return load()
    key = (src.visibility, flt.cache_key(), texts, tuple(sector_order), tuple(area_order))
    stored_key = shared_key("summary-facts", SUMMARY_FORMAT, *map(str, key))
    kept = facts_cache.get(key)
    base = None
    if kept is not None and kept.lineage == versions.lineage:
        if kept.version == versions.public:
            return figures.widened(kept.value)
        base = figures.widened(kept.value)
    else:  # the facts another worker read in this lineage, if any
        body = shared_get(stored_key, versions.lineage)
        base = figures.decode_facts(body) if body is not None else None
    facts = (_brought_up_to_date(base, src, flt, load, sector_order) if base is not None
             else None)
    if facts is None:
        facts = load()
        shared_put(stored_key, versions.lineage, figures.encode_facts(facts),
                   lineage=versions.lineage)
    facts_cache.put(key, Local(versions.public, versions.lineage, figures.narrowed(facts),
                               len(facts.o_id) + facts.n))
    return facts


DELTA_LIMIT = 5_000  # more initiatives published since: read everything again


def _brought_up_to_date(facts: figures.Facts, src: Source, flt: InitiativeFilter,
                        load: Callable[..., figures.Facts], sector_order: Sequence[str]
                        ) -> figures.Facts | None:
    """``facts`` with the initiatives published since (None: read everything again)."""
    now = figures.fetch_columns(
        select(src.col("id").label("iid")).select_from(records.matching_from(src, flt))
        .where(src.scope, *flt.where(src)), ints=("iid",))["iid"]
    now.sort()
    at = np.minimum(np.searchsorted(now, facts.ids), max(len(now) - 1, 0))
    if len(facts.ids) and (not len(now) or not np.all(now[at] == facts.ids)):
        return None  # an initiative left: not only publications (the lineage would say so)
    added = np.setdiff1d(now, facts.ids, assume_unique=True)
    if not len(added):
        return facts
    if len(added) > DELTA_LIMIT:
        return None
    return figures.merge(facts, load(added.tolist()), sector_order)


# The facts of the public national summary this process computed last (``_load``), narrowed:
# about 10 MB at 100,000 entries (weight: the report rows held).
facts_cache = LocalResults(max_weight=2_000_000)


def _figure_source(src: Source, exact: bool) -> Source:
    """The rows figures count: with the entries withdrawn since a snapshot (frozen), and for
    staff with confidential reports."""
    rows = src.for_aggregates()
    return rows.with_confidential() if exact else rows


# The comparison basis of previous snapshots per filter and exactness, in this process (bounded
# by the report ids held: ~300,000 for the national one at 100,000 entries), in front of
# ``shared_result``.
basis_cache = SharedResults(max_weight=1_000_000)


def _basis(prev: Snapshot, flt: InitiativeFilter, exact: bool, taxonomy: Taxonomy
           ) -> figures.Basis:
    """What a summary compares with the snapshot ``prev`` under ``flt``: read from the
    snapshot's rows once per lineage (issue 20: at 100,000 entries the second full read
    made the first summary after a change half as slow again). Publications leave a
    snapshot as it was; the changes that can alter its rows (withdrawal, erasure) move the
    lineage."""
    prev_source = SnapshotSource(prev)

    def compute() -> figures.Basis:
        return figures.basis(_load(_figure_source(prev_source, exact), flt, taxonomy,
                                   texts=False),
                             records.themes(prev_source), public=not exact)

    versions = _cache_versions()
    if versions is None:
        return compute()
    key = shared_key("summary-basis", SUMMARY_FORMAT, prev.id, flt.cache_key(), exact)
    per_lineage = Versions(versions.lineage, versions.lineage)
    return basis_cache.get(key, per_lineage, compute, encode=figures.Basis.encode,
                           decode=figures.Basis.decode, weight=lambda b: len(b.ids) + 1,
                           stale_ok=False).value


def _compute_summary(flt: InitiativeFilter, src: Source, exact: bool, threshold: int,
                     taxonomy: Taxonomy) -> dict[str, Any]:
    themes = records.themes(src)
    texts = not exact  # texts and the annex are the public ones, for staff too
    unfiltered = flt.is_empty()
    if unfiltered:  # one fetch serves the public and staff figures and the national table
        facts = _load(_all_reports(src), flt, taxonomy, texts=texts)
    else:
        facts = _load(_figure_source(src, exact), flt, taxonomy, texts=texts)
    agg = aggregate(facts, themes, public=not exact)

    def counts(group: dict[str, Any] | None) -> dict[str, Any]:
        return group if group is not None else figures.empty_counts()

    areas = [
        {"code": t.code, "label_nl": t.label_nl, "label_en": t.label_en,
         **counts(agg["areas"].get(t.code))}
        for t in taxonomy.areas
        if not flt.area or t.code in flt.area
    ]
    theme_rows = []
    for theme in themes_in_scope(flt, themes):
        found = agg["themes"].get(theme["id"])
        if not found or not found["obstacles"]:
            continue
        theme_rows.append({
            "id": theme["id"], "title": theme["title"], "area": theme["area"],
            "description": theme["description"], "origins": theme_origins(theme),
            "mixed": theme_mixed(theme), "rules": [_rule_fields(r) for r in theme["rules"]],
            **found,
        })
    theme_rows.sort(key=lambda t: (-t["obstacles"], t["title"]))
    origins = []
    for level in ORIGIN_LEVELS:
        with_level = [t for t in theme_rows
                      if (level in t["origins"] if level != "onbekend" else not t["origins"])]
        origins.append({"level": level, "group": rule_group(level), "themes": len(with_level),
                        "mixed_themes": sum(1 for t in with_level if t["mixed"]),
                        **counts(agg["origins"].get(level))})
    quarters = [{"quarter": q, "initiatives": c["initiatives"], "obstacles": c["obstacles"]}
                for q, c in sorted(agg["quarters"].items())]
    entry_columns = None
    if exact:  # texts and the annex are the public ones, for staff too
        public = _summary(flt, src, exact=False)
        text_parts = {key: public[key] for key in ("top_rules", "policy_asks", "quotes",
                                                    "entries", "entry_count")}
        theme_quotes = public["_theme_quotes"]
    else:
        theme_ids = [t["id"] for t in themes]
        quotes, theme_quotes = figures.quotes(_figure_source(src, exact=False), facts,
                                              theme_ids, MAX_QUOTES)
        text_parts = {"top_rules": figures.top_rules(facts, TOP_RULES),
                      "policy_asks": _policy_asks(figures.policy_asks(facts, theme_ids),
                                                  theme_rows, themes),
                      "quotes": quotes}
        entry_columns = figures.entry_columns(src, facts)
        text_parts["entries"] = figures.entries(entry_columns)
        text_parts["entry_count"] = figures.entry_count(facts)
    prev = previous_snapshot(src.snapshot)
    before = None
    if prev is not None:
        before = figures.previous(facts, _basis(prev, flt, exact, taxonomy), public=not exact)
    changes = _changes(prev, before, agg, themes)
    titles = {t["id"]: t["title"] for t in themes}
    filter_themes = {tid: titles[tid] for tid in flt.theme if tid in titles}
    return {
        "meta": {
            **_meta(flt, src, filter_themes),
            "exact": exact,
            "threshold": threshold,
            "withdrawn_since": (withdrawn_since(src.snapshot) if src.snapshot is not None
                                else 0),
        },
        "key_message": _key_message(theme_rows, themes, theme_quotes, before, changes,
                                    agg["totals"]),
        "totals": agg["totals"],
        "areas": areas,
        "themes": theme_rows,
        "origins": origins,
        **text_parts,
        "quarters": quarters,
        "changes": changes,
        "national": national(src, exact, facts if unfiltered else None),
        "_theme_quotes": theme_quotes,
        "_filter_themes": filter_themes,
        "_entry_columns": entry_columns,  # the annex as stored (encode_summary)
    }


def _rule_fields(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as the summary keeps it: the Dutch texts (``summary.texts.localize`` takes the
    optional English ones from the theme records when it shows them)."""
    return {key: rule[key] for key in ("title", "level", "source_url", "existing_room")}


def severe_share(counts: dict[str, Any]) -> float:
    """The share of reports of severity 3 or 4 (0 without reports)."""
    reports = counts["obstacles"]
    return (counts["severity"]["3"] + counts["severity"]["4"]) / reports if reports else 0.0


def _key_message(theme_rows: list[dict[str, Any]], themes: list[dict[str, Any]],
                 theme_quotes: dict[int, dict[str, Any]], before: dict[str, Any] | None,
                 changes: dict[str, Any], totals: dict[str, Any]) -> dict[str, Any]:
    """The top themes (see ``compute_summary``) with what an advisor needs of each."""
    by_id = {t["id"]: t for t in themes}
    ranked = sorted(theme_rows, key=lambda t: (-t["schools"], -severe_share(t),
                                               -t["obstacles"], t["title"], t["id"]))
    top = []
    for row in ranked[:TOP_THEMES]:
        theme = by_id[row["id"]]
        change = None
        if before is not None:
            change = row["schools"] - before["theme_schools"].get(row["id"], 0)
        top.append({
            "id": row["id"], "title": row["title"], "area": row["area"],
            "problem": theme["description"], "ask": theme.get("ask") or "",
            "rules": [{"title": r["title"], "level": r["level"], "group": rule_group(r["level"]),
                       "source_url": r["source_url"], "existing_room": r["existing_room"]}
                      for r in theme["rules"]],
            "origins": row["origins"], "mixed": row["mixed"],
            "quote": theme_quotes.get(row["id"]),
            "initiatives": row["initiatives"], "schools": row["schools"],
            "learners": row["learners"], "reports": row["obstacles"],
            "severe_share": severe_share(row),
            "sectors": row["sectors"], "provinces": row["provinces"],
            "schools_change": change,
        })
    return {
        "themes": top,
        "new_themes": changes["new_themes"],
        "figures": {"initiatives": totals["initiatives"], "schools": totals["schools"],
                    "learners": totals["learners"], "reports": totals["obstacles"],
                    "themes": len(theme_rows)},
    }


def _policy_asks(asks: dict[int | None, dict[str, dict[str, Any]]],
                 theme_rows: list[dict[str, Any]], themes: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """The asks grouped per theme (in the order of the theme rows, then those without a
    theme), the most frequent first."""
    theme_titles = {t["id"]: t["title"] for t in themes}
    policy_asks = []
    for theme_id in [t["id"] for t in theme_rows] + [None]:
        group = asks.get(theme_id)
        if group:
            ranked = sorted(group.values(), key=lambda a: (-a["count"], a["text"]))
            policy_asks.append({
                "theme_id": theme_id, "title": theme_titles.get(theme_id),
                "asks": ranked[:MAX_ASKS_PER_THEME],
            })
    return policy_asks


# The summaries and national tables of this process (weight: annex entries, at most
# ANNEX_LIMIT + 1 per summary, or table rows), in front of ``shared_result``.
summary_cache = SharedResults(max_weight=100_000)


class _Key(NamedTuple):
    versions: Versions  # the public data version and lineage
    shared: str  # the key in shared_result (registry.cache.shared_key)


def _cache_versions() -> Versions | None:
    """The versions results are kept under, or None when nothing may be kept: the caches are
    switched off (``SUMMARY_CACHE = False``), the table is missing, or this session holds
    changes to public data that are not committed yet (the version is replaced on commit)."""
    if not current_app.config["SUMMARY_CACHE"] or has_pending_public_changes(db.session):
        return None
    return public_versions()


def _cache_key(flt: InitiativeFilter | None, src: Source, exact: bool,
               threshold: int) -> _Key | None:
    """The cache key, or None when the result must not be cached: no data version (the
    table is missing, or the cache is switched off with ``SUMMARY_CACHE = False``), or this
    session holds changes to public data that are not committed yet (the version is only
    replaced on commit). Filters that select the same (``InitiativeFilter.cache_key``) share
    one result: everything in it that names the filter is made fresh on reading."""
    versions = _cache_versions()
    if versions is None:
        return None
    parts = ("summary" if flt is not None else "national", SUMMARY_FORMAT,
             flt.cache_key() if flt is not None else "", src.code, exact, threshold)
    return _Key(versions, shared_key(*parts))


def _changes(prev: Snapshot | None, before: dict[str, Any] | None, agg: dict[str, Any],
             themes: list[dict[str, Any]]) -> dict[str, Any]:
    """What changed since the previous snapshot ``prev`` (``before``: what
    ``figures.previous`` found of it under the same filter and exactness)."""
    if prev is None or before is None:
        return {"previous": None, "previous_date": None, "new_themes": [],
                "solved_obstacles": 0, "new_obstacles": 0, "new_provinces": []}
    titles = {t["id"]: t["title"] for t in themes}
    return {
        "previous": prev.code,
        "previous_date": (as_utc(prev.created_at) or utcnow()).isoformat(),
        "new_themes": [{"id": tid, "title": titles.get(tid, "")}
                       for tid in sorted(agg["theme_ids"] - before["theme_ids"])],
        "solved_obstacles": before["solved_obstacles"],
        "new_obstacles": before["new_obstacles"],
        "new_provinces": [p for p in PROVINCES
                          if p in agg["provinces"] and p not in before["provinces"]],
    }


# ------------------------------------------------------------- confidential reports (staff)

def confidential_reports() -> list[dict[str, Any]]:
    """The confidential reports of published entries, for advisors (issue 16): what rules
    schools bend and what they ask, grouped by area and theme, without the school or the
    entry (the moderator sees those on the entry page). Ordered by area, theme, severity."""
    src = PUBLISHED.with_confidential()
    themes = {t["id"]: t for t in records.themes(src)}
    area_order = {code: i for i, code in enumerate(current_taxonomy().codes("areas"))}
    ob = src.obstacle.c
    rows = db.session.execute(
        select(ob.id, ob.area_code, ob.theme_id, ob.title, ob.description, ob.rule,
               ob.severity, ob.status, ob.workaround, ob.policy_ask)
        .where(ob.visibility == CONFIDENTIAL,
               ob.initiative_id.in_(InitiativeFilter.empty().select_ids(PUBLISHED)))).all()
    out = [{"id": r.id, "area": r.area_code,
            "theme": localized(themes[r.theme_id], "title") if r.theme_id in themes else None,
            "title": r.title, "description": r.description or "", "rule": r.rule or "",
            "severity": r.severity, "status": r.status, "workaround": r.workaround or "",
            "policy_ask": r.policy_ask or ""} for r in rows]
    out.sort(key=lambda r: (area_order.get(r["area"], 99), r["theme"] or "\uffff",
                            -r["severity"], r["id"]))
    return out
