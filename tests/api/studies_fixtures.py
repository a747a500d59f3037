"""Helpers shared by test_studies.py and test_participants.py.

Everything here is plain functions and classes; each test module wraps them in its own small
fixtures, so nothing depends on fixture imports. Data is created through the account services
(sites, staff) and through the API (studies, enrolments, memberships), inside the ``db_session``
transaction of the test, so all of it is rolled back; codes and emails are unique anyway.

:class:`World` is one study with two arms at two sites, and one participant enrolled at site A.
Its :meth:`World.headers` creates, on first use, the caller a test names:

==============================  ===========================================================
``admin``                       an admin (also the one who set the world up)
``clinician of the site``       a clinician of site A, where the participant is enrolled
``clinician of another site``   a clinician of site B only
``researcher member``           a researcher granted access to the study
``researcher non-member``       a researcher of site A with no access to the study
``the participant``             the enrolled participant, activated with its code
``another participant``         a second participant of the same study and site, activated
``no token``                    no Authorization header
==============================  ===========================================================
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from prom.errors import PROBLEM_JSON
from prom.models.audit import AuditEvent

API = "/api/v1"
PASSWORD = "correct horse battery staple"

ADMIN = "admin"
CLINICIAN_OF_SITE = "clinician of the site"
CLINICIAN_OTHER_SITE = "clinician of another site"
RESEARCHER_MEMBER = "researcher member"
RESEARCHER_NON_MEMBER = "researcher non-member"
THE_PARTICIPANT = "the participant"
ANOTHER_PARTICIPANT = "another participant"
NO_TOKEN = "no token"

CALLERS = (
    ADMIN,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    RESEARCHER_MEMBER,
    RESEARCHER_NON_MEMBER,
    THE_PARTICIPANT,
    ANOTHER_PARTICIPANT,
    NO_TOKEN,
)

#: Who may read a participant's data, and the status each gets: 200 in scope, 404 outside it (so
#: ids reveal nothing), 401 without a token.
READ_SCOPE = [
    (ADMIN, 200),
    (CLINICIAN_OF_SITE, 200),
    (CLINICIAN_OTHER_SITE, 404),
    (RESEARCHER_MEMBER, 200),
    (RESEARCHER_NON_MEMBER, 404),
    (THE_PARTICIPANT, 200),
    (ANOTHER_PARTICIPANT, 404),
    (NO_TOKEN, 401),
]

#: Who may act on a participant's record as staff (acknowledge an alert, record randomisation):
#: admins and clinicians of the site; another site's clinician gets 404, other roles 403.
STAFF_ACTION_SCOPE = [
    (ADMIN, 200),
    (CLINICIAN_OF_SITE, 200),
    (CLINICIAN_OTHER_SITE, 404),
    (RESEARCHER_MEMBER, 403),
    (THE_PARTICIPANT, 403),
    (NO_TOKEN, 401),
]

# ---------------------------------------------------------------------------------------------
# Small helpers


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}".upper()


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex}@example.org"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def today_utc() -> date:
    return datetime.now(UTC).date()


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON, response.mimetype
    body = response.json
    assert body["status"] == status, body
    assert body["type"].startswith("https://prom.dev/problems/"), body
    assert body["detail"], body
    return body


def assert_field_error(response: Any, path: str, *alternatives: str) -> dict[str, Any]:
    """A 422 problem whose ``errors`` has the key ``path`` (or one of ``alternatives``)."""
    body = assert_problem(response, 422)
    assert body["title"] == "Validation Failed", body
    assert "errors" in body, body
    wanted = (path, *alternatives)
    assert any(key in body["errors"] for key in wanted), (wanted, body["errors"])
    return body


def study_body(**changes: Any) -> dict[str, Any]:
    """A valid study with arms A and B and a schedule of baseline and week 4."""
    body: dict[str, Any] = {
        "code": unique("STUDY"),
        "name": "Back pain trial",
        "arms": [
            {"code": "A", "name": "Physiotherapy"},
            {"code": "B", "name": "Usual care"},
        ],
        "schedule": [
            {
                "timepoint": "baseline",
                "day": 0,
                "window_before": 0,
                "window_after": 3,
                "instruments": ["phq9", "gad7"],
            },
            {
                "timepoint": "week4",
                "day": 28,
                "window_before": 2,
                "window_after": 5,
                "instruments": ["phq9"],
            },
        ],
    }
    body.update(changes)
    return body


def enrolment_body(site_id: Any, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site_id": str(site_id),
        "arm": "A",
        "enrolled_on": today_utc().isoformat(),
    }
    body.update(changes)
    return body


# ---------------------------------------------------------------------------------------------
# Accounts


@dataclass
class Caller:
    """A signed-in user: its id (a participant's is the user id, not the participant id)."""

    user_id: uuid.UUID
    headers: dict[str, str]


def new_site(label: str = "SITE") -> Any:
    from prom.services.accounts import create_site

    code = unique(label)
    return create_site(code, f"Site {code}")


def sign_in_staff(client: FlaskClient, role: str, site_ids: list[Any] = ()) -> Caller:
    from prom.services.accounts import create_user

    user = create_user(unique_email(role), PASSWORD, role, list(site_ids))
    response = client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Caller(user_id=user.id, headers=bearer(response.json["access_token"]))


def activate(client: FlaskClient, activation_code: str) -> dict[str, Any]:
    """Activate a participant with its code; returns the tokens (and username)."""
    response = client.post(
        f"{API}/auth/activate", json={"activation_code": activation_code, "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def me(client: FlaskClient, headers: Mapping[str, str]) -> dict[str, Any]:
    response = client.get(f"{API}/me", headers=dict(headers))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


# ---------------------------------------------------------------------------------------------
# Studies and enrolments through the API


def create_study(client: FlaskClient, headers: Mapping[str, str], **changes: Any) -> dict:
    response = client.post(f"{API}/studies", json=study_body(**changes), headers=dict(headers))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def grant(client: FlaskClient, headers: Mapping[str, str], study_id: str, user_id: Any) -> Any:
    return client.post(
        f"{API}/studies/{study_id}/members", json={"user_id": str(user_id)}, headers=dict(headers)
    )


def enrol(
    client: FlaskClient, headers: Mapping[str, str], study_id: str, site_id: Any, **changes: Any
) -> dict[str, Any]:
    response = client.post(
        f"{API}/studies/{study_id}/participants",
        json=enrolment_body(site_id, **changes),
        headers=dict(headers),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def list_all_participants(
    client: FlaskClient, headers: Mapping[str, str], study_id: str, limit: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Follow ``next_cursor`` to the end; returns every item and the number of pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query: dict[str, Any] = {}
        if limit is not None:
            query["limit"] = limit
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get(
            f"{API}/studies/{study_id}/participants", query_string=query, headers=dict(headers)
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.json
        pages += 1
        assert pages <= 1000, "next_cursor never became null"
        if limit is not None:
            assert len(page["items"]) <= limit, page
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert isinstance(cursor, str) and cursor, page


# ---------------------------------------------------------------------------------------------
# The world of the matrix


@dataclass
class World:
    client: FlaskClient
    site_a: Any
    site_b: Any
    admin: Caller
    study: dict[str, Any]
    participant: dict[str, Any]  # the enrolment response of the participant at site A
    callers: dict[str, Caller] = field(default_factory=dict)

    @property
    def study_id(self) -> str:
        return self.study["id"]

    @property
    def participant_id(self) -> str:
        return self.participant["id"]

    def caller(self, who: str) -> Caller:
        """The caller named ``who`` (one of ``CALLERS`` except ``NO_TOKEN``), created once."""
        if who not in self.callers:
            self.callers[who] = self._create(who)
        return self.callers[who]

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == NO_TOKEN else self.caller(who).headers

    def _create(self, who: str) -> Caller:
        client = self.client
        if who == ADMIN:
            return self.admin
        if who == CLINICIAN_OF_SITE:
            return sign_in_staff(client, "clinician", [self.site_a.id])
        if who == CLINICIAN_OTHER_SITE:
            return sign_in_staff(client, "clinician", [self.site_b.id])
        if who == RESEARCHER_MEMBER:
            researcher = sign_in_staff(client, "researcher", [self.site_a.id])
            response = grant(client, self.admin.headers, self.study_id, researcher.user_id)
            assert response.status_code == 201, response.get_data(as_text=True)
            return researcher
        if who == RESEARCHER_NON_MEMBER:
            return sign_in_staff(client, "researcher", [self.site_a.id])
        if who == THE_PARTICIPANT:
            return self._activate(self.participant["activation_code"])
        if who == ANOTHER_PARTICIPANT:
            other = enrol(client, self.admin.headers, self.study_id, self.site_a.id, arm="B")
            return self._activate(other["activation_code"])
        raise AssertionError(f"unknown caller {who!r}")

    def _activate(self, code: str) -> Caller:
        headers = bearer(activate(self.client, code)["access_token"])
        return Caller(user_id=uuid.UUID(me(self.client, headers)["id"]), headers=headers)


def build_world(client: FlaskClient) -> World:
    site_a = new_site("SITEA")
    site_b = new_site("SITEB")
    admin = sign_in_staff(client, "admin")
    study = create_study(client, admin.headers)
    participant = enrol(client, admin.headers, study["id"], site_a.id)
    return World(
        client=client,
        site_a=site_a,
        site_b=site_b,
        admin=admin,
        study=study,
        participant=participant,
    )


def audit_rows(session: Any, action: str, actor: Any = None) -> list[Any]:
    """Audit rows with ``action`` (and ``actor``), oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action)
    if actor is not None:
        query = query.where(AuditEvent.actor == str(actor))
    return list(session.scalars(query.order_by(AuditEvent.id)))


def shift(days: int) -> str:
    return (today_utc() + timedelta(days=days)).isoformat()
