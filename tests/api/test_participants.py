"""Participants: enrolment (POST /api/v1/studies/{id}/participants), the paged list of a study's
participants, and one participant (GET /api/v1/participants/{id}).

Contract: admins enrol anywhere, clinicians at their own sites; enrolment returns a one-time
activation code for POST /auth/activate and is shown nowhere else. Admins read every participant,
clinicians those of their sites, researchers who are members of the study all of its participants,
a participant only themself; anything outside the caller's scope is 404. Every read of
participant data and every enrolment leaves an audit row.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.api.studies_fixtures import (
    ADMIN,
    ANOTHER_PARTICIPANT,
    API,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    NO_TOKEN,
    PASSWORD,
    READ_SCOPE,
    RESEARCHER_MEMBER,
    RESEARCHER_NON_MEMBER,
    STAFF_ACTION_SCOPE,
    THE_PARTICIPANT,
    World,
    activate,
    assert_field_error,
    assert_problem,
    audit_rows,
    bearer,
    create_study,
    enrol,
    enrolment_body,
    grant,
    is_uuid,
    list_all_participants,
    new_site,
    shift,
    sign_in_staff,
    today_utc,
)

ENROLMENT_FIELDS = {
    "id", "study_id", "site_id", "arm", "enrolled_on", "language", "timezone",
    "activation_code", "created_at",
}
READ_FIELDS = ENROLMENT_FIELDS - {"activation_code"}


def enrol_at(world: World, headers: dict[str, str], site_id: Any, **changes: Any) -> Any:
    return world.client.post(
        f"{API}/studies/{world.study_id}/participants",
        json=enrolment_body(site_id, **changes),
        headers=headers,
    )


def listed_ids(world: World, headers: dict[str, str], study_id: str | None = None) -> list[str]:
    items, _ = list_all_participants(world.client, headers, study_id or world.study_id)
    return [item["id"] for item in items]


# ---------------------------------------------------------------------------------------------
# Who may do what


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 201),
        (CLINICIAN_OF_SITE, 201),
        (CLINICIAN_OTHER_SITE, 403),
        (RESEARCHER_MEMBER, 403),
        (RESEARCHER_NON_MEMBER, 403),
        (THE_PARTICIPANT, 403),
        (ANOTHER_PARTICIPANT, 403),
        (NO_TOKEN, 401),
    ],
)
def test_enrol_at_site_a_by_caller(world: World, who: str, status: int) -> None:
    headers = world.headers(who)
    before = listed_ids(world, world.admin.headers)
    response = enrol_at(world, headers, world.site_a.id)
    after = listed_ids(world, world.admin.headers)
    if status == 201:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert after == [*before, response.json["id"]]
    else:
        assert_problem(response, status)
        assert after == before


@pytest.mark.parametrize(
    ("who", "status", "sees_participant"),
    [
        (ADMIN, 200, True),
        (CLINICIAN_OF_SITE, 200, True),
        (CLINICIAN_OTHER_SITE, 200, False),
        (RESEARCHER_MEMBER, 200, True),
        (RESEARCHER_NON_MEMBER, 404, False),
        (THE_PARTICIPANT, 403, False),
        (ANOTHER_PARTICIPANT, 403, False),
        (NO_TOKEN, 401, False),
    ],
)
def test_list_participants_by_caller(
    world: World, who: str, status: int, sees_participant: bool
) -> None:
    response = world.client.get(
        f"{API}/studies/{world.study_id}/participants", headers=world.headers(who)
    )
    if status != 200:
        assert_problem(response, status)
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) >= {"items", "next_cursor"}
    ids = {item["id"] for item in response.json["items"]}
    assert (world.participant_id in ids) is sees_participant


@pytest.mark.parametrize(
    ("who", "status"),
    READ_SCOPE,
)
def test_get_participant_by_caller(world: World, who: str, status: int) -> None:
    response = world.client.get(
        f"{API}/participants/{world.participant_id}", headers=world.headers(who)
    )
    if status != 200:
        assert_problem(response, status)
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["id"] == world.participant_id
    assert "activation_code" not in response.json


# ---------------------------------------------------------------------------------------------
# Enrolment


def test_enrolment_returns_the_participant_and_its_code(world: World) -> None:
    enrolled_on = shift(-3)
    response = enrol_at(world, world.admin.headers, world.site_a.id, arm="B",
                        enrolled_on=enrolled_on)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert set(body) >= ENROLMENT_FIELDS, body
    assert is_uuid(body["id"])
    assert body["study_id"] == world.study_id
    assert body["site_id"] == str(world.site_a.id)
    assert body["arm"] == "B"
    assert body["enrolled_on"] == enrolled_on
    assert body["language"] == "en"
    assert body["timezone"] == "UTC"
    assert isinstance(body["activation_code"], str) and len(body["activation_code"]) >= 8
    assert body["created_at"]


def test_enrolment_keeps_language_and_timezone(world: World) -> None:
    response = enrol_at(world, world.admin.headers, world.site_a.id, language="fr",
                        timezone="Europe/Paris")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["language"] == "fr"
    assert response.json["timezone"] == "Europe/Paris"
    single = world.client.get(f"{API}/participants/{response.json['id']}",
                              headers=world.admin.headers)
    assert single.json["language"] == "fr"
    assert single.json["timezone"] == "Europe/Paris"


def test_each_enrolment_gets_its_own_code(world: World) -> None:
    other = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)
    assert other["id"] != world.participant_id
    assert other["activation_code"] != world.participant["activation_code"]


def test_the_activation_code_signs_the_participant_in(world: World) -> None:
    tokens = activate(world.client, world.participant["activation_code"])
    assert tokens["username"]
    headers = bearer(tokens["access_token"])
    me = world.client.get(f"{API}/me", headers=headers)
    assert me.status_code == 200, me.get_data(as_text=True)
    assert me.json["role"] == "participant"
    own = world.client.get(f"{API}/participants/{world.participant_id}", headers=headers)
    assert own.status_code == 200, own.get_data(as_text=True)
    # and later with the username it was given
    login = world.client.post(
        f"{API}/auth/login",
        json={"username": tokens["username"], "password": PASSWORD},
    )
    assert login.status_code == 200, login.get_data(as_text=True)


def test_the_activation_code_works_once(world: World) -> None:
    activate(world.client, world.participant["activation_code"])
    again = world.client.post(
        f"{API}/auth/activate",
        json={"activation_code": world.participant["activation_code"],
              "password": "another long password"},
    )
    assert_problem(again, 401)


def test_the_activation_code_is_shown_only_at_enrolment(world: World) -> None:
    code = world.participant["activation_code"]
    single = world.client.get(f"{API}/participants/{world.participant_id}",
                              headers=world.admin.headers)
    assert single.status_code == 200, single.get_data(as_text=True)
    listed = world.client.get(f"{API}/studies/{world.study_id}/participants",
                              headers=world.admin.headers)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert "activation_code" not in single.json
    assert all("activation_code" not in item for item in listed.json["items"])
    assert code not in single.get_data(as_text=True)
    assert code not in listed.get_data(as_text=True)


def test_a_clinician_enrols_at_their_site(world: World) -> None:
    clinician = world.caller(CLINICIAN_OF_SITE)
    response = enrol_at(world, clinician.headers, world.site_a.id)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["site_id"] == str(world.site_a.id)
    assert response.json["id"] in listed_ids(world, clinician.headers)


def test_a_clinician_enrolling_at_another_site_is_403_naming_it(world: World) -> None:
    clinician = world.caller(CLINICIAN_OF_SITE)
    response = enrol_at(world, clinician.headers, world.site_b.id)
    body = assert_problem(response, 403)
    assert str(world.site_b.id) in body["detail"] or world.site_b.code in body["detail"], body
    assert listed_ids(world, world.admin.headers) == [world.participant_id]


def test_a_clinician_of_two_sites_enrols_at_both(world: World) -> None:
    clinician = sign_in_staff(world.client, "clinician", [world.site_a.id, world.site_b.id])
    for site in (world.site_a, world.site_b):
        response = enrol_at(world, clinician.headers, site.id)
        assert response.status_code == 201, response.get_data(as_text=True)


def test_enrolment_leaves_an_audit_row(world: World, db_session: Session) -> None:
    before = len(audit_rows(db_session, "participant.create", world.admin.user_id))
    created = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)
    rows = audit_rows(db_session, "participant.create", world.admin.user_id)
    assert len(rows) == before + 1
    assert created["activation_code"] not in repr(rows[-1].detail)


def test_enrolment_by_a_clinician_is_audited_as_theirs(world: World, db_session: Session) -> None:
    clinician = world.caller(CLINICIAN_OF_SITE)
    enrol(world.client, clinician.headers, world.study_id, world.site_a.id)
    assert len(audit_rows(db_session, "participant.create", clinician.user_id)) == 1


@pytest.mark.parametrize("study_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_enrolment_into_an_unknown_study_is_404(world: World, study_id: str) -> None:
    response = world.client.post(
        f"{API}/studies/{study_id}/participants",
        json=enrolment_body(world.site_a.id),
        headers=world.admin.headers,
    )
    assert_problem(response, 404)


# ---------------------------------------------------------------------------------------------
# Invalid enrolments: 422 naming the field


@pytest.mark.parametrize("arm", ["C", "a", "", "PLACEBO"])
def test_unknown_arm_is_422(world: World, arm: str) -> None:
    assert_field_error(enrol_at(world, world.admin.headers, world.site_a.id, arm=arm), "arm")


def test_an_arm_of_another_study_is_422(world: World) -> None:
    other = create_study(world.client, world.admin.headers,
                         arms=[{"code": "OTHER", "name": "Other"}])
    assert other["arms"][0]["code"] == "OTHER"
    response = enrol_at(world, world.admin.headers, world.site_a.id, arm="OTHER")
    assert_field_error(response, "arm")


@pytest.mark.parametrize("site_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_site_is_422(world: World, site_id: str) -> None:
    assert_field_error(enrol_at(world, world.admin.headers, site_id), "site_id")


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Not a zone", "", "../../etc/passwd"])
def test_bad_timezone_is_422(world: World, timezone: str) -> None:
    response = enrol_at(world, world.admin.headers, world.site_a.id, timezone=timezone)
    assert_field_error(response, "timezone")


@pytest.mark.parametrize("days", [0, 1, -1, -400])
def test_enrolled_on_up_to_one_day_ahead_is_accepted(world: World, days: int) -> None:
    response = enrol_at(world, world.admin.headers, world.site_a.id, enrolled_on=shift(days))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["enrolled_on"] == shift(days)


@pytest.mark.parametrize("days", [2, 30, 3650])
def test_enrolled_on_more_than_a_day_ahead_is_422(world: World, days: int) -> None:
    response = enrol_at(world, world.admin.headers, world.site_a.id, enrolled_on=shift(days))
    assert_field_error(response, "enrolled_on")


@pytest.mark.parametrize("value", ["2026-02-30", "yesterday", "01/02/2026", "", 20260101])
def test_malformed_enrolled_on_is_422(world: World, value: Any) -> None:
    response = enrol_at(world, world.admin.headers, world.site_a.id, enrolled_on=value)
    assert_field_error(response, "enrolled_on")


@pytest.mark.parametrize("missing", ["site_id", "arm", "enrolled_on"])
def test_enrolment_without_a_required_field_names_it(world: World, missing: str) -> None:
    body = enrolment_body(world.site_a.id)
    del body[missing]
    response = world.client.post(f"{API}/studies/{world.study_id}/participants", json=body,
                                 headers=world.admin.headers)
    assert_field_error(response, missing)


@pytest.mark.parametrize("field", ["name", "activation_code", "id"])
def test_enrolment_with_an_unknown_field_is_422(world: World, field: str) -> None:
    response = enrol_at(world, world.admin.headers, world.site_a.id, **{field: "x"})
    assert_field_error(response, field)


def test_invalid_enrolment_creates_nothing(world: World) -> None:
    assert_problem(enrol_at(world, world.admin.headers, world.site_a.id, arm="C"), 422)
    assert listed_ids(world, world.admin.headers) == [world.participant_id]


# ---------------------------------------------------------------------------------------------
# Reading one participant


def test_a_participant_reads_back_as_enrolled(world: World) -> None:
    response = world.client.get(f"{API}/participants/{world.participant_id}",
                                headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.json) >= READ_FIELDS
    assert "activation_code" not in response.json
    for key in READ_FIELDS - {"created_at"}:
        assert response.json[key] == world.participant[key], key


@pytest.mark.parametrize("participant_id", [str(uuid.uuid4()), "not-a-uuid", "42"])
def test_unknown_or_malformed_participant_id_is_404(world: World, participant_id: str) -> None:
    response = world.client.get(f"{API}/participants/{participant_id}",
                                headers=world.admin.headers)
    assert_problem(response, 404)


def test_a_researcher_member_reads_participants_of_every_site(world: World) -> None:
    at_b = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    researcher = world.caller(RESEARCHER_MEMBER)
    for participant_id in (world.participant_id, at_b["id"]):
        response = world.client.get(f"{API}/participants/{participant_id}",
                                    headers=researcher.headers)
        assert response.status_code == 200, response.get_data(as_text=True)


def test_a_researcher_member_of_another_study_sees_nothing_here(world: World) -> None:
    other = create_study(world.client, world.admin.headers)
    researcher = sign_in_staff(world.client, "researcher", [world.site_a.id])
    assert grant(world.client, world.admin.headers, other["id"],
                 researcher.user_id).status_code == 201
    assert_problem(world.client.get(f"{API}/participants/{world.participant_id}",
                                    headers=researcher.headers), 404)
    assert_problem(world.client.get(f"{API}/studies/{world.study_id}/participants",
                                    headers=researcher.headers), 404)


# ---------------------------------------------------------------------------------------------
# Listing: visibility


def test_clinicians_list_only_participants_of_their_sites(world: World) -> None:
    at_b = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    clinician_a = world.caller(CLINICIAN_OF_SITE)
    clinician_b = world.caller(CLINICIAN_OTHER_SITE)
    both = sign_in_staff(world.client, "clinician", [world.site_a.id, world.site_b.id])
    lonely = sign_in_staff(world.client, "clinician", [new_site().id])
    assert listed_ids(world, clinician_a.headers) == [world.participant_id]
    assert listed_ids(world, clinician_b.headers) == [at_b["id"]]
    assert listed_ids(world, both.headers) == [world.participant_id, at_b["id"]]
    assert listed_ids(world, lonely.headers) == []


def test_admins_and_researcher_members_list_every_site(world: World) -> None:
    at_b = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    everyone = [world.participant_id, at_b["id"]]
    assert listed_ids(world, world.admin.headers) == everyone
    assert listed_ids(world, world.caller(RESEARCHER_MEMBER).headers) == everyone


def test_a_study_lists_only_its_own_participants(world: World) -> None:
    other = create_study(world.client, world.admin.headers)
    elsewhere = enrol(world.client, world.admin.headers, other["id"], world.site_a.id)
    assert listed_ids(world, world.admin.headers) == [world.participant_id]
    assert listed_ids(world, world.admin.headers, other["id"]) == [elsewhere["id"]]


def test_a_study_without_participants_lists_none(world: World) -> None:
    other = create_study(world.client, world.admin.headers)
    response = world.client.get(f"{API}/studies/{other['id']}/participants",
                                headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["items"] == []
    assert response.json["next_cursor"] is None


def test_listed_items_have_the_participant_fields(world: World) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    [item] = response.json["items"]
    assert set(item) >= READ_FIELDS
    assert "activation_code" not in item
    for key in READ_FIELDS - {"created_at"}:
        assert item[key] == world.participant[key], key


@pytest.mark.parametrize("study_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_listing_an_unknown_study_is_404(world: World, study_id: str) -> None:
    response = world.client.get(f"{API}/studies/{study_id}/participants",
                                headers=world.admin.headers)
    assert_problem(response, 404)


# ---------------------------------------------------------------------------------------------
# Listing: pages


def enrol_many(world: World, count: int) -> list[str]:
    """A new study with ``count`` participants at site A; returns their ids in enrolment order."""
    study = create_study(world.client, world.admin.headers)
    world.study = study
    return [
        enrol(world.client, world.admin.headers, study["id"], world.site_a.id)["id"]
        for _ in range(count)
    ]


@pytest.mark.parametrize(("count", "limit"), [(5, 2), (4, 2), (3, 1), (3, 3), (3, 200)])
def test_following_next_cursor_returns_everyone_once_in_order(
    world: World, count: int, limit: int
) -> None:
    enrolled = enrol_many(world, count)
    items, pages = list_all_participants(world.client, world.admin.headers, world.study_id,
                                         limit)
    assert [item["id"] for item in items] == enrolled
    full_pages = -(-count // limit)
    assert full_pages <= pages <= full_pages + 1


def test_pages_are_full_until_the_last(world: World) -> None:
    enrolled = enrol_many(world, 5)
    first = world.client.get(f"{API}/studies/{world.study_id}/participants",
                             query_string={"limit": 2}, headers=world.admin.headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert [item["id"] for item in first.json["items"]] == enrolled[:2]
    assert first.json["next_cursor"]
    second = world.client.get(
        f"{API}/studies/{world.study_id}/participants",
        query_string={"limit": 2, "cursor": first.json["next_cursor"]},
        headers=world.admin.headers,
    )
    assert second.status_code == 200, second.get_data(as_text=True)
    assert [item["id"] for item in second.json["items"]] == enrolled[2:4]


def test_the_default_page_is_50(world: World) -> None:
    enrolled = enrol_many(world, 51)
    first = world.client.get(f"{API}/studies/{world.study_id}/participants",
                             headers=world.admin.headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert [item["id"] for item in first.json["items"]] == enrolled[:50]
    assert first.json["next_cursor"]
    rest = world.client.get(f"{API}/studies/{world.study_id}/participants",
                            query_string={"cursor": first.json["next_cursor"]},
                            headers=world.admin.headers)
    assert rest.status_code == 200, rest.get_data(as_text=True)
    assert [item["id"] for item in rest.json["items"]] == enrolled[50:]
    assert rest.json["next_cursor"] is None


def test_a_page_enrolled_into_meanwhile_loses_and_repeats_nobody(world: World) -> None:
    enrolled = enrol_many(world, 3)
    first = world.client.get(f"{API}/studies/{world.study_id}/participants",
                             query_string={"limit": 2}, headers=world.admin.headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    late = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)["id"]
    seen = [item["id"] for item in first.json["items"]]
    cursor = first.json["next_cursor"]
    while cursor is not None:
        page = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                query_string={"limit": 2, "cursor": cursor},
                                headers=world.admin.headers)
        assert page.status_code == 200, page.get_data(as_text=True)
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
    assert seen == [*enrolled, late]


def test_pages_of_a_clinician_hold_only_their_sites(world: World) -> None:
    study = create_study(world.client, world.admin.headers)
    world.study = study
    mine = []
    for index in range(6):
        site = world.site_a if index % 2 == 0 else world.site_b
        created = enrol(world.client, world.admin.headers, study["id"], site.id)
        if site is world.site_a:
            mine.append(created["id"])
    clinician = world.caller(CLINICIAN_OF_SITE)
    items, _ = list_all_participants(world.client, clinician.headers, study["id"], 2)
    assert [item["id"] for item in items] == mine


@pytest.mark.parametrize("limit", [1, 200])
def test_limits_up_to_200_are_accepted(world: World, limit: int) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                query_string={"limit": limit}, headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("limit", ["201", "1000", "0", "-1", "ten", "1.5"])
def test_bad_limit_is_422(world: World, limit: str) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                query_string={"limit": limit}, headers=world.admin.headers)
    assert_field_error(response, "limit")


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "!!!", "eyJub3QiOiAiYSBjdXJzb3IifQ", "x" * 500, "AAAA", "%00"],
)
def test_garbage_cursor_is_422(world: World, cursor: str) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                query_string={"cursor": cursor}, headers=world.admin.headers)
    assert_field_error(response, "cursor")


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "null",
        "[]",
        "[1, 2]",
        '{"a": 1, "b": 2}',
        '["2026-01-01T00:00:00+00:00"]',
        '["2026-01-01T00:00:00+00:00", "not-a-uuid"]',
        '["yesterday", "00000000-0000-0000-0000-000000000000"]',
        '["2026-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000", 3]',
    ],
)
def test_cursor_that_decodes_to_the_wrong_shape_is_422(world: World, raw: str) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                query_string={"cursor": b64(raw)}, headers=world.admin.headers)
    assert_field_error(response, "cursor")


def test_unknown_query_parameter_is_422_naming_it(world: World) -> None:
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                query_string={"site": "A"}, headers=world.admin.headers)
    assert_field_error(response, "site")


def test_a_cursor_does_not_widen_a_clinicians_scope(world: World) -> None:
    at_b = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)
    first = world.client.get(f"{API}/studies/{world.study_id}/participants",
                             query_string={"limit": 1}, headers=world.admin.headers)
    assert first.json["items"][0]["id"] == world.participant_id
    response = world.client.get(
        f"{API}/studies/{world.study_id}/participants",
        query_string={"cursor": first.json["next_cursor"]},
        headers=world.caller(CLINICIAN_OF_SITE).headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert at_b["id"] not in {item["id"] for item in response.json["items"]}
    assert len(response.json["items"]) == 1


# ---------------------------------------------------------------------------------------------
# Audit of reads


@pytest.mark.parametrize("who", [ADMIN, CLINICIAN_OF_SITE, RESEARCHER_MEMBER, THE_PARTICIPANT])
def test_reading_a_participant_is_audited(world: World, db_session: Session, who: str) -> None:
    caller = world.caller(who)
    before = audit_rows(db_session, "participant.read", caller.user_id)
    response = world.client.get(f"{API}/participants/{world.participant_id}",
                                headers=caller.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    after = audit_rows(db_session, "participant.read", caller.user_id)
    assert len(after) == len(before) + 1
    assert after[-1].target_id == world.participant_id


@pytest.mark.parametrize("who", [ADMIN, CLINICIAN_OF_SITE, CLINICIAN_OTHER_SITE,
                                 RESEARCHER_MEMBER])
def test_listing_participants_is_audited(world: World, db_session: Session, who: str) -> None:
    caller = world.caller(who)
    before = audit_rows(db_session, "participant.list", caller.user_id)
    response = world.client.get(f"{API}/studies/{world.study_id}/participants",
                                headers=caller.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    after = audit_rows(db_session, "participant.list", caller.user_id)
    assert len(after) == len(before) + 1


def test_every_read_is_audited_again(world: World, db_session: Session) -> None:
    for _ in range(3):
        world.client.get(f"{API}/participants/{world.participant_id}",
                         headers=world.admin.headers)
    assert len(audit_rows(db_session, "participant.read", world.admin.user_id)) == 3


# ---------------------------------------------------------------------------------------------
# Randomisation date (the schedule's anchor when recorded)


def test_randomisation_date_is_kept_and_defaults_to_none(world: World) -> None:
    enrolled = today_utc() - timedelta(days=10)
    randomised = today_utc() - timedelta(days=3)
    response = enrol_at(world, world.admin.headers, world.site_a.id,
                        enrolled_on=enrolled.isoformat(), randomised_on=randomised.isoformat())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["randomised_on"] == randomised.isoformat()
    single = world.client.get(f"{API}/participants/{response.json['id']}",
                              headers=world.admin.headers)
    assert single.json["randomised_on"] == randomised.isoformat()
    plain = enrol_at(world, world.admin.headers, world.site_a.id)
    assert plain.json["randomised_on"] is None


@pytest.mark.parametrize("days_after_enrolment", [-1, 30])
def test_randomisation_before_enrolment_or_in_the_future_is_422(
    world: World, days_after_enrolment: int
) -> None:
    enrolled = today_utc() - timedelta(days=5)
    randomised = enrolled + timedelta(days=days_after_enrolment)
    response = enrol_at(world, world.admin.headers, world.site_a.id,
                        enrolled_on=enrolled.isoformat(), randomised_on=randomised.isoformat())
    assert_field_error(response, "randomised_on")


def randomise(world: World, participant_id: str, day: Any, who: str = ADMIN) -> Any:
    return world.client.post(f"{API}/participants/{participant_id}/randomisation",
                             json={"randomised_on": str(day)}, headers=world.headers(who))


def test_randomisation_is_recorded_once_and_audited(world: World, db_session: Session) -> None:
    day = today_utc()

    response = randomise(world, world.participant_id, day)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["randomised_on"] == day.isoformat()
    assert response.json["id"] == world.participant_id
    again = randomise(world, world.participant_id, day)
    assert_problem(again, 409)
    (row,) = audit_rows(db_session, "participant.randomise")
    assert row.target_id == world.participant_id
    assert row.detail == {"randomised_on": day.isoformat(), "responses_moved": 0}


@pytest.mark.parametrize(
    ("who", "status"),
    STAFF_ACTION_SCOPE,
)
def test_record_randomisation_by_caller(world: World, who: str, status: int) -> None:
    response = randomise(world, world.participant_id, today_utc(), who)
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_problem(response, status)
        stored = world.client.get(f"{API}/participants/{world.participant_id}",
                                  headers=world.admin.headers)
        assert stored.json["randomised_on"] is None


@pytest.mark.parametrize("days", [-1, 30])
def test_randomisation_before_enrolment_or_in_the_future_is_refused(world: World,
                                                                    days: int) -> None:
    response = randomise(world, world.participant_id, today_utc() + timedelta(days=days))
    assert_field_error(response, "randomised_on")
