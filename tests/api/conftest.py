"""Fixtures for the HTTP tests: accounts, logins and bearer headers.

The ``app`` fixture of tests/conftest.py is overridden here only to raise the authentication
rate limits (``app_overrides``), so that tests which log in several times are not throttled.
Rate-limit tests override ``app_overrides`` with ``{}`` to run with the default limits.

The account helpers of ``prom.services.accounts`` are imported inside the fixtures, so that the
other tests in this directory still run where that module does not exist.

Fixtures that create accounts depend on ``db_session``: everything they write, and everything
the requests of the test write, is rolled back after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from prom.app import create_app
from prom.errors import PROBLEM_JSON
from prom.extensions import db
from tests.conftest import FAST_PASSWORD_HASHING

if TYPE_CHECKING:
    from tests.api.studies_fixtures import World

API = "/api/v1"
PASSWORD = "correct horse battery staple"
STAFF_ROLES = ("admin", "clinician", "researcher")
ROLES = (*STAFF_ROLES, "participant")

RAISED_RATE_LIMITS = {
    "RATELIMIT_AUTH_PER_ACCOUNT": "1000 per minute",
    "RATELIMIT_AUTH_PER_ADDRESS": "1000 per minute",
}


@pytest.fixture
def app_overrides() -> Mapping[str, Any]:
    """Settings added to the test app; override it (e.g. with ``{}``) in a module or class."""
    return RAISED_RATE_LIMITS


@pytest.fixture
def app(database_url: str, app_overrides: Mapping[str, Any]) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **FAST_PASSWORD_HASHING,
                      **app_overrides})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def world(client: FlaskClient, db_session: Session) -> World:
    """Two sites, staff of every role, a study and an enrolled participant (`build_world`)."""
    from tests.api.studies_fixtures import build_world  # it imports this module

    return build_world(client)


# ---------------------------------------------------------------------------------------------
# Helpers


def unique_email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex}@example.org"


def unique_code(label: str = "SITE") -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}".upper()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int, title: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` (and ``title``); returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.json
    assert body["status"] == status
    assert body["type"].startswith("https://prom.dev/problems/")
    assert body["detail"]
    if title is not None:
        assert body["title"] == title
    return body


def assert_field_error(response: Any, field: str) -> dict[str, Any]:
    """A 422 problem whose ``errors`` names ``field`` (or a path inside it)."""
    body = assert_problem(response, 422, "Validation Failed")
    assert "errors" in body, body
    assert any(key == field or key.startswith(f"{field}.") for key in body["errors"]), body
    return body


def login(client: FlaskClient, password: str = PASSWORD, **identifier: str) -> Any:
    """POST /auth/login with ``email=...`` or ``username=...``; returns the response."""
    return client.post(f"{API}/auth/login", json={**identifier, "password": password})


@dataclass
class Account:
    """A user created for a test, with the password it logs in with and its tokens."""

    user: Any
    password: str
    access_token: str = ""
    refresh_token: str = ""
    username: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


@pytest.fixture
def make_site(db_session: Session) -> Callable[..., Any]:
    """``make_site(code=None, name=None)`` -> a committed Site (rolled back after the test)."""
    from prom.services.accounts import create_site

    def make(code: str | None = None, name: str | None = None) -> Any:
        code = code or unique_code()
        return create_site(code, name or f"Site {code}")

    return make


@pytest.fixture
def make_staff(db_session: Session) -> Callable[..., Account]:
    """``make_staff(role, site_ids=(), email=None, password=PASSWORD)`` -> an Account, not
    logged in."""
    from prom.services.accounts import create_user

    def make(
        role: str,
        site_ids: tuple[uuid.UUID, ...] | list[uuid.UUID] = (),
        email: str | None = None,
        password: str = PASSWORD,
    ) -> Account:
        user = create_user(email or unique_email(role), password, role, list(site_ids))
        return Account(user=user, password=password)

    return make


@pytest.fixture
def make_participant(db_session: Session) -> Callable[..., tuple[Any, str]]:
    """``make_participant(site_id=None)`` -> (User, activation code), not activated."""
    from prom.services.accounts import create_participant_user

    def make(site_id: uuid.UUID | None = None) -> tuple[Any, str]:
        return create_participant_user(site_id)

    return make


@pytest.fixture
def sign_in(
    client: FlaskClient,
    make_staff: Callable[..., Account],
    make_participant: Callable[..., tuple[Any, str]],
) -> Callable[..., Account]:
    """``sign_in(role, site_ids=())`` -> a new Account of that role, logged in through the API.

    Staff log in with their email; a participant is activated with its code and a password.
    """

    def sign(role: str, site_ids: tuple[uuid.UUID, ...] | list[uuid.UUID] = ()) -> Account:
        if role == "participant":
            site_id = next(iter(site_ids), None)
            user, code = make_participant(site_id)
            response = client.post(
                f"{API}/auth/activate", json={"activation_code": code, "password": PASSWORD}
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.json
            return Account(
                user=user,
                password=PASSWORD,
                access_token=body["access_token"],
                refresh_token=body["refresh_token"],
                username=body["username"],
            )
        account = make_staff(role, site_ids)
        response = login(client, account.password, email=account.user.email)
        assert response.status_code == 200, response.get_data(as_text=True)
        account.access_token = response.json["access_token"]
        account.refresh_token = response.json["refresh_token"]
        return account

    return sign
