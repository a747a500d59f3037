"""Clinical alerts: the clinic's triage list and acknowledgement.

Alerts are raised when a response is stored (in its transaction; see `submissions.py`). Clinicians
see those of their sites' participants and admins see all. The list puts the most severe first
and, within a severity, the newest first. Acknowledging records who, when and a note, once: a
second acknowledgement is a 409, so two clinicians cannot both believe they handled it. Reads
and acknowledgements are audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from prom.db import update_if, utcnow
from prom.errors import Conflict
from prom.extensions import db
from prom.models.accounts import User
from prom.models.participants import Participant
from prom.models.responses import Alert
from prom.services import audit, participants
from prom.services.pagination import paginate

_alerts = Alert.__table__


def list_alerts(viewer: User, *, status: str, limit: int, cursor: str | None = None,
                participant_id: uuid.UUID | None = None) -> tuple[list[dict[str, Any]],
                                                                  str | None]:
    """One page of the alerts `viewer` may see (staff: admins all, clinicians their sites')."""
    query = select(Alert)
    if viewer.role != "admin":
        query = query.join(Participant, Participant.id == Alert.participant_id).where(
            Participant.site_id.in_(viewer.site_ids))
    if participant_id is not None:
        participants.visible(participant_id, viewer)
        query = query.where(Alert.participant_id == participant_id)
    if status == "open":
        query = query.where(Alert.acknowledged_at.is_(None))
    elif status == "acknowledged":
        query = query.where(Alert.acknowledged_at.is_not(None))
    page, next_cursor = paginate(query, Alert.severity_rank, Alert.created_at, Alert.id,
                                 limit=limit, cursor=cursor, descending=True)
    audit.record("alert.list", actor=viewer.id, detail={
        "status": status, "count": len(page),
        "participant_id": None if participant_id is None else str(participant_id)})
    db.session.commit()
    return [view(alert) for alert in page], next_cursor


def acknowledge(alert_id: uuid.UUID, note: str | None, *, actor: User) -> dict[str, Any]:
    """Mark an alert handled; 404 outside the actor's sites, 409 if it was handled already."""
    alert = participants.visible_record(Alert, alert_id, actor, "alert")
    if not update_if(db.session, _alerts, alert.id, _alerts.c.acknowledged_at.is_(None),
                     acknowledged_at=utcnow(), acknowledged_by=actor.id,
                     acknowledgement_note=note):
        db.session.rollback()
        db.session.refresh(alert)
        raise Conflict(f"Alert {alert.id} was acknowledged already, at "
                       f"{alert.acknowledged_at.isoformat()}.")
    audit.record("alert.acknowledge", actor=actor.id, target=("alert", alert.id),
                 detail={"response_id": str(alert.response_id), "note": note})
    db.session.commit()
    db.session.refresh(alert)
    return view(alert)


def view(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "participant_id": alert.participant_id,
        "response_id": alert.response_id, "version": alert.version, "rule": alert.rule,
        "severity": alert.severity, "message": alert.message, "created_at": alert.created_at,
        "status": "open" if alert.acknowledged_at is None else "acknowledged",
        "acknowledged_at": alert.acknowledged_at, "acknowledged_by": alert.acknowledged_by,
        "note": alert.acknowledgement_note,
    }
