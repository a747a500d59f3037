"""Amendments, version history and a participant's response lists.

Contract:

- ``POST /responses/{id}/amendments`` {answers, reason, item_timings?}: staff who may see the
  participant (admins, clinicians of the participant's site) correct a response. The answer is 201
  with the response body at the next ``version``, rescored on the response's instrument version,
  with the alerts of that version. Earlier versions stay. Participants and researchers are refused
  (403); a clinician of another site, or an unknown id, finds nothing (404). Bad input is a 422
  naming the field and stores no version. Every amendment is audited with its reason.
- ``GET /responses/{id}/versions``: every version oldest first, only the last ``current``; visible
  to whoever may read the response.
- An amendment does not change the idempotency key: replaying the original submission still
  answers 200 (with the current body) and stores nothing; the same id with other answers is 409.
- ``GET /me/responses`` (participants) and ``GET /participants/{id}/responses`` (staff in scope or
  the participant): response bodies by time received, oldest first, in cursor pages, filtered by
  instrument, timepoint and ``since``; bad query parameters are 422 naming the parameter.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.api.studies_fixtures import (
    ADMIN,
    ANOTHER_PARTICIPANT,
    API,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    NO_TOKEN,
    READ_SCOPE,
    RESEARCHER_MEMBER,
    RESEARCHER_NON_MEMBER,
    THE_PARTICIPANT,
    World,
    assert_field_error,
    assert_problem,
    audit_rows,
    enrol,
)
from tests.api.test_responses import (
    BODY_FIELDS,
    alert_rules,
    collected,
    created,
    creations,
    get,
    phq9_answers,
    post,
    post_batch,
    stored_count,
    submission,
)

VERSION_FIELDS = {
    "version", "current", "answers", "item_timings", "created_at", "created_by", "reason",
    "scores", "alerts",
}
STAFF = (ADMIN, CLINICIAN_OF_SITE, CLINICIAN_OTHER_SITE, RESEARCHER_MEMBER, RESEARCHER_NON_MEMBER)
IST = timezone(timedelta(hours=5, minutes=30))


# ---------------------------------------------------------------------------------------------
# Helpers


def amend(client: FlaskClient, headers: dict[str, str], response_id: str, body: Any) -> Any:
    return client.post(f"{API}/responses/{response_id}/amendments", json=body, headers=headers)


def amendment(value: int = 2, reason: str = "transcription error", **changes: Any) -> dict:
    body: dict[str, Any] = {"answers": phq9_answers(value), "reason": reason}
    body.update(changes)
    return body


def amended(world: World, who: str, response_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Amend as ``who``; it must succeed. Returns the 201 body."""
    response = amend(world.client, world.headers(who), response_id, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def versions(client: FlaskClient, headers: dict[str, str], response_id: str) -> Any:
    return client.get(f"{API}/responses/{response_id}/versions", headers=headers)


def version_items(world: World, response_id: str) -> list[dict[str, Any]]:
    """The versions of a response as an admin sees them."""
    response = versions(world.client, world.admin.headers, response_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["items"]


def amendments_audited(session: Session, response_id: str) -> list[Any]:
    return [row for row in audit_rows(session, "response.amend") if row.target_id == response_id]


def participant_url(world: World, participant_id: str | None = None) -> str:
    return f"{API}/participants/{participant_id or world.participant_id}/responses"


ME_URL = f"{API}/me/responses"


def page(client: FlaskClient, headers: dict[str, str], url: str, **query: Any) -> Any:
    return client.get(url, query_string=query, headers=headers)


def list_all(
    client: FlaskClient, headers: dict[str, str], url: str, **query: Any
) -> tuple[list[dict[str, Any]], int]:
    """Follow ``next_cursor`` to the end; returns every item and the number of pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = dict(query)
        if cursor is not None:
            params["cursor"] = cursor
        response = page(client, headers, url, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.json
        assert body.keys() == {"items", "next_cursor"}, body
        pages += 1
        assert pages <= 1000, "next_cursor never became null"
        if "limit" in query:
            assert len(body["items"]) <= int(query["limit"]), body
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert isinstance(cursor, str) and cursor, body


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def submit_many(world: World, count: int, **changes: Any) -> list[dict[str, Any]]:
    """``count`` responses of the participant, in one batch (received in this order)."""
    entries = [submission(**changes) for _ in range(count)]
    response = post_batch(world.client, world.headers(THE_PARTICIPANT), entries)
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [201] * count, results
    return [r["body"] for r in results]


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no offset"
    return parsed


def raw_cursor(value: Any) -> str:
    """A cursor built by hand the way the API encodes them (URL-safe base64 of JSON)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------
# Amending: new version, rescored, with its alerts


def test_amendment_creates_version_2_rescored(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(timepoint="baseline",
                                                       answers=phq9_answers(1)))
    assert first["scores"]["phq9"] == {
        "value": 9, "status": "scored", "n_answered": 9, "band": "mild"}

    body = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(2))

    assert body.keys() >= BODY_FIELDS, body
    assert body["version"] == 2
    assert body["scores"]["phq9"] == {
        "value": 18, "status": "scored", "n_answered": 9, "band": "moderately_severe"}
    assert alert_rules(body) == {"self_harm_thoughts": "critical"}
    unchanged = ("id", "participant_id", "instrument", "instrument_version", "timepoint",
                 "collected_at", "received_at")
    assert {k: body[k] for k in unchanged} == {k: first[k] for k in unchanged}


def test_amendment_alerts_are_those_of_the_new_version(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))
    assert alert_rules(first) == {"self_harm_thoughts": "critical"}

    severe = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(3))
    assert severe["scores"]["phq9"]["value"] == 27
    assert severe["scores"]["phq9"]["band"] == "severe"
    assert alert_rules(severe) == {"self_harm_thoughts": "critical", "severe_depression": "high"}

    cleared = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(0))
    assert cleared["scores"]["phq9"]["band"] == "minimal"
    assert cleared["alerts"] == []


def test_a_third_amendment_is_version_3(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))

    second = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(2))
    third = amended(world, ADMIN, first["id"], amendment(3, reason="second correction"))

    assert (second["version"], third["version"]) == (2, 3)
    assert third["scores"]["phq9"]["value"] == 27
    assert get(world.client, world.admin.headers, first["id"]).json == third


def test_get_shows_the_amended_version(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))

    body = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(2))

    for who in (ADMIN, CLINICIAN_OF_SITE, RESEARCHER_MEMBER, THE_PARTICIPANT):
        response = get(world.client, world.headers(who), first["id"])
        assert response.status_code == 200, (who, response.get_data(as_text=True))
        assert response.json == body, who
        assert response.json["version"] == 2


def test_amendment_of_another_instrument_is_scored_on_its_definition(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(
        instrument="nrs_pain", answers={"average": 3}))
    assert first["alerts"] == []

    body = amended(world, CLINICIAN_OF_SITE, first["id"], {
        "answers": {"average": 8, "worst": 9, "least": 5, "now": 6}, "reason": "misread"})

    assert body["version"] == 2
    assert body["scores"]["pain_intensity"]["value"] == 8
    assert body["scores"]["pain_severity"] == {
        "value": 7, "status": "scored", "n_answered": 4, "band": "severe"}
    assert alert_rules(body) == {"severe_pain": "medium"}


def test_amendment_is_audited_with_its_reason(world: World, db_session: Session) -> None:
    first = created(world, THE_PARTICIPANT, submission())
    clinician = world.caller(CLINICIAN_OF_SITE)

    amended(world, CLINICIAN_OF_SITE, first["id"], amendment(2, reason="entered on wrong row"))

    rows = amendments_audited(db_session, first["id"])
    assert len(rows) == 1, rows
    assert rows[0].actor == str(clinician.user_id)
    assert rows[0].target_type == "response"
    assert rows[0].detail["reason"] == "entered on wrong row"
    assert rows[0].detail["version"] == 2


# ---------------------------------------------------------------------------------------------
# Who may amend


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 201),
        (CLINICIAN_OF_SITE, 201),
        (CLINICIAN_OTHER_SITE, 404),
        (RESEARCHER_MEMBER, 403),
        (RESEARCHER_NON_MEMBER, 403),
        (THE_PARTICIPANT, 403),
        (ANOTHER_PARTICIPANT, 403),
        (NO_TOKEN, 401),
    ],
)
def test_amend_by_caller(world: World, db_session: Session, who: str, status: int) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))

    response = amend(world.client, world.headers(who), first["id"], amendment(2))

    if status == 201:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["version"] == 2
        rows = amendments_audited(db_session, first["id"])
        assert [row.actor for row in rows] == [str(world.caller(who).user_id)]
        items = version_items(world, first["id"])
        assert items[-1]["created_by"] == str(world.caller(who).user_id)
    else:
        assert_problem(response, status)
        assert [v["version"] for v in version_items(world, first["id"])] == [1]
        assert get(world.client, world.admin.headers, first["id"]).json == first
        assert amendments_audited(db_session, first["id"]) == []


@pytest.mark.parametrize("who", [THE_PARTICIPANT, RESEARCHER_MEMBER])
def test_refused_roles_are_refused_before_the_body_is_read(world: World, who: str) -> None:
    first = created(world, THE_PARTICIPANT, submission())

    response = amend(world.client, world.headers(who), first["id"], {"colour": "blue"})

    assert_problem(response, 403)


@pytest.mark.parametrize("response_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_amending_an_unknown_response_is_404(world: World, response_id: str) -> None:
    response = amend(world.client, world.admin.headers, response_id, amendment(2))

    assert_problem(response, 404)


# ---------------------------------------------------------------------------------------------
# Bad amendments: 422 naming the field, no version stored


def amendment_without(key: str) -> dict[str, Any]:
    return {k: v for k, v in amendment().items() if k != key}


INVALID_AMENDMENTS: dict[str, tuple[dict[str, Any], str]] = {
    "reason missing": (amendment_without("reason"), "reason"),
    "reason empty": (amendment(reason=""), "reason"),
    "reason null": (amendment(reason=None), "reason"),
    "reason over 1000 characters": (amendment(reason="x" * 1001), "reason"),
    "reason only spaces": (amendment(reason="   "), "reason"),
    "reason not a string": (amendment(reason=42), "reason"),
    "answers missing": (amendment_without("answers"), "answers"),
    "answers not an object": (amendment(answers=[1, 2, 3]), "answers"),
    "answer above range": (amendment(answers=phq9_answers(2, phq9_1=4)), "answers.phq9_1"),
    "answer below range": (amendment(answers=phq9_answers(2, phq9_1=-1)), "answers.phq9_1"),
    "answer not a number": (amendment(answers=phq9_answers(2, phq9_1="often")),
                            "answers.phq9_1"),
    "unknown item": (amendment(answers=phq9_answers(2, nope=1)), "answers.nope"),
    "required item missing": (
        amendment(answers={k: v for k, v in phq9_answers(2).items() if k != "phq9_9"}),
        "answers.phq9_9"),
    "timing of an unknown item": (amendment(item_timings={"nope": 100}), "item_timings.nope"),
    "negative timing": (amendment(item_timings={"phq9_1": -1}), "item_timings.phq9_1"),
    "timing over a day": (amendment(item_timings={"phq9_1": 86_400_001}),
                          "item_timings.phq9_1"),
    "unknown field": (amendment(colour="blue"), "colour"),
    "a submission field": (amendment(instrument="gad7"), "instrument"),
}


@pytest.mark.parametrize("case", list(INVALID_AMENDMENTS))
def test_invalid_amendment_is_refused_naming_the_field(
    world: World, db_session: Session, case: str
) -> None:
    sent, path = INVALID_AMENDMENTS[case]
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))

    response = amend(world.client, world.headers(CLINICIAN_OF_SITE), first["id"], sent)

    body = assert_field_error(response, path)
    assert body["errors"][path], body
    items = version_items(world, first["id"])
    assert [v["version"] for v in items] == [1]
    assert items[0]["current"] is True
    assert get(world.client, world.admin.headers, first["id"]).json == first
    assert amendments_audited(db_session, first["id"]) == []


def test_a_refused_amendment_does_not_use_up_the_version_number(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))
    bad = amend(world.client, world.headers(CLINICIAN_OF_SITE), first["id"],
                amendment(answers=phq9_answers(2, phq9_1=9)))
    assert_field_error(bad, "answers.phq9_1")

    body = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(2))

    assert body["version"] == 2
    assert [v["version"] for v in version_items(world, first["id"])] == [1, 2]


# ---------------------------------------------------------------------------------------------
# Version history


def test_versions_list_every_version_oldest_first(world: World) -> None:
    participant = world.caller(THE_PARTICIPANT)
    clinician = world.caller(CLINICIAN_OF_SITE)
    timings = {"phq9_1": 1500, "phq9_9": 800}
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1),
                                                       item_timings=timings))
    amended(world, CLINICIAN_OF_SITE, first["id"],
            amendment(2, reason="entered on wrong row", item_timings={"phq9_2": 300}))
    last = amended(world, ADMIN, first["id"], amendment(0, reason="patient withdrew answers"))

    items = version_items(world, first["id"])

    assert [item.keys() for item in items] == [VERSION_FIELDS] * 3, items
    assert [item["version"] for item in items] == [1, 2, 3]
    assert [item["current"] for item in items] == [False, False, True]
    assert [item["answers"] for item in items] == [
        phq9_answers(1), phq9_answers(2), phq9_answers(0)]
    assert [item["item_timings"] for item in items] == [timings, {"phq9_2": 300}, None]
    assert [item["reason"] for item in items] == [
        None, "entered on wrong row", "patient withdrew answers"]
    assert [item["created_by"] for item in items] == [
        str(participant.user_id), str(clinician.user_id), str(world.admin.user_id)]
    assert [item["scores"]["phq9"]["value"] for item in items] == [9, 18, 0]
    assert [item["scores"]["phq9"]["band"] for item in items] == [
        "mild", "moderately_severe", "minimal"]
    assert [alert_rules(item) for item in items] == [
        {"self_harm_thoughts": "critical"}, {"self_harm_thoughts": "critical"}, {}]
    created_at = [instant(item["created_at"]) for item in items]
    assert created_at == sorted(created_at)
    assert items[-1]["scores"] == last["scores"]
    assert items[-1]["alerts"] == last["alerts"]


def test_an_unamended_response_has_one_current_version(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(3)))

    items = version_items(world, first["id"])

    assert len(items) == 1
    assert items[0]["version"] == 1
    assert items[0]["current"] is True
    assert items[0]["reason"] is None
    assert items[0]["item_timings"] is None
    assert items[0]["scores"] == first["scores"]
    assert items[0]["alerts"] == first["alerts"]


@pytest.mark.parametrize(
    ("who", "status"),
    READ_SCOPE,
)
def test_versions_by_caller(world: World, who: str, status: int) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))
    amended(world, ADMIN, first["id"], amendment(2))

    response = versions(world.client, world.headers(who), first["id"])
    read = get(world.client, world.headers(who), first["id"])

    assert read.status_code == status  # the same callers as GET /responses/{id}
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert [item["version"] for item in response.json["items"]] == [1, 2]
    else:
        assert_problem(response, status)


@pytest.mark.parametrize("response_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_versions_of_an_unknown_response_is_404(world: World, response_id: str) -> None:
    assert_problem(versions(world.client, world.admin.headers, response_id), 404)


# ---------------------------------------------------------------------------------------------
# Idempotency after an amendment


def test_replaying_the_original_submission_after_an_amendment(
    world: World, db_session: Session
) -> None:
    sent = submission(timepoint="baseline", answers=phq9_answers(1))
    created(world, THE_PARTICIPANT, sent)
    current = amended(world, CLINICIAN_OF_SITE, sent["id"], amendment(2))

    again = post(world.client, world.headers(THE_PARTICIPANT), sent)

    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.json == current
    assert again.json["version"] == 2
    assert stored_count(db_session, sent["id"]) == 1
    assert len(creations(db_session, sent["id"])) == 1
    assert [v["version"] for v in version_items(world, sent["id"])] == [1, 2]


@pytest.mark.parametrize("answers", [phq9_answers(3), phq9_answers(2)],
                         ids=["other answers", "the amended answers"])
def test_resubmitting_the_id_with_changed_answers_after_an_amendment_is_409(
    world: World, db_session: Session, answers: dict[str, int]
) -> None:
    sent = submission(answers=phq9_answers(1))
    created(world, THE_PARTICIPANT, sent)
    current = amended(world, CLINICIAN_OF_SITE, sent["id"], amendment(2))

    response = post(world.client, world.headers(THE_PARTICIPANT), {**sent, "answers": answers})

    assert_problem(response, 409)
    assert get(world.client, world.admin.headers, sent["id"]).json == current
    assert [v["version"] for v in version_items(world, sent["id"])] == [1, 2]
    assert stored_count(db_session, sent["id"]) == 1


# ---------------------------------------------------------------------------------------------
# Lists: who may list whose responses


@pytest.mark.parametrize(
    ("who", "status"),
    READ_SCOPE,
)
def test_participant_responses_by_caller(
    world: World, db_session: Session, who: str, status: int
) -> None:
    first = created(world, THE_PARTICIPANT, submission())
    second = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(3)))

    response = page(world.client, world.headers(who), participant_url(world))

    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json == {"items": [first, second], "next_cursor": None}
        rows = [row for row in audit_rows(db_session, "response.list", world.caller(who).user_id)
                if row.target_id == world.participant_id]
        assert len(rows) == 1, rows
        assert rows[0].target_type == "participant"
    else:
        assert_problem(response, status)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        *((who, 403) for who in STAFF),
        (THE_PARTICIPANT, 200),
        (ANOTHER_PARTICIPANT, 200),
        (NO_TOKEN, 401),
    ],
)
def test_my_responses_by_caller(world: World, who: str, status: int) -> None:
    mine = created(world, THE_PARTICIPANT, submission())

    response = page(world.client, world.headers(who), ME_URL)

    if who == THE_PARTICIPANT:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json == {"items": [mine], "next_cursor": None}
    elif who == ANOTHER_PARTICIPANT:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json == {"items": [], "next_cursor": None}
    else:
        assert_problem(response, status)


def test_my_responses_match_the_participants_list(world: World, db_session: Session) -> None:
    created(world, THE_PARTICIPANT, submission())
    created(world, CLINICIAN_OF_SITE, submission(participant_id=world.participant_id))
    created(world, ANOTHER_PARTICIPANT, submission())
    headers = world.headers(THE_PARTICIPANT)

    mine = page(world.client, headers, ME_URL)
    theirs = page(world.client, world.admin.headers, participant_url(world))

    assert mine.status_code == 200, mine.get_data(as_text=True)
    assert mine.json == theirs.json
    assert len(mine.json["items"]) == 2
    assert {item["participant_id"] for item in mine.json["items"]} == {world.participant_id}
    rows = audit_rows(db_session, "response.list", world.caller(THE_PARTICIPANT).user_id)
    assert len(rows) == 1, rows
    assert rows[0].target_id == world.participant_id
    assert rows[0].detail["count"] == 2


def test_listing_an_unknown_participant_is_404(world: World) -> None:
    url = participant_url(world, str(uuid.uuid4()))

    assert_problem(page(world.client, world.admin.headers, url), 404)


def test_a_participant_without_responses_has_an_empty_list(world: World) -> None:
    other = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)

    response = page(world.client, world.admin.headers, participant_url(world, other["id"]))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"items": [], "next_cursor": None}


# ---------------------------------------------------------------------------------------------
# Lists: content and order


def test_list_is_ordered_by_time_received_not_collected(world: World) -> None:
    # Sent newest-collected first, so collection order is the reverse of reception order.
    sent = [created(world, THE_PARTICIPANT, submission(collected_at=collected(timedelta(hours=-h))))
            for h in (1, 5, 30)]

    items, pages = list_all(world.client, world.admin.headers, participant_url(world))

    assert ids(items) == ids(sent)
    assert pages == 1
    received = [instant(item["received_at"]) for item in items]
    assert received == sorted(received)


def test_list_items_are_the_current_response_bodies(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))
    second = created(world, THE_PARTICIPANT, submission(instrument="nrs_pain",
                                                        answers={"average": 2}))
    current = amended(world, CLINICIAN_OF_SITE, first["id"], amendment(2))

    items, _ = list_all(world.client, world.headers(THE_PARTICIPANT), ME_URL)

    assert items == [current, second]
    assert items[0]["version"] == 2
    for item in items:
        assert item == get(world.client, world.admin.headers, item["id"]).json


def test_default_limit_is_50(world: World) -> None:
    sent = submit_many(world, 51)

    first = page(world.client, world.admin.headers, participant_url(world))

    assert first.status_code == 200, first.get_data(as_text=True)
    assert ids(first.json["items"]) == ids(sent[:50])
    assert first.json["next_cursor"]
    rest = page(world.client, world.admin.headers, participant_url(world),
                cursor=first.json["next_cursor"])
    assert rest.status_code == 200, rest.get_data(as_text=True)
    assert rest.json == {"items": [sent[50]], "next_cursor": None}


@pytest.mark.parametrize(("limit", "pages"), [(1, 5), (2, 3), (4, 2), (5, 1), (200, 1)])
def test_following_the_cursor_returns_every_response_once(
    world: World, limit: int, pages: int
) -> None:
    sent = submit_many(world, 5)

    items, seen = list_all(world.client, world.headers(THE_PARTICIPANT), ME_URL, limit=limit)

    assert ids(items) == ids(sent)
    assert seen == pages


def test_responses_added_while_paging_are_seen_once(world: World) -> None:
    sent = submit_many(world, 3)
    url = participant_url(world)
    first = page(world.client, world.admin.headers, url, limit=2)
    assert ids(first.json["items"]) == ids(sent[:2])
    later = created(world, THE_PARTICIPANT, submission())

    rest, _ = list_all(world.client, world.admin.headers, url, limit=2)
    tail = page(world.client, world.admin.headers, url, limit=2,
                cursor=first.json["next_cursor"])

    assert ids(rest) == [*ids(sent), later["id"]]
    assert ids(tail.json["items"]) == [sent[2]["id"], later["id"]]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5"])
def test_limit_out_of_range_is_422(world: World, limit: str) -> None:
    response = page(world.client, world.admin.headers, participant_url(world), limit=limit)

    assert_field_error(response, "limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        raw_cursor(["yesterday", str(uuid.uuid4())]),
        raw_cursor(["2025-01-01T00:00:00", str(uuid.uuid4())]),  # naive
        raw_cursor(["2025-01-01T00:00:00+00:00", "not-a-uuid"]),
        raw_cursor(["2025-01-01T00:00:00+00:00"]),
        raw_cursor([1, 2]),
        raw_cursor({"at": "2025-01-01T00:00:00+00:00"}),
        raw_cursor(None),
        base64.urlsafe_b64encode(b"\xff\xfe\xfa").decode(),
        "x" * 501,
    ],
    ids=["word", "punctuation", "bad time", "naive time", "bad id", "one element", "numbers",
         "object", "null", "not utf-8", "too long"],
)
@pytest.mark.parametrize("url", ["participant", "me"])
def test_a_cursor_the_api_did_not_hand_out_is_422(world: World, cursor: str, url: str) -> None:
    created(world, THE_PARTICIPANT, submission())
    if url == "me":
        target, headers = ME_URL, world.headers(THE_PARTICIPANT)
    else:
        target, headers = participant_url(world), world.admin.headers

    response = page(world.client, headers, target, cursor=cursor)

    assert_field_error(response, "cursor")


@pytest.mark.parametrize("url", ["participant", "me"])
def test_unknown_query_parameter_is_422(world: World, url: str) -> None:
    if url == "me":
        target, headers = ME_URL, world.headers(THE_PARTICIPANT)
    else:
        target, headers = participant_url(world), world.admin.headers

    response = page(world.client, headers, target, colour="blue")

    assert_field_error(response, "colour")


# ---------------------------------------------------------------------------------------------
# Lists: filters


def test_filter_by_instrument(world: World) -> None:
    phq = created(world, THE_PARTICIPANT, submission())
    nrs = created(world, THE_PARTICIPANT, submission(instrument="nrs_pain",
                                                     answers={"average": 4}))
    phq_again = created(world, THE_PARTICIPANT, submission())
    url = participant_url(world)

    only_phq, _ = list_all(world.client, world.admin.headers, url, instrument="phq9")
    only_nrs, _ = list_all(world.client, world.admin.headers, url, instrument="nrs_pain")
    nothing, _ = list_all(world.client, world.admin.headers, url, instrument="gad7")

    assert ids(only_phq) == [phq["id"], phq_again["id"]]
    assert ids(only_nrs) == [nrs["id"]]
    assert nothing == []


def test_filter_by_timepoint(world: World) -> None:
    baseline = created(world, THE_PARTICIPANT, submission(timepoint="baseline"))
    created(world, THE_PARTICIPANT, submission(timepoint="week4"))
    created(world, THE_PARTICIPANT, submission())
    baseline_again = created(world, THE_PARTICIPANT, submission(timepoint="baseline"))

    items, _ = list_all(world.client, world.headers(THE_PARTICIPANT), ME_URL, timepoint="baseline")

    assert ids(items) == [baseline["id"], baseline_again["id"]]


def test_filters_combine_and_page(world: World) -> None:
    wanted = [created(world, THE_PARTICIPANT, submission(timepoint="baseline"))
              for _ in range(3)]
    created(world, THE_PARTICIPANT, submission(timepoint="week4"))
    created(world, THE_PARTICIPANT, submission(timepoint="baseline", instrument="nrs_pain",
                                               answers={"average": 1}))

    items, pages = list_all(world.client, world.admin.headers, participant_url(world),
                            instrument="phq9", timepoint="baseline", limit=1)

    assert ids(items) == ids(wanted)
    assert pages == 3


def test_since_includes_responses_received_at_or_after_it(world: World) -> None:
    sent = [created(world, THE_PARTICIPANT, submission()) for _ in range(3)]
    boundary = instant(sent[1]["received_at"])
    url = participant_url(world)

    exact, _ = list_all(world.client, world.admin.headers, url, since=boundary.isoformat())
    shifted, _ = list_all(world.client, world.admin.headers, url,
                          since=boundary.astimezone(IST).isoformat())
    just_after, _ = list_all(world.client, world.admin.headers, url,
                             since=(boundary + timedelta(microseconds=1)).isoformat())
    earlier, _ = list_all(world.client, world.admin.headers, url,
                          since=(boundary - timedelta(days=1)).isoformat())
    future, _ = list_all(world.client, world.admin.headers, url,
                         since=(datetime.now(UTC) + timedelta(days=1)).isoformat())

    assert ids(exact) == ids(sent[1:])
    assert ids(shifted) == ids(sent[1:])
    assert ids(just_after) == ids(sent[2:])
    assert ids(earlier) == ids(sent)
    assert future == []


@pytest.mark.parametrize(
    "since",
    ["2025-01-01T00:00:00", "2025-01-01", "yesterday", "", "2025-13-01T00:00:00+00:00"],
    ids=["naive", "a date", "a word", "empty", "month 13"],
)
def test_since_must_be_an_instant_with_an_offset(world: World, since: str) -> None:
    response = page(world.client, world.headers(THE_PARTICIPANT), ME_URL, since=since)

    assert_field_error(response, "since")


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
                         ids=["year 1 east of UTC", "year 9999 west of UTC"])
def test_since_out_of_the_representable_range_is_422(world: World, since: str) -> None:
    response = page(world.client, world.headers(THE_PARTICIPANT), ME_URL, since=since)

    assert_field_error(response, "since")


def test_a_cursor_with_a_time_out_of_range_is_422(world: World) -> None:
    cursor = raw_cursor(["0001-01-01T00:00:00+01:00", str(uuid.uuid4())])

    response = page(world.client, world.headers(THE_PARTICIPANT), ME_URL, cursor=cursor)

    assert_field_error(response, "cursor")


@pytest.mark.parametrize("collected_at", ["0001-01-01T00:00:00+01:00",
                                          "9999-12-31T23:59:59-01:00"],
                         ids=["year 1 east of UTC", "year 9999 west of UTC"])
def test_collected_at_out_of_the_representable_range_is_422(world: World,
                                                             collected_at: str) -> None:
    sent = submission(collected_at=collected_at)

    response = post(world.client, world.headers(THE_PARTICIPANT), sent)

    assert_field_error(response, "collected_at")
    assert get(world.client, world.admin.headers, sent["id"]).status_code == 404
