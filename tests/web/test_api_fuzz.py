"""Property-based fuzzing of /api/v1 with schemathesis, driven by the app's own OpenAPI document.

Valid and invalid bodies, paths and headers are generated from the document (hypothesis strategies
from schemathesis); every answer must be one the document declares (status, media type, body
schema) and never a 5xx. Valid submissions refused on business grounds (another jurisdiction: 403,
an unknown category or place: 422) are expected, so the "valid data must be accepted" check is left
out. schemathesis' pytest plugin does not yet work with pytest 9, hence `given` on its strategies.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.web.api_helpers import HOME, bearer, make_channel
from web.api.openapi import openapi_document

EXAMPLES = 40  # per operation and mode; the suite runs on two cores
OPERATIONS = [(path, method) for path, methods in openapi_document()["paths"].items() for method in methods]
# Operations with no input at all: nothing to make invalid.
WITHOUT_INPUT = {(path, method) for path, method in OPERATIONS
                 if not {"parameters", "requestBody"} & set(openapi_document()["paths"][path][method])
                 and openapi_document()["paths"][path][method].get("security") == []}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("path,method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_every_generated_request_answers_as_documented_and_never_5xx(app, path, method, mode):
    if mode is GenerationMode.NEGATIVE and (path, method) in WITHOUT_INPUT:
        pytest.skip("the operation takes no input to make invalid")
    token = make_channel(app)
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]

    strategy = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE and (path, method) == ("/api/v1/cases", "post"):
        # Random place codes are never the token's; pin valid bodies to it (and half of them to a real
        # category) so generated disputes really get registered.
        strategy = st.tuples(strategy, st.sampled_from([None, "neighbour", "contract", "court_referral"])).map(
            _in_home_jurisdiction)
    statuses = []

    @given(strategy)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def answers_as_documented(case):
        statuses.append(case.call_and_validate(headers=bearer(token),
                                               excluded_checks=[positive_data_acceptance]).status_code)

    answers_as_documented()
    if mode is GenerationMode.POSITIVE and (path, method) == ("/api/v1/cases", "post"):
        assert 201 in statuses, f"no generated submission was registered: {sorted(set(statuses))}"


def _in_home_jurisdiction(pair):
    case, category = pair
    if isinstance(case.body, dict):
        case.body["jurisdiction"] = HOME
        case.body["category"] = category
    return case

