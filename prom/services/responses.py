"""Submitting questionnaires: validate, score, store once, and answer replays identically.

Idempotency rests on the database: the client's response id is the primary key, and the row,
its answers, scores, alerts and audit entry are inserted in one transaction. Of several parallel
submissions of one id exactly one insert succeeds; the others see the unique-key violation, read
the stored row and answer 200 with its body — or 409 when their payload differs from it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from prom.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    ValidationFailed,
    flatten_messages,
)
from prom.extensions import db
from prom.instruments import UnknownInstrument, validate_answers
from prom.models.accounts import User
from prom.models.participants import Participant
from prom.models.responses import Alert, Response, ResponseVersion, Score
from prom.schemas.responses import ResponseCreateSchema
from prom.scoring import score_response
from prom.services import audit
from prom.services.instruments import library
from prom.services.pagination import paginate
from prom.services.participants import can_see

_entry_schema = ResponseCreateSchema()


def submit(data: dict[str, Any], *, actor: User) -> tuple[dict[str, Any], int]:
    """Store a validated submission; returns (body, 201) the first time and (body, 200) for an
    identical replay. Raises 409 for the same id with another payload, 4xx for bad input."""
    participant = _participant_for(data, actor)
    payload_hash = _payload_hash(data, participant.id)
    # No database lookup first: the insert's primary-key check finds replays (rare) for free,
    # and a first submission (the common case) saves a round trip. Only a response this session
    # already holds (an id repeated within one batch) is answered from memory.
    known = db.session.identity_map.get(identity_key(Response, data["id"]))
    if known is not None:
        return _replay(known, payload_hash)
    definition = _definition(data["instrument"], data["instrument_version"])
    offset = data["collected_at"].utcoffset()
    response = Response(
        id=data["id"], participant_id=participant.id, instrument=definition.id,
        instrument_version=definition.version, timepoint=data.get("timepoint"),
        collected_at=data["collected_at"].astimezone(UTC),
        collected_offset_minutes=int(offset.total_seconds() // 60),
        language=data.get("language"), submitted_by=actor.id, payload_hash=payload_hash,
        current_version=1)
    version, alerts = _scored_version(definition, response, 1, data["answers"],
                                      data.get("item_timings"), actor=actor)
    response.versions = [version]
    response.alerts = alerts
    db.session.add(response)
    audit.record("response.create", actor=actor.id, target=("response", response.id),
                 detail={"participant_id": str(participant.id), "instrument": definition.id})
    try:
        db.session.commit()
    except IntegrityError:
        # The id is stored already (a replay, or a parallel duplicate that won the insert).
        db.session.rollback()
        existing = db.session.get(Response, data["id"])
        if existing is None:
            raise
        return _replay(existing, payload_hash)
    return body(response), 201


def _scored_version(definition, response: Response, number: int, answers: dict[str, Any],
                    item_timings: dict[str, int] | None, *, actor: User,
                    reason: str | None = None) -> tuple[ResponseVersion, list[Alert]]:
    """Validate answers against the pinned definition and score them: a version with its scores,
    and the alerts it raises. 422 with `answers.<item>` / `item_timings.<item>` paths."""
    errors = {(f"answers.{key}" if key else "answers"): messages
              for key, messages in validate_answers(definition, answers).items()}
    items = {item.id for item in definition.items}
    for key in item_timings or {}:
        if key not in items:
            errors[f"item_timings.{key}"] = ["unknown item"]
    if errors:
        raise ValidationFailed(errors=errors)
    scored = score_response(definition, answers)
    version = ResponseVersion(version=number, answers=dict(answers), item_timings=item_timings,
                              created_by=actor.id, reason=reason)
    version.scores = [
        Score(scale=score.scale, position=k, value=score.value, status=score.status,
              n_answered=score.n_answered, band=score.band,
              instrument_version=score.instrument_version,
              scoring_version=score.scoring_version)
        for k, score in enumerate(scored.scores.values())]
    language = response.language or "en"
    alerts = [
        Alert(participant_id=response.participant_id, version=number, position=k, rule=alert.id,
              severity=alert.severity,
              message=alert.message.get(language) or alert.message.get("en")
              or next(iter(alert.message.values())))
        for k, alert in enumerate(scored.alerts)]
    return version, alerts


def submit_batch(entries: list[Any], *, actor: User) -> list[dict[str, Any]]:
    """Each entry on its own, in order; one entry's failure leaves the others untouched."""
    results = []
    for entry in entries:
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        try:
            data = _entry_schema.load(entry)
            result_body, status = submit(data, actor=actor)
            results.append({"id": str(data["id"]), "status": status, "body": result_body})
        except ma.ValidationError as error:
            results.append({"id": _text(entry_id), "status": 422,
                            "detail": ValidationFailed.default_detail,
                            "errors": flatten_messages(error.messages)})
        except ProblemError as error:
            db.session.rollback()
            result = {"id": _text(entry_id), "status": error.status, "detail": error.detail}
            if error.errors:
                result["errors"] = error.errors
            results.append(result)
    return results


def get_response(response_id: uuid.UUID, viewer: User) -> dict[str, Any]:
    response, _ = _visible_response(response_id, viewer)
    audit.record("response.read", actor=viewer.id, target=("response", response.id))
    db.session.commit()
    return body(response)


def _visible_response(response_id: uuid.UUID, viewer: User) -> tuple[Response, Participant]:
    """The response and its participant, or 404 when either is outside the viewer's scope."""
    response = db.session.get(Response, response_id)
    participant = db.session.get(Participant, response.participant_id) if response else None
    if response is None or participant is None or not can_see(viewer, participant):
        raise NotFound(f"No response {response_id}.")
    return response, participant


def _own_participant(user: User) -> Participant | None:
    return db.session.scalars(select(Participant).where(Participant.user_id == user.id)).first()


def amend(response_id: uuid.UUID, answers: dict[str, Any], reason: str,
          item_timings: dict[str, int] | None, *, actor: User) -> dict[str, Any]:
    """A correction by staff: a new version, validated and scored on the response's pinned
    instrument version. Earlier versions stay; the response points at the new one."""
    response, _ = _visible_response(response_id, actor)
    definition = _definition(response.instrument, response.instrument_version)
    number = response.current_version + 1
    version, alerts = _scored_version(definition, response, number, answers, item_timings,
                                      actor=actor, reason=reason)
    response.versions.append(version)
    response.alerts.extend(alerts)
    response.current_version = number
    audit.record("response.amend", actor=actor.id, target=("response", response.id),
                 detail={"version": number, "reason": reason})
    try:
        db.session.commit()
    except IntegrityError as error:  # another amendment took this version number first
        db.session.rollback()
        raise Conflict("The response was amended at the same time; fetch it and try again."
                       ) from error
    return body(response)


def versions(response_id: uuid.UUID, viewer: User) -> list[dict[str, Any]]:
    """Every version of a response, oldest first, with its answers and scores."""
    response, _ = _visible_response(response_id, viewer)
    audit.record("response.read", actor=viewer.id, target=("response", response.id),
                 detail={"versions": True})
    db.session.commit()
    return [{
        "version": v.version, "answers": v.answers, "item_timings": v.item_timings,
        "created_at": v.created_at.astimezone(UTC).isoformat(), "created_by": str(v.created_by),
        "reason": v.reason, "current": v.version == response.current_version,
        "scores": _scores(v),
        "alerts": [_alert(a) for a in response.alerts if a.version == v.version],
    } for v in response.versions]


def list_for_participant(participant_id: uuid.UUID | None, viewer: User, *, limit: int,
                         cursor: str | None = None, instrument: str | None = None,
                         timepoint: str | None = None,
                         since: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """A participant's responses, by time received (oldest first), one page at a time.
    `participant_id` None means the caller's own (a participant's `/me/responses`)."""
    participant = _own_participant(viewer) if participant_id is None else \
        db.session.get(Participant, participant_id)
    if participant is None or not can_see(viewer, participant):
        raise NotFound(f"No participant {participant_id}.")
    query = select(Response).where(Response.participant_id == participant.id)
    if instrument is not None:
        query = query.where(Response.instrument == instrument)
    if timepoint is not None:
        query = query.where(Response.timepoint == timepoint)
    if since is not None:
        query = query.where(Response.received_at >= since)
    page, next_cursor = paginate(query, Response.received_at, Response.id, limit=limit,
                                 cursor=cursor)
    audit.record("response.list", actor=viewer.id, target=("participant", participant.id),
                 detail={"count": len(page)})
    db.session.commit()
    return [body(response) for response in page], next_cursor


def body(response: Response) -> dict[str, Any]:
    """The response as the API returns it: the same for the first answer and every replay."""
    offset = timezone(timedelta(minutes=response.collected_offset_minutes))
    current = response.current
    return {
        "id": str(response.id),
        "participant_id": str(response.participant_id),
        "instrument": response.instrument,
        "instrument_version": response.instrument_version,
        "timepoint": response.timepoint,
        "collected_at": response.collected_at.astimezone(offset).isoformat(),
        "received_at": response.received_at.astimezone(UTC).isoformat(),
        "version": response.current_version,
        "scores": _scores(current),
        "alerts": [_alert(alert) for alert in response.current_alerts],
    }


def _scores(version: ResponseVersion) -> dict[str, dict[str, Any]]:
    return {score.scale: {"value": score.value, "status": score.status,
                          "n_answered": score.n_answered, "band": score.band}
            for score in version.scores}


def _alert(alert: Alert) -> dict[str, Any]:
    return {"rule": alert.rule, "severity": alert.severity, "message": alert.message}


def _participant_for(data: dict[str, Any], actor: User) -> Participant:
    if actor.role == "participant":
        if "participant_id" in data:
            raise ValidationFailed(errors={"participant_id": [
                "participants submit for themselves: leave participant_id out"]})
        participant = _own_participant(actor)
        if participant is None:
            raise Forbidden("This account is not enrolled in a study.")
        return participant
    if actor.role == "researcher":
        raise Forbidden("Researchers cannot submit responses.")
    if "participant_id" not in data:
        raise ValidationFailed(errors={"participant_id": [
            "required when staff enter answers on a participant's behalf"]})
    participant = db.session.get(Participant, data["participant_id"])
    if participant is None or not can_see(actor, participant):
        raise NotFound(f"No participant {data['participant_id']}.")
    return participant


def _definition(instrument_id: str, version: str):
    catalogue = library()
    try:
        return catalogue.get(instrument_id, version)
    except UnknownInstrument as error:
        if not catalogue.versions(instrument_id):
            raise ValidationFailed(errors={"instrument": [f"no instrument {instrument_id!r}"]}
                                   ) from error
        raise ValidationFailed(errors={"instrument_version": [
            f"{instrument_id} has versions {', '.join(catalogue.versions(instrument_id))}"]}
        ) from error


def _replay(existing: Response, payload_hash: str) -> tuple[dict[str, Any], int]:
    if existing.payload_hash != payload_hash:
        raise Conflict(f"Response {existing.id} was already received with different content; "
                       "a new response needs a new id.")
    return body(existing), 200


def _payload_hash(data: dict[str, Any], participant_id: uuid.UUID) -> str:
    canonical = {
        "id": str(data["id"]), "participant_id": str(participant_id),
        "instrument": data["instrument"], "instrument_version": data["instrument_version"],
        "collected_at": data["collected_at"].isoformat(), "answers": data["answers"],
        "timepoint": data.get("timepoint"), "language": data.get("language"),
        "item_timings": data.get("item_timings"),
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
