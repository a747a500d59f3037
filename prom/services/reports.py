"""Reports on one participant, for staff in scope: the clinic report (`prom.reports.clinic`).
Every read is audited, with the format it was read in."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from prom.db import utcnow
from prom.extensions import db
from prom.models.accounts import User
from prom.reports import clinic
from prom.services import audit, participants


def clinic_report(participant_id: uuid.UUID, viewer: User, *, format: str,
                  now: dt.datetime | None = None) -> dict[str, Any]:
    """The participant's clinic report; 404 outside the viewer's scope."""
    participant = participants.visible(participant_id, viewer)
    report = clinic.build(participant, now or utcnow())
    audit.record("report.read", actor=viewer.id, target=("participant", participant.id),
                 detail={"format": format})
    db.session.commit()
    return report
