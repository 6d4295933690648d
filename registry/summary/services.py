"""The obstacle summary (knelpuntenoverzicht) and citable snapshots.

``compute_summary`` is the single source of every figure: the /knelpunten page, the DOCX,
PDF and XLSX downloads, the themes export and the API all show its output.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from registry.database import as_utc, utcnow
from registry.exports.records import DataSource, freeze, obstacle_in_scope
from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.moderation.models import RULE_LEVELS
from registry.summary.models import Snapshot
from registry.taxonomy.constants import OBSTACLE_AREAS, PROVINCES, SECTORS

SEVERITY_KEYS = ("1", "2", "3", "4")
STATUS_KEYS = ("open", "omzeild", "opgelost")

# Where a theme's rules come from decides who can remove the obstacle (DOMAIN.md).
# A theme falls in the category of its most national rule.
RULE_CATEGORIES = ("regelgeving", "afspraken", "school", "onbekend")
RULE_LEVEL_CATEGORY = {
    "wet": "regelgeving", "amvb": "regelgeving", "ministeriele_regeling": "regelgeving",
    "toezicht": "afspraken", "sectorafspraak": "afspraken",
    "bestuur": "school",
}
TOP_RULES = 10
MAX_QUOTES = 30
MAX_ASKS_PER_THEME = 20
SNAPSHOT_CODE = re.compile(r"^\d{4}-\d{2}-[a-z]{1,3}$")


class Tally:
    """Counts for one group (an area, a theme, a rule category or everything)."""

    def __init__(self) -> None:
        self.initiatives: set[int] = set()
        self.schools: set[tuple[str, str]] = set()
        self.learners: dict[int, int] = {}
        self.sectors: dict[int, str] = {}
        self.provinces: dict[int, str] = {}
        self.obstacles = 0
        self.severity: Counter[str] = Counter()
        self.status: Counter[str] = Counter()

    def add(self, rec: dict[str, Any], obstacle: dict[str, Any]) -> None:
        school = rec["school"]
        self.initiatives.add(rec["id"])
        self.schools.add((school["brin"], school["location_number"]))
        self.learners[rec["id"]] = rec["learners_count"] or 0
        self.sectors[rec["id"]] = school["sector"]
        if school["province"]:
            self.provinces[rec["id"]] = school["province"]
        self.obstacles += 1
        self.severity[str(obstacle["severity"])] += 1
        self.status[obstacle["status"]] += 1

    def as_dict(self) -> dict[str, Any]:
        sectors = Counter(self.sectors.values())
        provinces = Counter(self.provinces.values())
        return {
            "initiatives": len(self.initiatives),
            "schools": len(self.schools),
            "learners": sum(self.learners.values()),
            "obstacles": self.obstacles,
            "sectors": {code: sectors[code] for code in SECTORS if sectors[code]},
            "provinces": {p: provinces[p] for p in PROVINCES if provinces[p]},
            "severity": {k: self.severity[k] for k in SEVERITY_KEYS},
            "status": {k: self.status[k] for k in STATUS_KEYS},
            "solved": self.status["opgelost"],
            "worked_around": self.status["omzeild"],
        }


def theme_category(theme: dict[str, Any]) -> str:
    levels = [r["level"] for r in theme.get("rules", []) if r["level"] in RULE_LEVELS]
    if not levels:
        return "onbekend"
    most_national = min(levels, key=RULE_LEVELS.index)
    return RULE_LEVEL_CATEGORY[most_national]


def _quarter(iso: str | None) -> str | None:
    if not iso:
        return None
    value = datetime.fromisoformat(iso)
    return f"{value.year}-K{(value.month - 1) // 3 + 1}"


def _suppress(value: int, exact: bool, threshold: int) -> int | str:
    return value if exact or value >= threshold or value == 0 else f"<{threshold}"


def _normalise_rule(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".")


def aggregate(records: Iterable[dict[str, Any]], flt: InitiativeFilter,
              themes: list[dict[str, Any]]) -> dict[str, Any]:
    """One pass over initiative records: every count the summary and exports need (exact)."""
    theme_by_id = {t["id"]: t for t in themes}
    totals = Tally()
    areas: dict[str, Tally] = defaultdict(Tally)
    per_theme: dict[int, Tally] = defaultdict(Tally)
    categories: dict[str, Tally] = defaultdict(Tally)
    rules: dict[str, dict[str, Any]] = {}
    asks: dict[int | None, dict[str, dict[str, Any]]] = defaultdict(dict)
    quotes: list[dict[str, Any]] = []
    quarters: dict[str, Counter[str]] = defaultdict(Counter)
    obstacle_status: dict[int, str] = {}
    theme_ids: set[int] = set()
    provinces: set[str] = set()
    entries: list[dict[str, Any]] = []
    for rec in records:
        in_scope = [o for o in rec["obstacles"] if obstacle_in_scope(flt, o)]
        school = rec["school"]
        quarter = _quarter(rec["published_at"])
        if quarter:
            quarters[quarter]["initiatives"] += 1
        if school["province"]:
            provinces.add(school["province"])
        entries.append({
            "id": rec["id"], "reference": rec["reference"], "title": rec["title"],
            "school": school["name"], "sector": school["sector"],
            "province": school["province"], "obstacles": len(in_scope),
        })
        for o in in_scope:
            totals.add(rec, o)
            areas[o["area"]].add(rec, o)
            theme = theme_by_id.get(o["theme_id"]) if o["theme_id"] is not None else None
            if theme is not None:
                per_theme[theme["id"]].add(rec, o)
                categories[theme_category(theme)].add(rec, o)
                theme_ids.add(theme["id"])
            else:
                categories["onbekend"].add(rec, o)
            obstacle_status[o["id"]] = o["status"]
            oq = _quarter(o["reported_at"])
            if oq:
                quarters[oq]["obstacles"] += 1
            if o["rule"].strip():
                key = _normalise_rule(o["rule"])
                entry = rules.setdefault(key, {"rule": " ".join(o["rule"].split()),
                                               "obstacles": 0, "initiatives": set()})
                entry["obstacles"] += 1
                entry["initiatives"].add(rec["id"])
            if o["policy_ask"].strip():
                group = asks[theme["id"] if theme is not None else None]
                text = " ".join(o["policy_ask"].split())
                item = group.setdefault(text.casefold(), {"text": text, "count": 0})
                item["count"] += 1
            if rec["consent_quotes"] and o["description"].strip() and len(quotes) < MAX_QUOTES:
                quotes.append({
                    "text": o["description"].strip(), "area": o["area"],
                    "theme_id": theme["id"] if theme is not None else None,
                    "sector": school["sector"], "province": school["province"],
                })
    return {
        "totals": totals, "areas": areas, "themes": per_theme, "categories": categories,
        "rules": rules, "asks": asks, "quotes": quotes, "quarters": quarters,
        "obstacle_status": obstacle_status, "theme_ids": theme_ids, "provinces": provinces,
        "entries": entries,
    }


def themes_in_scope(flt: InitiativeFilter, themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in themes
            if (not flt.area or t["area"] in flt.area) and (not flt.theme or t["id"] in flt.theme)]


def previous_snapshot(snapshot: Snapshot | None) -> Snapshot | None:
    """The snapshot before ``snapshot`` (or the latest one, for live data)."""
    stmt = select(Snapshot).order_by(Snapshot.created_at.desc(), Snapshot.id.desc())
    if snapshot is not None:
        stmt = stmt.where(Snapshot.created_at < snapshot.created_at)
    return db.session.scalars(stmt.limit(1)).first()


def compute_summary(flt: InitiativeFilter, snapshot: Snapshot | None = None,
                    exact: bool = False) -> dict[str, Any]:
    """All figures of the obstacle summary for the published data matching ``flt``.

    ``snapshot``: take the data from this frozen snapshot instead of live data.
    ``exact``: advisors see exact figures; otherwise (the public) every count of schools
    below ``SMALL_NUMBER_THRESHOLD`` (except 0) becomes the string ``"<N"``.

    The result is JSON-serialisable (str keys, int/str/list/dict/None values)::

        meta:     source ("live"|"snapshot"), snapshot (code|None), data_date (ISO),
                  generated_at, filter (describe()), filter_args, exact, threshold
        totals:   counts (see below) over all obstacles in scope
        areas:    [{code, label_nl, label_en, **counts}] in the fixed order of the areas
        themes:   [{id, title, area, description, category, rules[{title, level, source_url,
                  existing_room}], **counts}], most obstacles first (themes with >= 1 obstacle)
        categories: [{code, **counts, themes}] code in RULE_CATEGORIES:
                  regelgeving (wet/amvb/ministeriele_regeling: needs a change of law),
                  afspraken (toezicht/sectorafspraak), school (bestuur: information or a change
                  at the school), onbekend (no theme or no rule level known)
        top_rules: [{rule, obstacles, initiatives}] the rules schools cite most (max 10)
        policy_asks: [{theme_id|None, title|None, asks[{text, count}]}] grouped per theme
                  (the 20 most frequent asks of each theme)
        quotes:   [{text, area, theme_id, sector, province}] only from consenting contacts
                  (at most 30)
        quarters: [{quarter "2026-K3", initiatives published, obstacles reported}]
        changes:  {previous: code|None, previous_date, new_themes[{id, title}],
                  solved_obstacles, new_obstacles, new_provinces[]}
        entries:  [{id, reference, title, school, sector, province, obstacles}] (annex)

    counts = {initiatives, schools (distinct BRIN + location; int or "<N"), learners (sum of
    learners_count over distinct initiatives), obstacles, sectors{code: initiatives},
    provinces{name: initiatives}, severity{"1".."4": obstacles}, status{open, omzeild,
    opgelost: obstacles}, solved, worked_around}.

    Obstacle-level figures count only obstacles in the filtered areas/themes (all obstacles
    when no area or theme filter is given) of the initiatives passing the filter.
    """
    threshold = int(current_app.config.get("SMALL_NUMBER_THRESHOLD", 3))
    source = DataSource(snapshot)
    themes = source.themes()
    agg = aggregate(source.initiatives(flt), flt, themes)

    def counts(tally: Tally) -> dict[str, Any]:
        out = tally.as_dict()
        out["schools"] = _suppress(out["schools"], exact, threshold)
        return out

    areas = [
        {"code": code, "label_nl": nl, "label_en": en, **counts(agg["areas"][code])}
        for code, nl, en, *_ in OBSTACLE_AREAS
        if not flt.area or code in flt.area
    ]
    theme_rows = []
    for theme in themes_in_scope(flt, themes):
        tally = agg["themes"].get(theme["id"])
        if tally is None or not tally.obstacles:
            continue
        theme_rows.append({
            "id": theme["id"], "title": theme["title"], "area": theme["area"],
            "description": theme["description"], "category": theme_category(theme),
            "rules": theme["rules"], **counts(tally),
        })
    theme_rows.sort(key=lambda t: (-t["obstacles"], t["title"]))
    categories = []
    for code in RULE_CATEGORIES:
        row = {"code": code, **counts(agg["categories"][code])}
        row["themes"] = sum(1 for t in theme_rows if t["category"] == code)
        categories.append(row)
    top_rules = sorted(agg["rules"].values(),
                       key=lambda r: (-r["obstacles"], -len(r["initiatives"]), r["rule"]))
    theme_titles = {t["id"]: t["title"] for t in themes}
    policy_asks = []
    for theme_id in [t["id"] for t in theme_rows] + [None]:
        group = agg["asks"].get(theme_id)
        if group:
            ranked = sorted(group.values(), key=lambda a: (-a["count"], a["text"]))
            policy_asks.append({
                "theme_id": theme_id, "title": theme_titles.get(theme_id),
                "asks": ranked[:MAX_ASKS_PER_THEME],
            })
    quarters = [{"quarter": q, "initiatives": c["initiatives"], "obstacles": c["obstacles"]}
                for q, c in sorted(agg["quarters"].items())]
    return {
        "meta": {
            **source.meta(flt),
            "generated_at": utcnow().isoformat(),
            "exact": exact,
            "threshold": threshold,
        },
        "totals": counts(agg["totals"]),
        "areas": areas,
        "themes": theme_rows,
        "categories": categories,
        "top_rules": [{"rule": r["rule"], "obstacles": r["obstacles"],
                       "initiatives": len(r["initiatives"])} for r in top_rules[:TOP_RULES]],
        "policy_asks": policy_asks,
        "quotes": agg["quotes"][:MAX_QUOTES],
        "quarters": quarters,
        "changes": _changes(flt, snapshot, agg, themes),
        "entries": agg["entries"],
    }


def _changes(flt: InitiativeFilter, snapshot: Snapshot | None, agg: dict[str, Any],
             themes: list[dict[str, Any]]) -> dict[str, Any]:
    """What changed since the previous snapshot, under the same filter."""
    prev = previous_snapshot(snapshot)
    if prev is None:
        return {"previous": None, "previous_date": None, "new_themes": [],
                "solved_obstacles": 0, "new_obstacles": 0, "new_provinces": []}
    prev_source = DataSource(prev)
    before = aggregate(prev_source.initiatives(flt), flt, prev_source.themes())
    now_status = agg["obstacle_status"]
    old_status = before["obstacle_status"]
    titles = {t["id"]: t["title"] for t in themes}
    return {
        "previous": prev.code,
        "previous_date": as_utc(prev.created_at).isoformat(),
        "new_themes": [{"id": tid, "title": titles.get(tid, "")}
                       for tid in sorted(agg["theme_ids"] - before["theme_ids"])],
        "solved_obstacles": sum(
            1 for oid, status in now_status.items()
            if status == "opgelost" and oid in old_status and old_status[oid] != "opgelost"
        ),
        "new_obstacles": len(now_status.keys() - old_status.keys()),
        "new_provinces": [p for p in PROVINCES
                          if p in agg["provinces"] and p not in before["provinces"]],
    }


# --- snapshots ---

def next_snapshot_code(now: datetime | None = None) -> str:
    """``YYYY-MM-a``, then ``-b`` ... ``-z``, ``-aa`` ... for the month of ``now``."""
    now = now or utcnow()
    prefix = f"{now.year:04d}-{now.month:02d}-"
    taken = set(db.session.scalars(select(Snapshot.code).where(Snapshot.code.like(prefix + "%"))))
    n = 0
    while True:
        suffix, k = "", n
        while True:
            suffix = chr(ord("a") + k % 26) + suffix
            k = k // 26 - 1
            if k < 0:
                break
        if prefix + suffix not in taken:
            return prefix + suffix
        n += 1


def create_snapshot(*, note: str = "", actor=None) -> Snapshot:
    """Freeze every published record and theme (the caller commits)."""
    from registry.audit.services import record

    data = freeze()
    snap = Snapshot(
        code=next_snapshot_code(),
        created_at=utcnow(),
        created_by_id=getattr(actor, "id", None),
        created_by_label=getattr(actor, "email", None)
        or (actor if isinstance(actor, str) else "system"),
        note=note.strip(),
        initiative_count=len(data["initiatives"]),
        obstacle_count=sum(len(r["obstacles"]) for r in data["initiatives"]),
        data=data,
    )
    db.session.add(snap)
    db.session.flush()
    record("snapshot.create", target_type="snapshot", target_id=snap.id,
           after={"code": snap.code, "initiatives": snap.initiative_count,
                  "obstacles": snap.obstacle_count}, reason=snap.note, actor=actor)
    return snap


def list_snapshots() -> list[Snapshot]:
    """Snapshots newest first (the frozen data itself is loaded only when used)."""
    from sqlalchemy.orm import defer

    return list(db.session.scalars(
        select(Snapshot).options(defer(Snapshot.data))
        .order_by(Snapshot.created_at.desc(), Snapshot.id.desc())
    ))


def get_snapshot(code: str | None) -> Snapshot | None:
    if not code or not SNAPSHOT_CODE.match(code):
        return None
    return db.session.scalar(select(Snapshot).where(Snapshot.code == code))


def snapshot_count() -> int:
    return db.session.scalar(select(func.count(Snapshot.id))) or 0
