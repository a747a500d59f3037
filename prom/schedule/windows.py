"""A study's schedule as concrete occurrences, and which one a response counts for.

Days are the participant's local calendar days. Day 0 is the anchor date: the date of enrolment,
or of randomisation when the study records it. A timepoint targets `day`. Its window runs from
`day - window_before` to `day + window_after`, both ends included.

**Repeating timepoints** are declared once, with `every` (days between occurrences) and `count`.
For example, `week`, day 7, every 7, count 8 becomes `week1` (day 7) … `week8` (day 56), each
with the declared window. A timepoint that occurs once keeps its code.

**The analysis timepoint of a response** (`assign`) is decided in this order:

1. **A declared timepoint that the schedule knows** is kept. The response is `in_window` when
   its local collection day lies in that occurrence's window; otherwise it is flagged
   `out_of_window`, and it is still kept. If that occurrence does not ask for the instrument,
   the response is also flagged `not_scheduled`.
2. **Otherwise the response is placed by window.** The candidates are the occurrences whose
   instruments include the response's instrument and whose window contains the collection day.
   The nearest target day wins; on a tie, the earlier occurrence wins, since a participant
   catching up is more likely finishing the one before.
   - If no candidate window contains the day, the response is kept without a timepoint and
     flagged `out_of_window`.
   - If no occurrence lists the instrument at all (an adverse-event report, say), it is flagged
     `not_scheduled`.
   - A declared timepoint the schedule does not know is flagged `unknown_timepoint`, and the
     response is placed by window as above.

**Duplicates** (`mark_duplicates`): among the responses with the same timepoint and
instrument, one is the analysis response: the first collected inside the window, or the first
collected at all when none is inside. Ties are broken by the time received, then by the
response id. The others are flagged `duplicate_in_window`, and they are kept too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

OUT_OF_WINDOW = "out_of_window"
NOT_SCHEDULED = "not_scheduled"
UNKNOWN_TIMEPOINT = "unknown_timepoint"
DUPLICATE = "duplicate_in_window"


class ScheduleError(ValueError):
    """A schedule that cannot be expanded: repeats without an interval, clashing codes…"""


@dataclass(frozen=True)
class TimepointSpec:
    """A timepoint as a study declares it."""

    code: str
    day: int
    window_before: int
    window_after: int
    instruments: tuple[str, ...]
    every: int | None = None  # days between occurrences of a repeating timepoint
    count: int = 1  # how many occurrences


@dataclass(frozen=True)
class Occurrence:
    """One concrete timepoint of the schedule."""

    code: str  # `week3` for the third occurrence of a repeating `week`; else the declared code
    declared: str  # the code as declared
    number: int  # 1-based occurrence number
    day: int
    window_before: int
    window_after: int
    instruments: tuple[str, ...]

    @property
    def first_day(self) -> int:
        return self.day - self.window_before

    @property
    def last_day(self) -> int:
        return self.day + self.window_after

    def contains(self, study_day: int) -> bool:
        return self.first_day <= study_day <= self.last_day


def expand(specs: Iterable[TimepointSpec]) -> list[Occurrence]:
    """The occurrences of a schedule, by target day (declaration order among equal days)."""
    occurrences: list[Occurrence] = []
    for spec in specs:
        if spec.count < 1:
            raise ScheduleError(f"{spec.code}: count must be at least 1")
        if spec.window_before < 0 or spec.window_after < 0:
            raise ScheduleError(f"{spec.code}: windows cannot be negative")
        if spec.count > 1 and (spec.every is None or spec.every < 1):
            raise ScheduleError(f"{spec.code}: a repeating timepoint needs `every` of 1 day or "
                                "more")
        for number in range(1, spec.count + 1):
            code = spec.code if spec.count == 1 else f"{spec.code}{number}"
            occurrences.append(Occurrence(
                code=code, declared=spec.code, number=number,
                day=spec.day + (number - 1) * (spec.every or 0),
                window_before=spec.window_before, window_after=spec.window_after,
                instruments=tuple(spec.instruments)))
    seen: set[str] = set()
    for occurrence in occurrences:
        if occurrence.code in seen:
            raise ScheduleError(f"timepoint code {occurrence.code!r} occurs twice (a repeating "
                                "timepoint names its occurrences code1, code2, …)")
        seen.add(occurrence.code)
    return sorted(occurrences, key=lambda o: o.day)  # stable: declaration order on equal days


def study_day(moment: dt.datetime, anchor: dt.date, zone: ZoneInfo) -> int:
    """Days from the anchor to the participant's local calendar day of `moment`."""
    if moment.tzinfo is None:
        raise ValueError("study_day needs an aware datetime")
    return (moment.astimezone(zone).date() - anchor).days


@dataclass(frozen=True)
class Assignment:
    """Where a response counts: its analysis timepoint (None when none fits) and why."""

    timepoint: str | None
    study_day: int
    in_window: bool
    flags: tuple[str, ...] = ()


def assign(schedule: Sequence[Occurrence], *, instrument: str, collected_at: dt.datetime,
           anchor: dt.date, zone: ZoneInfo, declared: str | None = None) -> Assignment:
    """The analysis timepoint of one response (see the module's rules)."""
    day = study_day(collected_at, anchor, zone)
    flags: list[str] = []
    if declared is not None:
        occurrence = next((o for o in schedule if o.code == declared), None)
        if occurrence is not None:
            inside = occurrence.contains(day)
            flags = [] if inside else [OUT_OF_WINDOW]
            if instrument not in occurrence.instruments:
                flags.append(NOT_SCHEDULED)
            return Assignment(declared, day, inside, tuple(flags))
        flags.append(UNKNOWN_TIMEPOINT)
    listing = [o for o in schedule if instrument in o.instruments]
    if not listing:
        return Assignment(None, day, False, (*flags, NOT_SCHEDULED))
    candidates = [o for o in listing if o.contains(day)]
    if not candidates:
        return Assignment(None, day, False, (*flags, OUT_OF_WINDOW))
    # Nearest target; on a tie the earlier target day, then the first in schedule order.
    best = min(candidates, key=lambda o: (abs(day - o.day), o.day))
    return Assignment(best.code, day, True, tuple(flags))


@dataclass(frozen=True)
class Placed:
    """A response with its assignment, as `mark_duplicates` sees it. `flags` starts as the
    assignment's."""

    key: Any  # the caller's handle: a response id
    instrument: str
    collected_at: dt.datetime
    received_at: dt.datetime
    assignment: Assignment
    flags: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.flags is None:
            object.__setattr__(self, "flags", self.assignment.flags)


def mark_duplicates(placed: Iterable[Placed]) -> list[Placed]:
    """The same responses, in the order given, with `duplicate_in_window` added to all but the
    analysis response of each timepoint and instrument (see the module docstring). Marking
    twice changes nothing more."""
    placed = list(placed)
    first: dict[tuple[str, str], Placed] = {}
    order = sorted(placed, key=lambda p: (not p.assignment.in_window, p.collected_at,
                                          p.received_at, str(p.key)))
    for item in order:
        if item.assignment.timepoint is not None:
            first.setdefault((item.assignment.timepoint, item.instrument), item)
    result = []
    for item in placed:
        flags = item.flags or ()
        timepoint = item.assignment.timepoint
        if (timepoint is not None and first[(timepoint, item.instrument)] is not item
                and DUPLICATE not in flags):
            flags = (*flags, DUPLICATE)
        result.append(Placed(item.key, item.instrument, item.collected_at, item.received_at,
                             item.assignment, flags))
    return result
