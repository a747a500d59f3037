"""Hostile and malformed input over HTTP: tokens, mass assignment and every size limit.

- Tokens that must not work (tests/api/test_auth.py has alg none, another key, tampered, expired,
  refresh-as-access and logout of an admin): a participant's token on every staff-only route, a
  forged refresh token, a participant's revoked tokens, and tokens of a deactivated or unknown user.
- Mass assignment: fields the server owns (`participant_id` for a participant, `received_at`,
  scores, the analysis placement, roles, site membership, ids) are refused with a 422 naming the
  field, and nothing is stored.
- Limits: each cap tested exactly at its bound (accepted) and one past it (refused, nothing stored).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prom.models.accounts import Site, User
from prom.models.participants import Participant
from prom.models.responses import Response, ResponseVersion
from prom.models.studies import Study
from tests.api.studies_fixtures import (
    ADMIN,
    CLINICIAN_OF_SITE,
    PASSWORD,
    THE_PARTICIPANT,
    World,
    activate,
    assert_field_error,
    assert_problem,
    bearer,
    enrol,
    study_body,
    unique,
    unique_email,
)
from tests.api.test_responses import PHQ9_ITEMS, collected, submission

API = "/api/v1"
MAX_PAGE = 200
def adverse_event(**answers: Any) -> dict[str, Any]:
    return submission(instrument="adverse_event", answers={
        "occurred": True, "description": "headache", "ongoing": False, "severity": "mild",
        "seriousness": ["none"], "attributed": "no", **answers})


def stored(session: Session, response_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Response)
                          .where(Response.id == uuid.UUID(response_id)))


def versions(session: Session, response_id: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ResponseVersion)
                          .where(ResponseVersion.response_id == uuid.UUID(response_id)))


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def post(world: World, path: str, body: Any, who: str = ADMIN) -> Any:
    return world.client.post(f"{API}{path}", json=body, headers=world.headers(who))


def submitted(world: World, body: dict[str, Any], who: str = THE_PARTICIPANT) -> dict[str, Any]:
    response = post(world, "/responses", body, who)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


# ---------------------------------------------------------------------------------------------
# Tokens


def staff_only_routes(app: Any) -> list[tuple[str, str]]:
    """(method, rule) of every route whose view names its roles, none of them participant."""
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = None
        while view is not None and roles is None:
            roles = getattr(view, "allowed_roles", None)
            view = getattr(view, "__wrapped__", None)
        if not roles or "participant" in roles:
            continue
        routes += [(method, rule.rule) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_staff_only_routes_are_found(app) -> None:
    routes = staff_only_routes(app)
    assert ("POST", "/api/v1/studies") in routes
    assert ("GET", "/api/v1/users") in routes
    assert ("POST", "/api/v1/responses/<uuid:response_id>/amendments") in routes
    assert ("GET", "/api/v1/studies/<uuid:study_id>/export") in routes
    assert ("POST", "/api/v1/responses") not in routes  # participants submit


def test_a_participant_token_is_refused_on_every_staff_only_route(world: World) -> None:
    own = submitted(world, submission())
    values = {"study_id": world.study_id, "participant_id": world.participant_id,
              "response_id": own["id"]}
    refused = []
    for method, rule in staff_only_routes(world.client.application):
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m[1], uuid.uuid4())), rule)
        response = world.client.open(path, method=method, json={} if method != "GET" else None,
                                      headers=world.headers(THE_PARTICIPANT))
        refused.append((method, path, response.status_code))
        assert response.status_code in (403, 404), (method, path, response.get_data(as_text=True))
    assert len(refused) >= 15, refused


def test_a_participant_s_tokens_stop_working_after_logout(world: World) -> None:
    tokens = activate(world.client, enrol(world.client, world.admin.headers, world.study_id,
                                          world.site_a.id)["activation_code"])
    access, refresh = bearer(tokens["access_token"]), bearer(tokens["refresh_token"])
    assert world.client.get(f"{API}/me/due", headers=access).status_code == 200

    assert world.client.post(f"{API}/auth/logout", headers=access).status_code == 204

    assert_problem(world.client.get(f"{API}/me/due", headers=access), 401)
    assert_problem(world.client.post(f"{API}/responses", json=submission(), headers=access), 401)
    assert_problem(world.client.post(f"{API}/auth/refresh", headers=refresh), 401)


def test_a_refresh_token_signed_with_another_key_is_401(world: World) -> None:
    tokens = activate(world.client, enrol(world.client, world.admin.headers, world.study_id,
                                          world.site_a.id)["activation_code"])
    claims = pyjwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    forged = pyjwt.encode(claims, "another-key-of-at-least-thirty-two-bytes!", "HS256")

    assert_problem(world.client.post(f"{API}/auth/refresh", headers=bearer(forged)), 401)


@pytest.mark.parametrize("role", ["admin", "participant"])
def test_tokens_of_a_deactivated_user_stop_working_at_once(
    world: World, db_session: Session, role: str
) -> None:
    if role == "admin":
        user_id = world.admin.user_id
        response = world.client.post(f"{API}/auth/login",
                                     json={"email": db_session.get(User, user_id).email,
                                           "password": PASSWORD})
        tokens = response.json
    else:
        tokens = activate(world.client, enrol(world.client, world.admin.headers, world.study_id,
                                              world.site_a.id)["activation_code"])
        me = world.client.get(f"{API}/me", headers=bearer(tokens["access_token"])).json
        user_id = uuid.UUID(me["id"])
    user = db_session.get(User, user_id)
    user.active = False
    db_session.flush()

    assert_problem(world.client.get(f"{API}/me", headers=bearer(tokens["access_token"])), 401)
    assert_problem(world.client.post(f"{API}/auth/refresh",
                                     headers=bearer(tokens["refresh_token"])), 401)


def test_a_well_signed_token_for_an_unknown_user_is_401(world: World) -> None:
    with world.client.application.app_context():
        token = create_access_token(identity=str(uuid.uuid4()),
                                    additional_claims={"role": "admin", "fam": uuid.uuid4().hex})

    assert_problem(world.client.get(f"{API}/users", headers=bearer(token)), 401)


def test_a_well_signed_token_without_a_family_is_401(world: World) -> None:
    with world.client.application.app_context():
        token = create_access_token(identity=str(world.admin.user_id),
                                    additional_claims={"role": "admin"})

    assert_problem(world.client.get(f"{API}/users", headers=bearer(token)), 401)


# ---------------------------------------------------------------------------------------------
# Bodies that are not JSON a server can use, and text no database can store

UNSTORABLE = ["nul\x00inside", "lone \ud800 surrogate", "\udfff"]


@pytest.mark.parametrize("raw", [
    "[" * 100_000 + "]" * 100_000,
    '{"id": ' + "9" * 5000 + "}",
], ids=["nested-100000-deep", "integer-of-5000-digits"])
def test_json_a_parser_cannot_hold_is_a_400_problem(world: World, raw: str) -> None:
    """json.loads raises RecursionError and ValueError here, not JSONDecodeError, which is all
    webargs turns into a 400 (prom/api/parsing.py)."""
    response = world.client.post(f"{API}/responses", data=raw, content_type="application/json",
                                 headers=world.headers(THE_PARTICIPANT))

    assert_problem(response, 400)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**30, -(10**30)])
def test_non_finite_and_huge_numbers_as_answers_are_refused_by_item(
    world: World, db_session: Session, value: float
) -> None:
    body = submission()
    body["answers"]["phq9_1"] = value
    raw = json.dumps(body)  # NaN and Infinity as the JavaScript literals json.loads accepts

    response = world.client.post(f"{API}/responses", data=raw, content_type="application/json",
                                 headers=world.headers(THE_PARTICIPANT))

    assert_field_error(response, "answers.phq9_1")
    assert stored(db_session, body["id"]) == 0


@pytest.mark.parametrize("text", UNSTORABLE)
def test_a_text_answer_no_database_can_store_is_refused_by_item(
    world: World, db_session: Session, text: str
) -> None:
    body = adverse_event(description=text)

    assert_field_error(post(world, "/responses", body, THE_PARTICIPANT), "answers.description")
    assert stored(db_session, body["id"]) == 0


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize("field", ["email", "username", "password"])
def test_signing_in_with_unstorable_text_is_an_ordinary_401(
    world: World, db_session: Session, field: str, text: str
) -> None:
    body = {"email": f"{text}@example.org"} if field == "email" else {"username": text}
    if field == "password":
        body = {"email": db_session.get(User, world.admin.user_id).email}
    body["password"] = text * 4 if field == "password" else PASSWORD

    response = world.client.post(f"{API}/auth/login", json=body)

    assert_problem(response, 401)


@pytest.mark.parametrize("text", UNSTORABLE)
def test_activating_with_an_unstorable_password_is_422_and_keeps_the_code(
    world: World, text: str
) -> None:
    code = enrol(world.client, world.admin.headers, world.study_id,
                 world.site_a.id)["activation_code"]

    response = world.client.post(f"{API}/auth/activate",
                                 json={"activation_code": code, "password": text * 4})

    assert_field_error(response, "password")
    assert activate(world.client, code)["access_token"]


@pytest.mark.parametrize("text", UNSTORABLE)
def test_creating_a_user_with_an_unstorable_password_is_422(
    world: World, db_session: Session, text: str
) -> None:
    before = count(db_session, User)
    body = {"email": unique_email("pw"), "password": text * 4, "role": "clinician"}

    assert_field_error(post(world, "/users", body), "password")
    assert count(db_session, User) == before


@pytest.mark.parametrize("text", UNSTORABLE)
def test_creating_a_site_with_an_unstorable_name_is_422(
    world: World, db_session: Session, text: str
) -> None:
    before = count(db_session, Site)

    assert_field_error(post(world, "/sites", {"code": unique("SITE"), "name": text}), "name")
    assert count(db_session, Site) == before


@pytest.mark.parametrize("text", UNSTORABLE)
def test_an_unstorable_timepoint_is_refused_and_spoils_no_batch(
    world: World, db_session: Session, text: str
) -> None:
    bad, good = submission(timepoint=text), submission()

    assert_field_error(post(world, "/responses", bad, THE_PARTICIPANT), "timepoint")
    response = post(world, "/responses/batch", {"responses": [bad, good]}, THE_PARTICIPANT)

    assert response.status_code == 200, response.get_data(as_text=True)
    first, second = response.json["results"]
    assert (first["status"], list(first["errors"])) == (422, ["timepoint"])
    assert second["status"] == 201
    assert (stored(db_session, bad["id"]), stored(db_session, good["id"])) == (0, 1)


def review(**changes: Any) -> dict[str, Any]:
    return {"serious": False, "severity_grade": 1, "relatedness": "not_related", "expected": False,
            "action_taken": "none", "outcome": "recovered", **changes}


@pytest.mark.parametrize("field", [
    "amendment reason", "study name", "arm name", "alert note", "review note",
])
def test_free_text_no_database_can_store_is_a_422_naming_the_field(
    world: World, field: str
) -> None:
    """Free text, left to the database, is a 500 (a lone surrogate on both, NUL on PostgreSQL):
    input schemas refuse it first (prom/schemas/fields.py)."""
    text = "lone \ud800 surrogate"
    if field == "amendment reason":
        response_id = submitted(world, submission())["id"]
        response = post(world, f"/responses/{response_id}/amendments",
                        {"answers": submission()["answers"], "reason": text}, CLINICIAN_OF_SITE)
        path = "reason"
    elif field == "study name":
        response, path = post(world, "/studies", study_body(name=text)), "name"
    elif field == "arm name":
        response = post(world, "/studies", study_body(arms=[{"code": "A", "name": text}]))
        path = "arms.0.name"
    elif field == "alert note":
        submitted(world, submission(answers={**dict.fromkeys(PHQ9_ITEMS, 1)}))
        alert = world.client.get(f"{API}/alerts", headers=world.headers(ADMIN)).json["items"][0]
        response, path = post(world, f"/alerts/{alert['id']}/acknowledge", {"note": text}), "note"
    else:
        submitted(world, adverse_event())
        event = world.client.get(f"{API}/studies/{world.study_id}/adverse-events",
                                 headers=world.headers(ADMIN)).json["items"][0]
        response = post(world, f"/adverse-events/{event['id']}/review", review(note=text))
        path = "note"

    assert_field_error(response, path)


# ---------------------------------------------------------------------------------------------
# Mass assignment: server-owned fields are refused by name, and nothing is stored

SERVER_OWNED_RESPONSE_FIELDS = {
    "received_at": datetime.now(UTC).isoformat(),
    "scores": {"phq9": {"value": 0, "status": "scored", "n_answered": 9, "band": "minimal"}},
    "alerts": [],
    "analysis": {"timepoint": "baseline", "study_day": 0, "in_window": True, "flags": []},
    "analysis_timepoint": "baseline",
    "version": 7,
    "submitted_by": str(uuid.uuid4()),
    "payload_hash": "0" * 64,
}


@pytest.mark.parametrize("field", [*SERVER_OWNED_RESPONSE_FIELDS, "participant_id"])
def test_a_participant_cannot_set_server_owned_fields_of_a_response(
    world: World, db_session: Session, field: str
) -> None:
    value = SERVER_OWNED_RESPONSE_FIELDS.get(field, world.participant_id)
    body = submission(**{field: value})

    assert_field_error(post(world, "/responses", body, THE_PARTICIPANT), field)
    assert stored(db_session, body["id"]) == 0


@pytest.mark.parametrize("field", list(SERVER_OWNED_RESPONSE_FIELDS))
def test_staff_cannot_set_server_owned_fields_of_a_response(
    world: World, db_session: Session, field: str
) -> None:
    body = submission(participant_id=world.participant_id,
                      **{field: SERVER_OWNED_RESPONSE_FIELDS[field]})

    assert_field_error(post(world, "/responses", body, CLINICIAN_OF_SITE), field)
    assert stored(db_session, body["id"]) == 0


@pytest.mark.parametrize("field", [*SERVER_OWNED_RESPONSE_FIELDS, "participant_id"])
def test_a_batch_entry_with_a_server_owned_field_is_refused_by_name(
    world: World, db_session: Session, field: str
) -> None:
    bad = submission(**{field: SERVER_OWNED_RESPONSE_FIELDS.get(field, world.participant_id)})
    good = submission()

    response = post(world, "/responses/batch", {"responses": [bad, good]}, THE_PARTICIPANT)

    assert response.status_code == 200, response.get_data(as_text=True)
    first, second = response.json["results"]
    assert first["status"] == 422
    assert any(key == field or key.startswith(f"{field}.") for key in first["errors"]), first
    assert second["status"] == 201
    assert stored(db_session, bad["id"]) == 0
    assert stored(db_session, good["id"]) == 1


@pytest.mark.parametrize("field", [
    "received_at", "scores", "analysis", "participant_id", "instrument", "instrument_version",
    "collected_at", "version", "created_by", "id",
])
def test_an_amendment_cannot_set_anything_but_answers_reason_and_timings(
    world: World, db_session: Session, field: str
) -> None:
    response_id = submitted(world, submission())["id"]
    value = {"participant_id": str(uuid.uuid4()), "id": str(uuid.uuid4()), "version": 9,
             "instrument": "gad7", "instrument_version": "2", "created_by": str(uuid.uuid4()),
             "collected_at": collected()}.get(field, SERVER_OWNED_RESPONSE_FIELDS.get(field))
    body = {"answers": {**dict.fromkeys(PHQ9_ITEMS, 2), "phq9_9": 0}, "reason": "typo",
            field: value}

    amended = post(world, f"/responses/{response_id}/amendments", body, CLINICIAN_OF_SITE)

    assert_field_error(amended, field)
    assert versions(db_session, response_id) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("id", str(uuid.uuid4())),
    ("active", False),
    ("username", "chosen-name"),
    ("created_at", "2020-01-01T00:00:00+00:00"),
    ("password_hash", "$argon2id$v=19$m=65536,t=3,p=4$AAAA$BBBB"),
    ("sites", []),
])
def test_creating_a_user_refuses_server_owned_fields(
    world: World, db_session: Session, field: str, value: Any
) -> None:
    before = count(db_session, User)
    body = {"email": unique_email("new"), "password": PASSWORD, "role": "clinician",
            field: value}

    assert_field_error(post(world, "/users", body), field)
    assert count(db_session, User) == before


@pytest.mark.parametrize("role", ["participant", "superuser", "ADMIN"])
def test_a_user_cannot_be_created_with_a_non_staff_role(
    world: World, db_session: Session, role: str
) -> None:
    before = count(db_session, User)
    body = {"email": unique_email("new"), "password": PASSWORD, "role": role}

    assert_field_error(post(world, "/users", body), "role")
    assert count(db_session, User) == before


def test_site_membership_of_a_new_user_must_name_existing_sites(
    world: World, db_session: Session
) -> None:
    before = count(db_session, User)
    body = {"email": unique_email("new"), "password": PASSWORD, "role": "clinician",
            "site_ids": [str(uuid.uuid4())]}

    response = post(world, "/users", body)

    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert count(db_session, User) == before


@pytest.mark.parametrize(("field", "value"), [
    ("id", str(uuid.uuid4())),
    ("study_id", str(uuid.uuid4())),
    ("activation_code", "CHOSEN-CODE"),
    ("user_id", str(uuid.uuid4())),
    ("created_at", "2020-01-01T00:00:00+00:00"),
    ("arm_code", "B"),
])
def test_enrolment_refuses_server_owned_fields(
    world: World, db_session: Session, field: str, value: Any
) -> None:
    before = count(db_session, Participant)
    body = {"site_id": str(world.site_a.id), "arm": "A",
            "enrolled_on": datetime.now(UTC).date().isoformat(), field: value}

    assert_field_error(post(world, f"/studies/{world.study_id}/participants", body), field)
    assert count(db_session, Participant) == before


@pytest.mark.parametrize(("field", "value"), [
    ("id", str(uuid.uuid4())), ("created_at", "2020-01-01T00:00:00+00:00"),
    ("members", []), ("export_key", "00" * 32),
])
def test_creating_a_study_refuses_server_owned_fields(
    world: World, db_session: Session, field: str, value: Any
) -> None:
    before = count(db_session, Study)

    assert_field_error(post(world, "/studies", study_body(**{field: value})), field)
    assert count(db_session, Study) == before


def test_creating_a_site_refuses_an_id(world: World, db_session: Session) -> None:
    before = count(db_session, Site)
    body = {"code": unique("SITE"), "name": "Site", "id": str(uuid.uuid4())}

    assert_field_error(post(world, "/sites", body), "id")
    assert count(db_session, Site) == before


@pytest.mark.parametrize(("field", "value"), [("role", "admin"), ("study_id", str(uuid.uuid4())),
                                              ("site_ids", [])])
def test_granting_study_access_takes_only_the_user(
    world: World, field: str, value: Any
) -> None:
    researcher = world.caller("researcher non-member")

    response = post(world, f"/studies/{world.study_id}/members",
                    {"user_id": str(researcher.user_id), field: value})

    assert_field_error(response, field)
    study = world.client.get(f"{API}/studies/{world.study_id}", headers=researcher.headers)
    assert study.status_code == 404  # still not a member


@pytest.mark.parametrize("field", ["arm", "site_id", "enrolled_on", "study_id"])
def test_randomisation_refuses_anything_but_its_date(world: World, field: str) -> None:
    body = {"randomised_on": datetime.now(UTC).date().isoformat(),
            field: {"arm": "B", "enrolled_on": "2020-01-01"}.get(field, str(uuid.uuid4()))}

    response = post(world, f"/participants/{world.participant_id}/randomisation", body)

    assert_field_error(response, field)
    participant = world.client.get(f"{API}/participants/{world.participant_id}",
                                   headers=world.headers(ADMIN)).json
    assert participant["randomised_on"] is None
    assert participant["arm"] == "A"


@pytest.mark.parametrize("field", ["acknowledged_by", "acknowledged_at", "status"])
def test_acknowledging_an_alert_refuses_server_owned_fields(world: World, field: str) -> None:
    submitted(world, submission(answers={**dict.fromkeys(PHQ9_ITEMS, 1)}))  # item 9 alerts
    query = {"participant_id": world.participant_id}
    alerts = world.client.get(f"{API}/alerts", query_string=query,
                              headers=world.headers(ADMIN)).json["items"]
    assert alerts
    value = {"acknowledged_by": str(uuid.uuid4()), "acknowledged_at": collected(),
             "status": "open"}[field]

    response = post(world, f"/alerts/{alerts[0]['id']}/acknowledge", {"note": "ok", field: value})

    assert_field_error(response, field)
    again = world.client.get(f"{API}/alerts", query_string=query,
                             headers=world.headers(ADMIN)).json["items"]
    assert all(alert["status"] == "open" for alert in again)


# ---------------------------------------------------------------------------------------------
# Limits, each at its bound and one past it


def padded(body: dict[str, Any], size: int) -> bytes:
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


@pytest.mark.parametrize(("extra", "status"), [(0, 201), (1, 413)])
def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(
    world: World, db_session: Session, extra: int, status: int
) -> None:
    body = submission()
    limit = world.client.application.config["MAX_CONTENT_LENGTH"]

    response = world.client.post(f"{API}/responses", data=padded(body, limit + extra),
                                 content_type="application/json",
                                 headers=world.headers(THE_PARTICIPANT))

    assert response.status_code == status, response.get_data(as_text=True)
    if status == 413:
        assert_problem(response, 413)
    assert stored(db_session, body["id"]) == (1 if status == 201 else 0)


@pytest.mark.parametrize(("length", "ok"), [(2000, True), (2001, False)])
def test_a_text_answer_at_its_max_length_is_accepted_and_one_more_refused(
    world: World, db_session: Session, length: int, ok: bool
) -> None:
    body = adverse_event(description="é" * length)

    response = post(world, "/responses", body, THE_PARTICIPANT)

    if ok:
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        assert_field_error(response, "answers.description")
    assert stored(db_session, body["id"]) == int(ok)


def test_a_multiple_choice_answer_with_every_option_once_is_the_longest_accepted(
    world: World, db_session: Session
) -> None:
    everything = ["death", "life_threatening", "hospitalisation", "disability",
                  "congenital_anomaly", "medically_important"]
    body = adverse_event(seriousness=everything)
    assert post(world, "/responses", body, THE_PARTICIPANT).status_code == 201

    longer = adverse_event(seriousness=[*everything, "death"])
    assert_field_error(post(world, "/responses", longer, THE_PARTICIPANT),
                       "answers.seriousness")
    assert stored(db_session, longer["id"]) == 0


@pytest.mark.parametrize(("size", "length_error"), [(500, False), (501, True)])
def test_answers_are_capped_at_500_keys(
    world: World, db_session: Session, size: int, length_error: bool
) -> None:
    answers = {**submission()["answers"]}
    answers.update({f"extra_{n}": 0 for n in range(size - len(answers))})
    body = submission(answers=answers)

    errors = assert_problem(post(world, "/responses", body, THE_PARTICIPANT), 422)["errors"]

    # at the bound the extra keys are refused one by one as unknown items; past it, the whole
    # answer set is refused for its size
    assert ("answers" in errors) is length_error, list(errors)[:3]
    assert all(key == "answers" or key.startswith("answers.") for key in errors)
    assert stored(db_session, body["id"]) == 0


@pytest.mark.parametrize(("ms", "ok"), [(86_400_000, True), (86_400_001, False), (-1, False)])
def test_item_timings_are_capped_at_one_day(
    world: World, db_session: Session, ms: int, ok: bool
) -> None:
    body = submission(item_timings={"phq9_1": ms})

    response = post(world, "/responses", body, THE_PARTICIPANT)

    if ok:
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        assert_field_error(response, "item_timings.phq9_1", "item_timings")
    assert stored(db_session, body["id"]) == int(ok)


@pytest.mark.parametrize(("length", "ok"), [(1000, True), (1001, False)])
def test_an_amendment_reason_is_capped_at_1000_characters(
    world: World, db_session: Session, length: int, ok: bool
) -> None:
    response_id = submitted(world, submission())["id"]
    body = {"answers": {**dict.fromkeys(PHQ9_ITEMS, 2), "phq9_9": 0}, "reason": "r" * length}

    response = post(world, f"/responses/{response_id}/amendments", body, CLINICIAN_OF_SITE)

    if ok:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert_field_error(response, "reason")
    assert versions(db_session, response_id) == (2 if ok else 1)


@pytest.mark.parametrize(("length", "ok"), [(2000, True), (2001, False)])
def test_an_acknowledgement_note_is_capped_at_2000_characters(
    world: World, length: int, ok: bool
) -> None:
    submitted(world, submission(answers={**dict.fromkeys(PHQ9_ITEMS, 1)}))
    query = {"participant_id": world.participant_id, "status": "all"}
    alert = world.client.get(f"{API}/alerts", query_string=query,
                             headers=world.headers(ADMIN)).json["items"][0]

    response = post(world, f"/alerts/{alert['id']}/acknowledge", {"note": "n" * length})

    if ok:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_field_error(response, "note")
    after = world.client.get(f"{API}/alerts", query_string=query,
                             headers=world.headers(ADMIN)).json["items"]
    status = next(a["status"] for a in after if a["id"] == alert["id"])
    assert status == ("acknowledged" if ok else "open")


@pytest.mark.parametrize(("length", "ok"), [(4000, True), (4001, False)])
def test_an_adverse_event_review_note_is_capped_at_4000_characters(
    world: World, length: int, ok: bool
) -> None:
    submitted(world, adverse_event())
    event = world.client.get(f"{API}/studies/{world.study_id}/adverse-events",
                             headers=world.headers(ADMIN)).json["items"][0]

    response = post(world, f"/adverse-events/{event['id']}/review", review(note="n" * length))

    if ok:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert_field_error(response, "note")
    after = world.client.get(f"{API}/adverse-events/{event['id']}",
                             headers=world.headers(ADMIN)).json
    assert len(after["reviews"]) == int(ok)


@pytest.mark.parametrize(("name", "value"), [
    ("instrument", "phq9"), ("timepoint", "baseline"), ("arm", "A"),
])
def test_export_filters_take_at_most_50_values(world: World, name: str, value: str) -> None:
    submitted(world, submission())
    path = f"{API}/studies/{world.study_id}/export"

    at_bound = world.client.get(path, query_string={name: [value] * 50},
                                headers=world.headers(ADMIN))
    at_bound.close()  # the archive streams from a temporary file
    assert at_bound.status_code == 200
    past = world.client.get(path, query_string={name: [value] * 51},
                            headers=world.headers(ADMIN))
    assert_field_error(past, name)


@pytest.mark.parametrize("what", ["export", "summary"])
def test_a_study_with_no_responses_exports_without_error(world: World, what: str) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/{what}",
                                headers=world.headers(ADMIN), buffered=True)

    assert response.status_code == 200, response.get_data(as_text=True)


def list_paths(world: World) -> list[tuple[str, str]]:
    """(path, who may read it) of every cursor-paginated list."""
    return [
        (f"/studies/{world.study_id}/participants", ADMIN),
        (f"/participants/{world.participant_id}/responses", ADMIN),
        ("/me/responses", THE_PARTICIPANT),
        ("/alerts", ADMIN),
        (f"/studies/{world.study_id}/adverse-events", ADMIN),
    ]


def test_every_list_accepts_its_largest_page_and_refuses_one_more(world: World) -> None:
    for path, who in list_paths(world):
        at_bound = world.client.get(f"{API}{path}", query_string={"limit": MAX_PAGE},
                                    headers=world.headers(who))
        assert at_bound.status_code == 200, (path, at_bound.get_data(as_text=True))
        past = world.client.get(f"{API}{path}", query_string={"limit": MAX_PAGE + 1},
                                headers=world.headers(who))
        assert_field_error(past, "limit")


def test_every_list_refuses_a_cursor_longer_than_500_characters(world: World) -> None:
    for path, who in list_paths(world):
        response = world.client.get(f"{API}{path}", query_string={"cursor": "x" * 501},
                                    headers=world.headers(who))
        assert_field_error(response, "cursor")
        # A cursor of exactly 500 characters passes the length check; it is still no cursor.
        response = world.client.get(f"{API}{path}", query_string={"cursor": "x" * 500},
                                    headers=world.headers(who))
        assert response.status_code in (200, 422), (path, response.get_data(as_text=True))
        assert response.status_code < 500


@pytest.mark.parametrize(("field", "bound", "make"), [
    ("code", 64, lambda n: unique("S")[:12] + "x" * (n - 12)),
    ("name", 200, lambda n: "n" * n),
])
def test_site_fields_are_capped(world: World, db_session: Session, field, bound, make) -> None:
    before = count(db_session, Site)
    body = {"code": unique("SITE"), "name": "Site"}

    accepted = post(world, "/sites", {**body, field: make(bound)})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    refused = post(world, "/sites", {**body, "code": unique("SITE"), field: make(bound + 1)})
    assert_field_error(refused, field)
    assert count(db_session, Site) == before + 1


@pytest.mark.parametrize(("length", "ok"), [(256, True), (257, False)])
def test_a_staff_password_is_capped_at_256_characters(
    world: World, db_session: Session, length: int, ok: bool
) -> None:
    before = count(db_session, User)
    body = {"email": unique_email("pw"), "password": "p" * length, "role": "clinician"}

    response = post(world, "/users", body)

    if ok:
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        assert_field_error(response, "password")
    assert count(db_session, User) == before + int(ok)


def long_email(length: int) -> str:
    """A valid address of exactly `length` characters: a short local part, a long domain."""
    local, labels = uuid.uuid4().hex[:20], []
    rest = length - len(local) - len("@") - len(".org")
    while rest > 0:
        label = "d" * min(63, rest)
        labels.append(label)
        rest -= len(label) + 1
    return f"{local}@{'.'.join(labels)}.org"


def test_a_staff_email_is_capped_at_254_characters(world: World, db_session: Session) -> None:
    before = count(db_session, User)
    at_bound, past = long_email(254), long_email(255)
    assert (len(at_bound), len(past)) == (254, 255)

    accepted = post(world, "/users", {"email": at_bound, "password": PASSWORD,
                                      "role": "clinician"})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    assert_field_error(post(world, "/users", {"email": past, "password": PASSWORD,
                                              "role": "clinician"}), "email")
    assert count(db_session, User) == before + 1


@pytest.mark.parametrize(("field", "bound", "value"), [
    ("arms", 20, lambda n: [{"code": f"A{i}", "name": f"Arm {i}"} for i in range(n)]),
    ("name", 200, lambda n: "n" * n),
    ("code", 64, lambda n: unique("C")[:12] + "c" * (n - 12)),
])
def test_study_fields_are_capped(world: World, db_session: Session, field, bound, value) -> None:
    before = count(db_session, Study)

    accepted = post(world, "/studies", study_body(**{field: value(bound)}))
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    assert_field_error(post(world, "/studies", study_body(**{field: value(bound + 1)})), field)
    assert count(db_session, Study) == before + 1


def timepoint(**changes: Any) -> dict[str, Any]:
    return {"timepoint": "baseline", "day": 0, "window_before": 0, "window_after": 3,
            "instruments": ["phq9"], **changes}


@pytest.mark.parametrize(("changes", "path"), [
    ({"day": 3650}, None), ({"day": 3651}, "schedule.0.day"),
    ({"day": -3650}, None), ({"day": -3651}, "schedule.0.day"),
    ({"window_after": 3650}, None), ({"window_after": 3651}, "schedule.0.window_after"),
    ({"window_before": 3651}, "schedule.0.window_before"),
    ({"every": 7, "count": 520}, None), ({"every": 7, "count": 521}, "schedule.0.count"),
    ({"every": 3651, "count": 2}, "schedule.0.every"),
    ({"instruments": ["phq9"] * 51}, "schedule.0.instruments"),
])
def test_schedule_ranges_are_enforced_at_their_bounds(
    world: World, db_session: Session, changes: dict[str, Any], path: str | None
) -> None:
    before = count(db_session, Study)

    response = post(world, "/studies", study_body(schedule=[timepoint(**changes)]))

    if path is None:
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        assert_field_error(response, path)
    assert count(db_session, Study) == before + (path is None)
