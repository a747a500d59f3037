"""Alerts on worsening from baseline: `worsening: {scale: …}` rules of instrument definitions.

Contract (prom/services/worsening.py, prom/schedule/baseline.py, prom/scoring/change.py): when
a response, or a new version of one, is stored, each of its instrument's worsening rules
compares the scale with the participant's baseline response to the same instrument, and raises
the alert when the worsening reaches the scale's MCID threshold (its absolute MCID when declared,
otherwise its percent of baseline). Reaching the threshold counts.

- The baseline is the first in-window response at the first timepoint asking for the instrument.
  It never raises the alert itself, even when a baseline stored earlier is replaced by one
  collected before it. Without a baseline (missed), nothing is raised.
- The baseline may arrive in the same batch, anywhere in the list. A baseline stored after its
  follow-ups raises nothing on them retroactively.
- Amending a response compares its new version (and an amended baseline's current version is
  what follow-ups are compared with).
- When randomisation is recorded, responses are placed from the new anchor, and later
  responses are compared with the baseline by that placement.
- The alerts are listed by `GET /api/v1/alerts` for the clinicians of the participant's site.

Instruments: nrs_pain (`pain_intensity`, the average item; MCID 2 points absolute, higher is
worse) and peg (percent-only MCID, 30%). No instrument in the library declares a worsening rule
on a `higher_is: better` scale.

Study: baseline (day 0, window 0..3), week4 (day 28, 26..33) and post (day 56, 49..63), each
asking for nrs_pain and peg. Participants are enrolled 70 days ago in UTC, so every window has
closed and responses are placed by the study day of their (UTC noon) collection.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from prom.services.instruments import library
from tests.api.studies_fixtures import (
    API,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    World,
    create_study,
    enrol,
    today_utc,
)
from tests.api.test_reports import on_day, pain, submit

PAIN_WORSE = "pain_worse_than_baseline"
PEG_WORSE = "peg_worse_than_baseline"
SCHEDULE = [
    {"timepoint": "baseline", "day": 0, "window_before": 0, "window_after": 3,
     "instruments": ["nrs_pain", "peg"]},
    {"timepoint": "week4", "day": 28, "window_before": 2, "window_after": 5,
     "instruments": ["nrs_pain", "peg"]},
    {"timepoint": "post", "day": 56, "window_before": 7, "window_after": 7,
     "instruments": ["nrs_pain", "peg"]},
]


# ---------------------------------------------------------------------------------------------
# Helpers


class Person:
    """A participant of the worsening study, and the world that submits for them (the admin)."""

    def __init__(self, world: World, enrolment: dict[str, Any]) -> None:
        self.world = world
        self.id: str = enrolment["id"]
        self.anchor: str = enrolment["enrolled_on"]

    def pain(self, day: int, average: int) -> dict[str, Any]:
        """Submit nrs_pain collected on study `day`; returns the 201 body."""
        return submit(self.world, self.id, "nrs_pain", pain(average), on_day(self.anchor, day))

    def peg(self, day: int, *items: int) -> dict[str, Any]:
        answers = dict(zip(("pain", "enjoyment", "activity"), items, strict=True))
        return submit(self.world, self.id, "peg", answers, on_day(self.anchor, day))

    def entry(self, day: int, average: int) -> dict[str, Any]:
        """A batch entry of nrs_pain on study `day`."""
        return {"id": str(uuid.uuid4()), "participant_id": self.id, "instrument": "nrs_pain",
                "instrument_version": library().get("nrs_pain").version,
                "collected_at": on_day(self.anchor, day), "answers": pain(average)}


@pytest.fixture
def study(world: World) -> dict[str, Any]:
    return create_study(world.client, world.admin.headers, schedule=SCHEDULE)


@pytest.fixture
def person(world: World, study: dict[str, Any]) -> Person:
    return enrolled(world, study)


def enrolled(world: World, study: dict[str, Any], days_ago: int = 70, **changes: Any) -> Person:
    enrolment = enrol(world.client, world.admin.headers, study["id"], world.site_a.id,
                      enrolled_on=(today_utc() - timedelta(days=days_ago)).isoformat(),
                      **changes)
    return Person(world, enrolment)


def rules(body: dict[str, Any]) -> list[str]:
    return [alert["rule"] for alert in body["alerts"]]


def get_response(world: World, response_id: str) -> dict[str, Any]:
    response = world.client.get(f"{API}/responses/{response_id}", headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def amend_pain(world: World, response_id: str, average: int) -> dict[str, Any]:
    response = world.client.post(f"{API}/responses/{response_id}/amendments",
                                 json={"answers": pain(average), "reason": "misread"},
                                 headers=world.admin.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


# ---------------------------------------------------------------------------------------------
# The threshold


@pytest.mark.parametrize(("baseline", "later", "raises"), [
    pytest.param(5, 7, True, id="+2: exactly the MCID"),
    pytest.param(5, 6, False, id="+1: just below"),
    pytest.param(0, 2, True, id="from 0: absolute MCID needs no percent"),
    pytest.param(2, 3, False, id="+50% but 1 point: the absolute MCID decides"),
    pytest.param(8, 10, True, id="+2 from a severe baseline"),
    pytest.param(7, 3, False, id="improvement"),
])
def test_nrs_pain_raises_at_two_points_worse(person: Person, baseline: int, later: int,
                                             raises: bool) -> None:
    first = person.pain(1, baseline)
    follow_up = person.pain(28, later)

    assert PAIN_WORSE not in rules(first)
    assert (PAIN_WORSE in rules(follow_up)) is raises
    assert (PAIN_WORSE in rules(get_response(person.world, follow_up["id"]))) is raises


@pytest.mark.parametrize(("baseline", "later", "raises"), [
    pytest.param((4, 3, 3), (5, 4, 4), True, id="10/3 to 13/3: exactly 30%"),
    pytest.param((4, 3, 3), (4, 4, 4), False, id="10/3 to 4: 20%"),
    pytest.param((7, 7, 6), (9, 9, 8), True, id="20/3 to 26/3: exactly 30%"),
    pytest.param((7, 7, 6), (8, 8, 8), False, id="20/3 to 8: 20%"),
    pytest.param((2, 2, 2), (3, 3, 2), True, id="2 to 8/3: 33%, only 0.67 points"),
])
def test_peg_raises_at_thirty_percent_worse(person: Person, baseline: tuple[int, ...],
                                            later: tuple[int, ...], raises: bool) -> None:
    first = person.peg(2, *baseline)
    follow_up = person.peg(30, *later)

    assert PEG_WORSE not in rules(first)
    assert (PEG_WORSE in rules(follow_up)) is raises


def test_each_follow_up_is_compared_with_the_baseline(person: Person) -> None:
    bodies = [person.pain(day, value) for day, value in ((1, 4), (28, 5), (40, 6), (56, 7))]

    assert [PAIN_WORSE in rules(b) for b in bodies] == [False, False, True, True]


# ---------------------------------------------------------------------------------------------
# Which response is the baseline


def test_a_second_response_in_the_baseline_window_is_compared_with_the_first(
        person: Person) -> None:
    first = person.pain(1, 3)
    second = person.pain(2, 5)

    assert PAIN_WORSE not in rules(first)
    assert PAIN_WORSE in rules(second)


def test_a_baseline_collected_earlier_but_stored_later_never_raises(person: Person) -> None:
    stored_first = person.pain(2, 3)
    earlier = person.pain(0, 6)  # collected first in the window: it is now the baseline
    follow_up = person.pain(28, 7)  # +1 from 6 (it would be +4 from 3)

    assert [PAIN_WORSE in rules(b) for b in (stored_first, earlier, follow_up)] == [
        False, False, False]


def test_without_a_baseline_nothing_is_raised(person: Person) -> None:
    out_of_window = person.pain(10, 1)  # before week4's window: no timepoint
    bodies = [out_of_window, person.pain(28, 3), person.pain(56, 9)]

    assert out_of_window["analysis"]["timepoint"] is None
    assert [PAIN_WORSE in rules(b) for b in bodies] == [False, False, False]


def test_a_baseline_stored_after_its_follow_ups_raises_nothing_on_them(person: Person) -> None:
    follow_up = person.pain(28, 9)
    baseline = person.pain(1, 5)

    assert PAIN_WORSE not in rules(follow_up)
    assert PAIN_WORSE not in rules(baseline)
    assert PAIN_WORSE not in rules(get_response(person.world, follow_up["id"]))
    assert PAIN_WORSE in rules(person.pain(56, 7))  # later responses use that baseline


def test_baseline_and_follow_up_in_one_batch_with_the_baseline_last(person: Person) -> None:
    entries = [person.entry(28, 7), person.entry(40, 6), person.entry(1, 5)]

    response = person.world.client.post(f"{API}/responses/batch",
                                        json={"responses": entries},
                                        headers=person.world.admin.headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert [PAIN_WORSE in rules(r["body"]) for r in results] == [True, False, False]
    assert PAIN_WORSE in rules(get_response(person.world, entries[0]["id"]))


# ---------------------------------------------------------------------------------------------
# Amendments


def test_amending_a_follow_up_to_worse_raises_on_the_new_version(person: Person) -> None:
    person.pain(1, 5)
    follow_up = person.pain(28, 6)
    assert PAIN_WORSE not in rules(follow_up)

    worse = amend_pain(person.world, follow_up["id"], 7)
    better = amend_pain(person.world, follow_up["id"], 6)

    assert (worse["version"], PAIN_WORSE in rules(worse)) == (2, True)
    assert (better["version"], PAIN_WORSE in rules(better)) == (3, False)
    versions = person.world.client.get(f"{API}/responses/{follow_up['id']}/versions",
                                       headers=person.world.admin.headers).json["items"]
    assert [[a["rule"] for a in v["alerts"]] for v in versions] == [[], [PAIN_WORSE], []]
    assert PAIN_WORSE not in rules(get_response(person.world, follow_up["id"]))


def test_amending_the_baseline_never_raises_and_moves_the_reference(person: Person) -> None:
    baseline = person.pain(1, 5)

    amended = amend_pain(person.world, baseline["id"], 9)  # much "worse" than version 1
    follow_up = person.pain(28, 8)  # −1 from the amended baseline (+3 from the original)
    amend_pain(person.world, baseline["id"], 6)
    later = person.pain(56, 8)  # +2 from the current version

    assert PAIN_WORSE not in rules(amended)
    assert PAIN_WORSE not in rules(follow_up)
    assert PAIN_WORSE in rules(later)


# ---------------------------------------------------------------------------------------------
# Randomisation moves the anchor


def test_after_randomisation_responses_are_compared_with_the_new_baseline(
        world: World, study: dict[str, Any]) -> None:
    person = enrolled(world, study)
    old_baseline = person.pain(1, 1)
    randomised_on = date.fromisoformat(person.anchor) + timedelta(days=35)
    recorded = world.client.post(f"{API}/participants/{person.id}/randomisation",
                                 json={"randomised_on": randomised_on.isoformat()},
                                 headers=world.admin.headers)
    assert recorded.status_code == 200, recorded.get_data(as_text=True)
    person.anchor = randomised_on.isoformat()

    new_baseline = person.pain(1, 5)  # +4 from the old one, but it is the baseline now
    level = person.pain(28, 6)  # +1 from the new baseline (+5 from the old)
    worse = person.pain(29, 7)  # +2 from the new baseline

    assert get_response(world, old_baseline["id"])["analysis"]["timepoint"] is None
    assert new_baseline["analysis"]["timepoint"] == "baseline"
    assert [PAIN_WORSE in rules(b) for b in (new_baseline, level, worse)] == [
        False, False, True]


# ---------------------------------------------------------------------------------------------
# The alert list


def test_worsening_alerts_are_listed_for_the_sites_clinicians(person: Person) -> None:
    world = person.world
    person.pain(1, 5)
    follow_up = person.pain(28, 7)

    mine = world.client.get(f"{API}/alerts", query_string={"participant_id": person.id},
                            headers=world.headers(CLINICIAN_OF_SITE))
    theirs = world.client.get(f"{API}/alerts", headers=world.headers(CLINICIAN_OTHER_SITE))

    assert mine.status_code == 200, mine.get_data(as_text=True)
    (alert,) = mine.json["items"]
    assert (alert["rule"], alert["severity"], alert["status"]) == (PAIN_WORSE, "medium", "open")
    assert alert["response_id"] == follow_up["id"]
    assert alert["participant_id"] == person.id
    assert "worse than at baseline" in alert["message"]
    assert theirs.status_code == 200
    assert [a for a in theirs.json["items"] if a["participant_id"] == person.id] == []
