"""Which response is a participant's baseline for an instrument (prom/schedule/baseline.py).

Contract, from the module docstring:

1. The baseline timepoint of an instrument is the first occurrence, by target day, that asks
   for it (`baseline_timepoint`): `baseline` for most instruments, `week1` for one first asked
   for at week 1; None when the schedule never asks for it.
2. The baseline response (`pick_baseline`) is the analysis response at that timepoint: the first
   collected inside its window, or else the first collected there at all; ties on the collection
   instant go to the first received. A participant with no response there has no baseline: a
   later response never stands in.
3. For an instrument the schedule never asks for, the first response collected is the baseline.

Responses are placed with the real rules (`assign`) on this schedule, declared out of day
order to show that days, not declaration, decide:

====== ===== ========= ==================================
code   day   window    instruments
====== ===== ========= ==================================
post   56    49..63    phq9, pseq
screen −14   −16..−12  gad7
base   0     0..3      nrs_pain, phq9
week1… 7, 14 5..9, …   nrs_pain, peg (every 7 days, 3 of them)
====== ===== ========= ==================================
"""

from __future__ import annotations

import datetime as dt
from random import Random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prom.schedule import (
    Placed,
    TimepointSpec,
    assign,
    baseline_timepoint,
    expand,
    pick_baseline,
)

UTC = ZoneInfo("UTC")
ANCHOR = dt.date(2026, 3, 1)
SCHEDULE = expand([
    TimepointSpec("post", day=56, window_before=7, window_after=7, instruments=("phq9", "pseq")),
    TimepointSpec("screen", day=-14, window_before=2, window_after=2, instruments=("gad7",)),
    TimepointSpec("base", day=0, window_before=0, window_after=3,
                  instruments=("nrs_pain", "phq9")),
    TimepointSpec("week", day=7, window_before=2, window_after=2,
                  instruments=("nrs_pain", "peg"), every=7, count=3),
])


def response(key: str, instrument: str, day: int, *, declared: str | None = None,
             hour: int = 12, received_after: int = 0) -> Placed:
    """A response collected at `hour`:00 on study `day`, received `received_after` minutes
    later, placed by the schedule's rules."""
    collected = dt.datetime.combine(ANCHOR + dt.timedelta(days=day), dt.time(hour), tzinfo=UTC)
    return Placed(key, instrument, collected, collected + dt.timedelta(minutes=received_after),
                  assign(SCHEDULE, instrument=instrument, collected_at=collected, anchor=ANCHOR,
                         zone=UTC, declared=declared))


def picked(instrument: str, *responses: Placed) -> str | None:
    found = pick_baseline(SCHEDULE, instrument, responses)
    return None if found is None else found.key


# ---------------------------------------------------------------------------------------------
# The baseline timepoint


@pytest.mark.parametrize(("instrument", "code"), [
    ("nrs_pain", "base"),  # also asked for at week1..3 and listed after post
    ("phq9", "base"),  # post is declared first, but base comes first by day
    ("peg", "week1"),  # first asked for at the first occurrence of a repeating timepoint
    ("pseq", "post"),
    ("gad7", "screen"),  # a negative day comes before day 0
    ("eq5d5l", None),  # never asked for
])
def test_the_baseline_timepoint_is_the_first_by_day_asking_for_it(instrument: str,
                                                                  code: str | None) -> None:
    assert baseline_timepoint(SCHEDULE, instrument) == code


def test_an_empty_schedule_has_no_baseline_timepoint() -> None:
    assert baseline_timepoint([], "nrs_pain") is None


# ---------------------------------------------------------------------------------------------
# The baseline response


def test_the_first_collected_in_the_window_wins_whatever_the_order_received() -> None:
    later = response("day 2", "nrs_pain", 2)
    earlier = response("day 1", "nrs_pain", 1, received_after=3 * 24 * 60)  # synced late

    assert picked("nrs_pain", later, earlier) == "day 1"


def test_in_the_window_beats_out_of_it_even_when_collected_later() -> None:
    early = response("declared, day −1", "nrs_pain", -1, declared="base")
    late = response("declared, day 5", "nrs_pain", 5, declared="base")
    inside = response("day 3", "nrs_pain", 3)
    assert not early.assignment.in_window and early.assignment.timepoint == "base"

    assert picked("nrs_pain", early, late, inside) == "day 3"


def test_without_one_in_the_window_the_first_collected_there_stands() -> None:
    late = response("declared, day 6", "nrs_pain", 6, declared="base")
    later = response("declared, day 20", "nrs_pain", 20, declared="base")

    assert picked("nrs_pain", later, late) == "declared, day 6"


def test_a_tie_in_both_times_goes_to_the_smaller_id_in_any_order() -> None:
    # Found by the hypothesis test below in CI: with equal collected and received times the
    # choice followed the order the responses were given in.
    b = response("r1", "nrs_pain", 1)
    a = response("r0", "nrs_pain", 1)

    assert picked("nrs_pain", a, b) == picked("nrs_pain", b, a) == "r0"


def test_the_same_instant_goes_to_the_first_received() -> None:
    second = response("received second", "nrs_pain", 1, received_after=2)
    first = response("received first", "nrs_pain", 1, received_after=1)

    assert picked("nrs_pain", second, first) == "received first"


def test_a_missed_baseline_is_not_replaced_by_a_later_response() -> None:
    responses = [response("day 4: no window", "nrs_pain", 4),
                 response("week1", "nrs_pain", 7),
                 response("declared week2", "nrs_pain", 14, declared="week2")]

    assert picked("nrs_pain", *responses) is None
    assert picked("nrs_pain") is None


def test_only_responses_to_the_instrument_count() -> None:
    phq9 = response("phq9 at base", "phq9", 0)
    pain = response("pain at base", "nrs_pain", 2)

    assert picked("nrs_pain", phq9, pain) == "pain at base"
    assert picked("nrs_pain", phq9) is None


def test_an_instrument_first_asked_for_at_week1_has_its_baseline_there() -> None:
    responses = [response("day 1, unscheduled here", "peg", 1),
                 response("week2", "peg", 14),
                 response("week1", "peg", 8)]

    assert picked("peg", *responses) == "week1"


def test_an_unscheduled_instrument_takes_the_first_collected() -> None:
    responses = [response("day 30", "eq5d5l", 30),
                 response("day 3, declared base", "eq5d5l", 3, declared="base"),
                 response("day −20", "eq5d5l", -20, received_after=60),
                 response("day 10", "eq5d5l", 10)]
    assert responses[2].assignment.flags == ("not_scheduled",)

    assert picked("eq5d5l", *responses) == "day −20"


def test_an_unscheduled_instrument_ties_go_to_the_first_received() -> None:
    assert picked("eq5d5l", response("b", "eq5d5l", 5, received_after=9),
                  response("a", "eq5d5l", 5, received_after=1)) == "a"


def test_the_local_day_decides_with_the_placement() -> None:
    # 23:00 UTC on day 3 is day 4 in Tokyo (UTC+9): outside base's window there.
    tokyo = ZoneInfo("Asia/Tokyo")
    collected = dt.datetime.combine(ANCHOR + dt.timedelta(days=3), dt.time(23), tzinfo=UTC)
    late_in_tokyo = Placed("late", "nrs_pain", collected, collected, assign(
        SCHEDULE, instrument="nrs_pain", collected_at=collected, anchor=ANCHOR, zone=tokyo))

    assert late_in_tokyo.assignment.timepoint is None
    assert picked("nrs_pain", late_in_tokyo) is None


# ---------------------------------------------------------------------------------------------
# Properties


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[Placed]]:
    """An instrument and a participant's responses to it and to others: any study day from −20
    to 70, sometimes declaring a timepoint, received up to a day later."""
    instrument = draw(st.sampled_from(["nrs_pain", "phq9", "peg", "gad7", "eq5d5l"]))
    codes = [o.code for o in SCHEDULE] + ["nonsense"]
    count = draw(st.integers(0, 8))
    responses = [
        response(f"r{n}", draw(st.sampled_from([instrument, instrument, "pseq"])),
                 draw(st.integers(-20, 70)), hour=draw(st.integers(0, 23)),
                 declared=draw(st.none() | st.sampled_from(codes)),
                 received_after=draw(st.integers(0, 24 * 60)))
        for n in range(count)]
    return instrument, responses


def rank(item: Placed) -> tuple[bool, dt.datetime, dt.datetime]:
    return (not item.assignment.in_window, item.collected_at, item.received_at)


@given(histories(), st.randoms(use_true_random=False))
def test_the_baseline_does_not_depend_on_the_order_given(drawn: tuple[str, list[Placed]],
                                                         random: Random) -> None:
    instrument, responses = drawn
    shuffled = list(responses)
    random.shuffle(shuffled)

    assert pick_baseline(SCHEDULE, instrument, shuffled) == pick_baseline(
        SCHEDULE, instrument, responses)


@given(histories())
def test_the_baseline_is_the_best_response_at_the_baseline_timepoint(
        drawn: tuple[str, list[Placed]]) -> None:
    instrument, responses = drawn
    code = baseline_timepoint(SCHEDULE, instrument)
    found = pick_baseline(SCHEDULE, instrument, responses)
    mine = [r for r in responses if r.instrument == instrument]
    there = [r for r in mine if code is None or r.assignment.timepoint == code]

    if not there:
        assert found is None
        return
    assert found is not None and found.instrument == instrument
    if code is None:
        assert found.collected_at == min(r.collected_at for r in mine)
    else:
        assert found.assignment.timepoint == code
        assert rank(found) == min(rank(r) for r in there)
