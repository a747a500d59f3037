"""Due lists: each (occurrence, instrument) item opens at local midnight on the window's first day
and closes at local midnight after its last day, in the participant's zone; its status at `now`
is completed, upcoming, open or missed. `adherence` counts the items that have been due so far.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prom.schedule import (
    COMPLETED,
    MISSED,
    OPEN,
    UPCOMING,
    Adherence,
    DueItem,
    TimepointSpec,
    adherence,
    due_list,
    expand,
    local_midnight,
    study_day,
)

UTC = dt.UTC
ANCHOR = dt.date(2026, 3, 1)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
MICROSECOND = dt.timedelta(microseconds=1)

# baseline: days 0..3 (1-4 March); week1: days 6..8 (7-9 March); week2: days 13..15 (14-16 March)
SCHEDULE = expand([
    TimepointSpec("baseline", 0, 0, 3, ("promis29", "peg")),
    TimepointSpec("week", 7, 1, 1, ("peg",), every=7, count=2),
])
ITEMS = [("baseline", "promis29"), ("baseline", "peg"), ("week1", "peg"), ("week2", "peg")]
OPEN_DAYS = {  # study days on which each item is open (by hand, from the windows above)
    ("baseline", "promis29"): range(0, 4),
    ("baseline", "peg"): range(0, 4),
    ("week1", "peg"): range(6, 9),
    ("week2", "peg"): range(13, 16),
}


def on_day(day: int, zone: ZoneInfo = LONDON, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(ANCHOR + dt.timedelta(days=day), dt.time(hour), tzinfo=zone)


def statuses(now: dt.datetime, completed: frozenset[tuple[str, str]] = frozenset(),
             zone: ZoneInfo = LONDON) -> dict[tuple[str, str], str]:
    items = due_list(SCHEDULE, anchor=ANCHOR, zone=zone, completed=completed, now=now)
    return {(item.timepoint, item.instrument): item.status for item in items}


def expected_status(item: tuple[str, str], day: int) -> str:
    days = OPEN_DAYS[item]
    if day < days.start:
        return UPCOMING
    if day in days:
        return OPEN
    return MISSED


# --- items and their windows ------------------------------------------------------------------


def test_due_list_has_one_item_per_instrument_of_each_occurrence_in_schedule_order() -> None:
    items = due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=set(), now=on_day(0))
    assert [(item.timepoint, item.instrument) for item in items] == ITEMS


def test_due_list_of_an_empty_schedule_is_empty() -> None:
    assert due_list([], anchor=ANCHOR, zone=LONDON, completed=set(), now=on_day(0)) == []


def test_due_list_windows_run_from_local_midnight_to_local_midnight() -> None:
    items = due_list(SCHEDULE, anchor=ANCHOR, zone=TOKYO, completed=set(), now=on_day(0))
    windows = [(item.opens_at, item.closes_at) for item in items]
    midnight = dt.time(0)
    assert windows == [
        (dt.datetime(2026, 3, 1, tzinfo=TOKYO), dt.datetime(2026, 3, 5, tzinfo=TOKYO)),
        (dt.datetime(2026, 3, 1, tzinfo=TOKYO), dt.datetime(2026, 3, 5, tzinfo=TOKYO)),
        (dt.datetime(2026, 3, 7, tzinfo=TOKYO), dt.datetime(2026, 3, 10, tzinfo=TOKYO)),
        (dt.datetime(2026, 3, 14, tzinfo=TOKYO), dt.datetime(2026, 3, 17, tzinfo=TOKYO)),
    ]
    for opens_at, closes_at in windows:
        for edge in (opens_at, closes_at):
            assert edge.tzinfo is TOKYO
            assert edge.time() == midnight
            assert edge.utcoffset() == dt.timedelta(hours=9)
    # The instants, not just the wall clock: Tokyo's midnight is 15:00 UTC the day before.
    assert items[2].opens_at.astimezone(UTC) == dt.datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert items[2].closes_at.astimezone(UTC) == dt.datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


def test_a_window_across_the_spring_change_in_london_opens_in_gmt_and_closes_in_bst() -> None:
    # day 28 (29 March) with days 26..30: 27 March to 31 March inclusive.
    schedule = expand([TimepointSpec("month1", 28, 2, 2, ("peg",))])
    (item,) = due_list(schedule, anchor=ANCHOR, zone=LONDON, completed=set(), now=on_day(0))
    assert item.opens_at == dt.datetime(2026, 3, 27, tzinfo=LONDON)
    assert item.opens_at.utcoffset() == dt.timedelta(0)
    assert item.closes_at == dt.datetime(2026, 4, 1, tzinfo=LONDON)
    assert item.closes_at.utcoffset() == dt.timedelta(hours=1)
    assert item.opens_at.astimezone(UTC) == dt.datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
    assert item.closes_at.astimezone(UTC) == dt.datetime(2026, 3, 31, 23, 0, tzinfo=UTC)


def test_a_window_across_the_spring_change_in_new_york_opens_in_est_and_closes_in_edt() -> None:
    schedule = expand([TimepointSpec("week1", 7, 1, 1, ("peg",))])  # 7 to 9 March
    (item,) = due_list(schedule, anchor=ANCHOR, zone=NEW_YORK, completed=set(), now=on_day(0))
    assert item.opens_at.utcoffset() == dt.timedelta(hours=-5)
    assert item.closes_at.utcoffset() == dt.timedelta(hours=-4)
    assert item.opens_at.astimezone(UTC) == dt.datetime(2026, 3, 7, 5, 0, tzinfo=UTC)
    assert item.closes_at.astimezone(UTC) == dt.datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def test_local_midnight_is_the_first_instant_of_the_local_day() -> None:
    assert local_midnight(dt.date(2026, 3, 29), LONDON).astimezone(UTC) == dt.datetime(
        2026, 3, 29, 0, 0, tzinfo=UTC)
    assert local_midnight(dt.date(2026, 3, 30), LONDON).astimezone(UTC) == dt.datetime(
        2026, 3, 29, 23, 0, tzinfo=UTC)
    assert local_midnight(dt.date(2026, 3, 1), TOKYO).astimezone(UTC) == dt.datetime(
        2026, 2, 28, 15, 0, tzinfo=UTC)


def test_local_midnight_skipped_by_a_clock_change_is_the_first_instant_that_exists() -> None:
    # Chile sprang forward from 00:00 (-04:00) to 01:00 (-03:00) on 3 September 2023.
    santiago = ZoneInfo("America/Santiago")
    midnight = local_midnight(dt.date(2023, 9, 3), santiago)
    assert midnight.utcoffset() == dt.timedelta(hours=-4)  # the offset before the change
    assert midnight.astimezone(UTC) == dt.datetime(2023, 9, 3, 4, 0, tzinfo=UTC)
    assert midnight.astimezone(UTC).astimezone(santiago).time() == dt.time(1, 0)
    previous = (midnight.astimezone(UTC) - MICROSECOND).astimezone(santiago)
    assert previous.date() == dt.date(2023, 9, 2)


def test_due_list_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=set(),
                 now=dt.datetime(2026, 3, 2, 12))


# --- statuses over a simulated calendar -------------------------------------------------------


def test_statuses_day_by_day_through_the_schedule() -> None:
    for day in range(-3, 20):
        for hour in (0, 12, 23):
            now = on_day(day, hour=hour)
            assert statuses(now) == {item: expected_status(item, day) for item in ITEMS}, now


def test_statuses_on_a_few_days_by_hand() -> None:
    assert statuses(on_day(-1)) == dict.fromkeys(ITEMS, UPCOMING)
    assert statuses(on_day(3)) == {("baseline", "promis29"): OPEN, ("baseline", "peg"): OPEN,
                                   ("week1", "peg"): UPCOMING, ("week2", "peg"): UPCOMING}
    assert statuses(on_day(4)) == {("baseline", "promis29"): MISSED, ("baseline", "peg"): MISSED,
                                   ("week1", "peg"): UPCOMING, ("week2", "peg"): UPCOMING}
    assert statuses(on_day(7)) == {("baseline", "promis29"): MISSED, ("baseline", "peg"): MISSED,
                                   ("week1", "peg"): OPEN, ("week2", "peg"): UPCOMING}
    assert statuses(on_day(30)) == dict.fromkeys(ITEMS, MISSED)


@pytest.mark.parametrize("zone", [LONDON, NEW_YORK, TOKYO], ids=str)
def test_statuses_switch_at_the_exact_local_midnights(zone: ZoneInfo) -> None:
    week1 = ("week1", "peg")
    opens_at = dt.datetime(2026, 3, 7, tzinfo=zone).astimezone(UTC)  # first day: 7 March
    closes_at = dt.datetime(2026, 3, 10, tzinfo=zone).astimezone(UTC)  # last day: 9 March
    assert statuses(opens_at - MICROSECOND, zone=zone)[week1] == UPCOMING
    assert statuses(opens_at, zone=zone)[week1] == OPEN
    assert statuses(closes_at - MICROSECOND, zone=zone)[week1] == OPEN
    assert statuses(closes_at, zone=zone)[week1] == MISSED


def test_statuses_switch_at_local_midnights_across_a_dst_change() -> None:
    schedule = expand([TimepointSpec("month1", 28, 2, 2, ("peg",))])  # 27 to 31 March, London

    def status(now: dt.datetime) -> str:
        (item,) = due_list(schedule, anchor=ANCHOR, zone=LONDON, completed=(), now=now)
        return item.status

    opens_at = dt.datetime(2026, 3, 27, 0, 0, tzinfo=UTC)  # midnight GMT
    closes_at = dt.datetime(2026, 3, 31, 23, 0, tzinfo=UTC)  # midnight BST on 1 April
    for now in (opens_at, closes_at):  # the same instant written in several zones
        assert {status(now.astimezone(z)) for z in (UTC, LONDON, TOKYO, NEW_YORK)} == {
            status(now)}
    assert status(opens_at - MICROSECOND) == UPCOMING
    assert status(opens_at) == OPEN
    assert status(closes_at - MICROSECOND) == OPEN
    assert status(closes_at) == MISSED
    assert status(dt.datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == MISSED  # 00:30 BST, 1 April


def test_now_is_compared_as_an_instant_whatever_zone_it_is_written_in() -> None:
    # 9 March 23:30 in New York (EDT) is 10 March 03:30 UTC and 12:30 in Tokyo.
    now = dt.datetime(2026, 3, 9, 23, 30, tzinfo=NEW_YORK)
    for written in (now, now.astimezone(UTC), now.astimezone(TOKYO)):
        assert statuses(written, zone=NEW_YORK)[("week1", "peg")] == OPEN
        assert statuses(written, zone=LONDON)[("week1", "peg")] == MISSED


# --- completion -------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [-1, 2, 7, 30])  # upcoming, open, week1 open, all missed
def test_completed_wins_over_every_other_status(day: int) -> None:
    done = frozenset(ITEMS)
    assert statuses(on_day(day), completed=done) == dict.fromkeys(ITEMS, COMPLETED)


def test_completion_is_per_timepoint_and_instrument() -> None:
    done = frozenset({("baseline", "promis29"), ("week1", "peg")})
    assert statuses(on_day(7), completed=done) == {
        ("baseline", "promis29"): COMPLETED,
        ("baseline", "peg"): MISSED,
        ("week1", "peg"): COMPLETED,
        ("week2", "peg"): UPCOMING,
    }


def test_completion_needs_the_occurrence_code_not_the_declared_code() -> None:
    done = frozenset({("week", "peg"), ("week1", "promis29")})
    assert statuses(on_day(7), completed=done)[("week1", "peg")] == OPEN


# --- adherence --------------------------------------------------------------------------------


def test_adherence_is_none_while_nothing_has_been_due() -> None:
    result = adherence(due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=set(),
                                now=on_day(-1)))
    assert result == Adherence(completed=0, open=0, missed=0)
    assert result.due_so_far == 0
    assert result.rate is None
    assert adherence([]).rate is None


def test_adherence_counts_and_rate_by_hand() -> None:
    done = frozenset({("baseline", "promis29"), ("week1", "peg")})
    # Day 10: baseline PROMIS done, baseline PEG missed, week1 done, week2 upcoming.
    day10 = adherence(due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=done,
                               now=on_day(10)))
    assert day10 == Adherence(completed=2, open=0, missed=1)
    assert day10.due_so_far == 3
    assert day10.rate == pytest.approx(2 / 3)
    # Day 14: week2 is open too, and counts as due.
    day14 = adherence(due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=done,
                               now=on_day(14)))
    assert day14 == Adherence(completed=2, open=1, missed=1)
    assert day14.due_so_far == 4
    assert day14.rate == 0.5


def test_adherence_ignores_upcoming_items() -> None:
    done = frozenset({("baseline", "promis29"), ("baseline", "peg")})
    result = adherence(due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=done,
                                now=on_day(5)))
    assert result == Adherence(completed=2, open=0, missed=0)
    assert result.rate == 1.0


def test_adherence_with_everything_open_is_zero() -> None:
    result = adherence(due_list(SCHEDULE, anchor=ANCHOR, zone=LONDON, completed=set(),
                                now=on_day(1)))
    assert result == Adherence(completed=0, open=2, missed=0)
    assert result.rate == 0.0


def test_adherence_counts_hand_made_items() -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    items = [DueItem("t", str(i), at, at, status)
             for i, status in enumerate([COMPLETED, COMPLETED, COMPLETED, OPEN, MISSED,
                                         MISSED, UPCOMING, UPCOMING])]
    result = adherence(items)
    assert (result.completed, result.open, result.missed, result.due_so_far) == (3, 1, 2, 6)
    assert result.rate == 0.5


# --- properties -------------------------------------------------------------------------------

ZONES = st.sampled_from([ZoneInfo(name) for name in (
    "UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe",
    "America/Santiago", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns",
)])
MOMENTS = st.datetimes(min_value=dt.datetime(2022, 1, 1), max_value=dt.datetime(2027, 12, 31),
                       timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(zone=ZONES, now=MOMENTS, anchor=st.dates(dt.date(2022, 1, 1), dt.date(2027, 6, 1)),
       first=st.integers(-5, 60), length=st.integers(0, 10))
def test_status_agrees_with_the_local_study_day(zone: ZoneInfo, now: dt.datetime,
                                                anchor: dt.date, first: int,
                                                length: int) -> None:
    schedule = expand([TimepointSpec("t", first, 0, length, ("peg",))])
    (item,) = due_list(schedule, anchor=anchor, zone=zone, completed=(), now=now)
    day = study_day(now, anchor, zone)
    if day < first:
        assert item.status == UPCOMING
    elif day <= first + length:
        assert item.status == OPEN
    else:
        assert item.status == MISSED
    # The same instant written in the participant's zone gives the same status.
    (again,) = due_list(schedule, anchor=anchor, zone=zone, completed=(),
                        now=now.astimezone(zone))
    assert again.status == item.status


@settings(max_examples=300, deadline=None)
@given(zone=ZONES, anchor=st.dates(dt.date(2022, 1, 1), dt.date(2027, 6, 1)),
       first=st.integers(-5, 60), length=st.integers(0, 10))
def test_windows_open_and_close_on_local_day_boundaries(zone: ZoneInfo, anchor: dt.date,
                                                       first: int, length: int) -> None:
    schedule = expand([TimepointSpec("t", first, 0, length, ("peg",))])
    (item,) = due_list(schedule, anchor=anchor, zone=zone, completed=(),
                       now=dt.datetime(2020, 1, 1, tzinfo=UTC))
    opens_at, closes_at = item.opens_at.astimezone(UTC), item.closes_at.astimezone(UTC)
    assert study_day(opens_at, anchor, zone) == first
    assert study_day(opens_at - MICROSECOND, anchor, zone) == first - 1
    assert study_day(closes_at, anchor, zone) == first + length + 1
    assert study_day(closes_at - MICROSECOND, anchor, zone) == first + length
