"""The OpenAPI document: valid OpenAPI 3.1, and a bounded schemathesis run against the app.

Hand-written tests of the API check every response they receive against the document (see
tests.helpers.call); here schemathesis generates requests from it.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from survey.web.api import openapi
from tests.helpers import make_key, send, this_month

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_document_is_valid_openapi_3_1():
    validate(openapi.document("http://survey.test/api/v1"))


def test_every_operation_documents_its_problems():
    for path, operations in openapi.PATHS.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "429" in codes, (method, path)
            if operation.get("security") != []:
                assert {"401", "500"} <= codes, (method, path)


def realistic(case, month: str) -> None:
    """Name the real counter, service and month and drop other filters, so that cases reach 201 and rows."""
    if isinstance(case.body, dict):
        case.body["counter_code"] = "HK-01"
        if "service_code" in case.body:
            case.body["service_code"] = "KS"
    if case.query is not None and "month" in case.query:
        case.query = {"month": month}


def test_schemathesis_finds_no_server_error_or_undocumented_response(app, client, counter_path):
    assert send(client, counter_path, {"CC1": "5", "PA1": "2"}).status_code == 303
    key, month = make_key(app, "schemathesis"), this_month()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/interactions", "/satisfaction", "/health"} <= {op.path for op in operations}
    for operation in operations:

        @BOUNDED
        @given(case=operation.as_strategy(), real=st.booleans())
        def run(case, real):
            if real:  # half the cases
                realistic(case, month)
            # identity: the WSGI transport hands schemathesis the bytes as sent, without decoding brotli or gzip
            headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"}
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
