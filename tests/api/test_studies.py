"""Studies: /api/v1/studies and /api/v1/studies/{id}/members.

Contract: a study has a code, a name, arms and a schedule of timepoints, each with its
instruments (ids from the instrument library). Admins create studies and grant researchers
access; admins and clinicians see every study, researchers only those they are members of,
participants none. A study outside the caller's scope is 404, like one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.api.studies_fixtures import (
    ADMIN,
    ANOTHER_PARTICIPANT,
    API,
    CALLERS,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    NO_TOKEN,
    RESEARCHER_MEMBER,
    RESEARCHER_NON_MEMBER,
    THE_PARTICIPANT,
    Caller,
    World,
    assert_field_error,
    assert_problem,
    create_study,
    grant,
    is_uuid,
    new_site,
    sign_in_staff,
    study_body,
)


@pytest.fixture
def admin(client: FlaskClient, db_session: Session) -> Caller:
    return sign_in_staff(client, "admin")


def post_study(client: FlaskClient, admin: Caller, body: dict[str, Any]) -> Any:
    return client.post(f"{API}/studies", json=body, headers=admin.headers)


def codes(items: list[dict[str, Any]]) -> set[str]:
    return {item["code"] for item in items}


# ---------------------------------------------------------------------------------------------
# Who may do what


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 201),
        (CLINICIAN_OF_SITE, 403),
        (CLINICIAN_OTHER_SITE, 403),
        (RESEARCHER_MEMBER, 403),
        (RESEARCHER_NON_MEMBER, 403),
        (THE_PARTICIPANT, 403),
        (ANOTHER_PARTICIPANT, 403),
        (NO_TOKEN, 401),
    ],
)
def test_create_study_by_caller(world: World, who: str, status: int) -> None:
    body = study_body()
    response = world.client.post(f"{API}/studies", json=body, headers=world.headers(who))
    if status == 201:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["code"] == body["code"]
    else:
        assert_problem(response, status)
        listed = world.client.get(f"{API}/studies", headers=world.admin.headers)
        assert body["code"] not in codes(listed.json["items"])


@pytest.mark.parametrize(
    ("who", "status", "sees_study"),
    [
        (ADMIN, 200, True),
        (CLINICIAN_OF_SITE, 200, True),
        (CLINICIAN_OTHER_SITE, 200, True),
        (RESEARCHER_MEMBER, 200, True),
        (RESEARCHER_NON_MEMBER, 200, False),
        (THE_PARTICIPANT, 403, False),
        (ANOTHER_PARTICIPANT, 403, False),
        (NO_TOKEN, 401, False),
    ],
)
def test_list_studies_by_caller(world: World, who: str, status: int, sees_study: bool) -> None:
    response = world.client.get(f"{API}/studies", headers=world.headers(who))
    if status != 200:
        assert_problem(response, status)
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) >= {"items"}
    assert (world.study_id in {item["id"] for item in response.json["items"]}) is sees_study


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 200),
        (CLINICIAN_OF_SITE, 200),
        (CLINICIAN_OTHER_SITE, 200),
        (RESEARCHER_MEMBER, 200),
        (RESEARCHER_NON_MEMBER, 404),
        (THE_PARTICIPANT, 403),
        (ANOTHER_PARTICIPANT, 403),
        (NO_TOKEN, 401),
    ],
)
def test_get_study_by_caller(world: World, who: str, status: int) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}", headers=world.headers(who))
    if status != 200:
        assert_problem(response, status)
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["id"] == world.study_id
    assert response.json["code"] == world.study["code"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 201),
        (CLINICIAN_OF_SITE, 403),
        (CLINICIAN_OTHER_SITE, 403),
        (RESEARCHER_MEMBER, 403),
        (RESEARCHER_NON_MEMBER, 403),
        (THE_PARTICIPANT, 403),
        (ANOTHER_PARTICIPANT, 403),
        (NO_TOKEN, 401),
    ],
)
def test_grant_membership_by_caller(world: World, who: str, status: int) -> None:
    researcher = sign_in_staff(world.client, "researcher", [world.site_a.id])
    headers = world.headers(who)
    response = grant(world.client, headers, world.study_id, researcher.user_id)
    if status == 201:
        assert response.status_code == 201, response.get_data(as_text=True)
    else:
        assert_problem(response, status)
        # nothing was granted: the researcher still cannot see the study
        listed = world.client.get(f"{API}/studies", headers=researcher.headers)
        assert world.study_id not in {item["id"] for item in listed.json["items"]}


def test_the_matrix_covers_every_caller() -> None:
    assert len(CALLERS) == 8


# ---------------------------------------------------------------------------------------------
# Creating studies


def test_admin_creates_a_study(client: FlaskClient, admin: Caller) -> None:
    body = study_body()
    response = post_study(client, admin, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    study = response.json
    assert is_uuid(study["id"])
    assert study["code"] == body["code"]
    assert study["name"] == body["name"]
    assert [{"code": arm["code"], "name": arm["name"]} for arm in study["arms"]] == body["arms"]
    assert [
        {key: timepoint[key] for key in body["schedule"][0]} for timepoint in study["schedule"]
    ] == body["schedule"]


def test_a_created_study_reads_back_the_same(client: FlaskClient, admin: Caller) -> None:
    created = create_study(client, admin.headers)
    response = client.get(f"{API}/studies/{created['id']}", headers=admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == created


def test_a_created_study_is_listed(client: FlaskClient, admin: Caller) -> None:
    created = create_study(client, admin.headers)
    response = client.get(f"{API}/studies", headers=admin.headers)
    assert response.status_code == 200
    listed = [item for item in response.json["items"] if item["id"] == created["id"]]
    assert len(listed) == 1, response.json
    assert listed[0]["code"] == created["code"]
    assert listed[0]["name"] == created["name"]


def test_study_code_of_64_characters_is_accepted(client: FlaskClient, admin: Caller) -> None:
    code = ("S-" + uuid.uuid4().hex * 2)[:64]
    response = post_study(client, admin, study_body(code=code))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["code"] == code


@pytest.mark.parametrize("day", [0, -14, 365])
def test_schedule_day_may_be_zero_negative_or_positive(
    client: FlaskClient, admin: Caller, day: int
) -> None:
    schedule = [
        {"timepoint": "t", "day": day, "window_before": 0, "window_after": 0,
         "instruments": ["phq9"]},
    ]
    response = post_study(client, admin, study_body(schedule=schedule))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["schedule"][0]["day"] == day


def test_every_instrument_of_the_library_may_be_scheduled(
    client: FlaskClient, admin: Caller
) -> None:
    instruments = client.get(f"{API}/instruments", headers=admin.headers)
    assert instruments.status_code == 200, instruments.get_data(as_text=True)
    listed = instruments.json["items"] if isinstance(instruments.json, dict) else instruments.json
    ids = sorted({item["id"] for item in listed})
    assert "phq9" in ids
    schedule = [
        {"timepoint": "all", "day": 0, "window_before": 0, "window_after": 0,
         "instruments": ids},
    ]
    response = post_study(client, admin, study_body(schedule=schedule))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["schedule"][0]["instruments"] == ids


def test_the_same_arm_code_in_two_studies_is_allowed(client: FlaskClient, admin: Caller) -> None:
    first = create_study(client, admin.headers)
    second = create_study(client, admin.headers)
    assert first["id"] != second["id"]
    assert {arm["code"] for arm in first["arms"]} == {arm["code"] for arm in second["arms"]}


def test_duplicate_study_code_is_409(client: FlaskClient, admin: Caller) -> None:
    created = create_study(client, admin.headers)
    response = post_study(client, admin, study_body(code=created["code"], name="Another"))
    assert_problem(response, 409)


# ---------------------------------------------------------------------------------------------
# Invalid studies: 422 naming the field


@pytest.mark.parametrize("missing", ["code", "name", "arms"])
def test_study_without_a_required_field_names_it(
    client: FlaskClient, admin: Caller, missing: str
) -> None:
    body = study_body()
    del body[missing]
    assert_field_error(post_study(client, admin, body), missing)


def test_study_without_arms_is_422(client: FlaskClient, admin: Caller) -> None:
    assert_field_error(post_study(client, admin, study_body(arms=[])), "arms")


def test_duplicate_arm_code_names_the_second_arm(client: FlaskClient, admin: Caller) -> None:
    arms = [{"code": "A", "name": "One"}, {"code": "A", "name": "Two"}]
    assert_field_error(post_study(client, admin, study_body(arms=arms)), "arms.1.code")


def test_duplicate_timepoint_names_the_second_timepoint(
    client: FlaskClient, admin: Caller
) -> None:
    body = study_body()
    body["schedule"][1]["timepoint"] = body["schedule"][0]["timepoint"]
    assert_field_error(post_study(client, admin, body), "schedule.1.timepoint")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("day", "seven"),
        ("day", 1.5),
        ("day", None),
        ("day", True),
        ("day", "7"),
        ("window_before", -1),
        ("window_before", "two"),
        ("window_before", 0.5),
        ("window_after", -1),
        ("window_after", None),
    ],
)
def test_invalid_schedule_numbers_are_422(
    client: FlaskClient, admin: Caller, key: str, value: Any
) -> None:
    body = study_body()
    body["schedule"][1][key] = value
    assert_field_error(post_study(client, admin, body), f"schedule.1.{key}")


@pytest.mark.parametrize("missing", ["timepoint", "day", "window_before", "window_after"])
def test_timepoint_without_a_required_field_names_it(
    client: FlaskClient, admin: Caller, missing: str
) -> None:
    body = study_body()
    del body["schedule"][0][missing]
    assert_field_error(post_study(client, admin, body), f"schedule.0.{missing}")


def test_unknown_instrument_is_422_naming_it(client: FlaskClient, admin: Caller) -> None:
    body = study_body()
    body["schedule"][0]["instruments"] = ["phq9", "no_such_instrument"]
    result = assert_field_error(
        post_study(client, admin, body), "schedule.0.instruments.1", "schedule.0.instruments"
    )
    messages = [
        message
        for key in ("schedule.0.instruments.1", "schedule.0.instruments")
        for message in result["errors"].get(key, [])
    ]
    assert any("no_such_instrument" in message for message in messages), result


@pytest.mark.parametrize(
    "code",
    ["", "has space", "slash/code", "ünïcode", "x" * 65, "semi;colon"],
)
def test_invalid_study_code_is_422(client: FlaskClient, admin: Caller, code: str) -> None:
    assert_field_error(post_study(client, admin, study_body(code=code)), "code")


@pytest.mark.parametrize("code", ["", "a b", "a/b", "x" * 65])
def test_invalid_arm_code_is_422(client: FlaskClient, admin: Caller, code: str) -> None:
    arms = [{"code": "A", "name": "One"}, {"code": code, "name": "Two"}]
    assert_field_error(post_study(client, admin, study_body(arms=arms)), "arms.1.code")


@pytest.mark.parametrize("code", ["", "week 4", "week/4", "x" * 65])
def test_invalid_timepoint_code_is_422(client: FlaskClient, admin: Caller, code: str) -> None:
    body = study_body()
    body["schedule"][0]["timepoint"] = code
    assert_field_error(post_study(client, admin, body), "schedule.0.timepoint")


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("top", "colour"),
        ("arm", "arms.0.colour"),
        ("timepoint", "schedule.0.colour"),
    ],
)
def test_unknown_field_is_422_naming_it(
    client: FlaskClient, admin: Caller, where: str, path: str
) -> None:
    body = study_body()
    target = {"top": body, "arm": body["arms"][0], "timepoint": body["schedule"][0]}[where]
    target["colour"] = "blue"
    assert_field_error(post_study(client, admin, body), path)


def test_invalid_study_creates_nothing(client: FlaskClient, admin: Caller) -> None:
    body = study_body(arms=[])
    assert_problem(post_study(client, admin, body), 422)
    listed = client.get(f"{API}/studies", headers=admin.headers)
    assert body["code"] not in codes(listed.json["items"])


def test_body_that_is_not_json_is_rejected(client: FlaskClient, admin: Caller) -> None:
    response = client.post(
        f"{API}/studies", data="not json", content_type="application/json",
        headers=admin.headers,
    )
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


# ---------------------------------------------------------------------------------------------
# Reading studies


@pytest.mark.parametrize(
    "study_id",
    [str(uuid.uuid4()), "not-a-uuid", "123", uuid.uuid4().hex[:20]],
)
def test_unknown_or_malformed_study_id_is_404(
    client: FlaskClient, admin: Caller, study_id: str
) -> None:
    assert_problem(client.get(f"{API}/studies/{study_id}", headers=admin.headers), 404)


def test_researcher_sees_only_the_studies_they_are_members_of(
    client: FlaskClient, admin: Caller
) -> None:
    mine = create_study(client, admin.headers)
    other = create_study(client, admin.headers)
    researcher = sign_in_staff(client, "researcher")
    assert grant(client, admin.headers, mine["id"], researcher.user_id).status_code == 201
    response = client.get(f"{API}/studies", headers=researcher.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [item["id"] for item in response.json["items"]] == [mine["id"]]
    assert client.get(f"{API}/studies/{mine['id']}", headers=researcher.headers).status_code == 200
    assert_problem(client.get(f"{API}/studies/{other['id']}", headers=researcher.headers), 404)


def test_researcher_without_memberships_lists_nothing(client: FlaskClient, admin: Caller) -> None:
    create_study(client, admin.headers)
    researcher = sign_in_staff(client, "researcher")
    response = client.get(f"{API}/studies", headers=researcher.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["items"] == []


@pytest.mark.parametrize("role", ["admin", "clinician"])
def test_admins_and_clinicians_list_every_study(
    client: FlaskClient, admin: Caller, role: str
) -> None:
    created = {create_study(client, admin.headers)["id"] for _ in range(3)}
    site = new_site()
    caller = sign_in_staff(client, role, [site.id])
    response = client.get(f"{API}/studies", headers=caller.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert created <= {item["id"] for item in response.json["items"]}


# ---------------------------------------------------------------------------------------------
# Members


def test_granting_a_researcher_returns_the_membership(client: FlaskClient, admin: Caller) -> None:
    study = create_study(client, admin.headers)
    researcher = sign_in_staff(client, "researcher")
    response = grant(client, admin.headers, study["id"], researcher.user_id)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json == {"study_id": study["id"], "user_id": str(researcher.user_id)}


def test_granting_twice_is_200_with_the_same_body(client: FlaskClient, admin: Caller) -> None:
    study = create_study(client, admin.headers)
    researcher = sign_in_staff(client, "researcher")
    first = grant(client, admin.headers, study["id"], researcher.user_id)
    second = grant(client, admin.headers, study["id"], researcher.user_id)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert second.status_code == 200, second.get_data(as_text=True)
    assert second.json == first.json
    listed = client.get(f"{API}/studies", headers=researcher.headers)
    assert [item["id"] for item in listed.json["items"]] == [study["id"]]


@pytest.mark.parametrize("role", ["admin", "clinician"])
def test_granting_staff_who_are_not_researchers_is_422(
    client: FlaskClient, admin: Caller, role: str
) -> None:
    study = create_study(client, admin.headers)
    other = sign_in_staff(client, role)
    assert_field_error(grant(client, admin.headers, study["id"], other.user_id), "user_id")


def test_granting_a_participant_is_422(world: World) -> None:
    participant = world.caller(THE_PARTICIPANT)
    response = grant(world.client, world.admin.headers, world.study_id, participant.user_id)
    assert_field_error(response, "user_id")


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_granting_an_unknown_user_is_422(
    client: FlaskClient, admin: Caller, user_id: str
) -> None:
    study = create_study(client, admin.headers)
    assert_field_error(grant(client, admin.headers, study["id"], user_id), "user_id")


def test_membership_without_user_id_is_422(client: FlaskClient, admin: Caller) -> None:
    study = create_study(client, admin.headers)
    response = client.post(f"{API}/studies/{study['id']}/members", json={},
                           headers=admin.headers)
    assert_field_error(response, "user_id")


def test_membership_with_an_unknown_field_is_422(client: FlaskClient, admin: Caller) -> None:
    study = create_study(client, admin.headers)
    researcher = sign_in_staff(client, "researcher")
    response = client.post(
        f"{API}/studies/{study['id']}/members",
        json={"user_id": str(researcher.user_id), "role": "owner"},
        headers=admin.headers,
    )
    assert_field_error(response, "role")


@pytest.mark.parametrize("study_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_granting_on_an_unknown_study_is_404(
    client: FlaskClient, admin: Caller, study_id: str
) -> None:
    researcher = sign_in_staff(client, "researcher")
    assert_problem(grant(client, admin.headers, study_id, researcher.user_id), 404)


def test_a_granted_researcher_sees_the_study(world: World) -> None:
    researcher = sign_in_staff(world.client, "researcher")
    before = world.client.get(f"{API}/studies", headers=researcher.headers)
    assert world.study_id not in {item["id"] for item in before.json["items"]}
    assert_problem(
        world.client.get(f"{API}/studies/{world.study_id}", headers=researcher.headers), 404
    )
    assert grant(world.client, world.admin.headers, world.study_id,
                 researcher.user_id).status_code == 201
    after = world.client.get(f"{API}/studies", headers=researcher.headers)
    assert world.study_id in {item["id"] for item in after.json["items"]}
    single = world.client.get(f"{API}/studies/{world.study_id}", headers=researcher.headers)
    assert single.status_code == 200, single.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Repeating timepoints


def weekly(**changes: Any) -> dict[str, Any]:
    timepoint = {"timepoint": "week", "day": 7, "window_before": 2, "window_after": 2,
                 "instruments": ["peg"], "every": 7, "count": 8}
    timepoint.update(changes)
    return timepoint


def test_a_repeating_timepoint_is_stored_once_with_its_interval_and_count(
    client: FlaskClient, admin: Caller
) -> None:
    body = study_body()
    body["schedule"][1] = weekly()  # in place of week4, which week4 of the repeat would clash with

    response = post_study(client, admin, body)

    assert response.status_code == 201, response.get_data(as_text=True)
    stored = response.json["schedule"]
    assert [t["timepoint"] for t in stored] == ["baseline", "week"]
    assert stored[1]["every"] == 7 and stored[1]["count"] == 8
    assert stored[0]["every"] is None and stored[0]["count"] == 1
    again = client.get(f"{API}/studies/{response.json['id']}", headers=admin.headers)
    assert again.json["schedule"] == stored


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"every": None}, "every"),  # repeats need an interval
        ({"every": 0}, "every"),
        ({"count": 0}, "count"),
        ({"count": 521}, "count"),
        ({"every": 1.5}, "every"),
    ],
)
def test_invalid_repeats_are_422(
    client: FlaskClient, admin: Caller, changes: dict[str, Any], field: str
) -> None:
    body = study_body()
    body["schedule"][1] = weekly(**changes)
    assert_field_error(post_study(client, admin, body), f"schedule.1.{field}")


def test_a_repeat_whose_occurrence_name_is_taken_is_422(client: FlaskClient, admin: Caller) -> None:
    # `week` repeated 8 times is named week1 … week8; a declared `week4` clashes with it.
    body = study_body()
    body["schedule"].append(weekly())

    response = post_study(client, admin, body)

    problem = assert_field_error(response, "schedule")
    assert "week4" in " ".join(problem["errors"]["schedule"])
