"""A participant's schedule as it stands now: what is due, what was done, and adherence.

Computed on read from the study's timepoints and the participant's stored responses, using the
rules of `prom.schedule`. Nothing about windows is stored, so the answer always follows the
schedule as it is now. An item counts as completed when a response to its instrument is assigned
to its timepoint inside the window. Every read is audited, as reads of participant data are.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import select

from prom.db import utcnow
from prom.errors import Forbidden
from prom.extensions import db
from prom.models.accounts import User
from prom.models.participants import Participant
from prom.models.responses import Response
from prom.models.studies import Study
from prom.schedule import Adherence, DueItem, adherence, assign, due_list, expand
from prom.services import audit, participants


def my_due(viewer: User, now: dt.datetime | None = None) -> list[DueItem]:
    """The signed-in participant's due list."""
    participant = viewer.participant
    if participant is None:
        raise Forbidden("This account is not enrolled in a study.")
    return _read(participant, viewer, now)


def participant_schedule(participant_id: uuid.UUID, viewer: User,
                         now: dt.datetime | None = None) -> tuple[list[DueItem], Adherence]:
    """A participant's due list with adherence, for staff in scope or the participant."""
    items = _read(participants.visible(participant_id, viewer), viewer, now)
    return items, adherence(items)


def _read(participant: Participant, viewer: User, now: dt.datetime | None) -> list[DueItem]:
    """The participant's due list at `now` (default: this moment); the read is audited."""
    items = _items(participant, now or utcnow())
    audit.record("schedule.read", actor=viewer.id, target=("participant", participant.id))
    db.session.commit()
    return items


def _items(participant: Participant, now: dt.datetime) -> list[DueItem]:
    study = db.session.get(Study, participant.study_id)
    schedule = expand(timepoint.spec() for timepoint in study.schedule)
    zone = ZoneInfo(participant.timezone)
    completed = set()
    rows = db.session.execute(
        select(Response.instrument, Response.timepoint, Response.collected_at)
        .where(Response.participant_id == participant.id))
    for instrument, declared, collected_at in rows:
        placed = assign(schedule, instrument=instrument, collected_at=collected_at,
                        anchor=participant.anchor, zone=zone, declared=declared)
        if placed.timepoint is not None and placed.in_window:
            completed.add((placed.timepoint, instrument))
    return due_list(schedule, anchor=participant.anchor, zone=zone, completed=completed,
                    now=now)
