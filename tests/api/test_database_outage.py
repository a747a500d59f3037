"""When the database cannot be reached, every request that needs it gets 503 problem+json with
`Retry-After`, so that clients retry rather than give up (issue 6); the app needs no restart to
recover, because the connection pool checks connections before use (`pool_pre_ping`).

The outage is real, not mocked: the app is pointed at a PostgreSQL port where nothing listens, or
at an SQLite file in a directory that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from prom.app import create_app
from prom.errors import PROBLEM_JSON
from prom.extensions import db
from tests.conftest import FAST_PASSWORD_HASHING

UNREACHABLE = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/prom?connect_timeout=1",
    "sqlite": "sqlite:////nonexistent-directory/prom.db",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def down(request: pytest.FixtureRequest) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": UNREACHABLE[request.param],
                      **FAST_PASSWORD_HASHING})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/auth/login", {"email": "a@example.org", "password": "x" * 12}),
    ("GET", "/healthz", None),
])
def test_an_unreachable_database_is_a_503_problem_with_retry_after(
        down: Flask, method: str, path: str, body: dict | None) -> None:
    response = down.test_client().open(path, method=method, json=body)

    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["title"] == "Service Unavailable"
    assert "database" in response.json["detail"].lower()


def test_a_token_holder_gets_503_too_not_500(down: Flask) -> None:
    """An authenticated request fails when its token's user is looked up."""
    from flask_jwt_extended import create_access_token

    with down.app_context():
        # a well-formed token of this server: its session is looked up in the database
        token = create_access_token(identity=str(uuid.uuid4()),
                                    additional_claims={"fam": str(uuid.uuid4())})
    response = down.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 503 and response.mimetype == PROBLEM_JSON
    assert "Retry-After" in response.headers
