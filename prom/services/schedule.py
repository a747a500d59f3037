"""A participant's schedule as it stands now: what is due, what was done, and adherence.

Computed on read from the study's timepoints and where each stored response was placed (its
analysis timepoint, `prom.services.placement`). An item counts as completed when a response to
its instrument is assigned to its timepoint inside the window. Every read is audited, as reads
of participant data are.
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
from prom.schedule import Adherence, DueItem, adherence, due_list
from prom.services import audit, participants
from prom.services.placement import occurrences


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
    due = items(participant, now or utcnow())
    audit.record("schedule.read", actor=viewer.id, target=("participant", participant.id))
    db.session.commit()
    return due


def items(participant: Participant, now: dt.datetime) -> list[DueItem]:
    """The due list at `now`, unaudited: for callers that audit their own read."""
    completed = {(timepoint, instrument) for timepoint, instrument in db.session.execute(
        select(Response.analysis_timepoint, Response.instrument)
        .where(Response.participant_id == participant.id, Response.in_window.is_(True)))}
    return due_list(occurrences(participant.study_id), anchor=participant.anchor,
                    zone=ZoneInfo(participant.timezone), completed=completed, now=now)
