"""Accounts: /api/v1/me, /api/v1/sites, /api/v1/users and who may use them.

Contract: prom/api/me.py, prom/api/sites.py, prom/api/users.py, prom/services/accounts.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prom.models.audit import AuditEvent
from tests.api.conftest import (
    API,
    PASSWORD,
    Account,
    assert_field_error,
    assert_problem,
    login,
    unique_code,
    unique_email,
)

NO_TOKEN = "no token"


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


def new_user_body(role: str = "clinician", site_ids: list[Any] = (), **changes: Any) -> dict:
    return {
        "email": unique_email(role),
        "password": PASSWORD,
        "role": role,
        "site_ids": [str(site_id) for site_id in site_ids],
        **changes,
    }


@pytest.fixture
def headers_for(sign_in: Callable[..., Account]) -> Callable[[str], dict[str, str]]:
    """``headers_for(role)`` -> Authorization headers of a new account of ``role`` ({} for
    ``NO_TOKEN``)."""

    def headers(role: str) -> dict[str, str]:
        return {} if role == NO_TOKEN else sign_in(role).headers

    return headers


@pytest.fixture
def admin(sign_in: Callable[..., Account]) -> Account:
    return sign_in("admin")


# ---------------------------------------------------------------------------------------------
# Who may do what


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("clinician", 200),
        ("researcher", 200),
        ("participant", 200),
        (NO_TOKEN, 401),
    ],
)
def test_get_me_by_role(
    client: FlaskClient, headers_for: Callable[[str], dict], role: str, status: int
) -> None:
    response = client.get(f"{API}/me", headers=headers_for(role))

    assert response.status_code == status
    if status == 200:
        assert response.json["role"] == role
    else:
        assert_problem(response, 401, "Unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 201),
        ("clinician", 403),
        ("researcher", 403),
        ("participant", 403),
        (NO_TOKEN, 401),
    ],
)
def test_post_sites_by_role(
    client: FlaskClient, headers_for: Callable[[str], dict], role: str, status: int
) -> None:
    response = client.post(
        f"{API}/sites",
        json={"code": unique_code(), "name": "Pain clinic"},
        headers=headers_for(role),
    )

    assert response.status_code == status
    if status == 403:
        assert_problem(response, 403, "Forbidden")
    elif status == 401:
        assert_problem(response, 401, "Unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# The contract names only staff as readers of /sites (a participant is refused, 403) and only
# admins as readers of /users.
@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/sites", "admin", 200),
        ("/sites", "clinician", 200),
        ("/sites", "researcher", 200),
        ("/sites", "participant", 403),
        ("/sites", NO_TOKEN, 401),
        ("/users", "admin", 200),
        ("/users", "clinician", 403),
        ("/users", "researcher", 403),
        ("/users", "participant", 403),
        ("/users", NO_TOKEN, 401),
    ],
)
def test_list_sites_and_users_by_role(
    client: FlaskClient, headers_for: Callable[[str], dict], path: str, role: str, status: int
) -> None:
    response = client.get(f"{API}{path}", headers=headers_for(role))

    assert response.status_code == status
    if status == 200:
        assert isinstance(response.json["items"], list)
    elif status == 403:
        assert_problem(response, 403, "Forbidden")
    else:
        assert_problem(response, 401, "Unauthorized")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 201),
        ("clinician", 403),
        ("researcher", 403),
        ("participant", 403),
        (NO_TOKEN, 401),
    ],
)
def test_post_users_by_role(
    client: FlaskClient, headers_for: Callable[[str], dict], role: str, status: int
) -> None:
    response = client.post(f"{API}/users", json=new_user_body(), headers=headers_for(role))

    assert response.status_code == status
    if status == 403:
        assert_problem(response, 403, "Forbidden")
    elif status == 401:
        assert_problem(response, 401, "Unauthorized")


def test_forbidden_site_creation_creates_nothing(
    client: FlaskClient, sign_in: Callable[..., Account], admin: Account
) -> None:
    clinician = sign_in("clinician")
    code = unique_code()

    assert (
        client.post(
            f"{API}/sites", json={"code": code, "name": "Sneaky"}, headers=clinician.headers
        ).status_code
        == 403
    )

    listed = client.get(f"{API}/sites", headers=admin.headers).json["items"]
    assert code not in {site["code"] for site in listed}


def test_forbidden_user_creation_creates_nothing(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    researcher = sign_in("researcher")
    body = new_user_body("admin")

    assert client.post(f"{API}/users", json=body, headers=researcher.headers).status_code == 403

    assert login(client, body["password"], email=body["email"]).status_code == 401


# ---------------------------------------------------------------------------------------------
# /me


def test_me_describes_a_staff_member(
    client: FlaskClient, make_site: Callable[..., Any], sign_in: Callable[..., Account]
) -> None:
    first, second = make_site(), make_site()
    clinician = sign_in("clinician", [first.id, second.id])

    response = client.get(f"{API}/me", headers=clinician.headers)

    assert response.status_code == 200
    body = response.json
    assert body["id"] == str(clinician.id)
    assert body["role"] == "clinician"
    assert body["email"] == clinician.user.email
    assert body["username"] is None
    assert set(body["site_ids"]) == {str(first.id), str(second.id)}


def test_me_describes_a_participant(
    client: FlaskClient, make_site: Callable[..., Any], sign_in: Callable[..., Account]
) -> None:
    site = make_site()
    participant = sign_in("participant", [site.id])

    body = client.get(f"{API}/me", headers=participant.headers).json

    assert body["id"] == str(participant.id)
    assert body["role"] == "participant"
    assert body["email"] is None
    assert body["username"] == participant.username
    assert body["site_ids"] == [str(site.id)]


def test_me_of_an_admin_without_sites_has_an_empty_site_list(
    client: FlaskClient, admin: Account
) -> None:
    body = client.get(f"{API}/me", headers=admin.headers).json

    assert body["site_ids"] == []
    assert "password_hash" not in body
    assert "$argon2" not in json.dumps(body)


# ---------------------------------------------------------------------------------------------
# Sites


def test_admin_creates_a_site(client: FlaskClient, admin: Account) -> None:
    code = unique_code()

    response = client.post(
        f"{API}/sites", json={"code": code, "name": "Pain clinic North"}, headers=admin.headers
    )

    assert response.status_code == 201
    body = response.json
    assert set(body) >= {"id", "code", "name"}
    uuid.UUID(body["id"])
    assert body["code"] == code
    assert body["name"] == "Pain clinic North"
    listed = client.get(f"{API}/sites", headers=admin.headers).json["items"]
    assert body["id"] in ids(listed)


def test_duplicate_site_code_is_409(
    client: FlaskClient, admin: Account, make_site: Callable[..., Any]
) -> None:
    existing = make_site()

    response = client.post(
        f"{API}/sites", json={"code": existing.code, "name": "Another"}, headers=admin.headers
    )

    assert_problem(response, 409, "Conflict")


@pytest.mark.parametrize("missing", ["code", "name"])
def test_site_without_a_required_field_names_it(
    client: FlaskClient, admin: Account, missing: str
) -> None:
    body = {"code": unique_code(), "name": "Pain clinic"}
    del body[missing]

    response = client.post(f"{API}/sites", json=body, headers=admin.headers)

    assert_field_error(response, missing)


def test_site_with_an_unknown_field_names_it(client: FlaskClient, admin: Account) -> None:
    response = client.post(
        f"{API}/sites",
        json={"code": unique_code(), "name": "Pain clinic", "country": "NL"},
        headers=admin.headers,
    )

    assert_field_error(response, "country")


def test_admin_lists_every_site(
    client: FlaskClient, admin: Account, make_site: Callable[..., Any]
) -> None:
    first, second = make_site(), make_site()

    response = client.get(f"{API}/sites", headers=admin.headers)

    assert response.status_code == 200
    items = response.json["items"]
    assert {str(first.id), str(second.id)} <= ids(items)
    [listed] = [item for item in items if item["id"] == str(first.id)]
    assert listed["code"] == first.code
    assert listed["name"] == first.name


@pytest.mark.parametrize("role", ["clinician", "researcher"])
def test_staff_list_only_their_own_sites(
    client: FlaskClient, make_site: Callable[..., Any], sign_in: Callable[..., Account], role: str
) -> None:
    mine, theirs = make_site(), make_site()
    member = sign_in(role, [mine.id])

    response = client.get(f"{API}/sites", headers=member.headers)

    assert response.status_code == 200
    assert ids(response.json["items"]) == {str(mine.id)}
    assert str(theirs.id) not in response.get_data(as_text=True)


def test_staff_without_sites_list_no_sites(
    client: FlaskClient, make_site: Callable[..., Any], sign_in: Callable[..., Account]
) -> None:
    make_site()
    researcher = sign_in("researcher")

    assert client.get(f"{API}/sites", headers=researcher.headers).json["items"] == []


# ---------------------------------------------------------------------------------------------
# Users


def test_admin_creates_a_staff_user_who_can_log_in(
    client: FlaskClient, admin: Account, make_site: Callable[..., Any]
) -> None:
    site = make_site()
    body = new_user_body("researcher", [site.id])

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert response.status_code == 201
    created = response.json
    assert uuid.UUID(created["id"])
    assert created["email"] == body["email"]
    assert created["role"] == "researcher"
    assert created["site_ids"] == [str(site.id)]
    assert "password" not in created and "password_hash" not in created
    assert "$argon2" not in response.get_data(as_text=True)

    logged_in = login(client, body["password"], email=body["email"])
    assert logged_in.status_code == 200
    profile = client.get(
        f"{API}/me", headers={"Authorization": f"Bearer {logged_in.json['access_token']}"}
    ).json
    assert profile["id"] == created["id"]
    assert profile["site_ids"] == [str(site.id)]


@pytest.mark.parametrize("role", ["admin", "clinician", "researcher"])
def test_admin_creates_users_of_every_staff_role(
    client: FlaskClient, admin: Account, role: str
) -> None:
    response = client.post(f"{API}/users", json=new_user_body(role), headers=admin.headers)

    assert response.status_code == 201
    assert response.json["role"] == role


@pytest.mark.parametrize("role", ["participant", "superuser", "", "ADMIN"])
def test_user_with_a_role_that_is_not_staff_is_422(
    client: FlaskClient, admin: Account, role: str
) -> None:
    response = client.post(f"{API}/users", json=new_user_body(role), headers=admin.headers)

    assert_field_error(response, "role")


def test_user_with_an_unknown_site_is_422(client: FlaskClient, admin: Account) -> None:
    body = new_user_body("clinician", [uuid.uuid4()])

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert_field_error(response, "site_ids")
    assert login(client, body["password"], email=body["email"]).status_code == 401


def test_user_with_a_site_id_that_is_not_a_uuid_is_422(client: FlaskClient, admin: Account) -> None:
    body = {**new_user_body("clinician"), "site_ids": ["not-a-uuid"]}

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert_field_error(response, "site_ids")


def test_duplicate_email_is_409(
    client: FlaskClient, admin: Account, make_staff: Callable[..., Account]
) -> None:
    existing = make_staff("clinician")

    response = client.post(
        f"{API}/users",
        json=new_user_body("researcher", email=existing.user.email),
        headers=admin.headers,
    )

    assert_problem(response, 409, "Conflict")
    # The existing account is untouched: its own password still logs it in.
    assert login(client, existing.password, email=existing.user.email).status_code == 200


def test_user_password_shorter_than_10_characters_is_422(
    client: FlaskClient, admin: Account
) -> None:
    body = new_user_body("clinician", password="123456789")

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert_field_error(response, "password")


def test_user_password_of_exactly_10_characters_is_accepted(
    client: FlaskClient, admin: Account
) -> None:
    body = new_user_body("clinician", password="1234567890")

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert response.status_code == 201
    assert login(client, "1234567890", email=body["email"]).status_code == 200


@pytest.mark.parametrize("missing", ["email", "password", "role"])
def test_user_without_a_required_field_names_it(
    client: FlaskClient, admin: Account, missing: str
) -> None:
    body = new_user_body("clinician")
    del body[missing]

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert_field_error(response, missing)


def test_user_with_an_unknown_field_names_it(client: FlaskClient, admin: Account) -> None:
    body = new_user_body("clinician", password_hash="$argon2id$v=19$forged")

    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert_field_error(response, "password_hash")


def test_admin_lists_users_without_password_hashes(
    client: FlaskClient,
    admin: Account,
    make_staff: Callable[..., Account],
    make_site: Callable[..., Any],
) -> None:
    site = make_site()
    clinician = make_staff("clinician", [site.id])

    response = client.get(f"{API}/users", headers=admin.headers)

    assert response.status_code == 200
    items = response.json["items"]
    assert {str(admin.id), str(clinician.id)} <= ids(items)
    [listed] = [item for item in items if item["id"] == str(clinician.id)]
    assert listed["email"] == clinician.user.email
    assert listed["role"] == "clinician"
    assert listed["site_ids"] == [str(site.id)]
    assert "$argon2" not in response.get_data(as_text=True)
    assert not [key for item in items for key in item if key.startswith("password")]


# ---------------------------------------------------------------------------------------------
# Audit


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _refers_to(event: AuditEvent, created_id: str) -> bool:
    return event.target_id is not None and uuid.UUID(event.target_id) == uuid.UUID(created_id)


def test_site_creation_is_audited_with_the_admin_as_actor(
    client: FlaskClient, db_session: Session, admin: Account
) -> None:
    created = client.post(
        f"{API}/sites", json={"code": unique_code(), "name": "Audited"}, headers=admin.headers
    ).json

    [event] = [e for e in _events(db_session, "site.create") if _refers_to(e, created["id"])]
    assert uuid.UUID(event.actor) == admin.id


def test_user_creation_is_audited_with_the_admin_as_actor(
    client: FlaskClient, db_session: Session, admin: Account
) -> None:
    created = client.post(f"{API}/users", json=new_user_body(), headers=admin.headers).json

    [event] = [e for e in _events(db_session, "user.create") if _refers_to(e, created["id"])]
    assert uuid.UUID(event.actor) == admin.id
    assert PASSWORD not in json.dumps(event.detail or {})
