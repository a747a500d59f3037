"""Every failure is an RFC 9457 problem document (prom/errors.py)."""

import logging

import marshmallow as ma
import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint

from prom.errors import PROBLEM_JSON, Conflict, NotFound, ValidationFailed
from prom.extensions import api, limiter


def assert_problem(response, status: int, title: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == PROBLEM_JSON
    body = response.json
    assert body["status"] == status
    assert body["title"] == title
    assert body["type"].startswith("https://prom.dev/problems/")
    assert body["detail"]
    return body


def test_unknown_url_is_a_404_problem(client: FlaskClient) -> None:
    body = assert_problem(client.get("/no/such/thing"), 404, "Not Found")

    assert body["type"] == "https://prom.dev/problems/not-found"
    assert "errors" not in body


def test_wrong_method_is_a_405_problem_that_keeps_allow(client: FlaskClient) -> None:
    response = client.delete("/healthz")

    assert_problem(response, 405, "Method Not Allowed")
    assert "GET" in response.headers["Allow"]


def test_body_over_the_limit_is_a_413_problem(app: Flask, client: FlaskClient) -> None:
    @app.post("/echo")
    def echo():
        return request.get_json()

    too_big = b'"' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"'
    response = client.post("/echo", data=too_big, content_type="application/json")

    assert_problem(response, 413, "Request Entity Too Large")


def test_unhandled_exception_is_a_500_problem_that_hides_the_error(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom():
        raise RuntimeError("password=hunter2")

    with caplog.at_level(logging.ERROR, logger="prom.errors"):
        response = client.get("/boom")

    body = assert_problem(response, 500, "Internal Server Error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in body["detail"]
    [record] = [r for r in caplog.records if r.name == "prom.errors"]
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (NotFound("No response with id 42."), 404, "Not Found"),
        (Conflict("Response 42 was stored with different answers."), 409, "Conflict"),
    ],
)
def test_domain_errors_become_problems_with_their_detail(
    app: Flask, client: FlaskClient, error: Exception, status: int, title: str
) -> None:
    @app.get("/fail")
    def fail():
        raise error

    body = assert_problem(client.get("/fail"), status, title)

    assert body["detail"] == str(error)


def test_validation_failed_carries_field_errors(app: Flask, client: FlaskClient) -> None:
    @app.get("/invalid")
    def invalid():
        raise ValidationFailed(
            "Answer out of range.", errors={"answers.phq9_1": ["Must be between 0 and 3."]}
        )

    body = assert_problem(client.get("/invalid"), 422, "Validation Failed")

    assert body["type"] == "https://prom.dev/problems/validation-failed"
    assert body["errors"] == {"answers.phq9_1": ["Must be between 0 and 3."]}


class AnswersSchema(ma.Schema):
    phq9_1 = ma.fields.Integer(required=True)


class SubmissionSchema(ma.Schema):
    answers = ma.fields.Nested(AnswersSchema, required=True)
    timings = ma.fields.List(ma.fields.Integer())


@pytest.fixture
def submissions(app: Flask) -> None:
    """A throwaway flask-smorest resource that validates its body like real ones will."""
    blp = Blueprint("submissions", __name__, url_prefix="/api/v1/submissions")

    @blp.route("", methods=["POST"])
    @blp.arguments(SubmissionSchema)
    @blp.response(201, SubmissionSchema)
    def create(submission):
        return submission

    api.register_blueprint(blp)


@pytest.mark.usefixtures("submissions")
def test_schema_errors_are_keyed_by_field_path_without_location(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/submissions",
        json={"answers": {"phq9_1": "often"}, "timings": [1, "slow"], "colour": "red"},
    )

    body = assert_problem(response, 422, "Validation Failed")
    assert body["type"] == "https://prom.dev/problems/validation-failed"
    assert body["errors"] == {
        "answers.phq9_1": ["Not a valid integer."],
        "timings.1": ["Not a valid integer."],
        "colour": ["Unknown field."],
    }


@pytest.mark.usefixtures("submissions")
def test_body_that_is_not_json_is_a_400_problem(client: FlaskClient) -> None:
    response = client.post("/api/v1/submissions", data="{not json", content_type="application/json")

    body = assert_problem(response, 400, "Bad Request")
    assert body["errors"] == {"_schema": ["Invalid JSON body."]}


@pytest.mark.usefixtures("submissions")
def test_valid_body_passes(client: FlaskClient) -> None:
    response = client.post("/api/v1/submissions", json={"answers": {"phq9_1": 2}})

    assert response.status_code == 201
    assert response.json == {"answers": {"phq9_1": 2}}


def test_missing_token_is_a_401_problem(app: Flask, client: FlaskClient) -> None:
    @app.get("/private")
    @jwt_required()
    def private():
        return {}

    response = client.get("/private")

    assert_problem(response, 401, "Unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_rate_limited_requests_are_429_problems_with_retry_after(
    app: Flask, client: FlaskClient
) -> None:
    @app.get("/limited")
    @limiter.limit("1/minute")
    def limited():
        return {}

    client.get("/limited")
    response = client.get("/limited")

    assert_problem(response, 429, "Too Many Requests")
    assert int(response.headers["Retry-After"]) > 0
