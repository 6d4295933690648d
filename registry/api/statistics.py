"""The statistics endpoint: the output of ``compute_summary`` (the /knelpunten figures).

Public callers get the same figures as the public summary page: public reports, exact, and
the national table in which confidential reports count (``registry.summary.disclosure``).
``quotes`` and the key message's quote of each theme (consented for policy overviews only)
and ``entries`` (the same as /initiatives) are left out; ``meta.generated_at`` is left out
and, for live data, ``meta.data_date`` is the last change of the published data, so that
the ETag is stable.
"""
from __future__ import annotations

from typing import Any

from registry.moderation.models import RULE_LEVELS
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.sources import Source
from registry.summary.services import ORIGIN_GROUPS, ORIGIN_LEVELS, compute_summary
from registry.taxonomy.constants import OBSTACLE_STATUSES, PROVINCES
from registry.taxonomy.services import Taxonomy

KEYS = ("meta", "key_message", "totals", "areas", "themes", "origins", "top_rules",
        "policy_asks", "quarters", "changes", "national")
META_KEYS = ("source", "snapshot", "data_date", "filter", "filter_args", "filter_words",
             "exact", "threshold", "withdrawn_since")


def statistics(flt: InitiativeFilter, src: Source) -> dict[str, Any]:
    summary = compute_summary(flt, src, exact=False)
    out = {key: summary[key] for key in KEYS}
    out["meta"] = {key: summary["meta"].get(key) for key in META_KEYS}
    key_message = summary["key_message"]
    out["key_message"] = {**key_message, "themes": [
        {k: v for k, v in theme.items() if k != "quote"} for theme in key_message["themes"]]}
    if src.is_live:
        # "as of now" would change the ETag on every request: give the last change instead.
        changed = records.last_change(src)
        out["meta"]["data_date"] = changed.isoformat() if changed else None
    return out


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props,
            "required": list(props) if required is None else required}


def statistics_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    integer = {"type": "integer", "minimum": 0}
    counts = {
        "initiatives": integer,
        "schools": {**integer, "description": "Distinct schools (BRIN + location)."},
        "learners": integer,
        "obstacles": integer,
        "sectors": {"type": "object", "propertyNames": {"enum": taxonomy.codes("sectors")},
                    "additionalProperties": integer},
        "provinces": {"type": "object", "propertyNames": {"enum": list(PROVINCES)},
                      "additionalProperties": integer},
        "severity": _obj({k: integer for k in ("1", "2", "3", "4")}),
        "status": _obj({k: integer for k in OBSTACLE_STATUSES}),
        "solved": integer,
        "worked_around": integer,
    }
    rule = _obj({"title": {"type": "string"},
                 "level": {"type": "string", "enum": list(RULE_LEVELS)},
                 "source_url": {"type": "string"}, "existing_room": {"type": "string"}},
                required=["title", "level"])
    rule["additionalProperties"] = True
    nullable_str = {"type": ["string", "null"]}
    origins = {"type": "array", "items": {"type": "string", "enum": list(RULE_LEVELS)},
               "description": "The levels of the theme's rules, from national law down to "
                              "the school (RULE_LEVELS order)."}
    mixed = {"type": "boolean",
             "description": "The theme's rules come from more than one group."}
    group = {"type": "string", "enum": list(ORIGIN_GROUPS),
             "description": "regelgeving: wet, amvb, ministeriele_regeling (a change of law "
                            "or regulation); toezicht_sector: toezicht, sectorafspraak; "
                            "school: bestuur (information or a change at the school)."}
    distribution = {
        "sectors": counts["sectors"], "provinces": counts["provinces"]}
    nullable_int = {"type": ["integer", "null"], "minimum": 0,
                    "description": "null: not shown, to protect confidential reports"}
    return _obj({
        "meta": _obj({
            "source": {"type": "string", "enum": ["live", "snapshot"]},
            "snapshot": nullable_str,
            "data_date": nullable_str,
            "filter": {"type": "string"},
            "filter_args": {"type": "object", "additionalProperties": {
                "type": ["string", "array"], "items": {"type": "string"}}},
            "filter_words": {"type": "string",
                             "description": "The filter in words (interface language)."},
            "exact": {"type": "boolean"},
            "threshold": integer,
            "withdrawn_since": integer,
        }),
        "key_message": _obj({
            "themes": {"type": "array", "description": (
                "The themes affecting the most schools (then the highest share of severity "
                "3-4), with their rules, the room that exists and the ask to OCW."),
                "items": _obj({
                    "id": {"type": "integer"}, "title": {"type": "string"},
                    "area": {"type": "string"},
                    "problem": {"type": "string"}, "ask": {"type": "string"},
                    "rules": {"type": "array", "items": _obj({
                        "title": {"type": "string"},
                        "level": {"type": "string"},
                        "group": group,
                        "source_url": {"type": "string"},
                        "existing_room": {"type": "string"}})},
                    "origins": origins, "mixed": mixed,
                    "initiatives": integer, "schools": integer, "learners": integer,
                    "reports": integer,
                    "severe_share": {"type": "number", "minimum": 0, "maximum": 1,
                                     "description": "Share of reports of severity 3-4."},
                    **distribution,
                    "schools_change": {"type": ["integer", "null"], "description": (
                        "Schools now minus schools in the previous snapshot (same filter); "
                        "null without a previous snapshot.")}})},
            "new_themes": {"type": "array", "items": _obj({"id": {"type": "integer"},
                                                            "title": {"type": "string"}})},
            "figures": _obj({k: integer for k in ("initiatives", "schools", "learners",
                                                  "reports", "themes")}),
        }),
        "totals": _obj(counts),
        "areas": {"type": "array", "items": _obj({
            "code": {"type": "string"}, "label_nl": {"type": "string"},
            "label_en": {"type": "string"}, **counts})},
        "themes": {"type": "array", "items": _obj({
            "id": {"type": "integer"}, "title": {"type": "string"}, "area": {"type": "string"},
            "description": {"type": "string"},
            "origins": origins, "mixed": mixed,
            "rules": {"type": "array", "items": rule}, **counts})},
        "origins": {"type": "array", "description": (
            "Reports per level of the rules of their theme. A report counts at every level "
            "of its theme's rules, so the rows do not add up; onbekend: reports without a "
            "theme or in a theme without rules."), "items": _obj({
                "level": {"type": "string", "enum": list(ORIGIN_LEVELS)},
                "group": group,
                "themes": integer,
                "mixed_themes": {**integer,
                                 "description": "Of those themes, the mixed ones."},
                **counts})},
        "top_rules": {"type": "array", "items": _obj({
            "rule": {"type": "string"}, "obstacles": integer, "initiatives": integer})},
        "policy_asks": {"type": "array", "items": _obj({
            "theme_id": {"type": ["integer", "null"]}, "title": nullable_str,
            "asks": {"type": "array", "items": _obj({"text": {"type": "string"},
                                                      "count": integer})}})},
        "quarters": {"type": "array", "items": _obj({
            "quarter": {"type": "string"}, "initiatives": integer, "obstacles": integer})},
        "changes": _obj({
            "previous": nullable_str, "previous_date": nullable_str,
            "new_themes": {"type": "array", "items": _obj({"id": {"type": "integer"},
                                                            "title": {"type": "string"}})},
            "solved_obstacles": integer, "new_obstacles": integer,
            "new_provinces": {"type": "array", "items": {"type": "string"}},
        }),
        "national": _obj({
            "threshold": integer,
            "exact": {"type": "boolean"},
            "rows": {"type": "array", "items": _obj({
                "kind": {"type": "string", "enum": ["total", "area", "theme", "unthemed"]},
                "area": nullable_str,
                "theme_id": {"type": ["integer", "null"]},
                "title": nullable_str,
                "suppressed": {"type": "boolean"},
                **{k: nullable_int for k in ("initiatives", "schools", "learners", "reports",
                                             "confidential")},
                "severity": _obj({k: nullable_int for k in ("1", "2", "3", "4")}),
            })},
        }),
    })
