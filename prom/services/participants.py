"""Participants: enrolment, and reads scoped to who is asking.

Scope: admins see everyone; clinicians the participants of their sites; researchers the
participants of studies granted to them; a participant only themself. A record outside the scope
is reported as not found, so ids reveal nothing. Every read of participant data is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select

from prom.db import update_if
from prom.errors import Conflict, Forbidden, NotFound, ValidationFailed
from prom.extensions import db
from prom.models.accounts import Site, User
from prom.models.participants import Participant
from prom.services import audit, placement, studies
from prom.services.accounts import new_participant_account
from prom.services.pagination import paginate

T = TypeVar("T")


@dataclass(frozen=True)
class Enrolment:
    """A new participant and their one-time activation code (shown once, never stored)."""

    participant: Participant
    activation_code: str

    def __getattr__(self, name: str) -> Any:  # the participant's fields, for serialisation
        return getattr(self.participant, name)


def enrol(study_id: uuid.UUID, data: dict[str, Any], *, actor: User) -> Enrolment:
    """Enrol a participant; returns the record with its one-time activation code."""
    study = studies.get_study(study_id, actor)
    site = db.session.get(Site, data["site_id"])
    if site is None:
        raise ValidationFailed(errors={"site_id": [f"unknown site {data['site_id']}"]})
    if actor.role != "admin" and site.id not in actor.site_ids:
        raise Forbidden(f"You are not a member of site {site.code}.")
    arm = study.arm(data["arm"])
    if arm is None:
        raise ValidationFailed(errors={"arm": [
            f"no arm {data['arm']!r} in this study; arms: "
            f"{', '.join(a.code for a in study.arms)}"]})
    user, code = new_participant_account([site], actor=actor.id)
    participant = Participant(id=uuid.uuid4(), study_id=study.id, site_id=site.id, arm=arm,
                              user_id=user.id, enrolled_on=data["enrolled_on"],
                              randomised_on=data.get("randomised_on"),
                              language=data["language"], timezone=data["timezone"],
                              created_by=actor.id)
    db.session.add(participant)
    audit.record("participant.create", actor=actor.id, target=("participant", participant.id),
                 detail={"study_id": str(study.id), "site_id": str(site.id), "arm": arm.code})
    db.session.commit()
    return Enrolment(participant, code)


def list_participants(study_id: uuid.UUID, viewer: User, *, limit: int,
                      cursor: str | None) -> tuple[list[Participant], str | None]:
    """One page, oldest first, and the cursor of the next page (None after the last)."""
    if viewer.role == "participant":
        raise Forbidden("Participants cannot list a study's participants.")
    study = studies.get_study(study_id, viewer)
    query = select(Participant).where(Participant.study_id == study.id)
    if viewer.role == "clinician":
        query = query.where(Participant.site_id.in_(viewer.site_ids))
    page, next_cursor = paginate(query, Participant.created_at, Participant.id, limit=limit,
                                 cursor=cursor)
    audit.record("participant.list", actor=viewer.id, target=("study", study.id),
                 detail={"count": len(page)})
    db.session.commit()
    return page, next_cursor


def visible(participant_id: uuid.UUID, viewer: User) -> Participant:
    """The participant, or 404 when there is none or it is outside the viewer's scope (so ids
    reveal nothing). Not audited: callers audit what they read or change."""
    participant = db.session.get(Participant, participant_id)
    if participant is None or not can_see(viewer, participant):
        raise NotFound(f"No participant {participant_id}.")
    return participant


def visible_record(model: type[T], record_id: uuid.UUID, viewer: User, noun: str) -> T:
    """The row of `model` (which has a `participant_id`) with `record_id`, or 404 "No <noun>"
    when there is none or its participant is outside the viewer's scope. Not audited."""
    record = db.session.get(model, record_id)
    participant = db.session.get(Participant, record.participant_id) if record else None
    if record is None or participant is None or not can_see(viewer, participant):
        raise NotFound(f"No {noun} {record_id}.")
    return record


def get_participant(participant_id: uuid.UUID, viewer: User) -> Participant:
    participant = visible(participant_id, viewer)
    audit.record("participant.read", actor=viewer.id, target=("participant", participant.id))
    db.session.commit()
    return participant


def record_randomisation(participant_id: uuid.UUID, randomised_on: date, *,
                         actor: User) -> Participant:
    """Record when a participant was randomised, once: from then on it anchors their schedule,
    and the responses stored before are placed again from the new anchor (same transaction).
    404 outside the actor's scope; 422 before enrolment; 409 when already recorded."""
    participant = visible(participant_id, actor)
    if randomised_on < participant.enrolled_on:
        raise ValidationFailed(errors={"randomised_on": [
            f"cannot be before enrolment ({participant.enrolled_on.isoformat()})"]})
    table = Participant.__table__
    if not update_if(db.session, table, participant.id, table.c.randomised_on.is_(None),
                     randomised_on=randomised_on):
        db.session.rollback()
        db.session.refresh(participant)
        raise Conflict(f"Participant {participant.id} was recorded as randomised on "
                       f"{participant.randomised_on.isoformat()} already.")
    db.session.refresh(participant)  # the new anchor
    moved = placement.reassign(participant)
    audit.record("participant.randomise", actor=actor.id, target=("participant", participant.id),
                 detail={"randomised_on": randomised_on.isoformat(), "responses_moved": moved})
    db.session.commit()
    db.session.refresh(participant)
    return participant


def can_see(viewer: User, participant: Participant) -> bool:
    if viewer.role == "admin":
        return True
    if viewer.role == "clinician":
        return participant.site_id in viewer.site_ids
    if viewer.role == "researcher":
        return studies.is_member(participant.study_id, viewer)
    return participant.user_id == viewer.id
