"""What a public theme page shows: one curated theme (knelpunt) as schools read it.

Everything comes from the public record path (``registry.published``) on ``PUBLISHED``:
published entries, public obstacles only. A confidential obstacle in a theme (issue 16) never
makes its initiative appear here, never adds to a figure and never shows its text.

- figures: ``registry.summary.services.compute_summary`` filtered on the theme, so the page
  shows exactly the numbers of ``/knelpunten?theme=<id>``;
- the initiatives facing the theme: those with a public obstacle in it, with whether their
  contact accepts a relayed message (``registry.connect.services.accepts_messages``);
- how other schools work around it: the workaround texts of public obstacles in the theme
  whose contact consented to quotes (``consent_quotes``: never after erasure), shown like the
  summary's quotes: with sector and province, without the school.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from registry.connect.services import accepts_messages
from registry.extensions import db
from registry.localized import localized
from registry.moderation.models import RULE_LEVELS
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import PUBLISHED
from registry.submissions.models import Initiative
from registry.summary.services import compute_summary
from registry.taxonomy.services import current as current_taxonomy

# How many initiatives and workarounds one page lists (the rest: the filtered list and map).
MAX_INITIATIVES = 100
MAX_WORKAROUNDS = 50
_FIELDS = ("id", "reference", "title", "language", "school_name", "city", "municipality",
           "province", "sector", "consent_quotes")
_OBSTACLE_FIELDS = ("id", "initiative_id", "area_code", "title", "status", "severity",
                    "workaround", "theme_id")
# Most worked-around first: a school that found a way is the one to ask.
_STATUS_ORDER = {"opgelost": 0, "omzeild": 1, "open": 2}


def theme_filter(theme_id: int) -> InitiativeFilter:
    """The filter of one theme, as ``/knelpunten?theme=<id>`` reads it."""
    return InitiativeFilter.from_args(MultiDict({"theme": [str(theme_id)]}))


def theme_record(theme_id: int) -> dict[str, Any] | None:
    """The theme as the public sees it (``records.themes``), or None."""
    return next((t for t in records.themes(PUBLISHED) if t["id"] == theme_id), None)


def _origins(theme: dict[str, Any]) -> list[str]:
    """The rule levels the theme's rules come from, from national law down to the school."""
    levels = {r["level"] for r in theme["rules"]}
    return [level for level in RULE_LEVELS if level in levels]


def theme_page(theme_id: int) -> dict[str, Any] | None:
    """Everything the theme page shows, or None for an unknown theme::

        theme:       {id, area, title, description, ask, rules[{title, level, source_url,
                     existing_room}]} (``records.themes``, with the optional English texts
                     ``*_en``: the template shows ``localized(theme, field)``)
        origins:     rule levels present, in RULE_LEVELS order
        figures:     the summary's totals under the theme filter (initiatives, schools,
                     learners, obstacles, sectors, provinces, severity, status, ...)
        initiatives: [{id, title, language, school, place, province, sector, statuses[],
                     accepts_messages}] (at most MAX_INITIATIVES, worked-around first)
        more_initiatives: how many more initiatives face the theme than are listed
        workarounds: [{text, status, sector, province}] (at most MAX_WORKAROUNDS)
        filter_args: query parameters of the theme filter (links to list, map, summary)
    """
    theme = theme_record(theme_id)
    if theme is None:
        return None
    flt = theme_filter(theme_id)
    summary = compute_summary(flt, PUBLISHED)
    facing: list[dict[str, Any]] = []
    workarounds: list[dict[str, Any]] = []
    for rec in records.initiatives(PUBLISHED, flt, fields=_FIELDS,
                                   obstacle_fields=_OBSTACLE_FIELDS, dimensions=False):
        school = rec["school"]
        # The record path narrows obstacles to the public ones in this theme already.
        obstacles = [o for o in rec["obstacles"] if o["theme_id"] == theme_id]
        if not obstacles:
            continue
        facing.append({
            "id": rec["id"], "title": rec["title"], "language": rec["language"] or "nl",
            "school": school["name"], "place": school["city"] or school["municipality"] or "",
            "province": school["province"] or "", "sector": school["sector"],
            "statuses": sorted({o["status"] for o in obstacles},
                               key=lambda s: _STATUS_ORDER.get(s, 9)),
        })
        if rec["consent_quotes"]:
            for o in obstacles:
                text = " ".join((o["workaround"] or "").split())
                if text and len(workarounds) < MAX_WORKAROUNDS:
                    workarounds.append({"text": text, "status": o["status"],
                                        "sector": school["sector"],
                                        "province": school["province"] or ""})
    facing.sort(key=lambda i: (_STATUS_ORDER.get(i["statuses"][0], 9), i["id"]))
    listed = facing[:MAX_INITIATIVES]
    _mark_accepts_messages(listed)
    workarounds.sort(key=lambda w: _STATUS_ORDER.get(w["status"], 9))
    return {
        "theme": theme,
        "origins": _origins(theme),
        "figures": summary["totals"],
        "initiatives": listed,
        "more_initiatives": len(facing) - len(listed),
        "workarounds": workarounds,
        "filter_args": flt.to_args(),
    }


def _mark_accepts_messages(items: list[dict[str, Any]]) -> None:
    """Whether each listed school takes relayed messages (the connect domain decides)."""
    if not items:
        return
    entries = db.session.scalars(
        select(Initiative).where(Initiative.id.in_([i["id"] for i in items]), PUBLISHED.scope)
        .options(selectinload(Initiative.contact))).all()
    accepting = {e.id for e in entries if accepts_messages(e)}
    for item in items:
        item["accepts_messages"] = item["id"] in accepting


def theme_index() -> list[dict[str, Any]]:
    """Every theme, grouped per area in the taxonomy's order, with the schools and
    initiatives facing it (the summary's unfiltered theme rows: the same counts as on each
    theme page)::

        [{area, themes[{id, title, description, initiatives, schools, obstacles}]}]

    Title and description are in the interface language (``registry.localized``).
    """
    rows = {t["id"]: t for t in compute_summary(InitiativeFilter.empty(), PUBLISHED)["themes"]}
    by_area: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for theme in records.themes(PUBLISHED):
        row = rows.get(theme["id"], {})
        by_area[theme["area"]].append({
            "id": theme["id"], "title": localized(theme, "title"),
            "description": localized(theme, "description"),
            "initiatives": row.get("initiatives", 0), "schools": row.get("schools", 0),
            "obstacles": row.get("obstacles", 0),
        })
    order = current_taxonomy().codes("areas")
    areas = [*order, *sorted(set(by_area) - set(order))]
    return [{"area": code, "themes": sorted(by_area[code], key=lambda t: t["title"].casefold())}
            for code in areas if by_area.get(code)]
