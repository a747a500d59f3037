"""Studies: creation (admin), visibility, and researchers' access."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from prom.errors import Conflict, NotFound, ValidationFailed
from prom.extensions import db
from prom.models.accounts import User
from prom.models.studies import Arm, Study, StudyMember, Timepoint
from prom.schedule import ScheduleError, expand
from prom.services import audit
from prom.services.instruments import library


def create_study(data: dict[str, Any], *, actor: uuid.UUID) -> Study:
    """`data` has passed StudyCreateSchema (unique codes); instruments are checked here."""
    catalogue = {definition.id for definition in library().latest()}
    unknown = {
        f"schedule.{t}.instruments.{i}": [f"no instrument {instrument_id!r}"]
        for t, timepoint in enumerate(data["schedule"])
        for i, instrument_id in enumerate(timepoint["instruments"])
        if instrument_id not in catalogue
    }
    if unknown:
        raise ValidationFailed("Unknown instruments in the schedule.", errors=unknown)
    study = Study(id=uuid.uuid4(), code=data["code"], name=data["name"])
    study.arms = [Arm(code=a["code"], name=a["name"], position=k)
                  for k, a in enumerate(data["arms"])]
    study.schedule = [Timepoint(code=t["code"], day=t["day"],
                                window_before=t["window_before"], window_after=t["window_after"],
                                instruments=list(t["instruments"]), every=t.get("every"),
                                count=t.get("count", 1), position=k)
                      for k, t in enumerate(data["schedule"])]
    try:  # repeats named week1, week2… must not clash with another timepoint's code
        expand(timepoint.spec() for timepoint in study.schedule)
    except ScheduleError as error:
        raise ValidationFailed(errors={"schedule": [str(error)]}) from error
    db.session.add(study)
    audit.record("study.create", actor=actor, target=("study", study.id),
                 detail={"code": study.code})
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(f"A study with code {data['code']!r} already exists.") from error
    return study


def visible_studies(viewer: User):
    """A query of the studies `viewer` may see: researchers only those granted to them."""
    query = select(Study).order_by(Study.code)
    if viewer.role == "researcher":
        query = query.join(StudyMember, StudyMember.study_id == Study.id).where(
            StudyMember.user_id == viewer.id)
    return query


def list_studies(viewer: User) -> list[Study]:
    return list(db.session.scalars(visible_studies(viewer)))


def get_study(study_id: uuid.UUID, viewer: User) -> Study:
    """The study, or 404 — also when it exists but is outside the viewer's scope."""
    study = db.session.scalar(visible_studies(viewer).where(Study.id == study_id))
    if study is None:
        raise NotFound(f"No study {study_id}.")
    return study


def is_member(study_id: uuid.UUID, user: User) -> bool:
    return db.session.get(StudyMember, (study_id, user.id)) is not None


def grant_member(study_id: uuid.UUID, user_id: uuid.UUID, *,
                 actor: uuid.UUID) -> tuple[StudyMember, bool]:
    """Give a researcher access; returns the membership and whether it is new (idempotent)."""
    if db.session.get(Study, study_id) is None:
        raise NotFound(f"No study {study_id}.")
    user = db.session.get(User, user_id)
    if user is None or user.role != "researcher":
        raise ValidationFailed(errors={"user_id": ["must be the id of a researcher's account"]})
    existing = db.session.get(StudyMember, (study_id, user_id))
    if existing is not None:
        return existing, False
    membership = StudyMember(study_id=study_id, user_id=user_id)
    db.session.add(membership)
    audit.record("study.grant", actor=actor, target=("study", study_id),
                 detail={"user_id": str(user_id)})
    try:
        db.session.commit()
    except IntegrityError:  # granted concurrently: same outcome
        db.session.rollback()
        return db.session.get(StudyMember, (study_id, user_id)), False
    return membership, True
