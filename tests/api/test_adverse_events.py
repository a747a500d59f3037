"""Adverse events: opened by the patient's report, reviewed by clinicians, listed and counted.

Contract (prom/services/adverse_events.py, prom/api/adverse_events.py):

- **Opening.** A response to the `adverse_event` form with `occurred` true opens exactly one
  event, in the transaction that stores it; `occurred` false opens none. Replaying a submission
  opens nothing more; a batch opens one event per report that needs one. An amendment
  (`POST /responses/{id}/amendments`) that turns "no" into "yes" opens one, and an open event
  stays open whatever later versions say. The event's `reported` block mirrors the current
  version of the patient's answers.
- **Reviewing** (`POST /adverse-events/{id}/review`, admins and clinicians of the site): 201 with
  the review as the event's current one. Every review is kept (`reviews`, numbered 1, 2, …) and
  the latest is `review`; the status moves from `awaiting_review` to `reviewed`. A review that
  contradicts itself (ICH E2A seriousness vs criteria, CTCAE grade 5 vs a fatal outcome and the
  death criterion) or carries an unknown value or field is 422 naming the field, and stores
  nothing. Of simultaneous reviews each gets 201 or 409; numbers stay consecutive.
- **Reading** (`GET /adverse-events/{id}`, `GET /studies/{id}/adverse-events`, `.../counts`):
  staff only. Participants get 403; an event outside the caller's scope is 404. A clinician lists
  and counts only the participants of their sites. The list is newest report first, with cursor
  pagination and filters on status, arm (an unknown arm is 422 naming `arm`), seriousness by the
  current review, and participant. Counts per arm are checked against a hand-built case.
- Every review, read, list and count is audited.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm import Session as OrmSession

from prom.errors import PROBLEM_JSON
from prom.extensions import db
from prom.models.audit import AuditEvent
from tests.api.studies_fixtures import (
    ADMIN,
    ANOTHER_PARTICIPANT,
    API,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    NO_TOKEN,
    RESEARCHER_MEMBER,
    RESEARCHER_NON_MEMBER,
    STAFF_ACTION_SCOPE,
    THE_PARTICIPANT,
    World,
    assert_problem,
    audit_rows,
    create_study,
    enrol,
    sign_in_staff,
)
from tests.api.test_batch_storage import committed_world
from tests.api.test_reports import submit

#: Who may read events (one, a study's list, its counts): staff in scope. Participants are
#: refused by role (403); outside the caller's scope an event does not exist (404).
EVENT_READ_SCOPE = [
    (ADMIN, 200),
    (CLINICIAN_OF_SITE, 200),
    (CLINICIAN_OTHER_SITE, 404),
    (RESEARCHER_MEMBER, 200),
    (RESEARCHER_NON_MEMBER, 404),
    (THE_PARTICIPANT, 403),
    (ANOTHER_PARTICIPANT, 403),
    (NO_TOKEN, 401),
]
#: The study's list and counts: another site's clinician sees the study, with none of its
#: events; a researcher without access to the study does not see it.
STUDY_READ_SCOPE = [
    (CLINICIAN_OTHER_SITE, 200) if who == CLINICIAN_OTHER_SITE else (who, status)
    for who, status in EVENT_READ_SCOPE
]


# ---------------------------------------------------------------------------------------------
# Helpers


def minutes_ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="seconds")


def happened(**changes: Any) -> dict[str, Any]:
    """A report in which something happened (not serious in the patient's view)."""
    answers: dict[str, Any] = {
        "occurred": True, "description": "Back pain flared after the exercise module",
        "onset_date": "2026-01-10", "ongoing": True, "severity": "moderate",
        "seriousness": ["none"], "attributed": "unsure"}
    answers.update(changes)
    return answers


NOTHING_HAPPENED = {"occurred": False}


def ae_body(participant_id: str, answers: dict[str, Any], minutes: int = 60) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "participant_id": participant_id,
            "instrument": "adverse_event", "instrument_version": "1",
            "collected_at": minutes_ago(minutes), "answers": answers}


def report(world: World, participant_id: str, answers: dict[str, Any],
           minutes: int = 60) -> dict[str, Any]:
    """Submit an adverse_event report (as the admin); returns the 201 body."""
    return submit(world, participant_id, "adverse_event", answers, minutes_ago(minutes))


def amend(world: World, response_id: str, answers: dict[str, Any]) -> Any:
    return world.client.post(f"{API}/responses/{response_id}/amendments",
                             json={"answers": answers, "reason": "read back to the patient"},
                             headers=world.admin.headers)


def events(world: World, study_id: str | None = None, who: str = ADMIN, **query: Any) -> Any:
    return world.client.get(f"{API}/studies/{study_id or world.study_id}/adverse-events",
                            query_string=query, headers=world.headers(who))


def event_items(world: World, study_id: str | None = None, **query: Any) -> list[dict]:
    response = events(world, study_id, **query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["items"]


def get_event(world: World, event_id: str, who: str = ADMIN) -> Any:
    return world.client.get(f"{API}/adverse-events/{event_id}", headers=world.headers(who))


def counts(world: World, study_id: str | None = None, who: str = ADMIN) -> Any:
    return world.client.get(f"{API}/studies/{study_id or world.study_id}/adverse-events/counts",
                            headers=world.headers(who))


def arm_counts(world: World, study_id: str | None = None,
               who: str = ADMIN) -> dict[str, dict[str, Any]]:
    response = counts(world, study_id, who)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["arm"]: {k: v for k, v in row.items() if k not in ("arm", "name")}
            for row in response.json["arms"]}


def assessment(**changes: Any) -> dict[str, Any]:
    """A consistent, not serious review."""
    body: dict[str, Any] = {
        "serious": False, "seriousness_criteria": [], "severity_grade": 2,
        "relatedness": "possible", "expected": True, "action_taken": "none",
        "outcome": "recovering", "note": "Spoke to the patient; settling with rest."}
    body.update(changes)
    return body


SERIOUS = {"serious": True, "seriousness_criteria": ["hospitalisation"], "severity_grade": 3,
           "outcome": "recovered"}


def review(world: World, event_id: str, who: str = CLINICIAN_OF_SITE, **changes: Any) -> Any:
    return world.client.post(f"{API}/adverse-events/{event_id}/review",
                             json=assessment(**changes), headers=world.headers(who))


def reviewed(world: World, event_id: str, **changes: Any) -> dict[str, Any]:
    response = review(world, event_id, **changes)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def only_event(world: World, study_id: str | None = None, **query: Any) -> dict[str, Any]:
    (event,) = event_items(world, study_id, **query)
    return event


def opened(world: World, participant_id: str | None = None,
           answers: dict[str, Any] | None = None, minutes: int = 60,
           study_id: str | None = None) -> dict[str, Any]:
    """Report an event for a participant (the world's by default) of `study_id` (the world's
    study by default); returns the event, found through the study's list."""
    pid = participant_id or world.participant_id
    response_id = report(world, pid, answers or happened(), minutes)["id"]
    (event,) = [e for e in event_items(world, study_id, participant_id=pid, limit=100)
                if e["response_id"] == response_id]
    return event


def assert_names(response: Any, field: str) -> dict[str, Any]:
    """A 422 problem whose `errors` name `field` (or a path inside it)."""
    body = assert_problem(response, 422)
    assert any(key == field or key.startswith(f"{field}.") for key in body["errors"]), body
    return body


def audited(session: Session, action: str, target_id: str) -> list[AuditEvent]:
    """The audit rows of `action` on `target_id`: some tests commit for real, so other rows of
    the same action may be in the database."""
    return [row for row in audit_rows(session, action) if row.target_id == target_id]


def every_page(world: World, limit: int, **query: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        page = events(world, limit=limit, **query, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.get_data(as_text=True)
        pages.append(page.json["items"])
        cursor = page.json["next_cursor"]
        assert len(pages) <= 50, "next_cursor never became null"
        if cursor is None:
            return pages


# ---------------------------------------------------------------------------------------------
# Opening


def test_a_report_that_something_happened_opens_one_event(world: World) -> None:
    body = report(world, world.participant_id, happened())

    (listed,) = event_items(world)
    fetched = get_event(world, listed["id"])

    assert fetched.status_code == 200, fetched.get_data(as_text=True)
    assert fetched.json == listed
    assert listed["response_id"] == body["id"]
    assert listed["participant_id"] == world.participant_id
    assert listed["study_id"] == world.study_id
    assert (listed["arm"], listed["site_id"]) == ("A", str(world.site_a.id))
    assert datetime.fromisoformat(listed["reported_at"]) == datetime.fromisoformat(
        body["collected_at"])
    assert listed["timepoint"] is None  # the study's schedule does not ask for the form
    assert (listed["status"], listed["review"], listed["reviews"]) == (
        "awaiting_review", None, [])


def test_a_report_sent_by_the_participant_themself_opens_an_event(world: World) -> None:
    sent = ae_body(world.participant_id, happened())
    del sent["participant_id"]

    response = world.client.post(f"{API}/responses", json=sent,
                                 headers=world.headers(THE_PARTICIPANT))

    assert response.status_code == 201, response.get_data(as_text=True)
    assert [e["response_id"] for e in event_items(world)] == [sent["id"]]


def test_a_report_that_nothing_happened_opens_none(world: World) -> None:
    body = report(world, world.participant_id, NOTHING_HAPPENED)

    assert body["scores"]["serious"]["value"] == 0
    assert event_items(world) == []


def test_replaying_a_report_opens_no_second_event(world: World) -> None:
    sent = ae_body(world.participant_id, happened())
    first = world.client.post(f"{API}/responses", json=sent, headers=world.admin.headers)
    again = world.client.post(f"{API}/responses", json=sent, headers=world.admin.headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert [e["response_id"] for e in event_items(world)] == [sent["id"]]


def test_a_batch_opens_an_event_per_report_of_something(world: World) -> None:
    entries = [ae_body(world.participant_id, happened(description="Dizzy"), minutes=30),
               ae_body(world.participant_id, NOTHING_HAPPENED, minutes=20),
               ae_body(world.participant_id, happened(description="Fell over"), minutes=10)]

    response = world.client.post(f"{API}/responses/batch", json={"responses": entries},
                                 headers=world.admin.headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert [r["status"] for r in response.json["results"]] == [201, 201, 201]
    items = event_items(world)
    assert [(e["response_id"], e["reported"]["description"]) for e in items] == [
        (entries[2]["id"], "Fell over"), (entries[0]["id"], "Dizzy")]


def test_an_amendment_from_no_to_yes_opens_one_event(world: World) -> None:
    body = report(world, world.participant_id, NOTHING_HAPPENED)

    first = amend(world, body["id"], happened(description="Remembered: a fall"))
    second = amend(world, body["id"], happened(description="Remembered: a bad fall"))

    assert (first.status_code, second.status_code) == (201, 201)
    (event,) = event_items(world)
    assert event["response_id"] == body["id"]
    assert event["reported"]["description"] == "Remembered: a bad fall"


def test_an_open_event_stays_when_the_report_is_amended_to_no(world: World) -> None:
    event = opened(world)
    response = amend(world, event["response_id"], NOTHING_HAPPENED)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert [e["id"] for e in event_items(world)] == [event["id"]]
    assert get_event(world, event["id"]).json["reported"]["description"] is None


def test_the_reported_block_mirrors_the_current_version(world: World) -> None:
    event = opened(world, answers=happened())
    assert event["reported"] == {
        "description": "Back pain flared after the exercise module", "onset_date": "2026-01-10",
        "ongoing": True, "severity": "moderate", "seriousness": ["none"],
        "attributed": "unsure", "serious": False}

    corrected = happened(description="Admitted overnight with back pain", severity="severe",
                         ongoing=False, seriousness=["hospitalisation"], attributed="yes")
    assert amend(world, event["response_id"], corrected).status_code == 201

    assert get_event(world, event["id"]).json["reported"] == {
        "description": "Admitted overnight with back pain", "onset_date": "2026-01-10",
        "ongoing": False, "severity": "severe", "seriousness": ["hospitalisation"],
        "attributed": "yes", "serious": True}


# ---------------------------------------------------------------------------------------------
# Reviewing


def test_a_review_becomes_the_current_assessment(world: World) -> None:
    event = opened(world)

    response = review(world, event["id"])

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "reviewed"
    current = body["review"]
    assert current["number"] == 1
    assert current["reviewed_by"] == str(world.caller(CLINICIAN_OF_SITE).user_id)
    assert datetime.fromisoformat(current["reviewed_at"]).tzinfo is not None
    assert {k: current[k] for k in assessment()} == assessment()
    assert body["reviews"] == [current]
    assert get_event(world, event["id"]).json == body


def test_a_second_review_keeps_the_first_as_history(world: World) -> None:
    event = opened(world)
    first = reviewed(world, event["id"])

    second = reviewed(world, event["id"], **SERIOUS, note="Admitted overnight after all")

    assert [r["number"] for r in second["reviews"]] == [1, 2]
    assert second["reviews"][0] == first["review"]
    assert second["review"] == second["reviews"][1]
    assert (second["review"]["serious"], second["review"]["seriousness_criteria"]) == (
        True, ["hospitalisation"])
    assert second["review"]["note"] == "Admitted overnight after all"


def test_a_fatal_grade_5_review_with_the_death_criterion_is_accepted(world: World) -> None:
    event = opened(world)

    body = reviewed(world, event["id"], serious=True,
                    seriousness_criteria=["death", "hospitalisation"], severity_grade=5,
                    outcome="fatal", relatedness="not_related")

    assert (body["review"]["severity_grade"], body["review"]["outcome"]) == (5, "fatal")


CONTRADICTIONS = {
    "serious without criteria": ({"serious": True, "seriousness_criteria": []},
                                 "seriousness_criteria"),
    "criteria without serious": ({"serious": False,
                                  "seriousness_criteria": ["hospitalisation"]},
                                 "seriousness_criteria"),
    "grade 5 without a fatal outcome": ({"serious": True, "seriousness_criteria": ["death"],
                                         "severity_grade": 5, "outcome": "recovered"},
                                        "outcome"),
    "fatal without grade 5": ({"serious": True, "seriousness_criteria": ["death"],
                               "severity_grade": 4, "outcome": "fatal"}, "severity_grade"),
    "grade 5 without the death criterion": ({"serious": True,
                                             "seriousness_criteria": ["life_threatening"],
                                             "severity_grade": 5, "outcome": "fatal"},
                                            "seriousness_criteria"),
    "grade 0": ({"severity_grade": 0}, "severity_grade"),
    "grade 6": ({"severity_grade": 6}, "severity_grade"),
    "unknown relatedness": ({"relatedness": "likely"}, "relatedness"),
    "unknown action": ({"action_taken": "stopped"}, "action_taken"),
    "unknown outcome": ({"outcome": "dead"}, "outcome"),
    "unknown criterion": ({"serious": True, "seriousness_criteria": ["death_threat"]},
                          "seriousness_criteria"),
    "duplicate criteria": ({"serious": True,
                            "seriousness_criteria": ["hospitalisation", "hospitalisation"]},
                           "seriousness_criteria"),
    "unknown field": ({"meddra_code": "10003988"}, "meddra_code"),
    "missing grade": ({"severity_grade": None}, "severity_grade"),
}


@pytest.mark.parametrize(("changes", "field"), list(CONTRADICTIONS.values()),
                         ids=list(CONTRADICTIONS))
def test_a_contradictory_or_unknown_review_is_422_and_stores_nothing(
        world: World, db_session: Session, changes: dict[str, Any], field: str) -> None:
    event = opened(world)
    reviewed(world, event["id"])  # a valid first review: the 422 must not add a second

    sent = {k: v for k, v in assessment(**changes).items() if v is not None or k == "note"}
    response = world.client.post(f"{API}/adverse-events/{event['id']}/review", json=sent,
                                 headers=world.headers(CLINICIAN_OF_SITE))

    assert_names(response, field)
    after = get_event(world, event["id"]).json
    assert [r["number"] for r in after["reviews"]] == [1]
    assert after["review"]["severity_grade"] == 2
    assert len(audited(db_session, "adverse_event.review", event["id"])) == 1
    assert reviewed(world, event["id"])["review"]["number"] == 2  # the count did not move


def test_the_death_criterion_without_a_fatal_outcome_is_422(world: World) -> None:
    event = opened(world)

    response = review(world, event["id"], serious=True, seriousness_criteria=["death"],
                      severity_grade=2, outcome="recovered")

    body = assert_problem(response, 422)
    assert {"outcome", "seriousness_criteria", "severity_grade"} & set(body["errors"]), body
    assert get_event(world, event["id"]).json["reviews"] == []


@pytest.mark.parametrize(("who", "status"), [
    (who, 201 if status == 200 else status) for who, status in STAFF_ACTION_SCOPE])
def test_who_may_review(world: World, who: str, status: int) -> None:
    event = opened(world)

    response = review(world, event["id"], who=who)

    if status == 201:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["review"]["reviewed_by"] == str(world.caller(who).user_id)
    else:
        assert_problem(response, status)
        assert get_event(world, event["id"]).json["reviews"] == []


def test_reviewing_an_unknown_event_is_404(world: World) -> None:
    assert_problem(review(world, str(uuid.uuid4())), 404)
    assert_problem(get_event(world, str(uuid.uuid4())), 404)


# ---------------------------------------------------------------------------------------------
# Who reads what


@pytest.mark.parametrize(("who", "status"), EVENT_READ_SCOPE)
def test_who_may_read_an_event(world: World, who: str, status: int) -> None:
    event = opened(world)

    response = get_event(world, event["id"], who)

    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["id"] == event["id"]
    else:
        assert_problem(response, status)


@pytest.mark.parametrize(("who", "status"), STUDY_READ_SCOPE)
def test_who_may_list_and_count_a_studys_events(world: World, who: str, status: int) -> None:
    event = opened(world)

    listed, counted = events(world, who=who), counts(world, who=who)

    if status != 200:
        assert_problem(listed, status)
        assert_problem(counted, status)
        return
    assert listed.status_code == counted.status_code == 200, listed.get_data(as_text=True)
    visible = who != CLINICIAN_OTHER_SITE
    assert [e["id"] for e in listed.json["items"]] == ([event["id"]] if visible else [])
    arm_a = next(row for row in counted.json["arms"] if row["arm"] == "A")
    assert (arm_a["participants"], arm_a["events"]) == ((1, 1) if visible else (0, 0))


def test_a_clinician_lists_and_counts_only_their_sites(world: World) -> None:
    elsewhere = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id,
                      arm="B")
    here = opened(world)
    there = opened(world, elsewhere["id"])

    mine = [e["id"] for e in events(world, who=CLINICIAN_OF_SITE).json["items"]]
    theirs = [e["id"] for e in events(world, who=CLINICIAN_OTHER_SITE).json["items"]]
    everyone = [e["id"] for e in event_items(world)]

    assert (mine, theirs, sorted(everyone)) == ([here["id"]], [there["id"]],
                                                sorted([here["id"], there["id"]]))
    assert_problem(get_event(world, there["id"], CLINICIAN_OF_SITE), 404)
    site_a = arm_counts(world, who=CLINICIAN_OF_SITE)
    assert (site_a["A"]["participants"], site_a["A"]["events"]) == (1, 1)
    assert (site_a["B"]["participants"], site_a["B"]["events"]) == (0, 0)
    site_b = arm_counts(world, who=CLINICIAN_OTHER_SITE)
    assert (site_b["A"]["participants"], site_b["A"]["events"]) == (0, 0)
    assert (site_b["B"]["participants"], site_b["B"]["events"]) == (1, 1)


def test_another_studys_events_are_not_listed(world: World) -> None:
    other = create_study(world.client, world.admin.headers)
    someone = enrol(world.client, world.admin.headers, other["id"], world.site_a.id)
    opened(world, someone["id"], study_id=other["id"])

    assert event_items(world) == []
    assert len(event_items(world, other["id"])) == 1


# ---------------------------------------------------------------------------------------------
# Filters and pages


@pytest.fixture
def varied(world: World) -> dict[str, str]:
    """Four events: in arm A one unreviewed, one reviewed serious, one reviewed not serious; in
    arm B (another participant) one unreviewed. {label: event id}."""
    in_b = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id, arm="B")
    ids = {
        "unreviewed": opened(world, minutes=40)["id"],
        "serious": opened(world, minutes=30)["id"],
        "not serious": opened(world, minutes=20)["id"],
        "arm B": opened(world, in_b["id"], minutes=10)["id"],
    }
    reviewed(world, ids["serious"], **SERIOUS)
    reviewed(world, ids["not serious"])
    return {**ids, "arm B participant": in_b["id"]}


def listed(world: World, **query: Any) -> set[str]:
    return {e["id"] for e in event_items(world, **query)}


def test_filters_by_review_status(world: World, varied: dict[str, str]) -> None:
    assert listed(world, status="awaiting_review") == {varied["unreviewed"], varied["arm B"]}
    assert listed(world, status="reviewed") == {varied["serious"], varied["not serious"]}
    assert len(listed(world, status="all")) == len(listed(world)) == 4
    assert_names(events(world, status="closed"), "status")


def test_filters_by_arm(world: World, varied: dict[str, str]) -> None:
    assert listed(world, arm="B") == {varied["arm B"]}
    assert listed(world, arm="A") == {varied["unreviewed"], varied["serious"],
                                      varied["not serious"]}
    body = assert_names(events(world, arm="Z"), "arm")
    assert "Z" in body["errors"]["arm"][0]


def test_filters_by_the_current_reviews_seriousness(world: World,
                                                    varied: dict[str, str]) -> None:
    assert listed(world, serious="true") == {varied["serious"]}
    assert listed(world, serious="false") == {varied["not serious"]}  # unreviewed: neither

    reviewed(world, varied["serious"], note="Not admitted after all: not serious")

    assert listed(world, serious="true") == set()
    assert listed(world, serious="false") == {varied["serious"], varied["not serious"]}


def test_filters_by_site(world: World, varied: dict[str, str]) -> None:
    elsewhere = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    there = opened(world, elsewhere["id"])

    assert listed(world, site_id=str(world.site_b.id)) == {there["id"]}
    assert len(listed(world, site_id=str(world.site_a.id))) == 4


def test_filters_by_participant(world: World, varied: dict[str, str]) -> None:
    assert listed(world, participant_id=varied["arm B participant"]) == {varied["arm B"]}
    assert listed(world, participant_id=world.participant_id, status="awaiting_review") == {
        varied["unreviewed"]}
    assert listed(world, participant_id=str(uuid.uuid4())) == set()


@pytest.mark.parametrize("query", [{"limit": 0}, {"cursor": "nonsense"}, {"unknown": "1"},
                                   {"participant_id": "not-a-uuid"}, {"serious": "maybe"}])
def test_bad_list_queries_are_422(world: World, query: dict[str, Any]) -> None:
    assert_problem(events(world, **query), 422)


def test_pages_run_newest_first_without_gaps_or_repeats(world: World) -> None:
    # Seven events; two pairs reported at the same instant, so the id decides their order.
    same = minutes_ago(50)
    for minutes in (90, 70, 30, 10):
        report(world, world.participant_id, happened(), minutes)
    for _ in range(3):
        submit(world, world.participant_id, "adverse_event", happened(), same)
    everything = event_items(world, limit=100)

    pages = every_page(world, limit=2)

    assert [len(page) for page in pages] == [2, 2, 2, 1]
    seen = [e["id"] for page in pages for e in page]
    assert seen == [e["id"] for e in everything]
    assert len(set(seen)) == 7
    keys = [(datetime.fromisoformat(e["reported_at"]), e["id"]) for e in everything]
    assert keys == sorted(keys, reverse=True)


# ---------------------------------------------------------------------------------------------
# Counts per arm, by hand


def test_counts_per_arm_by_hand(world: World, db_session: Session) -> None:
    """Arm A: P1 two events (one reviewed serious, one unreviewed though the patient ticked a
    criterion), P2 one event reviewed serious then not serious, P3 none. Arm B: one participant,
    who reported that nothing happened."""
    study = create_study(world.client, world.admin.headers)
    people = {label: enrol(world.client, world.admin.headers, study["id"], world.site_a.id,
                           arm=arm)["id"]
              for label, arm in (("P1", "A"), ("P2", "A"), ("P3", "A"), ("B1", "B"))}
    serious_one = opened(world, people["P1"], study_id=study["id"])
    opened(world, people["P1"], happened(seriousness=["hospitalisation"]), study_id=study["id"])
    changed_mind = opened(world, people["P2"], study_id=study["id"])
    report(world, people["P3"], NOTHING_HAPPENED)
    report(world, people["B1"], NOTHING_HAPPENED)
    reviewed(world, serious_one["id"], who=ADMIN, **SERIOUS)
    reviewed(world, changed_mind["id"], who=ADMIN, **SERIOUS)
    reviewed(world, changed_mind["id"], who=ADMIN)

    response = counts(world, study["id"])

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["arms"] == [
        {"arm": "A", "name": "Physiotherapy", "participants": 3, "participants_with_event": 2,
         "events": 3, "serious_events": 1, "participants_with_serious_event": 1,
         "awaiting_review": 1},
        {"arm": "B", "name": "Usual care", "participants": 1, "participants_with_event": 0,
         "events": 0, "serious_events": 0, "participants_with_serious_event": 0,
         "awaiting_review": 0},
    ]
    (row,) = audited(db_session, "adverse_event.counts", study["id"])
    assert (row.target_type, row.actor) == ("study", str(world.admin.user_id))


def test_a_participant_with_two_serious_events_is_counted_once(world: World) -> None:
    first, second = opened(world), opened(world)
    reviewed(world, first["id"], **SERIOUS)
    reviewed(world, second["id"], **SERIOUS)

    arm_a = arm_counts(world)["A"]

    assert (arm_a["events"], arm_a["serious_events"]) == (2, 2)
    assert (arm_a["participants_with_event"], arm_a["participants_with_serious_event"]) == (1, 1)


# ---------------------------------------------------------------------------------------------
# Audit


def test_reviews_reads_lists_and_counts_are_audited(world: World, db_session: Session) -> None:
    event = opened(world)  # one list (the helper finds the event through it)
    clinician = str(world.caller(CLINICIAN_OF_SITE).user_id)
    reviewed(world, event["id"], **SERIOUS)
    get_event(world, event["id"], CLINICIAN_OF_SITE)
    events(world, who=CLINICIAN_OF_SITE, status="reviewed")
    counts(world, who=CLINICIAN_OF_SITE)

    (reviewing,) = audited(db_session, "adverse_event.review", event["id"])
    assert (reviewing.actor, reviewing.target_type, reviewing.target_id) == (
        clinician, "adverse_event", event["id"])
    assert reviewing.detail == {"number": 1, "serious": True, "severity_grade": 3}
    (reading,) = audit_rows(db_session, "adverse_event.read", clinician)
    assert (reading.target_type, reading.target_id) == ("adverse_event", event["id"])
    (listing,) = audit_rows(db_session, "adverse_event.list", clinician)
    assert (listing.target_type, listing.target_id) == ("study", world.study_id)
    assert listing.detail == {"count": 1, "status": "reviewed"}
    (counting,) = audit_rows(db_session, "adverse_event.counts", clinician)
    assert (counting.target_type, counting.target_id) == ("study", world.study_id)


def test_refused_requests_are_not_audited_as_reviews(world: World, db_session: Session) -> None:
    event = opened(world)
    review(world, event["id"], who=CLINICIAN_OTHER_SITE)
    review(world, event["id"], serious=True)

    assert audited(db_session, "adverse_event.review", event["id"]) == []


# ---------------------------------------------------------------------------------------------
# Simultaneous reviews (threads; data committed for real, checks limited to this test's event)


def test_simultaneous_reviews_keep_numbers_consecutive(app: Flask) -> None:
    committed = committed_world(app)
    world = committed.world
    with app.app_context():
        second_clinician = sign_in_staff(world.client, "clinician", [world.site_a.id])
        event_id = opened(world)["id"]
    threads = 6
    callers = [world.headers(CLINICIAN_OF_SITE), world.admin.headers,
               second_clinician.headers] * 2
    sent = [assessment(note=f"review from thread {t}", severity_grade=1 + t % 4)
            for t in range(threads)]
    barrier = threading.Barrier(threads)

    def send(thread: int) -> tuple[int, str, Any]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(f"{API}/adverse-events/{event_id}/review", json=sent[thread],
                               headers=callers[thread])
        return response.status_code, response.mimetype, response.get_json()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(send, range(threads)))

    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {201, 409}, results
    accepted = {t: body for t, (status, _, body) in enumerate(results) if status == 201}
    assert accepted, results
    for status, mimetype, body in results:
        if status == 409:
            assert mimetype == PROBLEM_JSON and body["detail"], body
    stored = app.test_client().get(f"{API}/adverse-events/{event_id}",
                                   headers=world.admin.headers).json
    # Numbered 1..n without a gap or repeat, one review per 201, none from a 409.
    assert [r["number"] for r in stored["reviews"]] == list(range(1, len(accepted) + 1))
    assert sorted(r["note"] for r in stored["reviews"]) == sorted(
        sent[t]["note"] for t in accepted)
    assert stored["review"] == stored["reviews"][-1]
    for thread, body in accepted.items():
        assert sent[thread]["note"] in [r["note"] for r in body["reviews"]], (thread, body)
    with app.app_context():
        audited = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "adverse_event.review", AuditEvent.target_id == event_id))
    assert audited == len(accepted)


def test_a_review_answers_with_the_review_it_recorded_even_when_another_follows(
        app: Flask) -> None:
    """Deterministic: the second review is sent, and answered, between the first review's
    commit and its answer (an `after_commit` hook of the first request waits for it)."""
    world = committed_world(app).world
    with app.app_context():
        event_id = opened(world)["id"]
    url = f"{API}/adverse-events/{event_id}/review"
    first_thread = threading.get_ident()
    second: dict[str, Any] = {}

    def send_second() -> None:
        response = app.test_client().post(url, json=assessment(note="second"),
                                          headers=world.admin.headers)
        second.update(status=response.status_code, body=response.get_json())

    def after_commit(_session: Any) -> None:
        if threading.get_ident() == first_thread and not second:
            runner = threading.Thread(target=send_second)
            runner.start()
            runner.join(timeout=30)

    sa_event.listen(OrmSession, "after_commit", after_commit)
    try:
        first = app.test_client().post(url, json=assessment(note="first"),
                                       headers=world.headers(CLINICIAN_OF_SITE))
    finally:
        sa_event.remove(OrmSession, "after_commit", after_commit)

    assert (first.status_code, second["status"]) == (201, 201), (first.json, second)
    stored = app.test_client().get(f"{API}/adverse-events/{event_id}",
                                   headers=world.admin.headers).json
    assert [(r["number"], r["note"]) for r in stored["reviews"]] == [(1, "first"),
                                                                      (2, "second")]
    assert (second["body"]["review"]["number"], second["body"]["review"]["note"]) == (
        2, "second")
    assert (first.json["review"]["number"], first.json["review"]["note"]) == (1, "first")
