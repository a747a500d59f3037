"""Adverse events: opened by the patient's report, reviewed by clinicians, counted per arm.

- **Opening.** A response to the `adverse_event` form in which something happened (`occurred`
  is yes) opens an event in the transaction that stores it. A report of "nothing happened"
  opens none. An amendment that turns "no" into "yes" opens one, and once open, an event stays.
- **Reviewing.** Clinicians of the participant's site, and admins, record their assessment:
  - seriousness, by the ICH E2A criteria;
  - CTCAE grade 1–5;
  - relatedness to the programme;
  - whether the event was expected, the action taken on the programme, and the outcome.

  Every review is kept. The latest is the event's current assessment. Reviews are numbered,
  and the number only moves from the one the reviewer saw, so of two simultaneous reviews the
  second gets 409 and nothing is overwritten unseen.
- **Reading.** A study's events list newest first, filtered by arm, site, participant,
  review status and seriousness. Counts per arm give the participants with at least one event,
  and with a serious one, as trial reports and systematic reviews tabulate them.

Every read and every review is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import distinct, func, insert, select

from prom.db import execute_rows, update_if, utcnow
from prom.errors import Conflict, Forbidden, ValidationFailed
from prom.extensions import db
from prom.instruments.spec import Definition
from prom.models.accounts import User
from prom.models.adverse_events import AdverseEvent, AdverseEventReview
from prom.models.participants import Participant
from prom.models.responses import Response, Score
from prom.models.studies import Arm
from prom.services import audit, participants, studies
from prom.services.pagination import paginate

#: The instrument whose reports open adverse events.
AE_INSTRUMENT = "adverse_event"
_events = AdverseEvent.__table__
_INSERT_EVENT = insert(_events)
_INSERT_REVIEW = insert(AdverseEventReview.__table__)


# ---------------------------------------------------------------------------------------------
# Opening


def opening(definition: Definition, answers: Mapping[str, Any], *, response_id: uuid.UUID,
            participant_id: uuid.UUID, study_id: uuid.UUID, reported_at: datetime,
            opened_at: datetime) -> dict[str, Any] | None:
    """The event row a response opens, or None when it opens none."""
    if definition.id != AE_INSTRUMENT or answers.get("occurred") is not True:
        return None
    return {"id": uuid.uuid4(), "response_id": response_id, "participant_id": participant_id,
            "study_id": study_id, "reported_at": reported_at.astimezone(UTC),
            "opened_at": opened_at, "review_count": 0}


def open_events(rows: Iterable[dict[str, Any] | None]) -> None:
    """Insert the event rows (Nones skipped), in the caller's transaction."""
    execute_rows(db.session, _INSERT_EVENT, [row for row in rows if row is not None])


def opened_for(response_id: uuid.UUID) -> bool:
    return db.session.scalar(
        select(_events.c.id).where(_events.c.response_id == response_id)) is not None


# ---------------------------------------------------------------------------------------------
# Reviewing


def review(event_id: uuid.UUID, data: dict[str, Any], *, actor: User) -> dict[str, Any]:
    """Record a clinician's review; it becomes the event's current one. 404 outside the actor's
    sites; 422 when the assessment contradicts itself; 409 when another review came first."""
    event = _visible(event_id, actor)
    _check_review(data)
    number = event.review_count + 1
    if not update_if(db.session, _events, event.id, _events.c.review_count == number - 1,
                     review_count=number):
        db.session.rollback()
        raise Conflict("Another review of this event was recorded at the same time; fetch the "
                       "event and review it again.")
    execute_rows(db.session, _INSERT_REVIEW, [{
        "adverse_event_id": event.id, "number": number, "reviewed_at": utcnow(),
        "reviewed_by": actor.id, **data}])
    audit.record("adverse_event.review", actor=actor.id, target=("adverse_event", event.id),
                 detail={"number": number, "serious": data["serious"],
                         "severity_grade": data["severity_grade"]})
    # The answer is read inside this transaction, where the event's row is locked: it shows
    # the review this call recorded, even if another one follows the moment it commits.
    db.session.expire(event)
    answer = _views([event])[0]
    db.session.commit()
    return answer


def _check_review(data: Mapping[str, Any]) -> None:
    """422 naming the field when the assessment contradicts itself."""
    errors: dict[str, list[str]] = {}
    criteria = data["seriousness_criteria"]
    if data["serious"] and not criteria:
        errors["seriousness_criteria"] = ["a serious event meets at least one ICH E2A criterion"]
    if not data["serious"] and criteria:
        errors["seriousness_criteria"] = ["an event that is not serious meets no criterion"]
    # Death is one fact recorded three ways: CTCAE grade 5, the outcome fatal and the ICH E2A
    # criterion death. They must agree.
    if data["severity_grade"] == 5:
        if data["outcome"] != "fatal":
            errors["outcome"] = ["grade 5 (death) has the outcome fatal"]
        if "death" not in criteria:
            errors.setdefault("seriousness_criteria", []).append(
                "grade 5 (death) meets the criterion death")
    else:
        if data["outcome"] == "fatal":
            errors["severity_grade"] = ["a fatal outcome is grade 5"]
        if "death" in criteria:
            errors.setdefault("outcome", []).append(
                "the criterion death needs the outcome fatal and grade 5")
    if errors:
        raise ValidationFailed(errors=errors)


# ---------------------------------------------------------------------------------------------
# Reading


def get_event(event_id: uuid.UUID, viewer: User) -> dict[str, Any]:
    event = _visible(event_id, viewer)
    audit.record("adverse_event.read", actor=viewer.id, target=("adverse_event", event.id))
    db.session.commit()
    return _views([event])[0]


def list_for_study(study_id: uuid.UUID, viewer: User, *, limit: int, cursor: str | None = None,
                   status: str = "all", arm: str | None = None, site_id: uuid.UUID | None = None,
                   participant_id: uuid.UUID | None = None,
                   serious: bool | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a study's events, newest report first. `serious` filters on the current
    review (unreviewed events are neither)."""
    study = _study(study_id, viewer)
    query = _scoped(select(AdverseEvent).where(AdverseEvent.study_id == study.id), viewer)
    if arm is not None:
        if study.arm(arm) is None:
            raise ValidationFailed(errors={"arm": [
                f"no arm {arm!r} in this study; arms: {', '.join(a.code for a in study.arms)}"]})
        query = query.where(Participant.arm_id == study.arm(arm).id)
    if site_id is not None:
        query = query.where(Participant.site_id == site_id)
    if participant_id is not None:
        query = query.where(AdverseEvent.participant_id == participant_id)
    if status == "awaiting_review":
        query = query.where(AdverseEvent.review_count == 0)
    elif status == "reviewed":
        query = query.where(AdverseEvent.review_count > 0)
    if serious is not None:
        query = query.join(AdverseEventReview, (
            AdverseEventReview.adverse_event_id == AdverseEvent.id)
            & (AdverseEventReview.number == AdverseEvent.review_count)).where(
            AdverseEventReview.serious.is_(serious))
    page, next_cursor = paginate(query, AdverseEvent.reported_at, AdverseEvent.id, limit=limit,
                                 cursor=cursor, descending=True)
    audit.record("adverse_event.list", actor=viewer.id, target=("study", study.id),
                 detail={"count": len(page), "status": status})
    db.session.commit()
    return _views(page), next_cursor


def for_participant(participant_id: uuid.UUID) -> list[dict[str, Any]]:
    """A participant's events, oldest first, unaudited: for callers that audit their read."""
    events = db.session.scalars(select(AdverseEvent).where(
        AdverseEvent.participant_id == participant_id).order_by(AdverseEvent.reported_at)).all()
    return _views(list(events))


def counts_per_arm(study_id: uuid.UUID, viewer: User) -> list[dict[str, Any]]:
    """Per arm: participants enrolled, participants with ≥1 event and with ≥1 serious event
    (by the current review), events, serious events, and events awaiting review. Scoped like
    the list: a clinician counts their sites' participants only."""
    study = _study(study_id, viewer)
    current = (AdverseEventReview.adverse_event_id == AdverseEvent.id) & (
        AdverseEventReview.number == AdverseEvent.review_count)
    serious = AdverseEventReview.serious.is_(True)
    query = _scoped(
        select(Participant.arm_id,
               func.count(AdverseEvent.id),
               func.count(distinct(AdverseEvent.participant_id)),
               func.count(AdverseEventReview.adverse_event_id).filter(serious),
               func.count(distinct(AdverseEvent.participant_id)).filter(serious),
               func.count(AdverseEvent.id).filter(AdverseEvent.review_count == 0))
        .select_from(AdverseEvent).outerjoin(AdverseEventReview, current)
        .where(AdverseEvent.study_id == study.id).group_by(Participant.arm_id), viewer)
    counted = {row[0]: row[1:] for row in db.session.execute(query)}
    enrolled_query = select(Participant.arm_id, func.count()).where(
        Participant.study_id == study.id).group_by(Participant.arm_id)
    if viewer.role == "clinician":
        enrolled_query = enrolled_query.where(Participant.site_id.in_(viewer.site_ids))
    enrolled = dict(db.session.execute(enrolled_query).all())
    audit.record("adverse_event.counts", actor=viewer.id, target=("study", study.id))
    db.session.commit()
    result = []
    for arm in study.arms:
        events, people, serious_events, serious_people, awaiting = counted.get(
            arm.id, (0, 0, 0, 0, 0))
        result.append({"arm": arm.code, "name": arm.name, "participants": enrolled.get(arm.id, 0),
                       "participants_with_event": people, "events": events,
                       "serious_events": serious_events,
                       "participants_with_serious_event": serious_people,
                       "awaiting_review": awaiting})
    return result


def _study(study_id: uuid.UUID, viewer: User):
    if viewer.role == "participant":
        raise Forbidden("Participants cannot list a study's adverse events.")
    return studies.get_study(study_id, viewer)


def _scoped(query: Any, viewer: User) -> Any:
    """Join the participant, and keep a clinician to their sites."""
    query = query.join(Participant, Participant.id == AdverseEvent.participant_id)
    if viewer.role == "clinician":
        query = query.where(Participant.site_id.in_(viewer.site_ids))
    return query


def _visible(event_id: uuid.UUID, viewer: User) -> AdverseEvent:
    return participants.visible_record(AdverseEvent, event_id, viewer, "adverse event")


#: What the patient reported, from the form's items.
_REPORTED = ("description", "onset_date", "ongoing", "severity", "seriousness", "attributed")


def _views(events: list[AdverseEvent]) -> list[dict[str, Any]]:
    """Events as the API returns them, with what the patient reported (the current version of
    the report) and every review, oldest first."""
    if not events:
        return []
    responses = {r.id: r for r in db.session.scalars(select(Response).where(
        Response.id.in_([e.response_id for e in events])))}
    serious_scores = dict(db.session.execute(
        select(Score.response_id, Score.value).join(Response, (Response.id == Score.response_id)
                                                    & (Response.current_version == Score.version))
        .where(Score.response_id.in_(list(responses)), Score.scale == "serious")).all())
    people = {p.id: p for p in db.session.scalars(select(Participant).where(
        Participant.id.in_({e.participant_id for e in events})))}
    arms = {a.id: a.code for a in db.session.scalars(select(Arm).where(
        Arm.id.in_({p.arm_id for p in people.values()})))}
    views = []
    for event in events:
        response = responses[event.response_id]
        answers = response.current.answers
        person = people[event.participant_id]
        reviews = [_review_view(r) for r in event.reviews]
        views.append({
            "id": event.id, "participant_id": event.participant_id,
            "study_id": event.study_id, "arm": arms[person.arm_id], "site_id": person.site_id,
            "response_id": event.response_id, "timepoint": response.analysis_timepoint,
            "reported_at": event.reported_at, "opened_at": event.opened_at,
            "reported": {**{key: answers.get(key) for key in _REPORTED},
                         "serious": (serious_scores.get(response.id) or 0) >= 1},
            "status": "reviewed" if event.review_count else "awaiting_review",
            "review": reviews[-1] if reviews else None,
            "reviews": reviews,
        })
    return views


def _review_view(r: AdverseEventReview) -> dict[str, Any]:
    return {"number": r.number, "reviewed_at": r.reviewed_at, "reviewed_by": r.reviewed_by,
            "serious": r.serious, "seriousness_criteria": list(r.seriousness_criteria),
            "severity_grade": r.severity_grade, "relatedness": r.relatedness,
            "expected": r.expected, "action_taken": r.action_taken, "outcome": r.outcome,
            "note": r.note}

