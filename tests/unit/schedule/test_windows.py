"""Schedule windows: `expand` turns declared timepoints into occurrences, `study_day` counts local
calendar days from the anchor, `assign` picks the analysis timepoint of a response and
`mark_duplicates` flags all but the first response per timepoint and instrument.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prom.schedule import (
    DUPLICATE,
    NOT_SCHEDULED,
    OUT_OF_WINDOW,
    UNKNOWN_TIMEPOINT,
    Assignment,
    Occurrence,
    Placed,
    ScheduleError,
    TimepointSpec,
    assign,
    expand,
    mark_duplicates,
    study_day,
)

UTC = dt.UTC
ANCHOR = dt.date(2026, 3, 1)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")

BASELINE = TimepointSpec("baseline", day=0, window_before=0, window_after=3,
                         instruments=("promis29", "peg"))
WEEKLY_PEG = TimepointSpec("week", day=7, window_before=2, window_after=2, instruments=("peg",),
                           every=7, count=8)
POST = TimepointSpec("post", day=60, window_before=7, window_after=14,
                     instruments=("promis29", "peg"))


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 12,
          minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def on_day(day: int, zone: ZoneInfo = LONDON, hour: int = 12) -> dt.datetime:
    """Local `hour` o'clock on study day `day` (from ANCHOR) in `zone`."""
    return dt.datetime.combine(ANCHOR + dt.timedelta(days=day), dt.time(hour), tzinfo=zone)


def place(schedule: list[Occurrence], instrument: str, day: int, *,
          declared: str | None = None, zone: ZoneInfo = LONDON) -> Assignment:
    return assign(schedule, instrument=instrument, collected_at=on_day(day, zone),
                  anchor=ANCHOR, zone=zone, declared=declared)


def occurrence(code: str, day: int, before: int, after: int, *instruments: str) -> Occurrence:
    return Occurrence(code=code, declared=code, number=1, day=day, window_before=before,
                      window_after=after, instruments=instruments)


# --- expand -----------------------------------------------------------------------------------


def test_expand_keeps_the_code_of_a_single_timepoint() -> None:
    (baseline,) = expand([BASELINE])
    assert baseline == Occurrence(code="baseline", declared="baseline", number=1, day=0,
                                  window_before=0, window_after=3,
                                  instruments=("promis29", "peg"))
    assert (baseline.first_day, baseline.last_day) == (0, 3)


def test_expand_numbers_a_repeating_timepoint_with_the_declared_window() -> None:
    weeks = expand([WEEKLY_PEG])
    assert [o.code for o in weeks] == [f"week{n}" for n in range(1, 9)]
    assert [o.day for o in weeks] == [7, 14, 21, 28, 35, 42, 49, 56]
    assert [o.number for o in weeks] == list(range(1, 9))
    assert {o.declared for o in weeks} == {"week"}
    assert {(o.window_before, o.window_after) for o in weeks} == {(2, 2)}
    assert {o.instruments for o in weeks} == {("peg",)}
    assert (weeks[-1].first_day, weeks[-1].last_day) == (54, 58)


def test_expand_keeps_the_plain_code_when_count_is_one_even_with_every() -> None:
    (once,) = expand([TimepointSpec("week", 7, 1, 1, ("peg",), every=7, count=1)])
    assert (once.code, once.number, once.day) == ("week", 1, 7)


def test_expand_sorts_by_day_and_keeps_declaration_order_on_equal_days() -> None:
    specs = [
        POST,
        TimepointSpec("late_b", 14, 0, 0, ("b",)),
        WEEKLY_PEG,
        TimepointSpec("late_a", 14, 0, 0, ("a",)),
        BASELINE,
    ]
    codes = [(o.code, o.day) for o in expand(specs)]
    assert codes == [
        ("baseline", 0), ("week1", 7),
        ("late_b", 14), ("week2", 14), ("late_a", 14),
        ("week3", 21), ("week4", 28), ("week5", 35), ("week6", 42), ("week7", 49),
        ("week8", 56), ("post", 60),
    ]


def test_expand_of_nothing_is_an_empty_schedule() -> None:
    assert expand([]) == []


@pytest.mark.parametrize("count", [0, -1])
def test_expand_rejects_a_count_below_one(count: int) -> None:
    with pytest.raises(ScheduleError, match="count"):
        expand([TimepointSpec("week", 7, 1, 1, ("peg",), every=7, count=count)])


@pytest.mark.parametrize(("before", "after"), [(-1, 0), (0, -1), (-2, -2)])
def test_expand_rejects_negative_windows(before: int, after: int) -> None:
    with pytest.raises(ScheduleError, match="negative"):
        expand([TimepointSpec("baseline", 0, before, after, ("peg",))])


@pytest.mark.parametrize("every", [None, 0, -7])
def test_expand_rejects_a_repeating_timepoint_without_a_positive_interval(
        every: int | None) -> None:
    with pytest.raises(ScheduleError, match="every"):
        expand([TimepointSpec("week", 7, 1, 1, ("peg",), every=every, count=3)])


def test_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


def test_expand_rejects_a_declared_code_that_clashes_with_a_repeating_occurrence() -> None:
    clash = TimepointSpec("week1", 100, 0, 0, ("promis29",))
    with pytest.raises(ScheduleError, match="week1"):
        expand([WEEKLY_PEG, clash])
    with pytest.raises(ScheduleError, match="week1"):
        expand([clash, WEEKLY_PEG])


def test_expand_rejects_a_code_declared_twice() -> None:
    with pytest.raises(ScheduleError, match="baseline"):
        expand([BASELINE, TimepointSpec("baseline", 3, 0, 0, ("peg",))])


@st.composite
def specs(draw: st.DrawFn) -> list[TimepointSpec]:
    """Valid specs with distinct, suffix-free codes (so occurrences never clash)."""
    codes = draw(st.lists(st.sampled_from(["baseline", "week", "month", "post", "follow"]),
                          min_size=1, max_size=4, unique=True))
    result = []
    for code in codes:
        count = draw(st.integers(1, 6))
        result.append(TimepointSpec(
            code=code, day=draw(st.integers(-10, 60)),
            window_before=draw(st.integers(0, 10)), window_after=draw(st.integers(0, 10)),
            instruments=tuple(draw(st.lists(st.sampled_from(["peg", "promis29", "phq9"]),
                                            min_size=1, max_size=3, unique=True))),
            every=draw(st.integers(1, 14)) if count > 1 else draw(st.none() | st.integers(1, 9)),
            count=count))
    return result


@settings(max_examples=150, deadline=None)
@given(specs())
def test_expand_yields_count_occurrences_per_spec_in_day_order(declared: list[TimepointSpec],
                                                              ) -> None:
    schedule = expand(declared)
    assert len(schedule) == sum(s.count for s in declared)
    assert [o.day for o in schedule] == sorted(o.day for o in schedule)
    assert len({o.code for o in schedule}) == len(schedule)
    for spec in declared:
        mine = sorted((o for o in schedule if o.declared == spec.code), key=lambda o: o.number)
        assert [o.number for o in mine] == list(range(1, spec.count + 1))
        assert [o.day for o in mine] == [spec.day + n * (spec.every or 0)
                                         for n in range(spec.count)]
        for o in mine:
            assert (o.window_before, o.window_after) == (spec.window_before, spec.window_after)
            assert o.instruments == spec.instruments


# --- study_day --------------------------------------------------------------------------------


def test_study_day_is_the_local_calendar_day_in_the_participants_zone() -> None:
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert study_day(moment, ANCHOR, TOKYO) == 1  # 08:30 on 2 March in Tokyo
    assert study_day(moment, ANCHOR, LONDON) == 0  # 23:30 on 1 March in London
    assert study_day(moment, ANCHOR, ZoneInfo("America/Los_Angeles")) == 0


def test_study_day_does_not_depend_on_the_zone_the_moment_is_written_in() -> None:
    in_utc = dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    for written in (in_utc, in_utc.astimezone(TOKYO), in_utc.astimezone(NEW_YORK),
                    in_utc.astimezone(dt.timezone(dt.timedelta(hours=-11)))):
        assert study_day(written, ANCHOR, TOKYO) == 1
        assert study_day(written, ANCHOR, LONDON) == 0


def test_study_day_is_negative_before_the_anchor() -> None:
    assert study_day(local(TOKYO, 2026, 2, 28, 23, 59), ANCHOR, TOKYO) == -1
    assert study_day(dt.datetime(2026, 3, 1, 0, 30, tzinfo=UTC), ANCHOR, NEW_YORK) == -1


def test_study_day_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        study_day(dt.datetime(2026, 3, 5, 12), ANCHOR, LONDON)


@pytest.mark.parametrize(("moment", "zone", "expected"), [
    # Europe/London springs forward at 01:00 GMT on 29 March 2026.
    (dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), LONDON, 28),  # 00:30 GMT
    (dt.datetime(2026, 3, 29, 22, 59, tzinfo=UTC), LONDON, 28),  # 23:59 BST
    (dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC), LONDON, 29),  # 00:00 BST on the 30th
    (dt.datetime(2026, 3, 30, 12, 0, tzinfo=UTC), LONDON, 29),
    # America/New_York springs forward at 02:00 EST on 8 March 2026.
    (dt.datetime(2026, 3, 8, 5, 30, tzinfo=UTC), NEW_YORK, 7),  # 00:30 EST
    (dt.datetime(2026, 3, 9, 3, 30, tzinfo=UTC), NEW_YORK, 7),  # 23:30 EDT on the 8th
    (dt.datetime(2026, 3, 9, 4, 30, tzinfo=UTC), NEW_YORK, 8),  # 00:30 EDT on the 9th
    # and back in the autumn (Europe/London falls back on 25 October 2026).
    (dt.datetime(2026, 10, 24, 22, 59, tzinfo=UTC), LONDON, 237),  # 23:59 BST on the 24th
    (dt.datetime(2026, 10, 25, 23, 30, tzinfo=UTC), LONDON, 238),  # 23:30 GMT on the 25th
])
def test_study_day_is_not_shifted_by_a_clock_change(moment: dt.datetime, zone: ZoneInfo,
                                                    expected: int) -> None:
    assert study_day(moment, ANCHOR, zone) == expected


# --- assign: windows --------------------------------------------------------------------------


def test_assign_includes_both_ends_of_the_window_and_nothing_beyond() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG])  # week2: day 14, days 12..16
    for day in (12, 13, 14, 15, 16):
        assert place(schedule, "peg", day) == Assignment("week2", day, True)
    for day in (11, 17):  # between week1 (5..9), week2 (12..16) and week3 (19..23)
        assert place(schedule, "peg", day) == Assignment(None, day, False, (OUT_OF_WINDOW,))


def test_assign_of_a_response_before_the_first_window_is_out_of_window() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG])
    assert place(schedule, "promis29", -1) == Assignment(None, -1, False, (OUT_OF_WINDOW,))
    assert place(schedule, "promis29", 0) == Assignment("baseline", 0, True)
    assert place(schedule, "promis29", 3) == Assignment("baseline", 3, True)
    assert place(schedule, "promis29", 4) == Assignment(None, 4, False, (OUT_OF_WINDOW,))


def test_assign_keeps_a_known_declared_timepoint_in_its_window() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG])
    assert place(schedule, "peg", 8, declared="week1") == Assignment("week1", 8, True)


def test_assign_keeps_a_known_declared_timepoint_outside_its_window() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG])
    # Day 14 is week2's target, but the participant says week1: that is kept, late.
    assert place(schedule, "peg", 14, declared="week1") == Assignment(
        "week1", 14, False, (OUT_OF_WINDOW,))
    assert place(schedule, "peg", 4, declared="week1") == Assignment(
        "week1", 4, False, (OUT_OF_WINDOW,))


def test_assign_places_a_response_with_an_unknown_declared_timepoint_by_window() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG])
    # `week` is the declared code of a repeating timepoint, not an occurrence.
    assert place(schedule, "peg", 15, declared="week") == Assignment(
        "week2", 15, True, (UNKNOWN_TIMEPOINT,))
    assert place(schedule, "peg", 11, declared="month3") == Assignment(
        None, 11, False, (UNKNOWN_TIMEPOINT, OUT_OF_WINDOW))
    assert place(schedule, "adverse_event", 11, declared="month3") == Assignment(
        None, 11, False, (UNKNOWN_TIMEPOINT, NOT_SCHEDULED))


def test_assign_flags_an_instrument_that_no_occurrence_lists_as_not_scheduled() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG, POST])
    for day in (0, 14, 200):  # inside windows or not, it does not matter
        assert place(schedule, "adverse_event", day) == Assignment(
            None, day, False, (NOT_SCHEDULED,))


def test_assign_places_each_occurrence_of_a_repeating_timepoint_separately() -> None:
    schedule = expand([WEEKLY_PEG])
    for n in range(1, 9):
        assert place(schedule, "peg", 7 * n - 2).timepoint == f"week{n}"
        assert place(schedule, "peg", 7 * n).timepoint == f"week{n}"
        assert place(schedule, "peg", 7 * n + 2).timepoint == f"week{n}"


# --- assign: overlapping windows --------------------------------------------------------------


def test_assign_prefers_the_nearest_target_in_overlapping_windows() -> None:
    schedule = expand([TimepointSpec("week", 6, 4, 4, ("peg",), every=6, count=2)])
    # week1: day 6, days 2..10; week2: day 12, days 8..16.
    assert place(schedule, "peg", 8) == Assignment("week1", 8, True)
    assert place(schedule, "peg", 10) == Assignment("week2", 10, True)
    assert place(schedule, "peg", 16) == Assignment("week2", 16, True)


def test_assign_gives_a_tie_to_the_earlier_occurrence() -> None:
    schedule = expand([TimepointSpec("week", 6, 4, 4, ("peg",), every=6, count=2)])
    assert place(schedule, "peg", 9) == Assignment("week1", 9, True)  # 3 days from each


def test_assign_gives_a_tie_to_the_earlier_occurrence_whatever_the_declaration_order() -> None:
    later = TimepointSpec("month2", 20, 5, 5, ("peg",))
    earlier = TimepointSpec("month1", 10, 5, 5, ("peg",))
    schedule = expand([later, earlier])
    assert place(schedule, "peg", 15) == Assignment("month1", 15, True)
    assert place(schedule, "peg", 16) == Assignment("month2", 16, True)


def test_assign_gives_a_tie_to_the_earlier_target_even_in_an_unsorted_schedule() -> None:
    schedule = list(reversed(expand([TimepointSpec("month1", 10, 5, 5, ("peg",)),
                                     TimepointSpec("month2", 20, 5, 5, ("peg",))])))
    assert [o.code for o in schedule] == ["month2", "month1"]
    assert place(schedule, "peg", 15) == Assignment("month1", 15, True)


def test_a_declared_timepoint_that_does_not_ask_for_the_instrument_is_flagged() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG, POST])
    result = place(schedule, "adverse_event", 0, declared="baseline")
    assert result == Assignment("baseline", 0, True, (NOT_SCHEDULED,))


def test_assign_considers_only_occurrences_that_list_the_instrument() -> None:
    schedule = expand([BASELINE, WEEKLY_PEG, POST])  # week8: day 56 (54..58), PEG only
    # post: day 60 (53..74), PROMIS-29 and PEG.
    assert place(schedule, "promis29", 56) == Assignment("post", 56, True)
    assert place(schedule, "peg", 56) == Assignment("week8", 56, True)
    assert place(schedule, "peg", 57) == Assignment("week8", 57, True)  # 1 day v. 3
    assert place(schedule, "peg", 59) == Assignment("post", 59, True)  # week8 has closed
    assert place(schedule, "promis29", 52) == Assignment(None, 52, False, (OUT_OF_WINDOW,))


def test_assign_does_not_place_an_instrument_in_a_nearer_window_that_does_not_list_it() -> None:
    schedule = [occurrence("pain", 10, 5, 5, "peg"), occurrence("mood", 14, 5, 5, "phq9")]
    assert place(schedule, "phq9", 10) == Assignment("mood", 10, True)
    assert place(schedule, "phq9", 8) == Assignment(None, 8, False, (OUT_OF_WINDOW,))


# --- assign: time zones -----------------------------------------------------------------------


def test_assign_uses_the_local_day_at_the_end_of_a_window() -> None:
    schedule = expand([TimepointSpec("week1", 7, 1, 1, ("peg",))])  # 7..9 March 2026
    # New York is on EDT (UTC-4) after 8 March: 23:30 local on the 9th is 03:30 UTC on the 10th.
    late_evening = local(NEW_YORK, 2026, 3, 9, 23, 30)
    after_midnight = local(NEW_YORK, 2026, 3, 10, 0, 30)
    inside = assign(schedule, instrument="peg", collected_at=late_evening.astimezone(UTC),
                    anchor=ANCHOR, zone=NEW_YORK)
    outside = assign(schedule, instrument="peg", collected_at=after_midnight.astimezone(UTC),
                     anchor=ANCHOR, zone=NEW_YORK)
    assert inside == Assignment("week1", 8, True)
    assert outside == Assignment(None, 9, False, (OUT_OF_WINDOW,))


def test_assign_uses_the_local_day_at_the_start_of_a_window() -> None:
    schedule = expand([TimepointSpec("week1", 7, 1, 1, ("peg",))])  # 7..9 March 2026
    # 7 March 00:30 in Tokyo is still 6 March in UTC.
    just_opened = local(TOKYO, 2026, 3, 7, 0, 30).astimezone(UTC)
    assert just_opened.date() == dt.date(2026, 3, 6)
    assert assign(schedule, instrument="peg", collected_at=just_opened, anchor=ANCHOR,
                  zone=TOKYO) == Assignment("week1", 6, True)
    assert assign(schedule, instrument="peg", collected_at=just_opened, anchor=ANCHOR,
                  zone=LONDON) == Assignment(None, 5, False, (OUT_OF_WINDOW,))


def test_assign_rejects_a_naive_collection_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        assign(expand([BASELINE]), instrument="peg", collected_at=dt.datetime(2026, 3, 1, 12),
               anchor=ANCHOR, zone=LONDON)


# --- assign: properties -----------------------------------------------------------------------

INSTRUMENTS = st.sampled_from(["peg", "promis29", "phq9", "adverse_event"])


@settings(max_examples=300, deadline=None)
@given(declared=specs(), instrument=INSTRUMENTS, day=st.integers(-30, 160))
def test_assign_without_a_declared_timepoint_picks_the_nearest_containing_candidate(
        declared: list[TimepointSpec], instrument: str, day: int) -> None:
    schedule = expand(declared)
    result = place(schedule, instrument, day)
    listing = [o for o in schedule if instrument in o.instruments]
    containing = [o for o in listing if o.first_day <= day <= o.last_day]
    assert result.study_day == day
    if not listing:
        assert result == Assignment(None, day, False, (NOT_SCHEDULED,))
    elif not containing:
        assert result == Assignment(None, day, False, (OUT_OF_WINDOW,))
    else:
        assert result.in_window and result.flags == ()
        (chosen,) = [o for o in schedule if o.code == result.timepoint]
        assert instrument in chosen.instruments
        assert chosen.first_day <= day <= chosen.last_day
        distance = abs(day - chosen.day)
        assert all(distance <= abs(day - o.day) for o in containing)
        # a tie goes to the earlier target
        assert all(chosen.day <= o.day for o in containing if abs(day - o.day) == distance)


@settings(max_examples=200, deadline=None)
@given(declared=specs(), instrument=INSTRUMENTS, day=st.integers(-30, 160), data=st.data())
def test_assign_keeps_any_known_declared_timepoint(declared: list[TimepointSpec],
                                                   instrument: str, day: int,
                                                   data: st.DataObject) -> None:
    schedule = expand(declared)
    chosen = data.draw(st.sampled_from(schedule))
    result = place(schedule, instrument, day, declared=chosen.code)
    inside = chosen.first_day <= day <= chosen.last_day
    flags = (() if inside else (OUT_OF_WINDOW,)) + (
        () if instrument in chosen.instruments else (NOT_SCHEDULED,))
    assert result == Assignment(chosen.code, day, inside, flags)


# --- mark_duplicates --------------------------------------------------------------------------

T0 = dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def placed(key: str, instrument: str, timepoint: str | None, collected: int, received: int = 0,
           flags: tuple[str, ...] = ()) -> Placed:
    """A response collected `collected` hours and received `received` minutes after T0."""
    collected_at = T0 + dt.timedelta(hours=collected)
    received_at = collected_at + dt.timedelta(minutes=received)
    return Placed(key, instrument, collected_at, received_at,
                  Assignment(timepoint, 7, timepoint is not None, flags))


def flags_by_key(result: list[Placed]) -> dict[str, tuple[str, ...]]:
    return {p.key: p.flags for p in result}


def test_mark_duplicates_keeps_the_first_collected_and_flags_the_rest() -> None:
    responses = [placed("b", "peg", "week1", 5), placed("a", "peg", "week1", 1),
                 placed("c", "peg", "week1", 9)]
    result = mark_duplicates(responses)
    assert flags_by_key(result) == {"a": (), "b": (DUPLICATE,), "c": (DUPLICATE,)}


def test_an_in_window_response_is_preferred_to_an_earlier_late_one() -> None:
    # Declared week1 but collected outside its window, before the in-window response.
    late = Placed("late", "peg", T0, T0, Assignment("week1", 11, False, (OUT_OF_WINDOW,)))
    inside = Placed("inside", "peg", T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1),
                    Assignment("week1", 7, True))
    assert flags_by_key(mark_duplicates([late, inside])) == {
        "late": (OUT_OF_WINDOW, DUPLICATE), "inside": ()}


def test_marking_twice_changes_nothing_more_and_keeps_given_flags() -> None:
    responses = [placed("a", "peg", "week1", 1), placed("b", "peg", "week1", 2)]
    once = mark_duplicates(responses)
    assert mark_duplicates(once) == once
    tagged = Placed("c", "peg", T0, T0, Assignment("week2", 14, True), flags=("reviewed",))
    assert mark_duplicates([tagged])[0].flags == ("reviewed",)


def test_mark_duplicates_breaks_a_collection_tie_by_the_time_received() -> None:
    responses = [placed("late", "peg", "week1", 2, received=30),
                 placed("early", "peg", "week1", 2, received=5)]
    assert flags_by_key(mark_duplicates(responses)) == {"late": (DUPLICATE,), "early": ()}


def test_mark_duplicates_goes_by_collection_before_reception() -> None:
    # Collected first on an offline device, synced two days later: still the analysis response.
    responses = [placed("synced_late", "peg", "week1", 1, received=48 * 60),
                 placed("sent_at_once", "peg", "week1", 5, received=0)]
    assert flags_by_key(mark_duplicates(responses)) == {"synced_late": (),
                                                        "sent_at_once": (DUPLICATE,)}


def test_mark_duplicates_orders_by_the_instant_not_the_written_zone() -> None:
    # 10:00 in Tokyo is 01:00 UTC: earlier than 09:00 UTC, although "10" > "9".
    tokyo = dt.datetime(2026, 3, 8, 10, 0, tzinfo=TOKYO)
    first = Placed("tokyo", "peg", tokyo, tokyo, Assignment("week1", 7, True))
    second = placed("utc", "peg", "week1", 0)
    assert flags_by_key(mark_duplicates([second, first])) == {"utc": (DUPLICATE,), "tokyo": ()}


def test_mark_duplicates_keeps_the_input_order_and_every_response() -> None:
    responses = [placed("c", "peg", "week1", 9), placed("a", "peg", "week1", 1),
                 placed("x", "peg", None, 0), placed("b", "peg", "week1", 5)]
    result = mark_duplicates(responses)
    assert [p.key for p in result] == ["c", "a", "x", "b"]
    for before, after in zip(responses, result, strict=True):
        assert (after.instrument, after.collected_at, after.received_at, after.assignment) == (
            before.instrument, before.collected_at, before.received_at, before.assignment)


def test_mark_duplicates_accepts_any_iterable() -> None:
    responses = (p for p in [placed("b", "peg", "week1", 5), placed("a", "peg", "week1", 1)])
    assert flags_by_key(mark_duplicates(responses)) == {"b": (DUPLICATE,), "a": ()}


def test_mark_duplicates_never_flags_responses_without_a_timepoint() -> None:
    responses = [placed("x", "peg", None, 1, flags=(OUT_OF_WINDOW,)),
                 placed("y", "peg", None, 2, flags=(OUT_OF_WINDOW,)),
                 placed("z", "adverse_event", None, 3, flags=(NOT_SCHEDULED,))]
    assert flags_by_key(mark_duplicates(responses)) == {
        "x": (OUT_OF_WINDOW,), "y": (OUT_OF_WINDOW,), "z": (NOT_SCHEDULED,)}


def test_mark_duplicates_treats_instruments_and_timepoints_separately() -> None:
    responses = [placed("peg1", "peg", "week1", 1), placed("promis1", "promis29", "week1", 2),
                 placed("peg2", "peg", "week2", 3), placed("peg1b", "peg", "week1", 4)]
    assert flags_by_key(mark_duplicates(responses)) == {
        "peg1": (), "promis1": (), "peg2": (), "peg1b": (DUPLICATE,)}


def test_mark_duplicates_keeps_the_assignment_flags_and_appends_its_own() -> None:
    responses = [placed("first", "peg", "week1", 1, flags=(UNKNOWN_TIMEPOINT,)),
                 placed("late", "peg", "week1", 2, flags=(OUT_OF_WINDOW,)),
                 placed("again", "peg", "week1", 3, flags=(UNKNOWN_TIMEPOINT,))]
    assert flags_by_key(mark_duplicates(responses)) == {
        "first": (UNKNOWN_TIMEPOINT,),
        "late": (OUT_OF_WINDOW, DUPLICATE),
        "again": (UNKNOWN_TIMEPOINT, DUPLICATE),
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["peg", "promis29"]),
                          st.sampled_from(["week1", "week2", None]),
                          st.integers(0, 5), st.integers(0, 5)), max_size=12))
def test_mark_duplicates_leaves_exactly_the_first_of_each_group_unflagged(
        rows: list[tuple[str, str | None, int, int]]) -> None:
    responses = [placed(str(i), instrument, timepoint, collected, received)
                 for i, (instrument, timepoint, collected, received) in enumerate(rows)]
    result = mark_duplicates(responses)
    assert [p.key for p in result] == [p.key for p in responses]
    groups: dict[tuple[str, str], list[Placed]] = {}
    for p in result:
        if p.assignment.timepoint is None:
            assert DUPLICATE not in p.flags
        else:
            groups.setdefault((p.assignment.timepoint, p.instrument), []).append(p)
    for members in groups.values():
        kept = [p for p in members if DUPLICATE not in p.flags]
        assert len(kept) == 1
        first = min((p.collected_at, p.received_at) for p in members)
        assert (kept[0].collected_at, kept[0].received_at) == first
