from flask.testing import FlaskClient

from prom.app import create_app
from prom.errors import PROBLEM_JSON


def test_healthz_reports_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_outside_the_versioned_api(client: FlaskClient) -> None:
    assert client.get("/api/v1/healthz").status_code == 404


def test_healthz_is_503_problem_with_retry_after_when_the_database_is_down(tmp_path) -> None:
    # A SQLite file in a directory that does not exist cannot be opened.
    unreachable = f"sqlite:///{tmp_path / 'missing' / 'prom.db'}"
    app = create_app({"TESTING": True, "DATABASE_URL": unreachable})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.mimetype == PROBLEM_JSON
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["title"] == "Service Unavailable"
    assert response.json["type"] == "https://prom.dev/problems/service-unavailable"
