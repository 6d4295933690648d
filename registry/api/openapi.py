"""The OpenAPI 3.1 document of /api/v1, built from the same vocabularies the API checks.

Keep this in step with views.py and params.py: the test suite runs schemathesis against it.

Descriptions are written in Dutch through gettext, like every text of the interface, and are
built in the language of the moment: ``/api/v1/openapi.json`` is always English (the view
builds it under ``force_locale("en")``), the docs page is in the reader's language. Codes and
names in descriptions are marked with backticks (shown as code on the docs page).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

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
SNAPSHOT_CODE = "^[0-9]{4}-[0-9]{2}-[a-z]{1,3}$"
NULLABLE_INT = {"type": ["integer", "null"]}


def pattern_words() -> dict[str, str]:
    """The patterns of the document in words, with an example (the docs page shows these
    instead of the regular expressions)."""
    return {
        CLEAN_TEXT: _("tekst zonder stuurtekens (zoals tab of nieuwe regel) en zonder tekens "
                      "die de leesrichting omdraaien, bijvoorbeeld %(example)s",
                      example="leerroute"),
        SNAPSHOT_CODE: _("jaar-maand-letters, bijvoorbeeld %(example)s", example="2026-11-a"),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array_param(name: str, items: dict, description: str) -> dict[str, Any]:
    return {
        "name": name, "in": "query", "required": False, "style": "form", "explode": True,
        "description": description + " " + _("Herhaal de parameter voor meerdere waarden "
                                             "(OF)."),
        "schema": {"type": "array", "items": items},
    }


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


def _ok(schema: dict, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "ETag": {"description": _("Entity tag van het antwoord; stuur hem terug in "
                                      "`If-None-Match` om `304 Not Modified` te krijgen."),
                     "schema": {"type": "string"}},
            "Access-Control-Allow-Origin": {"schema": {"type": "string", "const": "*"}},
        },
        "content": {"application/json": {"schema": schema}},
    }


def _common_responses() -> dict[str, Any]:
    return {
        "304": {"description": _("Niet gewijzigd (de header `If-None-Match` kwam overeen met "
                                 "de ETag).")},
        "429": _problem_response(_("Te veel verzoeken vanaf dit adres; zie `Retry-After`.")),
    }


def build_spec(taxonomy: Taxonomy, *, server_url: str) -> dict[str, Any]:
    """The document for the current taxonomy (its codes are the enums of the parameters)."""
    areas, dimensions = taxonomy.codes("areas"), taxonomy.codes("dimensions")
    sectors, phases = taxonomy.codes("sectors"), taxonomy.codes("phases")
    filter_params = [
        _array_param("sector", {"type": "string", "enum": sectors},
                     _("Sector van de school.")),
        _array_param("area", {"type": "string", "enum": areas},
                     _("Initiatieven met minstens één knelpunt in dit gebied.")),
        _array_param("province", {"type": "string", "enum": list(constants.PROVINCES)},
                     _("Provincie van de school.")),
        _array_param("phase", {"type": "string", "enum": phases},
                     _("Fase van het initiatief.")),
        _array_param("theme", {"type": "integer", "minimum": 1, "maximum": MAX_THEME_ID},
                     _("Initiatieven met een knelpunt in dit thema (id).")),
        {"name": "dimension", "in": "query", "required": False,
         "description": _("Alleen initiatieven op of boven `min_level` (nu of als ambitie) "
                          "op deze dimensie van personalisering."),
         "schema": {"type": "string", "enum": dimensions}},
        {"name": "min_level", "in": "query", "required": False,
         "description": _("Niveau bij `dimension` (0-3, standaard 1)."),
         "schema": {"type": "integer", "minimum": 0, "maximum": 3, "default": 1}},
        {"name": "q", "in": "query", "required": False,
         "description": _("Vrije tekst in titel, samenvatting, school, plaats of titels van "
                          "knelpunten."),
         "schema": {"type": "string", "maxLength": MAX_Q, "pattern": CLEAN_TEXT}},
    ]
    page_params = [
        {"name": "page", "in": "query", "required": False,
         "description": _("Paginanummer, vanaf 1."),
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        {"name": "per_page", "in": "query", "required": False,
         "description": _("Aantal items per pagina."),
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                    "default": DEFAULT_PER_PAGE}},
    ]
    obstacle_params = [
        _array_param("severity", {"type": "integer", "enum": list(constants.SEVERITIES)},
                     _("Ernst (1 hindert ... 4 blokkeert het initiatief).")),
        _array_param("status", {"type": "string", "enum": list(constants.OBSTACLE_STATUSES)},
                     _("Status van het knelpunt.")),
    ]
    snapshot_param = {
        "name": "snapshot", "in": "query", "required": False,
        "description": _("Code van een citeerbare momentopname (bijvoorbeeld `2026-11-a`) in "
                         "plaats van de actuele gegevens."),
        "schema": {"type": "string", "pattern": SNAPSHOT_CODE},
    }
    id_param = {"name": "id", "in": "path", "required": True,
                "description": _("Het id van het item."),
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
    bad_request = {"400": _problem_response(_("Een parameter heeft een waarde die de API niet "
                                              "accepteert; `invalid_params` noemt hem."))}
    not_found = {"404": _problem_response(_("Geen gepubliceerd item met dit id."))}
    english = _("Engelse versie (optioneel); leeg als de moderator er geen schreef: toon dan "
                "de Nederlandse tekst.")

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
            "description": _("Foutbeschrijving volgens RFC 9457 (problem details)."),
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
            "description": _("De school (vestiging). Geen straat en huisnummer, geen "
                             "persoonsgegevens."),
            "required": ["name", "brin", "location_number", "sector", "levels",
                         "qualification_codes", "city", "municipality", "province", "website",
                         "latitude", "longitude", "geo_precision"],
            "properties": {
                "name": {"type": "string"},
                "brin": {"type": "string", "description": _("Instellingscode (BRIN).")},
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
            "required": ["id", "title", "level", "source_url", "existing_room", "title_en",
                         "existing_room_en"],
            "properties": {"id": {"type": "integer",
                                  "description": _("Positie van de regel in zijn thema "
                                                   "(vanaf 1).")},
                           "title": {"type": "string"},
                           "level": {"type": "string", "enum": list(RULE_LEVELS)},
                           "source_url": {"type": "string"},
                           "existing_room": {"type": "string"},
                           "title_en": {"type": "string", "description": english},
                           "existing_room_en": {"type": "string", "description": english}},
        },
        "Theme": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "area", "title", "description", "ask", "title_en",
                         "description_en", "ask_en", "rules", "url"],
            "properties": {"id": {"type": "integer"}, "area": {"type": "string"},
                           "title": {"type": "string"}, "description": {"type": "string"},
                           "ask": {"type": "string",
                                   "description": _("De vraag aan OCW van dit thema.")},
                           "title_en": {"type": "string", "description": english},
                           "description_en": {"type": "string", "description": english},
                           "ask_en": {"type": "string", "description": english},
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
        "description": _("Alle velden van `InitiativeSummary`, en daarnaast de "
                         "beschrijving, ICT, dimensies en knelpunten."),
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
               "responses": {**responses, **_common_responses()}}
        if description:
            out["description"] = description
        return {"get": out}

    paths = {
        "/initiatives": op(
            "listInitiatives", _("Gepubliceerde initiatieven"), filter_params + page_params,
            {"200": _ok(page_of("InitiativeSummary"),
                        _("Een pagina initiatieven, op volgorde van id.")),
             **bad_request},
            _("De filters zijn die van de kaart en de lijst (`/initiatieven`). De volgorde is "
              "op id, zodat pagina's gelijk blijven terwijl er nieuwe initiatieven bijkomen."),
        ),
        "/initiatives/{id}": op(
            "getInitiative", _("Eén gepubliceerd initiatief met zijn dimensies en knelpunten"),
            [id_param], {"200": _ok(_ref("InitiativeDetail"), _("Het initiatief.")),
                         **not_found},
        ),
        "/obstacles": op(
            "listObstacles", _("Knelpunten gemeld door gepubliceerde initiatieven"),
            filter_params + obstacle_params + page_params,
            {"200": _ok(page_of("Obstacle"), _("Een pagina knelpunten, op volgorde van id.")),
             **bad_request},
            _("De filters op initiatieven kiezen de initiatieven; `area` en `theme` beperken "
              "ook de knelpunten zelf, `severity` en `status` alleen de knelpunten."),
        ),
        "/themes": op(
            "listThemes", _("Thema's: gebundelde knelpunten en de regels erachter"), [],
            {"200": _ok({"type": "object", "additionalProperties": False, "required": ["data"],
                         "properties": {"data": {"type": "array", "items": _ref("Theme")}}},
                        _("Alle thema's, op volgorde van id."))},
        ),
        "/themes/{id}": op(
            "getTheme", _("Eén thema"), [id_param],
            {"200": _ok(_ref("Theme"), _("Het thema.")), **not_found},
        ),
        "/taxonomies": op(
            "listTaxonomies", _("Alle vocabulaires (codes met Nederlandse en Engelse labels)"),
            [],
            {"200": _ok({"type": "object", "additionalProperties": False,
                         "required": list(TAXONOMY_NAMES),
                         "properties": {n: {"type": "array", "items": _ref("TaxonomyItem")}
                                        for n in TAXONOMY_NAMES}},
                        _("Alle vocabulaires."))},
        ),
        "/taxonomies/{name}": op(
            "getTaxonomy", _("Eén vocabulaire"),
            [{"name": "name", "in": "path", "required": True,
              "schema": {"type": "string", "enum": list(TAXONOMY_NAMES)}}],
            {"200": _ok({"type": "object", "additionalProperties": False,
                         "required": ["name", "data"],
                         "properties": {"name": {"type": "string"},
                                        "data": {"type": "array",
                                                 "items": _ref("TaxonomyItem")}}},
                        _("Het vocabulaire.")),
             "404": _problem_response(_("Geen vocabulaire met deze naam."))},
        ),
        "/statistics": op(
            "getStatistics", _("De cijfers achter het knelpuntenoverzicht (`/knelpunten`)"),
            filter_params + [snapshot_param],
            {"200": _ok(_ref("Statistics"), _("Dezelfde cijfers als het knelpuntenoverzicht.")),
             **bad_request,
             "404": _problem_response(_("Geen momentopname met deze code."))},
            _("Elk cijfer telt alleen openbare meldingen (die zijn openbaar met de naam van de "
              "school, dus de cijfers zijn exact). Vertrouwelijke meldingen tellen alleen mee "
              "in `national`: één ongefilterde tabel per gebied en thema, waarin een cijfer "
              "`null` is als de vertrouwelijke meldingen erachter van minder dan "
              "`national.threshold` scholen komen. Cijfers over knelpunten tellen alleen de "
              "knelpunten in de gefilterde gebieden en thema's. `key_message` noemt de thema's "
              "die de meeste scholen raken, met hun regels en de vraag aan OCW (zonder "
              "citaten). `origins` telt een melding bij elk niveau van de regels van haar thema "
              "(`wet` ... `bestuur`), dus de rijen tellen niet op."),
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": _("Register gepersonaliseerd leren - open data API"),
            "version": "1.0.0",
            "description": _(
                "Alleen-lezen toegang tot de gepubliceerde initiatieven voor volledig "
                "gepersonaliseerd leren, de knelpunten waar ze tegenaan lopen en de thema's. "
                "Geen persoonsgegevens. Elk antwoord heeft een ETag (stuur `If-None-Match` "
                "voor 304), `Access-Control-Allow-Origin: *` en headers over de limiet "
                "(`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`; "
                "`Retry-After` bij 429). Fouten zijn problem details volgens RFC 9457 "
                "(`application/problem+json`)."),
            "license": {"name": "CC BY 4.0", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
