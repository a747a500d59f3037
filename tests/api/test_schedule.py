"""Due lists and schedules: GET /api/v1/me/due and GET /api/v1/participants/{id}/schedule.

Contract: each occurrence of the study's schedule asks for each of its instruments. An item is
`completed` when a response to that instrument is assigned to the occurrence inside its window,
`open` while its window runs, `upcoming` before and `missed` after. Windows are days counted
from the participant's anchor (randomisation when recorded, else enrolment) in their own time
zone. A participant reads their own due list; staff in scope (and the participant) read the
schedule with adherence. Every read is audited.

The world's study has baseline (day 0, window 0..+3: phq9, gad7) and week4 (day 28, window
-2..+5: phq9). A participant enrolled today therefore has baseline open and week4 upcoming; one
enrolled 40 days ago has had both windows close.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.api.studies_fixtures import (
    ADMIN,
    API,
    NO_TOKEN,
    READ_SCOPE,
    THE_PARTICIPANT,
    World,
    activate,
    assert_problem,
    audit_rows,
    bearer,
    create_study,
    enrol,
    today_utc,
)
from tests.api.test_responses import phq9_answers, post, submission

SCHEDULE_KEYS = {"items", "adherence"}


def statuses(items: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(item["timepoint"], item["instrument"]): item["status"] for item in items}


def schedule_of(world: World, participant_id: str, who: str = ADMIN) -> Any:
    return world.client.get(f"{API}/participants/{participant_id}/schedule",
                            headers=world.headers(who))


def enrolled_days_ago(world: World, days: int, **changes: Any) -> tuple[dict[str, Any], dict]:
    """A participant enrolled `days` ago at site A, and their bearer headers."""
    enrolled = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id,
                     enrolled_on=(today_utc() - timedelta(days=days)).isoformat(), **changes)
    token = activate(world.client, enrolled["activation_code"])["access_token"]
    return enrolled, bearer(token)


def collected_on_day(enrolled_on: str, day: int, hour: int = 12) -> str:
    """An instant at `hour`:00 UTC on study day `day` of a UTC participant."""
    anchor = datetime.fromisoformat(enrolled_on).date()
    return datetime.combine(anchor + timedelta(days=day), time(hour), tzinfo=UTC).isoformat()


def test_a_new_participant_has_baseline_open_and_week4_upcoming(world: World) -> None:
    _, headers = enrolled_days_ago(world, 0)

    response = world.client.get(f"{API}/me/due", headers=headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.json["items"]
    assert statuses(items) == {("baseline", "phq9"): "open", ("baseline", "gad7"): "open",
                               ("week4", "phq9"): "upcoming"}
    baseline = items[0]
    opens = datetime.fromisoformat(baseline["opens_at"])
    closes = datetime.fromisoformat(baseline["closes_at"])
    assert opens == datetime.combine(today_utc(), time(0), tzinfo=UTC)
    assert closes - opens == timedelta(days=4)  # days 0..3 inclusive


def test_an_in_window_response_completes_its_item_only(world: World) -> None:
    _, headers = enrolled_days_ago(world, 0)
    assert post(world.client, headers, submission()).status_code == 201

    items = world.client.get(f"{API}/me/due", headers=headers).json["items"]

    assert statuses(items) == {("baseline", "phq9"): "completed",
                               ("baseline", "gad7"): "open", ("week4", "phq9"): "upcoming"}


def test_closed_windows_are_missed_unless_answered_inside_them(world: World) -> None:
    enrolled, headers = enrolled_days_ago(world, 40)
    # Day 30 lies in week4's window (26..33); day 10 lies in no phq9 window.
    on_day_30 = submission(collected_at=collected_on_day(enrolled["enrolled_on"], 30))
    on_day_10 = submission(collected_at=collected_on_day(enrolled["enrolled_on"], 10),
                           answers=phq9_answers(2))
    assert post(world.client, headers, on_day_30).status_code == 201
    assert post(world.client, headers, on_day_10).status_code == 201

    response = schedule_of(world, enrolled["id"])

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json.keys() == SCHEDULE_KEYS
    assert statuses(response.json["items"]) == {("baseline", "phq9"): "missed",
                                                ("baseline", "gad7"): "missed",
                                                ("week4", "phq9"): "completed"}
    assert response.json["adherence"] == {"completed": 1, "open": 0, "missed": 2,
                                          "due_so_far": 3, "rate": pytest.approx(1 / 3)}


def test_a_late_response_declared_for_a_timepoint_does_not_complete_it(world: World) -> None:
    enrolled, headers = enrolled_days_ago(world, 40)
    late = submission(timepoint="baseline",
                      collected_at=collected_on_day(enrolled["enrolled_on"], 6))
    assert post(world.client, headers, late).status_code == 201  # kept, flagged for analysis

    items = schedule_of(world, enrolled["id"]).json["items"]

    assert statuses(items)[("baseline", "phq9")] == "missed"


def test_windows_are_counted_from_the_randomisation_date_when_recorded(world: World) -> None:
    # Enrolled 40 days ago but randomised today: day 0 is today, so baseline is open.
    enrolled, _ = enrolled_days_ago(world, 40, randomised_on=today_utc().isoformat())

    items = schedule_of(world, enrolled["id"]).json["items"]

    assert statuses(items)[("baseline", "phq9")] == "open"
    assert statuses(items)[("week4", "phq9")] == "upcoming"


def test_windows_follow_the_participants_time_zone(world: World) -> None:
    _, headers = enrolled_days_ago(world, 0, timezone="Pacific/Kiritimati")  # UTC+14

    items = world.client.get(f"{API}/me/due", headers=headers).json["items"]

    opens = datetime.fromisoformat(items[0]["opens_at"])
    assert opens.utcoffset() == timedelta(hours=14)
    assert (opens.hour, opens.minute) == (0, 0)


def test_adherence_counts_open_items_as_due(world: World) -> None:
    enrolled, _ = enrolled_days_ago(world, 0)

    adherence = schedule_of(world, enrolled["id"]).json["adherence"]

    assert adherence == {"completed": 0, "open": 2, "missed": 0, "due_so_far": 2, "rate": 0.0}


def test_nothing_due_yet_has_no_adherence_rate(world: World) -> None:
    later = [{"timepoint": "fu1m", "day": 30, "window_before": 3, "window_after": 3,
              "instruments": ["phq9"]},
             {"timepoint": "week", "day": 7, "window_before": 1, "window_after": 1,
              "instruments": ["peg"], "every": 7, "count": 3}]
    study = create_study(world.client, world.admin.headers, schedule=later)
    enrolled = enrol(world.client, world.admin.headers, study["id"], world.site_a.id)

    response = schedule_of(world, enrolled["id"])

    assert [(i["timepoint"], i["status"]) for i in response.json["items"]] == [
        ("week1", "upcoming"), ("week2", "upcoming"), ("week3", "upcoming"),
        ("fu1m", "upcoming")]
    assert response.json["adherence"] == {"completed": 0, "open": 0, "missed": 0,
                                          "due_so_far": 0, "rate": None}


@pytest.mark.parametrize(("who", "status"), READ_SCOPE)
def test_read_a_participants_schedule_by_caller(
    world: World, db_session: Session, who: str, status: int
) -> None:
    response = schedule_of(world, world.participant_id, who)

    assert response.status_code == status, response.get_data(as_text=True)
    if status == 200:
        assert response.json.keys() == SCHEDULE_KEYS
        reads = audit_rows(db_session, "schedule.read")
        assert any(row.target_id == world.participant_id for row in reads)
    else:
        assert_problem(response, status)


@pytest.mark.parametrize(("who", "status"), [(ADMIN, 403), (NO_TOKEN, 401)])
def test_only_a_participant_has_a_due_list_of_their_own(world: World, who: str,
                                                        status: int) -> None:
    assert_problem(world.client.get(f"{API}/me/due", headers=world.headers(who)), status)


def test_the_participant_reads_their_own_due_list(world: World) -> None:
    response = world.client.get(f"{API}/me/due", headers=world.headers(THE_PARTICIPANT))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert statuses(response.json["items"])[("baseline", "phq9")] == "open"


def test_recording_randomisation_later_moves_the_schedule(world: World) -> None:
    enrolled, _ = enrolled_days_ago(world, 40)
    assert statuses(schedule_of(world, enrolled["id"]).json["items"])[("baseline", "phq9")] \
        == "missed"

    recorded = world.client.post(f"{API}/participants/{enrolled['id']}/randomisation",
                                 json={"randomised_on": today_utc().isoformat()},
                                 headers=world.admin.headers)

    assert recorded.status_code == 200, recorded.get_data(as_text=True)
    items = schedule_of(world, enrolled["id"]).json["items"]
    assert statuses(items)[("baseline", "phq9")] == "open"
