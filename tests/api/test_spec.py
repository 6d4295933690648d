"""Every published initiative validates against the documented schema (not only the ones
schemathesis happens to hit)."""
from __future__ import annotations

import jsonschema_rs  # comes with schemathesis


def _validator(spec: dict, name: str):
    schema = {**spec["components"]["schemas"][name], "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def test_every_initiative_and_theme_matches_the_spec(client, api_data):
    spec = client.get("/api/v1/openapi.json").get_json()
    detail = _validator(spec, "InitiativeDetail")
    summary = _validator(spec, "InitiativeSummary")
    for item in client.get("/api/v1/initiatives?per_page=100").get_json()["data"]:
        summary.validate(item)
        detail.validate(client.get(item["url"]).get_json())
    theme = _validator(spec, "Theme")
    for item in client.get("/api/v1/themes").get_json()["data"]:
        theme.validate(item)
    _validator(spec, "Statistics").validate(client.get("/api/v1/statistics").get_json())
