"""Where each stored response counts: its analysis timepoint, study day and window flags.

The rules are `prom.schedule.windows.assign`'s. They are applied when a response is stored, and
the result is kept on the response row (`analysis_timepoint`, `study_day`, `in_window`,
`window_flags`). Reports and exports then read them instead of recomputing. When the
participant's anchor moves (randomisation is recorded), `reassign` applies the rules again to
their responses. Duplicates depend on the participant's other responses, so they are marked
when the responses are read together (`prom.schedule.mark_duplicates`).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from prom.extensions import db
from prom.models.participants import Participant
from prom.models.responses import Response
from prom.models.studies import Study
from prom.schedule import Assignment, Occurrence, Placed, assign, expand


@functools.lru_cache(maxsize=1024)
def occurrences(study_id: uuid.UUID) -> tuple[Occurrence, ...]:
    """The study's schedule, expanded. Cached for the life of the process: a study's schedule
    cannot change once the study is created (no endpoint changes it). Whatever changes it one
    day must call `occurrences.cache_clear()`."""
    study = db.session.get(Study, study_id)
    if study is None:  # raised, not returned: an exception is not cached
        raise LookupError(f"no study {study_id}")
    return tuple(expand(timepoint.spec() for timepoint in study.schedule))


def place(participant: Participant, *, instrument: str, collected_at: dt.datetime,
          declared: str | None) -> Assignment:
    """The analysis timepoint of a response of `participant` (the rules of `assign`)."""
    return assign(occurrences(participant.study_id), instrument=instrument,
                  collected_at=collected_at, anchor=participant.anchor,
                  zone=ZoneInfo(participant.timezone), declared=declared)


def columns(assignment: Assignment) -> dict[str, Any]:
    """An assignment as the values of the response row's columns."""
    return {"analysis_timepoint": assignment.timepoint, "study_day": assignment.study_day,
            "in_window": assignment.in_window, "window_flags": list(assignment.flags)}


def placed(response: Any) -> Placed:
    """A stored response (a `Response`, or a row with the same columns) as the schedule
    package's `Placed`."""
    return Placed(response.id, response.instrument, response.collected_at,
                  response.received_at,
                  Assignment(response.analysis_timepoint, response.study_day,
                             bool(response.in_window), tuple(response.window_flags or ())))


def reassign(participant: Participant) -> int:
    """Apply the rules again to every response of `participant` (after their anchor moved), in
    the caller's transaction; returns how many responses changed placement."""
    table = Response.__table__
    changed = 0
    rows = db.session.execute(select(
        table.c.id, table.c.instrument, table.c.collected_at, table.c.timepoint,
        table.c.analysis_timepoint, table.c.study_day, table.c.in_window, table.c.window_flags,
    ).where(table.c.participant_id == participant.id)).all()
    for row in rows:
        values = columns(place(participant, instrument=row.instrument,
                               collected_at=row.collected_at, declared=row.timepoint))
        if values != _current(row):
            db.session.execute(table.update().where(table.c.id == row.id).values(**values))
            changed += 1
    return changed


def _current(row: Any) -> dict[str, Any]:
    return {"analysis_timepoint": row.analysis_timepoint, "study_day": row.study_day,
            "in_window": row.in_window, "window_flags": list(row.window_flags or ())}

