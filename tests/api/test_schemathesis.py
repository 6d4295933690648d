"""Property-based testing of the whole API against its own OpenAPI document (schemathesis).

Every operation is run with valid (positive) and invalid (negative) generated requests; the
default checks must pass: no server errors, status codes, content types, headers and bodies
as documented, invalid input rejected, valid input accepted.

(``schemathesis.pytest.from_fixture`` does not work with pytest 9 yet, so the strategies are
driven by hypothesis directly.)
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

OPERATIONS = [
    "GET /initiatives", "GET /initiatives/{id}", "GET /obstacles", "GET /themes",
    "GET /themes/{id}", "GET /taxonomies", "GET /taxonomies/{name}", "GET /statistics",
]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
WITHOUT_PARAMETERS = {"GET /themes", "GET /taxonomies"}  # nothing to make invalid


@pytest.fixture
def api_schema(app, api_data):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_operation_is_covered(api_schema):
    labels = [result.ok().label for result in api_schema.get_all_operations()]
    assert sorted(labels) == sorted(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=lambda m: m.value)
@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms_to_openapi(api_schema, label, mode):
    if mode == GenerationMode.NEGATIVE and label in WITHOUT_PARAMETERS:
        pytest.skip("no parameters to make invalid")
    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate()

    run()
