"""An independent oracle for the read path and the obstacle summary.

Everything here is recomputed from plain SQL rows (``text()`` statements on the tables, no
application model, filter, record builder or summary code) with brute-force Python loops, so
a figure the application gets wrong cannot be reproduced here by the same mistake. The
semantics are written out from DOMAIN.md and the documented contract of
``compute_summary`` / ``InitiativeFilter``:

- published = ``initiative.state = 'published'``;
- an initiative matches when every given filter holds: its school's sector / province /
  the initiative's phase is one of the given values; it has an obstacle in one of the given
  areas; it has an obstacle in one of the given themes; it has a level >= ``min_level``
  (default 1) now or as ambition on the given dimension; the query, folded (Unicode NFKD,
  combining marks removed, case-folded, whitespace collapsed), is a substring of the folded
  title, summary, school name, place or one of its obstacle titles;
- the obstacles that count are those of a matching initiative in the given areas and themes
  (all of them without an area or theme filter);
- a school is a distinct (institution code, location number), and every school without an
  institution code (brin "", not in DUO's list) is a school of its own (its organisation
  row); learners are summed over distinct initiatives;
- rule origin is counted per rule level (issue 18): a report counts at every level among
  its theme's rules ("onbekend": no theme, or no rule of a known level), so the rows do not
  add up; a theme is mixed when its levels fall in more than one group (law and regulation /
  inspection and sector / the school);
- the key message: the 5 themes affecting the most schools, then the highest share of
  severity 3-4, most reports, title; each with the first consented quote of its reports
  and the change in schools since the previous snapshot.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import text

from registry.summary import figures as code_figures

PROVINCES = (
    "Groningen", "Fryslân", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
    "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg",
)
# DOMAIN.md, "Where a rule comes from": from national law down to the school.
RULE_LEVEL_ORDER = ("wet", "amvb", "ministeriele_regeling", "toezicht", "sectorafspraak",
                    "bestuur")
# DOMAIN.md: law and regulation need a change of law; inspection framework and sector
# agreements need other agreements; the board's and school's own choices need information
# or a change at the school.
GROUP_OF_LEVEL = {"wet": "regelgeving", "amvb": "regelgeving",
                  "ministeriele_regeling": "regelgeving", "toezicht": "toezicht_sector",
                  "sectorafspraak": "toezicht_sector", "bestuur": "school"}
ORIGIN_ROWS = (*RULE_LEVEL_ORDER, "onbekend")
TOP_THEMES = 5
STATUSES = ("open", "omzeild", "opgelost")
SEVERITIES = ("1", "2", "3", "4")
TOP_RULES, MAX_ASKS, MAX_QUOTES = 10, 20, 30
LIST_ARGS = ("sector", "area", "province", "phase", "theme")


def fold(value: str | None) -> str:
    """NFKD, without combining marks, case-folded, whitespace collapsed."""
    out = []
    for ch in unicodedata.normalize("NFKD", value or ""):
        if unicodedata.combining(ch):
            continue
        out.append(ch)
    return " ".join("".join(out).casefold().split())


def _when(value: Any) -> datetime | None:
    """A datetime column as read by a plain driver (SQLite gives text), in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass
class Rows:
    """Plain rows of the published data, in id order; obstacles in form order."""

    initiatives: list[dict[str, Any]]
    obstacles: dict[int, list[dict[str, Any]]]
    dimensions: dict[int, dict[str, tuple[int, int]]]
    themes: list[dict[str, Any]]  # ordered by area code, id
    areas: list[dict[str, Any]]  # the obstacle_area table in its position order
    sectors: list[str] = field(default_factory=list)

    @property
    def theme_by_id(self) -> dict[int, dict[str, Any]]:
        return {t["id"]: t for t in self.themes}


def load(session, *, confidential: bool = False) -> Rows:
    """Read the published data with plain SQL: public reports only (what every public
    figure counts), or with the confidential ones (what staff figures count)."""
    run = session.execute
    initiatives = [dict(r._mapping) for r in run(text(
        "SELECT i.id, i.reference, i.title, i.summary, i.phase, i.learners_count, "
        "i.published_at, o.name AS school, o.id AS organisation_id, o.brin, o.location_number, "
        "o.sector, o.province, "
        "o.city, c.consent_quotes, c.erased_at "
        "FROM initiative i JOIN organisation o ON o.id = i.organisation_id "
        "LEFT JOIN contact c ON c.initiative_id = i.id "
        "WHERE i.state = 'published' ORDER BY i.id"))]
    published = {r["id"] for r in initiatives}
    obstacles: dict[int, list[dict[str, Any]]] = {i: [] for i in published}
    for r in run(text(
            "SELECT id, initiative_id, area_code, title, description, rule, severity, status, "
            "policy_ask, theme_id, reported_at, position FROM obstacle "
            "WHERE visibility = 'public' OR :confidential "
            "ORDER BY initiative_id, position, id"), {"confidential": confidential}):
        row = dict(r._mapping)
        if row["initiative_id"] in published:
            obstacles[row["initiative_id"]].append(row)
    dimensions: dict[int, dict[str, tuple[int, int]]] = {i: {} for i in published}
    for initiative_id, code, now, ambition in run(text(
            "SELECT initiative_id, dimension_code, current_level, ambition_level "
            "FROM initiative_dimension")):
        if initiative_id in published:
            dimensions[initiative_id][code] = (now, ambition)
    rules: dict[int, list[dict[str, str]]] = {}
    for theme_id, title, level, url, room in run(text(
            "SELECT theme_id, title, level, source_url, existing_room FROM theme_rule "
            "ORDER BY theme_id, id")):
        rules.setdefault(theme_id, []).append(
            {"title": title, "level": level, "source_url": url or "",
             "existing_room": room or ""})
    themes = [{"id": tid, "area": area, "title": title, "description": description or "",
               "ask": ask or "", "rules": rules.get(tid, [])}
              for tid, area, title, description, ask in run(text(
                  "SELECT id, area_code, title, description, ask FROM theme "
                  "ORDER BY area_code, id"))]
    areas = [dict(r._mapping) for r in run(text(
        "SELECT code, label_nl, label_en FROM obstacle_area ORDER BY position, code"))]
    sectors = [r[0] for r in run(text("SELECT code FROM sector ORDER BY position, code"))]
    return Rows(initiatives, obstacles, dimensions, themes, areas, sectors)


# --- the filter ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Args:
    """Filter arguments as the user gives them (already valid codes)."""

    sector: tuple[str, ...] = ()
    area: tuple[str, ...] = ()
    province: tuple[str, ...] = ()
    phase: tuple[str, ...] = ()
    theme: tuple[int, ...] = ()
    dimension: str | None = None
    min_level: int = 1
    q: str = ""

    @classmethod
    def of(cls, args: Mapping[str, Any] | None = None, **kwargs: Any) -> Args:
        raw = {**(args or {}), **kwargs}
        out: dict[str, Any] = {}
        for name in LIST_ARGS:
            value = raw.get(name)
            values = [] if value in (None, "") else (
                [value] if isinstance(value, str | int) else list(value))
            if name == "theme":
                out[name] = tuple(int(v) for v in values)
            else:
                out[name] = tuple(str(v) for v in values)
        out["dimension"] = raw.get("dimension") or None
        level = raw.get("min_level")
        out["min_level"] = int(level) if str(level) in {"0", "1", "2", "3"} else 1
        out["q"] = raw.get("q") or ""
        return cls(**out)

    def query_string(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name in LIST_ARGS:
            pairs += [(name, str(v)) for v in getattr(self, name)]
        if self.dimension:
            pairs.append(("dimension", self.dimension))
            pairs.append(("min_level", str(self.min_level)))
        if self.q:
            pairs.append(("q", self.q))
        return pairs


def matches(rows: Rows, rec: dict[str, Any], args: Args) -> bool:
    if args.sector and rec["sector"] not in args.sector:
        return False
    if args.province and rec["province"] not in args.province:
        return False
    if args.phase and rec["phase"] not in args.phase:
        return False
    obstacles = rows.obstacles[rec["id"]]
    if args.area and not any(o["area_code"] in args.area for o in obstacles):
        return False
    if args.theme and not any(o["theme_id"] in args.theme for o in obstacles):
        return False
    if args.dimension:
        levels = rows.dimensions[rec["id"]].get(args.dimension)
        if levels is None or max(levels) < args.min_level:
            return False
    wanted = fold(args.q)
    if wanted:
        texts = [rec["title"], rec["summary"], rec["school"], rec["city"],
                 *(o["title"] for o in obstacles)]
        if not any(wanted in fold(t) for t in texts if t):
            return False
    return True


def counts(args: Args, obstacle: dict[str, Any]) -> bool:
    """Whether an obstacle of a matching initiative counts under the filter."""
    return ((not args.area or obstacle["area_code"] in args.area)
            and (not args.theme or obstacle["theme_id"] in args.theme))


def selected(rows: Rows, args: Args) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(initiative row, obstacles that count) for every matching initiative, in id order."""
    return [(rec, [o for o in rows.obstacles[rec["id"]] if counts(args, o)])
            for rec in rows.initiatives if matches(rows, rec, args)]


def ids(rows: Rows, args: Args | None = None, **kwargs: Any) -> list[int]:
    args = args or Args.of(kwargs)
    return [rec["id"] for rec, _ in selected(rows, args)]


def obstacle_ids(rows: Rows, args: Args | None = None, **kwargs: Any) -> list[int]:
    args = args or Args.of(kwargs)
    return sorted(o["id"] for _, obs in selected(rows, args) for o in obs)


def narrowed(rows: Rows, args: Args) -> dict[int, list[int]]:
    """initiative id -> ids of its obstacles that count (form order)."""
    return {rec["id"]: [o["id"] for o in obs] for rec, obs in selected(rows, args)}


# --- the summary --------------------------------------------------------------------------

def levels(theme: dict[str, Any] | None) -> list[str]:
    """The known levels among a theme's rules, from national law down to the school."""
    if theme is None:
        return []
    present = [r["level"] for r in theme["rules"]]
    return [level for level in RULE_LEVEL_ORDER if level in present]


def mixed(theme: dict[str, Any] | None) -> bool:
    return len({GROUP_OF_LEVEL[level] for level in levels(theme)}) > 1


def origin_rows_of(theme: dict[str, Any] | None) -> list[str]:
    """The rows of the origin table a report of this theme counts in."""
    return levels(theme) or ["onbekend"]


def origin_groups(theme: dict[str, Any] | None) -> list[str]:
    """The groups of a theme's rules (the themes export's "herkomst"), ["onbekend"] if none."""
    groups = {GROUP_OF_LEVEL[level] for level in levels(theme)}
    return [g for g in ("regelgeving", "toezicht_sector", "school") if g in groups] or [
        "onbekend"]


def school_of(rec: dict[str, Any]) -> tuple[str, Any]:
    """A school: its institution code (any case) and location number; one typed by hand
    without a code (not in DUO's list) is a school of its own, whatever its name."""
    if not rec["brin"]:
        return ("organisation", rec["organisation_id"])
    return (rec["brin"].upper(), rec["location_number"])


def group_counts(pairs: Iterable[tuple[dict[str, Any], dict[str, Any]]], *,
                 sectors: list[str]) -> dict[str, Any]:
    """The documented counts of a group of (initiative, obstacle) pairs."""
    pairs = list(pairs)
    initiatives = {rec["id"]: rec for rec, _ in pairs}
    schools = {school_of(rec) for rec in initiatives.values()}
    sector_counts = Counter(rec["sector"] for rec in initiatives.values())
    province_counts = Counter(rec["province"] for rec in initiatives.values() if rec["province"])
    severity = Counter(str(o["severity"]) for _, o in pairs)
    status = Counter(o["status"] for _, o in pairs)
    return {
        "initiatives": len(initiatives),
        "schools": len(schools),
        "learners": sum(rec["learners_count"] or 0 for rec in initiatives.values()),
        "obstacles": len(pairs),
        "sectors": {s: sector_counts[s] for s in
                    [*sectors, *sorted(set(sector_counts) - set(sectors))] if sector_counts[s]},
        "provinces": {p: province_counts[p] for p in PROVINCES if province_counts[p]},
        "severity": {k: severity[k] for k in SEVERITIES},
        "status": {k: status[k] for k in STATUSES},
        "solved": status["opgelost"],
        "worked_around": status["omzeild"],
    }


def _quarter(value: Any) -> str | None:
    when = _when(value)
    return f"{when.year}-K{(when.month - 1) // 3 + 1}" if when else None


def summary(rows: Rows, args: Args, *, previous: Rows | None = None,
            public: Rows | None = None) -> dict[str, Any]:
    """Every figure of ``compute_summary`` except ``meta`` and ``national`` (and, in
    ``changes``, the code and date of the previous snapshot). ``public``: for a staff
    summary (``rows`` with confidential reports), the public rows its texts and annex come
    from."""
    chosen = selected(rows, args)
    themes = rows.theme_by_id
    pairs = [(rec, o) for rec, obs in chosen for o in obs]

    def tally(subset):
        return group_counts(subset, sectors=rows.sectors)

    def theme_of(o):
        return themes.get(o["theme_id"]) if o["theme_id"] is not None else None

    areas = [{"code": a["code"], "label_nl": a["label_nl"], "label_en": a["label_en"],
              **tally(p for p in pairs if p[1]["area_code"] == a["code"])}
             for a in rows.areas if not args.area or a["code"] in args.area]
    theme_rows = []
    for theme in rows.themes:
        if args.area and theme["area"] not in args.area:
            continue
        if args.theme and theme["id"] not in args.theme:
            continue
        subset = [p for p in pairs if p[1]["theme_id"] == theme["id"]]
        if subset:
            theme_rows.append({"id": theme["id"], "title": theme["title"],
                               "area": theme["area"], "description": theme["description"],
                               "origins": levels(theme), "mixed": mixed(theme),
                               "rules": theme["rules"], **tally(subset)})
    theme_rows.sort(key=lambda t: (-t["obstacles"], t["title"]))
    origins = []
    for level in ORIGIN_ROWS:
        with_level = [t for t in theme_rows if level in origin_rows_of(themes[t["id"]])]
        origins.append({
            "level": level, "group": GROUP_OF_LEVEL.get(level, "onbekend"),
            "themes": len(with_level),
            "mixed_themes": sum(1 for t in with_level if t["mixed"]),
            **tally(p for p in pairs if level in origin_rows_of(theme_of(p[1])))})
    # Rules: the same rule in other case, spacing or with a final full stop is one rule.
    rules: dict[str, dict[str, Any]] = {}
    for rec, o in pairs:
        shown = " ".join(o["rule"].split())
        if not shown:
            continue
        entry = rules.setdefault(shown.casefold().rstrip("."),
                                 {"rule": shown, "obstacles": 0, "initiatives": set()})
        entry["obstacles"] += 1
        entry["initiatives"].add(rec["id"])
    top_rules = sorted(({"rule": r["rule"], "obstacles": r["obstacles"],
                         "initiatives": len(r["initiatives"])} for r in rules.values()),
                       key=lambda r: (-r["obstacles"], -r["initiatives"], r["rule"]))
    asks: dict[int | None, dict[str, dict[str, Any]]] = {}
    for _rec, o in pairs:
        shown = " ".join(o["policy_ask"].split())
        if not shown:
            continue
        theme = theme_of(o)
        group = asks.setdefault(theme["id"] if theme else None, {})
        group.setdefault(shown.casefold(), {"text": shown, "count": 0})["count"] += 1
    policy_asks = []
    for theme_id in [t["id"] for t in theme_rows] + [None]:
        if asks.get(theme_id):
            ranked = sorted(asks[theme_id].values(), key=lambda a: (-a["count"], a["text"]))
            policy_asks.append({"theme_id": theme_id,
                                "title": themes[theme_id]["title"] if theme_id else None,
                                "asks": ranked[:MAX_ASKS]})
    quotes = []
    for rec, o in pairs:
        consented = bool(rec["consent_quotes"]) and rec["erased_at"] is None
        if consented and o["description"].strip():
            theme = theme_of(o)
            quotes.append({"text": o["description"].strip(), "area": o["area_code"],
                           "theme_id": theme["id"] if theme else None,
                           "sector": rec["sector"], "province": rec["province"]})
    quarters: dict[str, Counter[str]] = {}
    for rec, obs in chosen:
        if _quarter(rec["published_at"]):
            quarters.setdefault(_quarter(rec["published_at"]), Counter())["initiatives"] += 1
        for o in obs:
            if _quarter(o["reported_at"]):
                quarters.setdefault(_quarter(o["reported_at"]), Counter())["obstacles"] += 1
    out = {
        "key_message": key_message(rows, args, theme_rows, tally(pairs), previous=previous,
                                   public=public),
        "totals": tally(pairs),
        "areas": areas,
        "themes": theme_rows,
        "origins": origins,
        "top_rules": top_rules[:TOP_RULES],
        "policy_asks": policy_asks,
        "quotes": quotes[:MAX_QUOTES],
        "quarters": [{"quarter": q, "initiatives": c["initiatives"], "obstacles": c["obstacles"]}
                     for q, c in sorted(quarters.items())],
        # the annex lists the first ANNEX_LIMIT (a setting of the code, not a result)
        "entries": [{"id": rec["id"], "reference": rec["reference"], "title": rec["title"],
                     "school": rec["school"], "sector": rec["sector"],
                     "province": rec["province"], "obstacles": len(obs)}
                    for rec, obs in chosen][:code_figures.ANNEX_LIMIT],
        "entry_count": len(chosen),
        "changes": changes(rows, previous, args) if previous is not None else {
            "new_themes": [], "solved_obstacles": 0, "new_obstacles": 0, "new_provinces": []},
    }
    if public is not None:
        texts = summary(public, args)
        out.update({key: texts[key] for key in ("top_rules", "policy_asks", "quotes",
                                                "entries", "entry_count")})
    return out


def first_quotes(rows: Rows, args: Args) -> dict[int, dict[str, Any]]:
    """The first consented quote (public reports of a consenting, not erased contact) of
    each theme under the filter, in initiative and form order."""
    out: dict[int, dict[str, Any]] = {}
    for rec, obs in selected(rows, args):
        if not rec["consent_quotes"] or rec["erased_at"] is not None:
            continue
        for o in obs:
            tid = o["theme_id"]
            if tid in rows.theme_by_id and tid not in out and o["description"].strip():
                out[tid] = {"text": o["description"].strip(), "sector": rec["sector"],
                            "province": rec["province"]}
    return out


def key_message(rows: Rows, args: Args, theme_rows: list[dict[str, Any]],
                totals: dict[str, Any], *, previous: Rows | None,
                public: Rows | None) -> dict[str, Any]:
    def share(t):
        return Fraction(t["severity"]["3"] + t["severity"]["4"], t["obstacles"])

    ranked = sorted(theme_rows, key=lambda t: (-t["schools"], -share(t), -t["obstacles"],
                                               t["title"], t["id"]))[:TOP_THEMES]
    quotes = first_quotes(public if public is not None else rows, args)
    before_schools: dict[int, set] = {}
    if previous is not None:
        for rec, obs in selected(previous, args):
            for o in obs:
                if o["theme_id"] in previous.theme_by_id:
                    before_schools.setdefault(o["theme_id"], set()).add(school_of(rec))
    themes = rows.theme_by_id
    out = []
    for t in ranked:
        theme = themes[t["id"]]
        out.append({
            "id": t["id"], "title": t["title"], "area": t["area"],
            "problem": theme["description"], "ask": theme["ask"],
            "rules": [{"title": r["title"], "level": r["level"],
                       "group": GROUP_OF_LEVEL.get(r["level"], "onbekend"),
                       "source_url": r["source_url"], "existing_room": r["existing_room"]}
                      for r in theme["rules"]],
            "origins": levels(theme), "mixed": mixed(theme),
            "quote": quotes.get(t["id"]),
            "initiatives": t["initiatives"], "schools": t["schools"],
            "learners": t["learners"], "reports": t["obstacles"],
            "severe_share": float(share(t)),
            "sectors": t["sectors"], "provinces": t["provinces"],
            "schools_change": (None if previous is None
                               else t["schools"] - len(before_schools.get(t["id"], ()))),
        })
    new = changes(rows, previous, args)["new_themes"] if previous is not None else []
    return {"themes": out, "new_themes": new,
            "figures": {"initiatives": totals["initiatives"], "schools": totals["schools"],
                        "learners": totals["learners"], "reports": totals["obstacles"],
                        "themes": len(theme_rows)}}


def changes(now: Rows, before: Rows, args: Args) -> dict[str, Any]:
    """What changed since ``before`` (the data of the previous snapshot), same filter."""
    def state(rows: Rows):
        chosen = selected(rows, args)
        status = {o["id"]: o["status"] for _, obs in chosen for o in obs}
        themes = {o["theme_id"] for _, obs in chosen for o in obs
                  if o["theme_id"] in rows.theme_by_id}
        provinces = {rec["province"] for rec, _ in chosen if rec["province"]}
        return status, themes, provinces

    status, themes, provinces = state(now)
    old_status, old_themes, old_provinces = state(before)
    titles = now.theme_by_id
    return {
        "new_themes": [{"id": t, "title": titles[t]["title"]}
                       for t in sorted(themes - old_themes)],
        "solved_obstacles": sum(1 for oid, s in status.items()
                                if s == "opgelost" and oid in old_status
                                and old_status[oid] != "opgelost"),
        "new_obstacles": len(set(status) - set(old_status)),
        "new_provinces": [p for p in PROVINCES if p in provinces and p not in old_provinces],
    }


def comparable(computed: dict[str, Any]) -> dict[str, Any]:
    """The keys of a computed summary the oracle reproduces (``changes`` without the code and
    date of the previous snapshot)."""
    out = {key: computed[key] for key in ("key_message", "totals", "areas", "themes",
                                          "origins", "top_rules", "policy_asks", "quotes",
                                          "quarters", "entries", "entry_count")}
    out["changes"] = {k: v for k, v in computed["changes"].items()
                      if k not in ("previous", "previous_date")}
    return out


def figures(rows: Rows, **kwargs: Any) -> dict[str, int]:
    """The headline figures (exact) of the obstacles that count under a filter."""
    args = Args.of(kwargs)
    pairs = [(rec, o) for rec, obs in selected(rows, args) for o in obs]
    full = group_counts(pairs, sectors=rows.sectors)
    return {k: full[k] for k in ("initiatives", "schools", "learners", "obstacles", "solved",
                                 "worked_around")}


# --- reading figures back from a page ---------------------------------------------------------

class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, Any]] = []
        self._stack: list[dict[str, Any]] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append({"caption": "", "rows": []})
        elif not self._stack:
            return
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._stack[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if not self._stack:
            return
        if tag == "table":
            self.tables.append(self._stack.pop())
        elif tag == "caption" and self._caption is not None:
            self._stack[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._stack[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._caption is not None:
            self._caption.append(data)


def html_tables(html: str) -> dict[str, list[list[str]]]:
    """The tables of a page by caption: rows of cell texts (header row included)."""
    parser = _Tables()
    parser.feed(html)
    return {t["caption"]: t["rows"] for t in parser.tables}


def count_cells(counts: dict[str, Any]) -> list[str]:
    """The seven count cells of a summary table row, as the page shows them."""
    severity = "/".join(str(counts["severity"][k]) for k in SEVERITIES)
    return [str(counts["initiatives"]), str(counts["schools"]), str(counts["learners"]),
            str(counts["obstacles"]), severity, str(counts["worked_around"]),
            str(counts["solved"])]
