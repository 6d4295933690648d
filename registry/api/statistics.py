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

from flask_babel import gettext as _

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
        "schools": {**integer, "description": _("Verschillende scholen (BRIN + vestiging).")},
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
               "description": _("De niveaus van de regels van het thema, van de wet tot de "
                                "school.")}
    mixed = {"type": "boolean",
             "description": _("De regels van het thema komen uit meer dan één groep.")}
    group = {"type": "string", "enum": list(ORIGIN_GROUPS),
             "description": _("`regelgeving`: `wet`, `amvb`, `ministeriele_regeling` (een "
                              "wijziging van wet- of regelgeving); `toezicht_sector`: "
                              "`toezicht`, `sectorafspraak`; `school`: `bestuur` (informatie "
                              "of een wijziging bij de school).")}
    distribution = {
        "sectors": counts["sectors"], "provinces": counts["provinces"]}
    nullable_int = {"type": ["integer", "null"], "minimum": 0,
                    "description": _("`null`: niet getoond, ter bescherming van "
                                     "vertrouwelijke meldingen.")}
    return _obj({
        "meta": _obj({
            "source": {"type": "string", "enum": ["live", "snapshot"]},
            "snapshot": nullable_str,
            "data_date": nullable_str,
            "filter": {"type": "string"},
            "filter_args": {"type": "object", "additionalProperties": {
                "type": ["string", "array"], "items": {"type": "string"}}},
            "filter_words": {"type": "string",
                             "description": _("Het filter in woorden (in de taal van de "
                                              "interface).")},
            "exact": {"type": "boolean"},
            "threshold": integer,
            "withdrawn_since": integer,
        }),
        "key_message": _obj({
            "themes": {"type": "array", "description": _(
                "De thema's die de meeste scholen raken (daarna het grootste aandeel ernst "
                "3-4), met hun regels, de ruimte die er al is en de vraag aan OCW."),
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
                                     "description": _("Aandeel meldingen met ernst 3-4.")},
                    **distribution,
                    "schools_change": {"type": ["integer", "null"], "description": _(
                        "Scholen nu min scholen in de vorige momentopname (zelfde filter); "
                        "`null` zonder vorige momentopname.")}})},
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
        "origins": {"type": "array", "description": _(
            "Meldingen per niveau van de regels van hun thema. Een melding telt mee bij elk "
            "niveau van de regels van haar thema, dus de rijen tellen niet op; `onbekend`: "
            "meldingen zonder thema of in een thema zonder regels."), "items": _obj({
                "level": {"type": "string", "enum": list(ORIGIN_LEVELS)},
                "group": group,
                "themes": integer,
                "mixed_themes": {**integer,
                                 "description": _("Van die thema's de gemengde.")},
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
