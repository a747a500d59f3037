"""Authentication: login, activation, refresh rotation, logout, token checks, rate limits, audit.

Contract: /api/v1/auth/{login,activate,refresh,logout} and /api/v1/me (prom/api/auth.py,
prom/services/auth.py).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_jwt_extended import create_access_token
from sqlalchemy import select
from sqlalchemy.orm import Session

from prom.app import create_app
from prom.extensions import db
from prom.models.audit import AuditEvent
from prom.services.accounts import create_user
from tests.api.conftest import (
    API,
    PASSWORD,
    RAISED_RATE_LIMITS,
    Account,
    assert_field_error,
    assert_problem,
    bearer,
    login,
    unique_email,
)
from tests.conftest import FAST_PASSWORD_HASHING

TOKEN_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}


def refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post(f"{API}/auth/refresh", headers=bearer(refresh_token))


def me(client: FlaskClient, access_token: str) -> Any:
    return client.get(f"{API}/me", headers=bearer(access_token))


def claims(token: str) -> dict[str, Any]:
    """A token's payload, read without checking its signature."""
    return pyjwt.decode(token, options={"verify_signature": False})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def audit_events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def mentions(event: AuditEvent, text: str) -> bool:
    return text in json.dumps(event.detail or {})


def is_actor(event: AuditEvent, user: Any) -> bool:
    return event.actor is not None and uuid.UUID(event.actor) == user.id


# ---------------------------------------------------------------------------------------------
# Login


def test_staff_login_returns_bearer_tokens_that_expire_in_15_minutes(
    client: FlaskClient, make_staff: Callable[..., Account]
) -> None:
    account = make_staff("clinician")

    response = login(client, account.password, email=account.user.email)

    assert response.status_code == 200
    body = response.json
    assert set(body) >= TOKEN_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"] != body["refresh_token"]
    access = claims(body["access_token"])
    assert access["exp"] - access["iat"] == 900


def test_access_token_from_login_identifies_the_user_on_me(
    client: FlaskClient, make_staff: Callable[..., Account]
) -> None:
    account = make_staff("researcher")
    token = login(client, account.password, email=account.user.email).json["access_token"]

    response = me(client, token)

    assert response.status_code == 200
    assert response.json["id"] == str(account.id)
    assert response.json["role"] == "researcher"


def test_password_is_stored_as_an_argon2id_hash(make_staff: Callable[..., Account]) -> None:
    account = make_staff("admin")

    assert account.user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.user.password_hash


def test_wrong_password_unknown_email_and_unactivated_participant_get_the_same_401(
    client: FlaskClient,
    db_session: Session,
    make_staff: Callable[..., Account],
    make_participant: Callable[..., tuple[Any, str]],
) -> None:
    account = make_staff("clinician")
    participant, _code = make_participant()
    # Usernames are handed out at activation; give this one a name to try while it still has
    # no password, as a participant would have if usernames were ever assigned up front.
    if participant.username is None:
        participant.username = f"p-{uuid.uuid4().hex[:12]}"
        db_session.commit()

    wrong_password = login(client, "not the password", email=account.user.email)
    unknown_user = login(client, PASSWORD, email=unique_email("nobody"))
    not_activated = login(client, PASSWORD, username=participant.username)

    bodies = [
        assert_problem(response, 401, "Unauthorized")
        for response in (wrong_password, unknown_user, not_activated)
    ]
    assert bodies[0] == bodies[1] == bodies[2]


def test_email_lookup_does_not_accept_a_password_of_another_user(
    client: FlaskClient, make_staff: Callable[..., Account]
) -> None:
    first = make_staff("admin", password="first password 1")
    second = make_staff("admin", password="second password 2")

    response = login(client, second.password, email=first.user.email)

    assert_problem(response, 401, "Unauthorized")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"password": PASSWORD}, id="neither-email-nor-username"),
        pytest.param(
            {"email": "a@example.org", "username": "p-123", "password": PASSWORD},
            id="both-email-and-username",
        ),
    ],
)
@pytest.mark.usefixtures("db_session")
def test_login_needs_exactly_one_of_email_and_username(
    client: FlaskClient, body: dict[str, str]
) -> None:
    response = client.post(f"{API}/auth/login", json=body)

    errors = assert_problem(response, 422, "Validation Failed")["errors"]
    assert set(errors) & {"email", "username"}, errors


@pytest.mark.usefixtures("db_session")
def test_login_without_password_names_the_password_field(client: FlaskClient) -> None:
    response = client.post(f"{API}/auth/login", json={"email": unique_email()})

    assert_field_error(response, "password")


@pytest.mark.usefixtures("db_session")
def test_login_with_an_unknown_field_names_that_field(client: FlaskClient) -> None:
    response = client.post(
        f"{API}/auth/login",
        json={"email": unique_email(), "password": PASSWORD, "remember_me": True},
    )

    assert_field_error(response, "remember_me")


# ---------------------------------------------------------------------------------------------
# Activation


def test_activation_sets_the_password_and_returns_tokens_with_a_username(
    client: FlaskClient, make_participant: Callable[..., tuple[Any, str]]
) -> None:
    participant, code = make_participant()

    response = client.post(
        f"{API}/auth/activate", json={"activation_code": code, "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.json
    assert set(body) >= {*TOKEN_FIELDS, "username"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["username"], str) and body["username"]
    assert me(client, body["access_token"]).json["id"] == str(participant.id)


def test_activated_participant_logs_in_with_username_and_password(
    client: FlaskClient, make_participant: Callable[..., tuple[Any, str]]
) -> None:
    participant, code = make_participant()
    username = client.post(
        f"{API}/auth/activate", json={"activation_code": code, "password": PASSWORD}
    ).json["username"]

    response = login(client, PASSWORD, username=username)

    assert response.status_code == 200
    profile = me(client, response.json["access_token"]).json
    assert profile["id"] == str(participant.id)
    assert profile["role"] == "participant"
    assert profile["username"] == username
    assert profile["email"] is None


def test_activated_participant_with_wrong_password_gets_401(
    client: FlaskClient, make_participant: Callable[..., tuple[Any, str]]
) -> None:
    _participant, code = make_participant()
    username = client.post(
        f"{API}/auth/activate", json={"activation_code": code, "password": PASSWORD}
    ).json["username"]

    assert_problem(login(client, "not the password", username=username), 401, "Unauthorized")


def test_activation_code_works_only_once(
    client: FlaskClient, make_participant: Callable[..., tuple[Any, str]]
) -> None:
    _participant, code = make_participant()
    first = client.post(
        f"{API}/auth/activate", json={"activation_code": code, "password": PASSWORD}
    )
    assert first.status_code == 200

    second = client.post(
        f"{API}/auth/activate", json={"activation_code": code, "password": "another password 2"}
    )

    assert_problem(second, 401, "Unauthorized")
    # The first password still holds: the second attempt changed nothing.
    assert login(client, PASSWORD, username=first.json["username"]).status_code == 200
    assert_problem(login(client, "another password 2", username=first.json["username"]), 401)


@pytest.mark.usefixtures("db_session")
def test_unknown_activation_code_gets_401(client: FlaskClient) -> None:
    response = client.post(
        f"{API}/auth/activate",
        json={"activation_code": uuid.uuid4().hex, "password": PASSWORD},
    )

    assert_problem(response, 401, "Unauthorized")


def test_activation_with_a_password_shorter_than_10_characters_is_422(
    client: FlaskClient, make_participant: Callable[..., tuple[Any, str]]
) -> None:
    _participant, code = make_participant()

    response = client.post(
        f"{API}/auth/activate", json={"activation_code": code, "password": "123456789"}
    )

    assert_field_error(response, "password")


@pytest.mark.usefixtures("db_session")
def test_activation_with_an_unknown_field_names_that_field(client: FlaskClient) -> None:
    response = client.post(
        f"{API}/auth/activate",
        json={"activation_code": "x", "password": PASSWORD, "username": "chosen"},
    )

    assert_field_error(response, "username")


# ---------------------------------------------------------------------------------------------
# Refresh


def test_refresh_rotates_both_tokens(client: FlaskClient, sign_in: Callable[..., Account]) -> None:
    account = sign_in("clinician")

    response = refresh(client, account.refresh_token)

    assert response.status_code == 200
    body = response.json
    assert body["access_token"] != account.access_token
    assert body["refresh_token"] != account.refresh_token
    assert me(client, body["access_token"]).json["id"] == str(account.id)
    assert refresh(client, body["refresh_token"]).status_code == 200


def test_refresh_token_stops_working_once_rotated(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("clinician")
    assert refresh(client, account.refresh_token).status_code == 200

    assert_problem(refresh(client, account.refresh_token), 401, "Unauthorized")


def test_reusing_a_rotated_refresh_token_revokes_the_newest_one_of_the_chain(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("researcher")
    second = refresh(client, account.refresh_token).json["refresh_token"]
    newest = refresh(client, second).json["refresh_token"]

    assert_problem(refresh(client, account.refresh_token), 401)  # reuse of a rotated token

    assert_problem(refresh(client, newest), 401, "Unauthorized")


def test_reuse_detection_leaves_other_logins_of_the_same_user_alone(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("researcher")
    other_login = login(client, account.password, email=account.user.email).json
    assert refresh(client, account.refresh_token).status_code == 200
    assert_problem(refresh(client, account.refresh_token), 401)

    assert refresh(client, other_login["refresh_token"]).status_code == 200


def test_access_token_is_refused_by_refresh(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("clinician")

    assert_problem(refresh(client, account.access_token), 401, "Unauthorized")


def test_refresh_token_is_refused_as_an_access_token(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("clinician")

    assert_problem(me(client, account.refresh_token), 401, "Unauthorized")


@pytest.mark.usefixtures("db_session")
def test_refresh_without_a_token_is_401(client: FlaskClient) -> None:
    response = client.post(f"{API}/auth/refresh")

    assert_problem(response, 401, "Unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---------------------------------------------------------------------------------------------
# Logout


def test_logout_revokes_the_access_and_refresh_tokens_of_that_login(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("admin")
    assert me(client, account.access_token).status_code == 200

    response = client.post(f"{API}/auth/logout", headers=account.headers)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(me(client, account.access_token), 401, "Unauthorized")
    assert_problem(refresh(client, account.refresh_token), 401, "Unauthorized")


def test_logout_leaves_other_logins_of_the_same_user_alone(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("admin")
    other_login = login(client, account.password, email=account.user.email).json

    assert client.post(f"{API}/auth/logout", headers=account.headers).status_code == 204

    assert me(client, other_login["access_token"]).status_code == 200
    assert refresh(client, other_login["refresh_token"]).status_code == 200


@pytest.mark.usefixtures("db_session")
def test_logout_without_a_token_is_401(client: FlaskClient) -> None:
    assert_problem(client.post(f"{API}/auth/logout"), 401, "Unauthorized")


def test_revocation_survives_a_restart(app: Flask, client: FlaskClient) -> None:
    # No db_session: a second app must see what the first one committed.
    email = unique_email("restart")
    with app.app_context():
        create_user(email, PASSWORD, "clinician")
    logged_out = login(client, PASSWORD, email=email).json
    still_in = login(client, PASSWORD, email=email).json
    assert (
        client.post(f"{API}/auth/logout", headers=bearer(logged_out["access_token"])).status_code
        == 204
    )

    restarted = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "JWT_SECRET_KEY": app.config["JWT_SECRET_KEY"],
            **FAST_PASSWORD_HASHING,
            **RAISED_RATE_LIMITS,
        }
    )
    try:
        other = restarted.test_client()
        assert_problem(me(other, logged_out["access_token"]), 401, "Unauthorized")
        assert_problem(refresh(other, logged_out["refresh_token"]), 401, "Unauthorized")
        # The same tokens of a login that did not log out are still good on the new app.
        assert me(other, still_in["access_token"]).status_code == 200
        assert refresh(other, still_in["refresh_token"]).status_code == 200
    finally:
        with restarted.app_context():
            db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Tokens that must not be accepted


@pytest.mark.usefixtures("db_session")
def test_me_without_a_token_is_401_with_a_bearer_challenge(client: FlaskClient) -> None:
    response = client.get(f"{API}/me")

    assert_problem(response, 401, "Unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.usefixtures("db_session")
@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNzd29yZA==", "Bearer a.b.c"],
)
def test_me_with_a_malformed_authorization_header_is_401(
    client: FlaskClient, authorization: str
) -> None:
    response = client.get(f"{API}/me", headers={"Authorization": authorization})

    assert_problem(response, 401, "Unauthorized")


def test_unsigned_alg_none_token_is_401(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("admin")
    payload = claims(account.access_token)
    header = {"alg": "none", "typ": "JWT"}
    unsigned = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}."

    assert_problem(me(client, unsigned), 401, "Unauthorized")


def test_token_signed_with_another_key_is_401(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    account = sign_in("admin")
    forged = pyjwt.encode(
        claims(account.access_token), "another-key-of-at-least-thirty-two-bytes!", "HS256"
    )

    assert_problem(me(client, forged), 401, "Unauthorized")


def test_token_with_a_tampered_payload_is_401(
    client: FlaskClient, sign_in: Callable[..., Account]
) -> None:
    participant = sign_in("participant")
    header, _payload, signature = participant.access_token.split(".")
    payload = {**claims(participant.access_token), "role": "admin"}
    tampered = f"{header}.{b64url(json.dumps(payload).encode())}.{signature}"

    assert_problem(me(client, tampered), 401, "Unauthorized")


def test_expired_token_is_401(
    app: Flask, client: FlaskClient, make_staff: Callable[..., Account]
) -> None:
    account = make_staff("admin")
    with app.app_context():
        expired = create_access_token(identity=str(account.id), expires_delta=timedelta(seconds=-1))

    body = assert_problem(me(client, expired), 401, "Unauthorized")
    assert "expired" in body["detail"].lower()


# ---------------------------------------------------------------------------------------------
# Rate limits (default limits: 5 per minute per account, 10 per minute per address)


class TestRateLimits:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {}

    def test_sixth_login_for_one_email_within_a_minute_is_429_even_with_the_right_password(
        self, client: FlaskClient, make_staff: Callable[..., Account]
    ) -> None:
        account = make_staff("clinician")
        for _ in range(5):
            assert login(client, "wrong password!", email=account.user.email).status_code == 401

        response = login(client, account.password, email=account.user.email)

        assert_problem(response, 429, "Too Many Requests")
        assert int(response.headers["Retry-After"]) > 0

    def test_per_account_limit_applies_to_unknown_emails_too(self, client: FlaskClient) -> None:
        email = unique_email("nobody")
        for _ in range(5):
            assert login(client, PASSWORD, email=email).status_code == 401

        assert_problem(login(client, PASSWORD, email=email), 429, "Too Many Requests")

    def test_per_account_limit_does_not_lock_out_other_accounts(
        self, client: FlaskClient, make_staff: Callable[..., Account]
    ) -> None:
        attacked = make_staff("clinician")
        other = make_staff("clinician")
        for _ in range(6):
            login(client, "wrong password!", email=attacked.user.email)

        assert login(client, other.password, email=other.user.email).status_code == 200

    def test_sixth_login_for_one_username_within_a_minute_is_429(
        self, client: FlaskClient, make_participant: Callable[..., tuple[Any, str]]
    ) -> None:
        _participant, code = make_participant()
        username = client.post(
            f"{API}/auth/activate", json={"activation_code": code, "password": PASSWORD}
        ).json["username"]
        for _ in range(5):
            assert login(client, "wrong password!", username=username).status_code == 401

        response = login(client, PASSWORD, username=username)

        assert_problem(response, 429, "Too Many Requests")
        assert int(response.headers["Retry-After"]) > 0

    @pytest.mark.usefixtures("db_session")
    def test_eleventh_login_from_one_address_within_a_minute_is_429(
        self, client: FlaskClient
    ) -> None:
        for _ in range(10):
            assert login(client, PASSWORD, email=unique_email("spray")).status_code == 401

        response = login(client, PASSWORD, email=unique_email("spray"))

        assert_problem(response, 429, "Too Many Requests")
        assert int(response.headers["Retry-After"]) > 0

    @pytest.mark.usefixtures("db_session")
    def test_eleventh_activation_from_one_address_within_a_minute_is_429(
        self, client: FlaskClient
    ) -> None:
        for _ in range(10):
            response = client.post(
                f"{API}/auth/activate",
                json={"activation_code": uuid.uuid4().hex, "password": PASSWORD},
            )
            assert response.status_code == 401

        response = client.post(
            f"{API}/auth/activate",
            json={"activation_code": uuid.uuid4().hex, "password": PASSWORD},
        )

        assert_problem(response, 429, "Too Many Requests")
        assert int(response.headers["Retry-After"]) > 0

    @pytest.mark.usefixtures("db_session")
    def test_eleventh_refresh_from_one_address_within_a_minute_is_429(
        self, client: FlaskClient
    ) -> None:
        for _ in range(10):
            assert refresh(client, "not-a-token").status_code == 401

        assert_problem(refresh(client, "not-a-token"), 429, "Too Many Requests")


class TestConfiguredRateLimit:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {
            "RATELIMIT_AUTH_PER_ACCOUNT": "2 per minute",
            "RATELIMIT_AUTH_PER_ADDRESS": "1000 per minute",
        }

    def test_per_account_limit_follows_the_configuration(
        self, client: FlaskClient, make_staff: Callable[..., Account]
    ) -> None:
        account = make_staff("clinician")
        for _ in range(2):
            assert login(client, "wrong password!", email=account.user.email).status_code == 401

        assert_problem(login(client, account.password, email=account.user.email), 429)


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")
class TestRateLimitsOnRedis:
    """With PROM_RATELIMIT_STORAGE_URL pointing at Redis, the counters are shared: what one app
    process (one gunicorn worker) counted, another sees."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        # A fresh key prefix per test: counters from other runs cannot leak in.
        return {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
                "RATELIMIT_KEY_PREFIX": f"prom-test-{uuid.uuid4().hex}"}

    def test_two_app_processes_share_the_per_account_limit(
        self, client: FlaskClient, database_url: str, app_overrides: dict[str, Any]
    ) -> None:
        other = create_app({"TESTING": True, "DATABASE_URL": database_url,
                            **FAST_PASSWORD_HASHING, **app_overrides})
        try:
            email = unique_email("shared")
            for _ in range(3):
                assert login(client, "wrong password!", email=email).status_code == 401
            for _ in range(2):
                assert login(other.test_client(), "wrong password!", email=email).status_code \
                    == 401

            assert_problem(login(client, "wrong password!", email=email), 429,
                           "Too Many Requests")
            assert_problem(login(other.test_client(), "wrong password!", email=email), 429)
        finally:
            with other.app_context():
                db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Audit trail


def test_successful_login_is_audited_with_the_user_as_actor(
    client: FlaskClient, db_session: Session, make_staff: Callable[..., Account]
) -> None:
    account = make_staff("clinician")

    assert login(client, account.password, email=account.user.email).status_code == 200

    events = [e for e in audit_events(db_session, "auth.login") if is_actor(e, account.user)]
    assert len(events) == 1


def test_failed_login_of_an_existing_account_is_audited_with_its_user(
    client: FlaskClient, db_session: Session, make_staff: Callable[..., Account]
) -> None:
    account = make_staff("clinician")

    assert login(client, "wrong password!", email=account.user.email).status_code == 401

    events = [
        e for e in audit_events(db_session, "auth.login_failed") if mentions(e, account.user.email)
    ]
    assert len(events) == 1
    assert is_actor(events[0], account.user)
    assert not [e for e in audit_events(db_session, "auth.login") if is_actor(e, account.user)]


def test_failed_login_of_an_unknown_email_is_audited_without_actor(
    client: FlaskClient, db_session: Session
) -> None:
    email = unique_email("nobody")

    assert login(client, PASSWORD, email=email).status_code == 401

    [event] = [e for e in audit_events(db_session, "auth.login_failed") if mentions(e, email)]
    assert event.actor is None


def test_failed_login_with_a_username_is_audited_with_that_username(
    client: FlaskClient, db_session: Session
) -> None:
    username = f"p-{uuid.uuid4().hex[:12]}"

    assert login(client, PASSWORD, username=username).status_code == 401

    [event] = [e for e in audit_events(db_session, "auth.login_failed") if mentions(e, username)]
    assert event.actor is None


def test_activation_and_logout_are_audited(
    client: FlaskClient, db_session: Session, sign_in: Callable[..., Account]
) -> None:
    participant = sign_in("participant")

    assert [e for e in audit_events(db_session, "auth.activate") if is_actor(e, participant.user)]
    assert client.post(f"{API}/auth/logout", headers=participant.headers).status_code == 204
    assert [e for e in audit_events(db_session, "auth.logout") if is_actor(e, participant.user)]


# ---------------------------------------------------------------------------------------------
# prom create-admin


def test_create_admin_command_makes_an_admin_who_can_log_in(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    # No db_session: the command commits through its own session.
    email = unique_email("cli-admin")

    result = runner.invoke(args=["create-admin", "--email", email, "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    response = login(client, PASSWORD, email=email)
    assert response.status_code == 200
    profile = me(client, response.json["access_token"]).json
    assert profile["role"] == "admin"
    assert profile["email"] == email


def test_create_admin_command_refuses_an_email_that_exists(runner: FlaskCliRunner) -> None:
    email = unique_email("cli-admin")
    first = runner.invoke(args=["create-admin", "--email", email, "--password", PASSWORD])
    assert first.exit_code == 0, first.output

    second = runner.invoke(args=["create-admin", "--email", email, "--password", "other password"])

    assert second.exit_code != 0
    assert "exist" in second.output.lower(), second.output
    assert "Traceback" not in second.output
