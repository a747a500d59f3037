"""Submissions: POST /api/v1/responses, GET /api/v1/responses/{id}, POST /api/v1/responses/batch.

Contract: a participant submits for themself (no ``participant_id``); staff (admins, clinicians of
the participant's site) submit on a participant's behalf and must name ``participant_id``;
researchers may not submit. The client generates the response id, so a submission can be retried:
the same id with the same payload is answered 200 with the first answer, with another payload 409,
and neither stores anything. The 201 body carries the scores and alerts of the instrument. Bad
input is refused with a problem naming the field and stores nothing. A response is visible to the
participant themself, admins, clinicians of the participant's site and researchers of the
participant's study; to anyone else it does not exist. A batch is answered entry by entry, in
order, one entry's failure leaving the others alone. Creations and reads are audited.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prom.extensions import db
from prom.models.audit import AuditEvent
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
    activate,
    assert_field_error,
    assert_problem,
    audit_rows,
    bearer,
    build_world,
    enrol,
)

PHQ9_ITEMS = [f"phq9_{n}" for n in range(1, 10)]
BODY_FIELDS = {
    "id", "participant_id", "instrument", "instrument_version", "timepoint", "collected_at",
    "received_at", "version", "scores", "alerts",
}
SCORE_FIELDS = {"value", "status", "n_answered", "band"}
ALERT_FIELDS = {"rule", "severity", "message"}
MiB = 1024 * 1024
CET = timezone(timedelta(hours=1))


# ---------------------------------------------------------------------------------------------
# Helpers


def collected(delta: timedelta = timedelta(hours=-1)) -> str:
    """A collection time ``delta`` from now, written with a +01:00 offset."""
    return (datetime.now(UTC) + delta).astimezone(CET).isoformat(timespec="seconds")


def phq9_answers(value: int = 1, **changes: int) -> dict[str, int]:
    answers = dict.fromkeys(PHQ9_ITEMS, value)
    answers.update(changes)
    return answers


def submission(**changes: Any) -> dict[str, Any]:
    """A valid PHQ-9 submission with a fresh id; ``changes`` replace (or add) top-level fields."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "instrument": "phq9",
        "instrument_version": "1",
        "collected_at": collected(),
        "answers": phq9_answers(1, phq9_9=0),
    }
    body.update(changes)
    return body


def on_behalf(world: World, **changes: Any) -> dict[str, Any]:
    """A submission naming the world's participant, as staff send it."""
    return submission(participant_id=world.participant_id, **changes)


def post(client: FlaskClient, headers: dict[str, str], body: Any) -> Any:
    return client.post(f"{API}/responses", json=body, headers=headers)


def get(client: FlaskClient, headers: dict[str, str], response_id: str) -> Any:
    return client.get(f"{API}/responses/{response_id}", headers=headers)


def post_batch(client: FlaskClient, headers: dict[str, str], entries: list[Any]) -> Any:
    return client.post(f"{API}/responses/batch", json={"responses": entries}, headers=headers)


def created(world: World, who: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as ``who``; it must be created. Returns the 201 body."""
    response = post(world.client, world.headers(who), body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def assert_not_stored(world: World, response_id: str) -> None:
    """No caller, not even an admin, can read a response with this id."""
    response = get(world.client, world.admin.headers, response_id)
    assert_problem(response, 404)


def stored_count(session: Session, response_id: str) -> int:
    from prom.models.responses import Response

    return session.scalar(
        select(func.count()).select_from(Response).where(Response.id == uuid.UUID(response_id))
    )


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no offset"
    return parsed


def creations(session: Session, response_id: str) -> list[AuditEvent]:
    return [row for row in audit_rows(session, "response.create") if row.target_id == response_id]


def alert_rules(body: dict[str, Any]) -> dict[str, str]:
    return {alert["rule"]: alert["severity"] for alert in body["alerts"]}


# ---------------------------------------------------------------------------------------------
# Creating: the body, scores and alerts


def test_participant_submission_is_created_with_the_documented_body(world: World) -> None:
    sent = submission(timepoint="baseline", language="en")
    before = datetime.now(UTC)

    body = created(world, THE_PARTICIPANT, sent)

    assert body.keys() >= BODY_FIELDS, body
    assert body["id"] == sent["id"]
    assert body["participant_id"] == world.participant_id
    assert body["instrument"] == "phq9"
    assert body["instrument_version"] == "1"
    assert body["timepoint"] == "baseline"
    assert body["version"] == 1
    assert body["scores"].keys() == {"phq9"}
    assert body["scores"]["phq9"].keys() == SCORE_FIELDS
    assert instant(body["collected_at"]) == instant(sent["collected_at"])
    received = instant(body["received_at"])
    assert before - timedelta(seconds=5) <= received <= datetime.now(UTC) + timedelta(seconds=5)


def test_timepoint_and_language_are_optional(world: World) -> None:
    body = created(world, THE_PARTICIPANT, submission())

    assert body["timepoint"] is None
    assert body["participant_id"] == world.participant_id


def test_phq9_all_ones_scores_nine_mild_with_a_critical_self_harm_alert(world: World) -> None:
    body = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))

    assert body["scores"]["phq9"] == {
        "value": 9, "status": "scored", "n_answered": 9, "band": "mild",
    }
    alerts = {alert["rule"]: alert for alert in body["alerts"]}
    assert "self_harm_thoughts" in alerts, body["alerts"]
    assert alerts["self_harm_thoughts"]["severity"] == "critical"
    assert alerts["self_harm_thoughts"]["message"]
    assert all(alert.keys() >= ALERT_FIELDS for alert in body["alerts"]), body["alerts"]


def test_phq9_without_item_9_raises_no_alert(world: World) -> None:
    body = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1, phq9_9=0)))

    assert body["scores"]["phq9"] == {
        "value": 8, "status": "scored", "n_answered": 9, "band": "mild",
    }
    assert body["alerts"] == []


def test_phq9_all_threes_is_severe_with_both_alerts(world: World) -> None:
    body = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(3)))

    assert body["scores"]["phq9"]["value"] == 27
    assert body["scores"]["phq9"]["band"] == "severe"
    assert alert_rules(body) == {"self_harm_thoughts": "critical", "severe_depression": "high"}


def test_phq9_all_zeros_is_minimal(world: World) -> None:
    body = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(0)))

    assert body["scores"]["phq9"] == {
        "value": 0, "status": "scored", "n_answered": 9, "band": "minimal",
    }
    assert body["alerts"] == []


def test_nrs_pain_is_scored_per_scale_with_its_alert(world: World) -> None:
    sent = submission(
        instrument="nrs_pain", answers={"average": 8, "worst": 9, "least": 5, "now": 6}
    )

    body = created(world, THE_PARTICIPANT, sent)

    assert body["instrument"] == "nrs_pain"
    assert body["scores"]["pain_intensity"] == {
        "value": 8, "status": "scored", "n_answered": 1, "band": "severe",
    }
    assert body["scores"]["pain_severity"] == {
        "value": 7, "status": "scored", "n_answered": 4, "band": "severe",
    }
    assert alert_rules(body) == {"severe_pain": "medium"}


def test_nrs_pain_with_only_the_required_item_has_an_insufficient_mean(world: World) -> None:
    sent = submission(instrument="nrs_pain", answers={"average": 3})

    body = created(world, THE_PARTICIPANT, sent)

    assert body["scores"]["pain_intensity"]["value"] == 3
    assert body["scores"]["pain_intensity"]["band"] == "mild"
    severity = body["scores"]["pain_severity"]
    assert severity["status"] == "insufficient"
    assert severity["value"] is None
    assert severity["n_answered"] == 1
    assert body["alerts"] == []


def test_valid_item_timings_are_accepted(world: World) -> None:
    timings = {"phq9_1": 0, "phq9_2": 1200, "phq9_9": 86_400_000}

    body = created(world, THE_PARTICIPANT, submission(item_timings=timings))

    assert body["scores"]["phq9"]["value"] == 8


def test_collected_at_two_minutes_ahead_is_tolerated_as_clock_skew(world: World) -> None:
    created(world, THE_PARTICIPANT, submission(collected_at=collected(timedelta(minutes=2))))


def test_creation_is_audited_with_the_submitting_user(world: World, db_session: Session) -> None:
    participant = world.caller(THE_PARTICIPANT)

    body = created(world, THE_PARTICIPANT, submission())

    rows = creations(db_session, body["id"])
    assert len(rows) == 1, rows
    assert rows[0].actor == str(participant.user_id)
    assert rows[0].target_type == "response"
    assert rows[0].target_id == body["id"]


# ---------------------------------------------------------------------------------------------
# Who may submit for whom


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 201),
        (CLINICIAN_OF_SITE, 201),
        (CLINICIAN_OTHER_SITE, 404),
        (RESEARCHER_MEMBER, 403),
        (RESEARCHER_NON_MEMBER, 403),
        (NO_TOKEN, 401),
    ],
)
def test_staff_submission_on_behalf_of_the_participant_by_caller(
    world: World, db_session: Session, who: str, status: int
) -> None:
    sent = on_behalf(world)

    response = post(world.client, world.headers(who), sent)

    if status == 201:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["participant_id"] == world.participant_id
        rows = creations(db_session, sent["id"])
        assert [row.actor for row in rows] == [str(world.caller(who).user_id)]
        assert get(world.client, world.admin.headers, sent["id"]).json == response.json
    else:
        assert_problem(response, status)
        assert_not_stored(world, sent["id"])


@pytest.mark.parametrize("who", [ADMIN, CLINICIAN_OF_SITE])
def test_staff_must_name_the_participant(world: World, who: str) -> None:
    sent = submission()

    response = post(world.client, world.headers(who), sent)

    assert_field_error(response, "participant_id")
    assert_not_stored(world, sent["id"])


@pytest.mark.parametrize("whose", ["own", "another"])
def test_participant_must_not_send_a_participant_id(world: World, whose: str) -> None:
    if whose == "another":
        other = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)
        participant_id = other["id"]
    else:
        participant_id = world.participant_id
    sent = submission(participant_id=participant_id)

    response = post(world.client, world.headers(THE_PARTICIPANT), sent)

    assert_field_error(response, "participant_id")
    assert_not_stored(world, sent["id"])


def test_another_participant_submits_only_for_themself(world: World) -> None:
    body = created(world, ANOTHER_PARTICIPANT, submission())

    assert body["participant_id"] != world.participant_id
    assert_problem(get(world.client, world.headers(THE_PARTICIPANT), body["id"]), 404)


# ---------------------------------------------------------------------------------------------
# Retries: same id, same payload -> 200 with the first answer; other payload -> 409


def test_replaying_the_same_submission_returns_the_first_answer(
    world: World, db_session: Session
) -> None:
    sent = submission(timepoint="baseline", item_timings={"phq9_1": 1500})
    first = post(world.client, world.headers(THE_PARTICIPANT), sent)
    assert first.status_code == 201, first.get_data(as_text=True)

    again = post(world.client, world.headers(THE_PARTICIPANT), sent)

    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.json == first.json
    assert stored_count(db_session, sent["id"]) == 1
    assert len(creations(db_session, sent["id"])) == 1


def test_replaying_a_staff_submission_returns_the_first_answer(
    world: World, db_session: Session
) -> None:
    sent = on_behalf(world)
    first = post(world.client, world.headers(CLINICIAN_OF_SITE), sent)
    assert first.status_code == 201, first.get_data(as_text=True)

    again = post(world.client, world.headers(CLINICIAN_OF_SITE), sent)

    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.json == first.json
    assert stored_count(db_session, sent["id"]) == 1


CHANGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "an answer": lambda sent: {**sent, "answers": {**sent["answers"], "phq9_1": 3}},
    "an added answer": lambda sent: {**sent, "answers": {**sent["answers"], "difficulty": 1}},
    "collected_at": lambda sent: {**sent, "collected_at": collected(timedelta(hours=-2))},
    "timepoint": lambda sent: {**sent, "timepoint": "week4"},
    "timepoint dropped": lambda sent: {k: v for k, v in sent.items() if k != "timepoint"},
    "instrument": lambda sent: {**sent, "instrument": "nrs_pain", "answers": {"average": 1}},
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_same_id_with_a_different_payload_is_a_conflict(
    world: World, db_session: Session, change: str
) -> None:
    sent = submission(timepoint="baseline")
    first = created(world, THE_PARTICIPANT, sent)

    response = post(world.client, world.headers(THE_PARTICIPANT), CHANGES[change](sent))

    assert_problem(response, 409)
    assert get(world.client, world.admin.headers, sent["id"]).json == first
    assert stored_count(db_session, sent["id"]) == 1
    assert len(creations(db_session, sent["id"])) == 1


def test_a_conflict_does_not_spoil_a_later_replay(world: World) -> None:
    sent = submission()
    first = created(world, THE_PARTICIPANT, sent)
    changed = {**sent, "answers": phq9_answers(2)}
    assert_problem(post(world.client, world.headers(THE_PARTICIPANT), changed), 409)

    again = post(world.client, world.headers(THE_PARTICIPANT), sent)

    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.json == first


def test_parallel_identical_submissions_store_exactly_one_response(app: Flask) -> None:
    """20 threads post one payload at once: one 201, nineteen 200, one row, one audit row.

    No ``db_session`` here: its single connection cannot serve threads, so the data is committed
    for real (with unique codes and emails) and the checks look for this response's id only.
    """
    from prom.models.responses import Response

    with app.app_context():
        world = build_world(app.test_client())
        code = world.participant["activation_code"]
        headers = bearer(activate(world.client, code)["access_token"])
    sent = submission(answers=phq9_answers(1))
    threads = 20
    barrier = threading.Barrier(threads)

    def submit(_: int) -> tuple[int, Any]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(f"{API}/responses", json=sent, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(submit, range(threads)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (threads - 1) + [201], results
    bodies = [body for _, body in results]
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["id"] == sent["id"]
    with app.app_context():
        rows = db.session.scalar(
            select(func.count()).select_from(Response).where(Response.id == uuid.UUID(sent["id"]))
        )
        audits = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "response.create", AuditEvent.target_id == sent["id"]
            )
        )
    assert rows == 1
    assert audits == 1


# ---------------------------------------------------------------------------------------------
# Bad input: refused naming the field, nothing stored


def without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda sent: {k: v for k, v in sent.items() if k != key}


def with_answers(**answers: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda sent: {**sent, "answers": {**sent["answers"], **answers}}


def answers_without(item: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda sent: {**sent, "answers": {k: v for k, v in sent["answers"].items() if k != item}}


def replacing(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda sent: {**sent, **fields}


INVALID: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    "unknown top-level field": (replacing(colour="blue"), "colour"),
    "id not a uuid": (replacing(id="not-a-uuid"), "id"),
    "id missing": (without("id"), "id"),
    "unknown instrument": (replacing(instrument="nope"), "instrument"),
    "unknown version": (replacing(instrument_version="99"), "instrument_version"),
    "naive collected_at": (
        replacing(collected_at=(datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None)
                  .isoformat(timespec="seconds")),
        "collected_at",
    ),
    "collected_at not a date": (replacing(collected_at="yesterday"), "collected_at"),
    # The time is taken when the request is built, not when tests are collected: a slow suite
    # would otherwise send "ten minutes ahead" when it is no longer ahead.
    "collected_at ten minutes ahead": (
        lambda sent: {**sent, "collected_at": collected(timedelta(minutes=10))}, "collected_at"),
    "collected_at a day ahead": (
        lambda sent: {**sent, "collected_at": collected(timedelta(days=1))}, "collected_at"),
    "answer above range": (with_answers(phq9_1=4), "answers.phq9_1"),
    "answer below range": (with_answers(phq9_1=-1), "answers.phq9_1"),
    "answer not a number": (with_answers(phq9_1="often"), "answers.phq9_1"),
    "unknown item": (with_answers(nope=1), "answers.nope"),
    "required item missing": (answers_without("phq9_9"), "answers.phq9_9"),
    "timing of an unknown item": (replacing(item_timings={"nope": 100}), "item_timings.nope"),
    "negative timing": (replacing(item_timings={"phq9_1": -1}), "item_timings.phq9_1"),
    "timing over a day": (replacing(item_timings={"phq9_1": 86_400_001}), "item_timings.phq9_1"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_submission_is_refused_naming_the_field(world: World, case: str) -> None:
    change, path = INVALID[case]
    sent = change(submission())

    response = post(world.client, world.headers(THE_PARTICIPANT), sent)

    body = assert_field_error(response, path)
    assert body["errors"][path], body
    if is_id(sent.get("id")):
        assert_not_stored(world, sent["id"])


def is_id(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def test_nrs_answer_out_of_range_is_refused_naming_the_item(world: World) -> None:
    sent = submission(instrument="nrs_pain", answers={"average": 11})

    response = post(world.client, world.headers(THE_PARTICIPANT), sent)

    assert_field_error(response, "answers.average")
    assert_not_stored(world, sent["id"])


def test_malformed_json_is_a_400_problem(world: World) -> None:
    sent = submission()
    text = json.dumps(sent)[:-1]  # the closing brace is missing

    response = world.client.post(
        f"{API}/responses", data=text, content_type="application/json",
        headers=world.headers(THE_PARTICIPANT),
    )

    assert_problem(response, 400)
    assert_not_stored(world, sent["id"])


def test_body_over_one_mebibyte_is_a_413_problem(world: World) -> None:
    sent = submission(padding="x" * MiB)

    response = world.client.post(
        f"{API}/responses", data=json.dumps(sent), content_type="application/json",
        headers=world.headers(THE_PARTICIPANT),
    )

    assert_problem(response, 413)
    assert_not_stored(world, sent["id"])


# ---------------------------------------------------------------------------------------------
# Reading one response


@pytest.mark.parametrize(
    ("who", "status"),
    READ_SCOPE,
)
def test_read_the_participants_response_by_caller(
    world: World, db_session: Session, who: str, status: int
) -> None:
    first = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))
    headers = world.headers(who)

    response = get(world.client, headers, first["id"])

    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json == first
        reads = [
            row for row in audit_rows(db_session, "response.read", world.caller(who).user_id)
            if row.target_id == first["id"]
        ]
        assert len(reads) == 1, reads
        assert reads[0].target_type == "response"
    else:
        assert_problem(response, status)


def test_reading_an_unknown_response_is_404(world: World) -> None:
    assert_problem(get(world.client, world.admin.headers, str(uuid.uuid4())), 404)


def test_reading_a_malformed_response_id_is_404(world: World) -> None:
    assert_problem(get(world.client, world.admin.headers, "not-a-uuid"), 404)


# ---------------------------------------------------------------------------------------------
# Batches


def test_batch_answers_each_entry_in_order_and_a_failure_spoils_nothing(
    world: World, db_session: Session
) -> None:
    valid_1 = submission()
    invalid = submission(answers=phq9_answers(1, phq9_1=7))
    valid_2 = submission(answers=phq9_answers(1), timepoint="baseline")
    headers = world.headers(THE_PARTICIPANT)

    response = post_batch(world.client, headers, [valid_1, invalid, valid_2])

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["id"] for r in results] == [valid_1["id"], invalid["id"], valid_2["id"]]
    assert [r["status"] for r in results] == [201, 422, 201]
    assert "answers.phq9_1" in results[1]["errors"], results[1]
    assert results[1]["detail"]
    for result in (results[0], results[2]):
        assert result["body"].keys() >= BODY_FIELDS, result
        assert result["body"]["participant_id"] == world.participant_id
        assert get(world.client, headers, result["id"]).json == result["body"]
    assert results[2]["body"]["scores"]["phq9"]["value"] == 9
    assert "self_harm_thoughts" in alert_rules(results[2]["body"])
    assert_not_stored(world, invalid["id"])
    assert len(creations(db_session, valid_1["id"])) == 1
    assert len(creations(db_session, valid_2["id"])) == 1


def test_replaying_a_batch_returns_the_first_answers(world: World, db_session: Session) -> None:
    entries = [submission(), submission(answers={"phq9_1": 1}), submission()]
    headers = world.headers(THE_PARTICIPANT)
    first = post_batch(world.client, headers, entries)
    assert first.status_code == 200, first.get_data(as_text=True)

    again = post_batch(world.client, headers, entries)

    assert again.status_code == 200, again.get_data(as_text=True)
    before, after = first.json["results"], again.json["results"]
    assert [r["status"] for r in before] == [201, 422, 201]
    assert [r["status"] for r in after] == [200, 422, 200]
    assert after[0]["body"] == before[0]["body"]
    assert after[2]["body"] == before[2]["body"]
    for entry in (entries[0], entries[2]):
        assert stored_count(db_session, entry["id"]) == 1
        assert len(creations(db_session, entry["id"])) == 1


def test_batch_entry_that_replays_a_single_submission_is_200(world: World) -> None:
    headers = world.headers(THE_PARTICIPANT)
    sent = submission()
    first = created(world, THE_PARTICIPANT, sent)
    changed = {**sent, "id": str(uuid.uuid4())}
    conflicting = {**sent, "answers": phq9_answers(0)}

    response = post_batch(world.client, headers, [sent, conflicting, changed])

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [200, 409, 201]
    assert results[0]["body"] == first
    assert results[1]["detail"]
    assert get(world.client, headers, sent["id"]).json == first


def test_a_batch_may_repeat_an_id(world: World, db_session: Session) -> None:
    sent = submission()

    response = post_batch(world.client, world.headers(THE_PARTICIPANT), [sent, sent])

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 200]
    assert results[0]["body"] == results[1]["body"]
    assert stored_count(db_session, sent["id"]) == 1


def test_staff_batch_answers_each_participant_in_scope(world: World) -> None:
    at_site_b = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    mine = on_behalf(world)
    elsewhere = submission(participant_id=at_site_b["id"])
    unnamed = submission()

    response = post_batch(
        world.client, world.headers(CLINICIAN_OF_SITE), [mine, elsewhere, unnamed]
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 404, 422]
    assert "participant_id" in results[2]["errors"], results[2]
    assert results[0]["body"]["participant_id"] == world.participant_id
    assert_not_stored(world, elsewhere["id"])
    assert_not_stored(world, unnamed["id"])


def test_a_batch_of_500_is_accepted(world: World) -> None:
    entries = [submission() for _ in range(500)]

    response = post_batch(world.client, world.headers(THE_PARTICIPANT), entries)

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["id"] for r in results] == [e["id"] for e in entries]
    assert {r["status"] for r in results} == {201}


@pytest.mark.parametrize("size", [0, 501])
def test_a_batch_of_the_wrong_size_is_refused_whole(world: World, size: int) -> None:
    entries = [submission() for _ in range(size)]

    response = post_batch(world.client, world.headers(THE_PARTICIPANT), entries)

    assert_field_error(response, "responses")
    if entries:
        assert_not_stored(world, entries[0]["id"])
        assert_not_stored(world, entries[-1]["id"])


@pytest.mark.parametrize(
    "body",
    [{}, {"responses": "all of them"}, {"responses": [], "extra": 1}],
    ids=["no responses", "not a list", "unknown field"],
)
def test_a_malformed_batch_is_422(world: World, body: dict[str, Any]) -> None:
    response = world.client.post(
        f"{API}/responses/batch", json=body, headers=world.headers(THE_PARTICIPANT)
    )

    assert_problem(response, 422)
