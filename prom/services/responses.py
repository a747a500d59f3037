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
from datetime import UTC, timedelta, timezone
from typing import Any

import marshmallow as ma
from sqlalchemy.exc import IntegrityError

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
from prom.services.participants import can_see

_entry_schema = ResponseCreateSchema()


def submit(data: dict[str, Any], *, actor: User) -> tuple[dict[str, Any], int]:
    """Store a validated submission; returns (body, 201) the first time and (body, 200) for an
    identical replay. Raises 409 for the same id with another payload, 4xx for bad input."""
    participant = _participant_for(data, actor)
    payload_hash = _payload_hash(data, participant.id)
    existing = db.session.get(Response, data["id"])
    if existing is not None:
        return _replay(existing, payload_hash)

    definition = _definition(data["instrument"], data["instrument_version"])
    errors = {(f"answers.{key}" if key else "answers"): messages
              for key, messages in validate_answers(definition, data["answers"]).items()}
    items = {item.id for item in definition.items}
    for key in data.get("item_timings") or {}:
        if key not in items:
            errors[f"item_timings.{key}"] = ["unknown item"]
    if errors:
        raise ValidationFailed(errors=errors)

    scored = score_response(definition, data["answers"])
    offset = data["collected_at"].utcoffset()
    response = Response(
        id=data["id"], participant_id=participant.id, instrument=definition.id,
        instrument_version=definition.version, timepoint=data.get("timepoint"),
        collected_at=data["collected_at"].astimezone(UTC),
        collected_offset_minutes=int(offset.total_seconds() // 60),
        language=data.get("language"), submitted_by=actor.id, payload_hash=payload_hash)
    version = ResponseVersion(version=1, answers=dict(data["answers"]),
                              item_timings=data.get("item_timings"), created_by=actor.id)
    version.scores = [
        Score(scale=score.scale, position=k, value=score.value, status=score.status,
              n_answered=score.n_answered, band=score.band,
              instrument_version=score.instrument_version,
              scoring_version=score.scoring_version)
        for k, score in enumerate(scored.scores.values())]
    response.versions = [version]
    response.alerts = [
        Alert(participant_id=participant.id, position=k, rule=alert.id, severity=alert.severity,
              message=alert.message.get(data.get("language") or "en")
              or alert.message.get("en") or next(iter(alert.message.values())))
        for k, alert in enumerate(scored.alerts)]
    db.session.add(response)
    audit.record("response.create", actor=actor.id, target=("response", response.id),
                 detail={"participant_id": str(participant.id), "instrument": definition.id})
    try:
        db.session.commit()
    except IntegrityError:
        # A parallel submission of the same id won the insert: answer as for a replay.
        db.session.rollback()
        existing = db.session.get(Response, data["id"])
        if existing is None:
            raise
        return _replay(existing, payload_hash)
    return body(response), 201


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
    response = db.session.get(Response, response_id)
    participant = db.session.get(Participant, response.participant_id) if response else None
    if response is None or participant is None or not can_see(viewer, participant):
        raise NotFound(f"No response {response_id}.")
    audit.record("response.read", actor=viewer.id, target=("response", response.id))
    db.session.commit()
    return body(response)


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
        "scores": {score.scale: {"value": score.value, "status": score.status,
                                 "n_answered": score.n_answered, "band": score.band}
                   for score in current.scores},
        "alerts": [{"rule": alert.rule, "severity": alert.severity, "message": alert.message}
                   for alert in response.alerts],
    }


def _participant_for(data: dict[str, Any], actor: User) -> Participant:
    if actor.role == "participant":
        if "participant_id" in data:
            raise ValidationFailed(errors={"participant_id": [
                "participants submit for themselves: leave participant_id out"]})
        participant = db.session.query(Participant).filter_by(user_id=actor.id).one_or_none()
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
