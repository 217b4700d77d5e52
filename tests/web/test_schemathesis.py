"""The JSON API keeps the promises of its OpenAPI document (schemathesis, in-process over ASGI).

Every /api/v1 operation in the document at run time is exercised (reports included, when
their module is present), for an anonymous caller and for an analyst: valid and invalid
requests generated from the declared parameters must never cause a server error, must
answer with a documented status and content type, match the documented response schema,
and invalid parameters must be rejected. It checks the contract, not the database, so it
runs once, on a SQLite `fresh_site` of its own (the analyst's calls write audit entries, which
the shared read-only `site` must not collect).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from detainers.web.security import COOKIE
from tests.web.conftest import make_site, signed_in

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
# Small and repeatable by default (well under 90 s); DETAINERS_SCHEMATHESIS_EXAMPLES=N makes a deeper,
# randomised run.
DEEP = os.environ.get("DETAINERS_SCHEMATHESIS_EXAMPLES")
MAX_EXAMPLES = int(DEEP or 25)
# The operations this file was written against; the run covers whatever the document lists.
KNOWN = {"/api/v1/me", "/api/v1/jurisdictions", "/api/v1/jurisdictions/{jurisdiction_id}", "/api/v1/facilities",
         "/api/v1/detainers", "/api/v1/stats/outcomes", "/api/v1/sources", "/api/v1/agreements",
         "/api/v1/regions", "/api/v1/classify", "/api/v1/search"}


@pytest.fixture(autouse=True)
def _pytest9_node_id(request):
    """schemathesis 4's lazy schemas rename the running test through `node._nodeid`, an attribute
    pytest 9 no longer has; give it one (it only affects how sub-tests are named in reports)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def contract_site(tmp_path, populated):
    """A SQLite site of this test's own. The contract does not depend on the database, so this runs
    once, not once per backend (tests/web/test_api.py covers every endpoint on every backend)."""
    built, close = make_site("sqlite", tmp_path, populated)
    yield built
    close()


@pytest.fixture(params=["anonymous", "analyst"])
def role(request) -> str:
    return request.param


@pytest.fixture
def session_headers(contract_site, role) -> dict:
    if role == "anonymous":
        return {}
    client = signed_in(contract_site, role)
    return {"Cookie": f"{COOKIE}={client.cookies[COOKIE]}"}


@pytest.fixture
def api_schema(contract_site, role):
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", contract_site.app).include(
        path_regex=r"^/api/v1/")


def test_the_document_lists_every_api_operation(contract_site):
    document = signed_in(contract_site, None).get("/api/v1/openapi.json").json()
    paths = {p for p in document["paths"] if p.startswith("/api/v1/")}
    assert KNOWN <= paths
    for path in paths:
        for method, op in document["paths"][path].items():
            assert "200" in op["responses"], (method, path)
            if op.get("parameters"):  # bad parameters are answered 422, with the API's error body
                error = op["responses"]["422"]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/ApiError"}, (method, path)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not DEEP, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_keeps_its_contract(case, session_headers):
    case.call_and_validate(headers=session_headers, checks=CHECKS)
