"""Taking in questionnaires, one at a time or in batches: validate, score, store once, and answer
replays identically.

Idempotency rests on the database. The client's response id is the primary key of `responses`,
and new responses are written with ``INSERT … ON CONFLICT DO NOTHING RETURNING id``: of several
parallel submissions of one id exactly one row is inserted (the others wait for that transaction
and then insert nothing), and the ids that come back are the ones this call created. Their
versions, scores, alerts and audit rows follow in the same transaction, one multi-row INSERT per
table, so storing a batch of 500 costs five statements. An id that was stored already is answered
from the stored row: 200 with its body when the payload is the same, 409 when it differs.

A single submission is a batch of one. In a batch, entries that fail validation get their own
4xx result and the rest are stored; should the database refuse the batch's transaction for a
reason validation did not foresee, each entry is retried in a transaction of its own, so one bad
entry cannot sink the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from prom.db import execute_rows, insert_unless_present, utcnow
from prom.errors import (
    Conflict,
    Forbidden,
    ProblemError,
    ValidationFailed,
    flatten_messages,
)
from prom.extensions import db
from prom.instruments.spec import Definition
from prom.models.accounts import User
from prom.models.participants import Participant
from prom.models.responses import Response
from prom.schedule import Assignment, Placed
from prom.schemas.responses import ResponseCreateSchema
from prom.scoring import ScoredResponse, score_responses
from prom.services import adverse_events, audit, participants, placement, worsening
from prom.services.responses import (
    VersionRows,
    body,
    check_answers,
    definition_for,
    insert_versions,
    render,
    stored,
    version_rows,
)

log = logging.getLogger(__name__)

_entry_schema = ResponseCreateSchema()
_responses = Response.__table__

#: A stored outcome: (body, 201 created | 200 replay), or the problem that answers the entry.
Outcome = tuple[dict[str, Any], int] | ProblemError


@dataclass(slots=True)
class Submission:
    """One submission that passed validation, ready to be stored."""

    data: dict[str, Any]
    participant_id: uuid.UUID
    study_id: uuid.UUID
    definition: Definition
    payload_hash: str
    received_at: datetime  # when it was checked: a batch's entries keep the order they came in
    assignment: Assignment  # its analysis timepoint

    @property
    def id(self) -> uuid.UUID:
        return self.data["id"]


def submit(data: dict[str, Any], *, actor: User) -> tuple[dict[str, Any], int]:
    """Store a validated submission; returns (body, 201) the first time and (body, 200) for an
    identical replay. Raises 409 for the same id with another payload, 4xx for bad input."""
    participant = _Participants(actor).of(data)
    [outcome] = _store([_checked(data, participant, _Clock())], actor=actor, isolate=False)
    if isinstance(outcome, ProblemError):
        raise outcome
    return outcome


def submit_batch(entries: list[Any], *, actor: User) -> list[dict[str, Any]]:
    """A result per entry, in order: {id, status, body} when stored or replayed, {id, status,
    detail, errors} when refused. One entry's failure leaves the others untouched."""
    results: list[dict[str, Any] | None] = [None] * len(entries)
    accepted: list[tuple[int, Submission]] = []
    participants = _Participants(actor, prefetch=entries)
    clock = _Clock()
    for index, entry in enumerate(entries):
        try:
            data = _entry_schema.load(entry)
            accepted.append((index, _checked(data, participants.of(data), clock)))
        except ma.ValidationError as error:
            results[index] = _problem_result(entry, ValidationFailed(
                errors=flatten_messages(error.messages)))
        except ProblemError as error:
            results[index] = _problem_result(entry, error)
    outcomes = _store([submission for _, submission in accepted], actor=actor, isolate=True)
    for (index, submission), outcome in zip(accepted, outcomes, strict=True):
        if isinstance(outcome, ProblemError):
            results[index] = _problem_result(submission.data, outcome)
        else:
            results[index] = {"id": str(submission.id), "status": outcome[1], "body": outcome[0]}
    return results  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Checking


def _checked(data: dict[str, Any], participant: Participant, clock: _Clock) -> Submission:
    """The submission if its instrument, answers and timings are valid; 422 otherwise."""
    definition = definition_for(data["instrument"], data["instrument_version"])
    check_answers(definition, data["answers"], data.get("item_timings"))
    assignment = placement.place(participant, instrument=definition.id,
                                 collected_at=data["collected_at"], declared=data.get("timepoint"))
    return Submission(data, participant.id, participant.study_id, definition,
                      _payload_hash(data, participant.id), clock.now(), assignment)


class _Clock:
    """Reception instants for the entries of one request, strictly increasing: lists order by
    `received_at`, so a batch lists in the order it was sent even when the system clock
    repeats a microsecond (or steps back) between two entries."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    def now(self) -> datetime:
        instant = utcnow()
        if self.last is not None and instant <= self.last:
            instant = self.last + timedelta(microseconds=1)
        self.last = instant
        return instant


class _Participants:
    """Whose responses the caller may submit: a participant their own; clinicians those of
    their sites and admins anyone's, naming them with `participant_id`; researchers nobody's."""

    def __init__(self, actor: User, prefetch: Sequence[Any] = ()) -> None:
        self.actor = actor
        # Held for the request: the session's identity map keeps objects only weakly, so a
        # prefetched participant nobody refers to would be gone before `of` looks for it.
        self._loaded: list[Participant] = []
        if actor.role in ("clinician", "admin"):
            self._prefetch(prefetch)

    def of(self, data: dict[str, Any]) -> Participant:
        actor = self.actor
        if actor.role == "participant":
            if "participant_id" in data:
                raise ValidationFailed(errors={"participant_id": [
                    "participants submit for themselves: leave participant_id out"]})
            if actor.participant is None:
                raise Forbidden("This account is not enrolled in a study.")
            return actor.participant
        if actor.role == "researcher":
            raise Forbidden("Researchers cannot submit responses.")
        if "participant_id" not in data:
            raise ValidationFailed(errors={"participant_id": [
                "required when staff enter answers on a participant's behalf"]})
        return participants.visible(data["participant_id"], actor)

    def _prefetch(self, entries: Sequence[Any]) -> None:
        """Load the participants a staff batch names in one query (into the session, where
        `of` finds them without another)."""
        ids = set()
        for entry in entries:
            try:
                ids.add(uuid.UUID(entry["participant_id"]))
            except (TypeError, KeyError, ValueError, AttributeError):
                continue
        if ids:
            self._loaded = list(db.session.scalars(
                select(Participant).where(Participant.id.in_(ids))))


# ---------------------------------------------------------------------------------------------
# Storing


def _store(submissions: list[Submission], *, actor: User, isolate: bool) -> list[Outcome]:
    """Store what is new among `submissions` in one transaction; an outcome for each, in order.
    A repeated id (within the list, or stored before) is a replay of the first.

    Should the database refuse a row the checks let through, a single submission (`isolate`
    false) raises, failing its request; a batch (`isolate` true) answers that entry with a 500
    result and stores the others. An unreachable database fails the request either way."""
    if not submissions:
        return []
    first: dict[uuid.UUID, Submission] = {}
    for submission in submissions:
        first.setdefault(submission.id, submission)
    actor_id = actor.id
    # Inserted in id order: concurrent batches sharing ids then take their row locks in the same
    # order, and cannot deadlock.
    rows = {sid: _response_row(first[sid], actor_id) for sid in sorted(first)}
    try:
        created = set(execute_rows(
            db.session, insert_unless_present(_responses, db.session.get_bind().dialect.name),
            list(rows.values())).scalars())
        new = [s for s in first.values() if s.id in created]
        versions = dict(zip((s.id for s in new), _versions(new, actor_id), strict=True))
        if new:
            insert_versions(list(versions.values()))
            adverse_events.open_events([
                adverse_events.opening(s.definition, s.data["answers"], response_id=s.id,
                                       participant_id=s.participant_id, study_id=s.study_id,
                                       reported_at=s.data["collected_at"],
                                       opened_at=s.received_at)
                for s in new])
            audit.record_many([
                audit.event("response.create", actor=actor_id, target=("response", s.id),
                            detail={"participant_id": str(s.participant_id),
                                    "instrument": s.definition.id,
                                    "instrument_version": s.definition.version, "version": 1},
                            occurred_at=s.received_at)
                for s in new])
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        if not isolate or isinstance(error, (OperationalError, InterfaceError)):
            raise
        if len(first) == 1:
            log.exception("response %s of a batch could not be stored", submissions[0].id)
            return [ProblemError(detail="This response could not be stored; it was not saved. "
                                        "The error has been logged.")] * len(submissions)
        # Store each entry on its own, so that only the entry at fault fails.
        log.warning("a batch of %d was refused as a whole (%s); storing entries one by one",
                    len(first), error.orig)
        return [_store([submission], actor=actor, isolate=True)[0]
                for submission in submissions]

    bodies = {sid: render(rows[sid], versions[sid].scores, versions[sid].alerts)
              for sid in created}
    earlier = stored(sid for sid in first if sid not in created)
    outcomes: list[Outcome] = []
    for submission in submissions:
        original = first[submission.id]
        if submission.id in created:
            outcome: Outcome = (bodies[submission.id], 201) if submission is original else \
                _replay(original.payload_hash, submission, bodies[submission.id])
        else:
            outcome = _replay(earlier[submission.id].payload_hash, submission,
                              body(earlier[submission.id]))
        outcomes.append(outcome)
    return outcomes


def _versions(submissions: list[Submission], actor_id: uuid.UUID) -> list[VersionRows]:
    """Version 1 of each new response, scored one engine call per instrument version, with the
    alerts its answers raise and those on worsening from the participant's baseline."""
    by_definition: dict[Definition, list[int]] = defaultdict(list)
    for position, submission in enumerate(submissions):
        by_definition[submission.definition].append(position)
    scored: list[ScoredResponse | None] = [None] * len(submissions)
    for definition, positions in by_definition.items():
        results = score_responses(definition, [submissions[p].data["answers"] for p in positions])
        for position, result in zip(positions, results, strict=True):
            scored[position] = result
    worse = worsening.raised([
        worsening.Candidate.of(
            Placed(s.id, s.definition.id, s.data["collected_at"], s.received_at, s.assignment),
            s.participant_id, s.study_id, s.definition, result)
        for s, result in zip(submissions, scored, strict=True)])
    return [
        version_rows(s.definition, result, response_id=s.id, participant_id=s.participant_id,
                     language=s.data.get("language"), number=1, answers=s.data["answers"],
                     item_timings=s.data.get("item_timings"), actor_id=actor_id, reason=None,
                     now=s.received_at, also_raised=worse.get(s.id, ()))
        for s, result in zip(submissions, scored, strict=True)]


def _response_row(submission: Submission, actor_id: uuid.UUID) -> dict[str, Any]:
    data = submission.data
    collected_at = data["collected_at"]
    return {
        "id": submission.id, "participant_id": submission.participant_id,
        "instrument": submission.definition.id,
        "instrument_version": submission.definition.version,
        "timepoint": data.get("timepoint"),
        "collected_at": collected_at.astimezone(UTC),
        "collected_offset_minutes": int(collected_at.utcoffset().total_seconds() // 60),
        "received_at": submission.received_at, "language": data.get("language"),
        "submitted_by": actor_id, "payload_hash": submission.payload_hash, "current_version": 1,
        **placement.columns(submission.assignment),
    }


def _replay(stored_hash: str, submission: Submission, stored_body: dict[str, Any]) -> Outcome:
    if stored_hash != submission.payload_hash:
        return Conflict(f"Response {submission.id} was already received with different "
                        "content; a new response needs a new id.")
    return stored_body, 200


def _payload_hash(data: dict[str, Any], participant_id: uuid.UUID) -> str:
    """SHA-256 of the submission in a canonical form: what a replay must match exactly."""
    canonical = {
        "id": str(data["id"]), "participant_id": str(participant_id),
        "instrument": data["instrument"], "instrument_version": data["instrument_version"],
        "collected_at": data["collected_at"].isoformat(), "answers": data["answers"],
        "timepoint": data.get("timepoint"), "language": data.get("language"),
        "item_timings": data.get("item_timings"),
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _problem_result(entry: Any, error: ProblemError) -> dict[str, Any]:
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    result = {"id": entry_id if isinstance(entry_id, str) else
              str(entry_id) if isinstance(entry_id, uuid.UUID) else None,
              "status": error.status, "detail": error.detail}
    if error.errors:
        result["errors"] = error.errors
    return result
