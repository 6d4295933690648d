"""The OpenAPI 3.1 document of /api/v1, built from the same vocabularies the API checks.

Keep this in step with views.py and params.py: the test suite runs schemathesis against it.
"""
from __future__ import annotations

from typing import Any

from registry.api.params import (
    DEFAULT_PER_PAGE,
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_Q,
    MAX_THEME_ID,
)
from registry.api.services import TAXONOMY_NAMES
from registry.api.statistics import statistics_schema
from registry.moderation.models import RULE_LEVELS
from registry.taxonomy import constants
from registry.taxonomy.services import Taxonomy

PROBLEM = "application/problem+json"
NULLABLE_STR = {"type": ["string", "null"]}
# Query strings with control characters (also TAB, CR, LF), bidi overrides etc. are refused
# (registry.security.hygiene). (Lone surrogates cannot be sent as UTF-8 at all and are left
# out: the ECMA regex engine of the validators refuses them in a character class.)
CLEAN_TEXT = (r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
              r"\ufffd\ufffe\uffff\ufdd0-\ufdef]*$")
NULLABLE_INT = {"type": ["integer", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array_param(name: str, items: dict, description: str) -> dict[str, Any]:
    return {
        "name": name, "in": "query", "required": False, "style": "form", "explode": True,
        "description": description + " Repeat the parameter for several values (OR).",
        "schema": {"type": "array", "items": items},
    }


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


def _ok(schema: dict, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "ETag": {"description": "Entity tag of the representation; send it back in "
                                    "If-None-Match to get 304 Not Modified.",
                     "schema": {"type": "string"}},
            "Access-Control-Allow-Origin": {"schema": {"type": "string", "const": "*"}},
        },
        "content": {"application/json": {"schema": schema}},
    }


COMMON_RESPONSES = {
    "304": {"description": "Not modified (the If-None-Match header matched the ETag)."},
    "429": _problem_response("Too many requests from this address; see Retry-After."),
}


def build_spec(taxonomy: Taxonomy, *, server_url: str) -> dict[str, Any]:
    """The document for the current taxonomy (its codes are the enums of the parameters)."""
    areas, dimensions = taxonomy.codes("areas"), taxonomy.codes("dimensions")
    sectors, phases = taxonomy.codes("sectors"), taxonomy.codes("phases")
    filter_params = [
        _array_param("sector", {"type": "string", "enum": sectors},
                     "Sector of the school."),
        _array_param("area", {"type": "string", "enum": areas},
                     "Initiatives with at least one obstacle in this area."),
        _array_param("province", {"type": "string", "enum": list(constants.PROVINCES)},
                     "Province of the school."),
        _array_param("phase", {"type": "string", "enum": phases},
                     "Phase of the initiative."),
        _array_param("theme", {"type": "integer", "minimum": 1, "maximum": MAX_THEME_ID},
                     "Initiatives with an obstacle linked to this curated theme (id)."),
        {"name": "dimension", "in": "query", "required": False,
         "description": "Only initiatives at or above `min_level` (now or as ambition) on this "
                        "dimension of personalisation.",
         "schema": {"type": "string", "enum": dimensions}},
        {"name": "min_level", "in": "query", "required": False,
         "description": "Level used with `dimension` (0-3, default 1).",
         "schema": {"type": "integer", "minimum": 0, "maximum": 3, "default": 1}},
        {"name": "q", "in": "query", "required": False,
         "description": "Free text in title, summary, school, town or obstacle titles.",
         "schema": {"type": "string", "maxLength": MAX_Q, "pattern": CLEAN_TEXT}},
    ]
    page_params = [
        {"name": "page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        {"name": "per_page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                    "default": DEFAULT_PER_PAGE}},
    ]
    obstacle_params = [
        _array_param("severity", {"type": "integer", "enum": list(constants.SEVERITIES)},
                     "Severity (1 hinders ... 4 blocks the initiative)."),
        _array_param("status", {"type": "string", "enum": list(constants.OBSTACLE_STATUSES)},
                     "Status of the obstacle."),
    ]
    snapshot_param = {
        "name": "snapshot", "in": "query", "required": False,
        "description": "Code of a citable snapshot (e.g. `2026-11-a`) instead of live data.",
        "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[a-z]{1,3}$"},
    }
    id_param = {"name": "id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
    bad_request = {"400": _problem_response("A query parameter has a value the API does not "
                                            "accept; `invalid_params` names it.")}
    not_found = {"404": _problem_response("No published item with this id.")}

    taxonomy_item = {
        "type": "object", "additionalProperties": False,
        "required": ["code", "label_nl", "label_en"],
        "properties": {
            "code": {"type": ["string", "integer"]},
            "label_nl": {"type": "string"}, "label_en": {"type": "string"},
            "description_nl": {"type": "string"}, "description_en": {"type": "string"},
        },
    }
    schemas: dict[str, Any] = {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "invalid_params": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name", "reason"],
                              "properties": {"name": {"type": "string"},
                                             "reason": {"type": "string"}}},
                },
            },
        },
        "Links": {
            "type": "object", "additionalProperties": False,
            "required": ["self", "first", "last", "prev", "next"],
            "properties": {k: ({"type": "string", "format": "uri"} if k in ("self", "first", "last")
                               else {"type": ["string", "null"], "format": "uri"})
                           for k in ("self", "first", "last", "prev", "next")},
        },
        "Meta": {
            "type": "object", "additionalProperties": False,
            "required": ["total", "page", "per_page", "pages"],
            "properties": {"total": {"type": "integer", "minimum": 0},
                           "page": {"type": "integer", "minimum": 1},
                           "per_page": {"type": "integer", "minimum": 1},
                           "pages": {"type": "integer", "minimum": 1}},
        },
        "Organisation": {
            "type": "object", "additionalProperties": False,
            "description": "The school (location). No street address, no personal data.",
            "required": ["name", "brin", "location_number", "sector", "levels",
                         "qualification_codes", "city", "municipality", "province", "website",
                         "latitude", "longitude", "geo_precision"],
            "properties": {
                "name": {"type": "string"},
                "brin": {"type": "string", "description": "Institution code (instellingscode)."},
                "location_number": NULLABLE_STR,
                "sector": {"type": "string", "enum": sectors},
                "levels": {"type": "string"},
                "qualification_codes": {"type": "array", "items": {"type": "string"}},
                "city": {"type": "string"},
                "municipality": NULLABLE_STR,
                "province": NULLABLE_STR,
                "website": {"type": "string"},
                "latitude": {"type": ["number", "null"]},
                "longitude": {"type": ["number", "null"]},
                "geo_precision": NULLABLE_STR,
            },
        },
        "Obstacle": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "initiative_id", "area", "title", "description", "rule",
                         "severity", "status", "workaround", "policy_ask", "theme_id"],
            "properties": {
                "id": {"type": "integer"},
                "initiative_id": {"type": "integer"},
                "area": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "rule": {"type": "string"},
                "severity": {"type": "integer", "minimum": 1, "maximum": 4},
                "status": {"type": "string"},
                "workaround": {"type": "string"},
                "policy_ask": {"type": "string"},
                "theme_id": NULLABLE_INT,
            },
        },
        "Dimension": {
            "type": "object", "additionalProperties": False,
            "required": ["code", "current_level", "ambition_level"],
            "properties": {"code": {"type": "string"},
                           "current_level": {"type": "integer", "minimum": 0, "maximum": 3},
                           "ambition_level": {"type": "integer", "minimum": 0, "maximum": 3}},
        },
        "InitiativeSummary": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "reference", "title", "summary", "phase", "start_year",
                         "learners_count", "staff_count", "language", "published_at",
                         "updated_at", "areas", "obstacle_count", "organisation", "url",
                         "html_url"],
            "properties": {
                "id": {"type": "integer"},
                "reference": NULLABLE_STR,
                "title": {"type": "string"},
                "summary": {"type": "string"},
                "phase": {"type": "string", "enum": phases},
                "start_year": NULLABLE_INT,
                "learners_count": NULLABLE_INT,
                "staff_count": NULLABLE_INT,
                "language": {"type": "string"},
                "published_at": {"type": ["string", "null"], "format": "date-time"},
                "updated_at": {"type": ["string", "null"], "format": "date-time"},
                "areas": {"type": "array", "items": {"type": "string"}},
                "obstacle_count": {"type": "integer", "minimum": 0},
                "organisation": _ref("Organisation"),
                "url": {"type": "string", "format": "uri"},
                "html_url": {"type": "string", "format": "uri"},
            },
        },
        "ThemeRule": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "title", "level", "source_url", "existing_room"],
            "properties": {"id": {"type": "integer",
                                  "description": "Position of the rule in its theme (1-based)."},
                           "title": {"type": "string"},
                           "level": {"type": "string", "enum": list(RULE_LEVELS)},
                           "source_url": {"type": "string"},
                           "existing_room": {"type": "string"}},
        },
        "Theme": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "area", "title", "description", "rules", "url"],
            "properties": {"id": {"type": "integer"}, "area": {"type": "string"},
                           "title": {"type": "string"}, "description": {"type": "string"},
                           "rules": {"type": "array", "items": _ref("ThemeRule")},
                           "url": {"type": "string", "format": "uri"}},
        },
        "TaxonomyItem": taxonomy_item,
    }
    # Every field of InitiativeSummary plus the long texts, dimensions and obstacles (spelled
    # out: "allOf" cannot be combined with additionalProperties: false).
    summary_schema = schemas["InitiativeSummary"]
    schemas["InitiativeDetail"] = {
        "type": "object", "additionalProperties": False,
        "description": "All fields of InitiativeSummary, and the description, ICT, "
                       "dimensions and obstacles.",
        "required": summary_schema["required"] + ["description", "ict", "dimensions",
                                                  "obstacles"],
        "properties": {
            **summary_schema["properties"],
            "description": {"type": "string"}, "ict": {"type": "string"},
            "dimensions": {"type": "array", "items": _ref("Dimension")},
            "obstacles": {"type": "array", "items": _ref("Obstacle")},
        },
    }

    def page_of(item: str) -> dict:
        return {"type": "object", "additionalProperties": False,
                "required": ["data", "meta", "links"],
                "properties": {"data": {"type": "array", "items": _ref(item)},
                               "meta": _ref("Meta"), "links": _ref("Links")}}

    schemas["Statistics"] = statistics_schema(taxonomy)

    def op(op_id: str, summary: str, params: list, responses: dict,
           description: str = "") -> dict:
        out = {"operationId": op_id, "summary": summary, "parameters": params,
               "responses": {**responses, **COMMON_RESPONSES}}
        if description:
            out["description"] = description
        return {"get": out}

    paths = {
        "/initiatives": op(
            "listInitiatives", "Published initiatives", filter_params + page_params,
            {"200": _ok(page_of("InitiativeSummary"), "A page of initiatives, ordered by id."),
             **bad_request},
            "Filters are the ones of the map and the list (`/initiatieven`). Ordering is by "
            "id, so pages are stable while new initiatives are published.",
        ),
        "/initiatives/{id}": op(
            "getInitiative", "One published initiative with its dimensions and obstacles",
            [id_param], {"200": _ok(_ref("InitiativeDetail"), "The initiative."), **not_found},
        ),
        "/obstacles": op(
            "listObstacles", "Obstacles reported by published initiatives",
            filter_params + obstacle_params + page_params,
            {"200": _ok(page_of("Obstacle"), "A page of obstacles, ordered by id."),
             **bad_request},
            "The initiative filters select initiatives; `area` and `theme` also narrow the "
            "obstacles themselves, `severity` and `status` only the obstacles.",
        ),
        "/themes": op(
            "listThemes", "Curated obstacle themes (knelpunten) and the rules behind them", [],
            {"200": _ok({"type": "object", "additionalProperties": False, "required": ["data"],
                         "properties": {"data": {"type": "array", "items": _ref("Theme")}}},
                        "All themes, ordered by id.")},
        ),
        "/themes/{id}": op(
            "getTheme", "One curated theme", [id_param],
            {"200": _ok(_ref("Theme"), "The theme."), **not_found},
        ),
        "/taxonomies": op(
            "listTaxonomies", "Every vocabulary (codes with Dutch and English labels)", [],
            {"200": _ok({"type": "object", "additionalProperties": False,
                         "required": list(TAXONOMY_NAMES),
                         "properties": {n: {"type": "array", "items": _ref("TaxonomyItem")}
                                        for n in TAXONOMY_NAMES}},
                        "All vocabularies.")},
        ),
        "/taxonomies/{name}": op(
            "getTaxonomy", "One vocabulary",
            [{"name": "name", "in": "path", "required": True,
              "schema": {"type": "string", "enum": list(TAXONOMY_NAMES)}}],
            {"200": _ok({"type": "object", "additionalProperties": False,
                         "required": ["name", "data"],
                         "properties": {"name": {"type": "string"},
                                        "data": {"type": "array",
                                                 "items": _ref("TaxonomyItem")}}},
                        "The vocabulary."),
             "404": _problem_response("No vocabulary with this name.")},
        ),
        "/statistics": op(
            "getStatistics", "The figures behind the obstacle summary (/knelpunten)",
            filter_params + [snapshot_param],
            {"200": _ok(_ref("Statistics"), "The same numbers as the summary page."),
             **bad_request,
             "404": _problem_response("No snapshot with this code.")},
            "Every figure counts public reports only (they are public with the school's name, "
            "so the figures are exact). Confidential reports count only in `national`: one "
            "unfiltered table per area and theme, where a figure that fewer than "
            "`national.threshold` schools' confidential reports affect is null. "
            "Obstacle-level figures count only the obstacles in the filtered areas/themes. "
            "`key_message` lists the themes that affect the most schools, with their rules "
            "and the ask to OCW (quotes are left out). `origins` counts a report at every "
            "level of its theme's rules (wet ... bestuur), so its rows do not add up.",
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Register gepersonaliseerd leren - open data API",
            "version": "1.0.0",
            "description": (
                "Read-only access to the published initiatives for fully personalised "
                "learning, the obstacles they meet and the curated themes. No personal data. "
                "Every response carries an ETag (send If-None-Match for 304), "
                "`Access-Control-Allow-Origin: *`, and rate-limit headers "
                "(X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset; Retry-After "
                "on 429). Errors are RFC 9457 problem details "
                "(`application/problem+json`)."
            ),
            "license": {"name": "CC BY 4.0", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
