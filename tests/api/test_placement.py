"""Where each response counts: the `analysis` block of response bodies.

Contract (prom/services/placement.py applying prom/schedule/windows.py `assign`): a stored
response carries `analysis` = {timepoint, study_day, in_window, flags}, computed when it is
stored from the participant's anchor (randomisation when recorded, else enrolment) and their
local calendar day, and returned identically by every read.

- A declared timepoint the schedule knows is kept: in its window it is clean; outside it is
  flagged `out_of_window`; at an occurrence that does not ask for the instrument it is flagged
  `not_scheduled`.
- An undeclared response is placed by window: among the occurrences asking for its instrument
  whose window holds the day, the nearest target wins (a tie goes to the earlier). No window:
  no timepoint, `out_of_window`. An instrument the schedule never asks for: `not_scheduled`.
- A declared timepoint the schedule does not know is flagged `unknown_timepoint` and placed by
  window.
- Days are the participant's local days: near midnight, the UTC date is not the study day.
- Recording randomisation places the participant's earlier responses again from the new
  anchor; the audit row's `responses_moved` counts those whose placement changed.

Study: baseline (day 0, window 0..3: nrs_pain, phq9), early (day 10, 4..16: nrs_pain), late
(day 20, 14..26: nrs_pain) and post (day 56, 49..63: phq9). The windows of early and late
overlap on days 14–16. Participants are enrolled 70 days ago.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.api.studies_fixtures import (
    API,
    World,
    audit_rows,
    create_study,
    enrol,
    today_utc,
)
from tests.api.test_reports import on_day, pain, submit
from tests.api.test_responses import phq9_answers

SCHEDULE = [
    {"timepoint": "baseline", "day": 0, "window_before": 0, "window_after": 3,
     "instruments": ["nrs_pain", "phq9"]},
    {"timepoint": "early", "day": 10, "window_before": 6, "window_after": 6,
     "instruments": ["nrs_pain"]},
    {"timepoint": "late", "day": 20, "window_before": 6, "window_after": 6,
     "instruments": ["nrs_pain"]},
    {"timepoint": "post", "day": 56, "window_before": 7, "window_after": 7,
     "instruments": ["phq9"]},
]
ANSWERS = {"nrs_pain": pain(4), "phq9": phq9_answers(1), "adverse_event": {"occurred": False},
           "gad7": {f"gad7_{n}": 1 for n in range(1, 8)}}


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def study(world: World) -> dict[str, Any]:
    return create_study(world.client, world.admin.headers, schedule=SCHEDULE)


def enrolled(world: World, study: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return enrol(world.client, world.admin.headers, study["id"], world.site_a.id,
                 enrolled_on=(today_utc() - timedelta(days=70)).isoformat(), **changes)


@pytest.fixture
def participant(world: World, study: dict[str, Any]) -> dict[str, Any]:
    return enrolled(world, study)


def respond(world: World, participant: dict[str, Any], instrument: str, day: int | None = None,
            *, at: datetime | None = None, timepoint: str | None = None) -> dict[str, Any]:
    """Submit `instrument` at UTC noon of study `day` (from enrolment), or at instant `at`."""
    collected = at.isoformat() if at else on_day(participant["enrolled_on"], day)
    extra = {"timepoint": timepoint} if timepoint else {}
    return submit(world, participant["id"], instrument, ANSWERS[instrument], collected, **extra)


def analysis(timepoint: str | None, study_day: int, in_window: bool,
             *flags: str) -> dict[str, Any]:
    return {"timepoint": timepoint, "study_day": study_day, "in_window": in_window,
            "flags": list(flags)}


def read(world: World, response_id: str) -> dict[str, Any]:
    response = world.client.get(f"{API}/responses/{response_id}", headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def randomise(world: World, participant: dict[str, Any], on: date) -> dict[str, Any]:
    response = world.client.post(f"{API}/participants/{participant['id']}/randomisation",
                                 json={"randomised_on": on.isoformat()},
                                 headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def local_instant(enrolled_on: str, day: int, hour: int) -> datetime:
    """`hour`:00 UTC on the UTC date of study day `day` of a UTC participant."""
    anchor = date.fromisoformat(enrolled_on)
    return datetime.combine(anchor + timedelta(days=day), time(hour), tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Declared timepoints


def test_a_declared_timepoint_in_its_window_is_kept_clean(
        world: World, participant: dict[str, Any]) -> None:
    body = respond(world, participant, "nrs_pain", 15, timepoint="late")  # early is nearer

    assert body["timepoint"] == "late"
    assert body["analysis"] == analysis("late", 15, True)
    assert read(world, body["id"])["analysis"] == body["analysis"]


def test_a_declared_timepoint_outside_its_window_is_kept_and_flagged(
        world: World, participant: dict[str, Any]) -> None:
    body = respond(world, participant, "nrs_pain", 6, timepoint="baseline")

    assert body["timepoint"] == "baseline"
    assert body["analysis"] == analysis("baseline", 6, False, "out_of_window")
    assert read(world, body["id"])["analysis"] == body["analysis"]


@pytest.mark.parametrize(("day", "expected"), [
    (56, analysis("post", 56, True, "not_scheduled")),
    (30, analysis("post", 30, False, "out_of_window", "not_scheduled")),
])
def test_a_declared_timepoint_that_does_not_ask_for_the_instrument_is_flagged(
        world: World, participant: dict[str, Any], day: int, expected: dict[str, Any]) -> None:
    body = respond(world, participant, "nrs_pain", day, timepoint="post")

    assert body["analysis"] == expected


# ---------------------------------------------------------------------------------------------
# Placed by window


@pytest.mark.parametrize(("day", "expected"), [
    pytest.param(0, analysis("baseline", 0, True), id="day 0: baseline"),
    pytest.param(3, analysis("baseline", 3, True), id="day 3: baseline's last day"),
    pytest.param(4, analysis("early", 4, True), id="day 4: early's first day"),
    pytest.param(14, analysis("early", 14, True), id="day 14: both, early nearer"),
    pytest.param(15, analysis("early", 15, True), id="day 15: a tie goes to the earlier"),
    pytest.param(16, analysis("late", 16, True), id="day 16: both, late nearer"),
    pytest.param(26, analysis("late", 26, True), id="day 26: late's last day"),
    pytest.param(27, analysis(None, 27, False, "out_of_window"), id="day 27: no window"),
])
def test_an_undeclared_response_goes_to_the_nearest_target(
        world: World, participant: dict[str, Any], day: int, expected: dict[str, Any]) -> None:
    body = respond(world, participant, "nrs_pain", day)

    assert body["timepoint"] is None
    assert body["analysis"] == expected
    assert read(world, body["id"])["analysis"] == expected


def test_the_same_day_places_each_instrument_by_its_own_windows(
        world: World, participant: dict[str, Any]) -> None:
    assert respond(world, participant, "nrs_pain", 50)["analysis"] == analysis(
        None, 50, False, "out_of_window")
    assert respond(world, participant, "phq9", 50)["analysis"] == analysis("post", 50, True)


@pytest.mark.parametrize("instrument", ["adverse_event", "gad7"])
def test_an_instrument_the_schedule_never_asks_for_is_not_scheduled(
        world: World, participant: dict[str, Any], instrument: str) -> None:
    body = respond(world, participant, instrument, 2)

    assert body["analysis"] == analysis(None, 2, False, "not_scheduled")


@pytest.mark.parametrize(("instrument", "day", "expected"), [
    ("nrs_pain", 16, analysis("late", 16, True, "unknown_timepoint")),
    ("nrs_pain", 40, analysis(None, 40, False, "unknown_timepoint", "out_of_window")),
    ("adverse_event", 2, analysis(None, 2, False, "unknown_timepoint", "not_scheduled")),
])
def test_an_unknown_declared_timepoint_is_flagged_and_placed_by_window(
        world: World, participant: dict[str, Any], instrument: str, day: int,
        expected: dict[str, Any]) -> None:
    body = respond(world, participant, instrument, day, timepoint="week99")

    assert body["timepoint"] == "week99"  # what the client sent is kept
    assert body["analysis"] == expected


# ---------------------------------------------------------------------------------------------
# The participant's local day


@pytest.mark.parametrize(("zone", "day", "hour", "local_day", "timepoint"), [
    # 11:00 UTC on day 3 is 01:00 on day 4 at UTC+14: past baseline, inside early.
    pytest.param("Pacific/Kiritimati", 3, 11, 4, "early", id="UTC+14 is a day ahead"),
    # 05:00 UTC on day 4 is the evening of day 3 in Los Angeles: still baseline.
    pytest.param("America/Los_Angeles", 4, 5, 3, "baseline", id="UTC-8/-7 is a day behind"),
])
def test_days_are_the_participants_local_days(
        world: World, study: dict[str, Any], zone: str, day: int, hour: int, local_day: int,
        timepoint: str) -> None:
    in_zone = enrolled(world, study, timezone=zone)
    in_utc = enrolled(world, study)
    instant = local_instant(in_zone["enrolled_on"], day, hour)

    theirs = respond(world, in_zone, "nrs_pain", at=instant)
    utc = respond(world, in_utc, "nrs_pain", at=instant)

    assert theirs["analysis"] == analysis(timepoint, local_day, True)
    assert utc["analysis"]["study_day"] == day
    assert utc["analysis"]["timepoint"] != timepoint


def test_the_offset_the_device_wrote_does_not_change_the_day(
        world: World, participant: dict[str, Any]) -> None:
    instant = local_instant(participant["enrolled_on"], 3, 20)  # 20:00 UTC on day 3
    as_written = [instant, instant.astimezone(timezone(timedelta(hours=14))),
                  instant.astimezone(timezone(timedelta(hours=-10)))]

    bodies = [respond(world, participant, "nrs_pain", at=at) for at in as_written]

    assert [b["analysis"] for b in bodies] == [analysis("baseline", 3, True)] * 3
    assert [datetime.fromisoformat(b["collected_at"]).utcoffset() for b in bodies] == [
        timedelta(0), timedelta(hours=14), timedelta(hours=-10)]


def test_a_declared_timepoint_is_judged_by_the_local_day(
        world: World, study: dict[str, Any]) -> None:
    in_zone = enrolled(world, study, timezone="Pacific/Kiritimati")
    instant = local_instant(in_zone["enrolled_on"], 3, 11)  # day 3 in UTC, day 4 locally

    body = respond(world, in_zone, "nrs_pain", at=instant, timepoint="baseline")

    assert body["analysis"] == analysis("baseline", 4, False, "out_of_window")


# ---------------------------------------------------------------------------------------------
# Randomisation moves the anchor


def test_recording_randomisation_places_earlier_responses_again(
        world: World, study: dict[str, Any], db_session: Session) -> None:
    person = enrolled(world, study)
    bystander = enrolled(world, study)
    bodies = {
        "baseline": respond(world, person, "nrs_pain", 1),
        "early": respond(world, person, "nrs_pain", 12),
        "declared early": respond(world, person, "nrs_pain", 12, timepoint="early"),
        "event": respond(world, person, "adverse_event", 20),
        "post": respond(world, person, "phq9", 56),
    }
    untouched = respond(world, bystander, "nrs_pain", 1)

    randomise(world, person, date.fromisoformat(person["enrolled_on"]) + timedelta(days=10))

    now = {label: read(world, body["id"])["analysis"] for label, body in bodies.items()}
    assert now == {
        "baseline": analysis(None, -9, False, "out_of_window"),
        "early": analysis("baseline", 2, True),
        "declared early": analysis("early", 2, False, "out_of_window"),
        "event": analysis(None, 10, False, "not_scheduled"),
        "post": analysis(None, 46, False, "out_of_window"),
    }
    assert read(world, untouched["id"])["analysis"] == untouched["analysis"]
    (row,) = [r for r in audit_rows(db_session, "participant.randomise")
              if r.target_id == person["id"]]
    assert row.detail["responses_moved"] == 5


def test_randomisation_on_the_enrolment_date_moves_nothing(
        world: World, study: dict[str, Any], db_session: Session) -> None:
    person = enrolled(world, study)
    before = [respond(world, person, "nrs_pain", day) for day in (1, 12, 40)]

    randomise(world, person, date.fromisoformat(person["enrolled_on"]))

    assert [read(world, b["id"])["analysis"] for b in before] == [b["analysis"] for b in before]
    (row,) = [r for r in audit_rows(db_session, "participant.randomise")
              if r.target_id == person["id"]]
    assert row.detail["responses_moved"] == 0


def test_a_response_after_randomisation_is_placed_from_the_new_anchor(
        world: World, study: dict[str, Any]) -> None:
    person = enrolled(world, study)
    randomised_on = date.fromisoformat(person["enrolled_on"]) + timedelta(days=10)
    randomise(world, person, randomised_on)

    body = respond(world, {**person, "enrolled_on": randomised_on.isoformat()}, "nrs_pain", 2)

    assert body["analysis"] == analysis("baseline", 2, True)
