"""What a participant has to fill in, when, and how well they keep up.

Each occurrence of the schedule asks for each of its instruments once. Such an item opens at
local midnight at the start of the window's first day. It closes at local midnight after the
window's last day (exclusive), in the participant's time zone. Its status at a given moment:

- `completed`: a response to the instrument is assigned to the occurrence and lies inside its
  window. A late response is kept and flagged for analysis, but it does not complete the item:
  the due list reports protocol adherence.
- `open`: not completed, and the moment falls inside the window;
- `upcoming`: the window has not opened yet;
- `missed`: the window has closed without a response in it.

**Adherence** counts the items whose window has opened (completed, open or missed). Its `rate`
is completed / due so far, or None while nothing has been due yet. The counts are returned as
well, so a client can compute another rate; completed / (completed + missed), for example,
ignores windows that are still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from prom.schedule.windows import Occurrence

UPCOMING, OPEN, COMPLETED, MISSED = "upcoming", "open", "completed", "missed"


@dataclass(frozen=True)
class DueItem:
    timepoint: str
    instrument: str
    opens_at: dt.datetime  # aware, in the participant's zone
    closes_at: dt.datetime  # aware, exclusive
    status: str


@dataclass(frozen=True)
class Adherence:
    completed: int
    open: int
    missed: int

    @property
    def due_so_far(self) -> int:
        return self.completed + self.open + self.missed

    @property
    def rate(self) -> float | None:
        return self.completed / self.due_so_far if self.due_so_far else None


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of `day` in `zone`. Where a clock change skips midnight, it is the first
    instant that exists: 00:00 resolved to the offset before the change."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def due_list(schedule: Sequence[Occurrence], *, anchor: dt.date, zone: ZoneInfo,
             completed: Collection[tuple[str, str]], now: dt.datetime) -> list[DueItem]:
    """Every (occurrence, instrument) item with its window and status at `now`, in schedule
    order. `completed` holds the (timepoint, instrument) pairs that have an in-window response."""
    if now.tzinfo is None:
        raise ValueError("due_list needs an aware `now`")
    items = []
    for occurrence in schedule:
        opens_at = local_midnight(anchor + dt.timedelta(days=occurrence.first_day), zone)
        closes_at = local_midnight(anchor + dt.timedelta(days=occurrence.last_day + 1), zone)
        for instrument in occurrence.instruments:
            if (occurrence.code, instrument) in completed:
                status = COMPLETED
            elif now < opens_at:
                status = UPCOMING
            elif now < closes_at:
                status = OPEN
            else:
                status = MISSED
            items.append(DueItem(occurrence.code, instrument, opens_at, closes_at, status))
    return items


def adherence(items: Sequence[DueItem]) -> Adherence:
    """Counts of completed, open and missed items (see the module docstring)."""
    return Adherence(completed=sum(item.status == COMPLETED for item in items),
                     open=sum(item.status == OPEN for item in items),
                     missed=sum(item.status == MISSED for item in items))
