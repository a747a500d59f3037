"""Protocol schedules: timepoints, their windows, the analysis timepoint of each response, due
lists and adherence.

Pure domain code (no Flask, no SQLAlchemy): services feed it a study's timepoints, a
participant's anchor date and time zone, and their responses.

- `windows.py`: expanding repeating timepoints (`expand`); assigning a response to its analysis
  timepoint (`assign`); flagging duplicates within a window (`mark_duplicates`). The rules are
  in the module docstring.
- `baseline.py`: which response is a participant's baseline for an instrument (`pick_baseline`).
- `due.py`: what is due when, and its status at a moment (`due_list`), with `adherence`.
"""

from prom.schedule.baseline import baseline_timepoint, pick_baseline
from prom.schedule.due import (
    COMPLETED,
    MISSED,
    OPEN,
    UPCOMING,
    Adherence,
    DueItem,
    adherence,
    due_list,
    local_midnight,
)
from prom.schedule.windows import (
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

__all__ = [
    "COMPLETED",
    "DUPLICATE",
    "MISSED",
    "NOT_SCHEDULED",
    "OPEN",
    "OUT_OF_WINDOW",
    "UNKNOWN_TIMEPOINT",
    "UPCOMING",
    "Adherence",
    "Assignment",
    "DueItem",
    "Occurrence",
    "Placed",
    "ScheduleError",
    "TimepointSpec",
    "adherence",
    "assign",
    "baseline_timepoint",
    "due_list",
    "expand",
    "local_midnight",
    "mark_duplicates",
    "pick_baseline",
    "study_day",
]
