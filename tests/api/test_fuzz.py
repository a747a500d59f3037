"""Schemathesis against prom's own OpenAPI document, in process, as every role.

Each generated request is sent once per caller (admin, clinician of the site, researcher member,
the participant, and no token), through the test app, inside the test's rolled-back
``db_session`` transaction, so whatever the fuzzer creates is rolled back. Every response must
be no 5xx and conform to the documented status codes, content types and schemas; every error
must be an ``application/problem+json`` document; a request the document calls invalid
(``additionalProperties: false``, required fields, formats) must be refused with a 4xx.
Generated study and participant ids point at the world's half the time, to get past 404s.

CI runs 8 examples per operation (as five callers: 40 requests); ``make fuzz``
(``PROM_FUZZ_EXAMPLES=2000``) runs thousands.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from prom.app import create_app
from prom.errors import PROBLEM_JSON
from tests.api.fuzz_support import (
    CALLERS,
    FuzzWorld,
    aim_at_world,
    checks_for,
    problem_errors_only,
)
from tests.api.studies_fixtures import (
    ADMIN,
    RESEARCHER_MEMBER,
    THE_PARTICIPANT,
    assert_problem,
    study_body,
)

#: `make fuzz` sets PROM_FUZZ_EXAMPLES and gets new random examples each run; the suite's few
#: dozen are the same every run, so a failure in CI reproduces.
FUZZING = "PROM_FUZZ_EXAMPLES" in os.environ
MAX_EXAMPLES = int(os.environ.get("PROM_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def fuzz_world(client, db_session) -> FuzzWorld:
    return FuzzWorld.build(client)


#: The document is the same for every app; requests go to each test's own ``app`` instead.
#: /healthz is left out: it pings the database on a connection of its own, which on SQLite waits
#: for the test's open transaction and then reports 503 (tests/api/test_health.py covers it).
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
).exclude(path="/healthz")

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    problem_errors_only,
]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not FUZZING,
          suppress_health_check=list(HealthCheck))
def test_every_operation_as_every_role(case, app, fuzz_world: FuzzWorld) -> None:
    aim_at_world(case, fuzz_world)
    for caller in CALLERS:
        # buffered: werkzeug reads the body and closes the response (an export streams from a
        # temporary file that closing deletes)
        case.call_and_validate(app=app, headers=fuzz_world.headers(caller),
                               checks=checks_for(case, caller, CHECKS), buffered=True)


# ---------------------------------------------------------------------------------------------
# The document is exact: what the fuzzer holds the responses to


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items() if method != "parameters"]


def test_every_documented_error_is_problem_json(client) -> None:
    document = client.get("/api/openapi.json").json
    components = document["components"]["responses"]
    for method, path, operation in _operations(document):
        assert "default" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            if "$ref" in response:
                response = components[response["$ref"].rsplit("/", 1)[-1]]
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)


def test_framework_statuses_are_documented_where_they_can_happen(client) -> None:
    document = client.get("/api/openapi.json").json
    for method, path, operation in _operations(document):
        statuses = set(operation["responses"])
        if operation.get("security") != []:
            assert "401" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= statuses, (method, path)


def test_request_bodies_reject_unknown_fields_in_the_document(client) -> None:
    document = client.get("/api/openapi.json").json
    schemas = document["components"]["schemas"]
    for method, path, operation in _operations(document):
        if "requestBody" not in operation:
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[-1]]["additionalProperties"] is False, (method, path)


# ---------------------------------------------------------------------------------------------
# Regressions: what the fuzzer found


def test_role_restricted_operations_document_403(client, fuzz_world: FuzzWorld) -> None:
    """Found by the fuzzer: these answered an undocumented 403 to a caller of another role."""
    world = fuzz_world.world
    participant = fuzz_world.headers(THE_PARTICIPANT)
    document = client.get("/api/openapi.json").json
    for method, path, url in [
        ("GET", "/api/v1/studies/{study_id}", f"/api/v1/studies/{world.study_id}"),
        ("POST", "/api/v1/studies/{study_id}/members",
         f"/api/v1/studies/{world.study_id}/members"),
        ("POST", "/api/v1/participants/{participant_id}/randomisation",
         f"/api/v1/participants/{world.participant_id}/randomisation"),
        ("POST", "/api/v1/responses/{response_id}/amendments",
         f"/api/v1/responses/{world.participant_id}/amendments"),
    ]:
        response = client.open(url, method=method, headers=participant, json={})
        assert_problem(response, 403)
        assert "403" in document["paths"][path][method.lower()]["responses"], (method, path)
    staff = fuzz_world.headers(ADMIN)
    assert_problem(client.get("/api/v1/me/responses", headers=staff), 403)
    assert_problem(client.post("/api/v1/responses/batch", headers=fuzz_world.headers(
        RESEARCHER_MEMBER), json={"responses": []}), 403)


@pytest.mark.parametrize("body", [b"\x00", b"\xff\xfe1", b'n"', b"{"])
def test_a_body_that_is_not_json_is_a_documented_400(client, fuzz_world: FuzzWorld,
                                                      body: bytes) -> None:
    """Found by the fuzzer: a body that is not JSON is 400, which no operation documented."""
    response = client.post("/api/v1/sites", data=body, content_type="application/json",
                           headers=fuzz_world.headers(ADMIN))
    assert_problem(response, 400)
    document = client.get("/api/openapi.json").json
    assert "400" in document["paths"]["/api/v1/sites"]["post"]["responses"]


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_the_report_documents_both_of_its_formats(client, fuzz_world: FuzzWorld,
                                                 accept: str) -> None:
    """Found by the fuzzer: the JSON report was documented as text/html only."""
    world = fuzz_world.world
    response = client.get(f"/api/v1/participants/{world.participant_id}/report",
                          headers={**fuzz_world.headers(ADMIN), "Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    document = client.get("/api/openapi.json").json
    ok = document["paths"]["/api/v1/participants/{participant_id}/report"]["get"]["responses"]
    assert set(ok["200"]["content"]) == {"application/json", "text/html"}


@pytest.mark.parametrize("operation", ["export", "summary"])
def test_a_study_without_responses_exports_and_summarises(client, fuzz_world: FuzzWorld,
                                                          operation: str) -> None:
    """Found by the fuzzer: a study with participants and no responses yet was a 500 (pandas
    refused to merge the empty float64 responses frame with the object-typed column names)."""
    world = fuzz_world.world
    response = client.get(f"/api/v1/studies/{world.study_id}/{operation}",
                          headers=fuzz_world.headers(ADMIN), buffered=True)
    assert response.status_code == 200, response.get_data(as_text=True)


UNSTORABLE = ["nul\x00inside", "lone \ud800 surrogate"]


@pytest.mark.parametrize("text", UNSTORABLE)
def test_text_no_database_can_store_is_a_422_naming_the_field(client, fuzz_world: FuzzWorld,
                                                              text: str) -> None:
    """Found by the fuzzer on PostgreSQL: a NUL in a study's name (and in any other text the
    API stores or filters on) was a 500 from the driver."""
    admin = fuzz_world.headers(ADMIN)
    body = study_body(name=text, arms=[{"code": "A", "name": "ok"}, {"code": "B", "name": text}])
    response = client.post("/api/v1/studies", json=body, headers=admin)
    assert set(assert_problem(response, 422)["errors"]) == {"name", "arms.1.name"}
    if "\x00" in text:  # a URL cannot carry a lone surrogate; %00 it can
        response = client.get("/api/v1/me/responses", query_string={"instrument": text},
                              headers=fuzz_world.headers(THE_PARTICIPANT))
        assert set(assert_problem(response, 422)["errors"]) == {"instrument"}
    response = client.post("/api/v1/sites", json={"code": "X", "name": "ok", text: 1},
                           headers=admin)
    assert assert_problem(response, 422)["errors"]


@pytest.mark.parametrize("raw", [
    "[" * 100_000 + "]" * 100_000,
    '{"code": ' + "9" * 5000 + "}",
], ids=["nested-100000-deep", "integer-of-5000-digits"])
def test_json_the_parser_cannot_hold_is_a_400_problem(client, fuzz_world: FuzzWorld,
                                                      raw: str) -> None:
    """json.loads raises RecursionError and ValueError for these, which webargs let through as
    a 500; prom.api.parsing answers 400 like any other body that is not JSON."""
    response = client.post("/api/v1/sites", data=raw, content_type="application/json",
                           headers=fuzz_world.headers(ADMIN))
    assert_problem(response, 400)


def test_json_nested_as_deep_as_the_parser_allows_is_a_422(client, fuzz_world: FuzzWorld) -> None:
    """The check for unstorable text walks the body in a loop: recursion would overflow here."""
    deep = "[" * 900 + '"\\u0000"' + "]" * 900
    response = client.post("/api/v1/sites", data='{"code": "X", "name": ' + deep + "}",
                           content_type="application/json", headers=fuzz_world.headers(ADMIN))
    assert_problem(response, 422)
