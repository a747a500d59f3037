"""Stored responses: reading them (scoped to the caller, audited), correcting them with new
versions, and the rows and body that every stored version is made of.

Taking in new responses (single and batch, idempotent) is `submissions.py`; both write a version
through `version_rows` and `insert_versions`, and answer with the same `body`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NamedTuple

from sqlalchemy import insert, select

from prom.db import execute_rows, update_if, utcnow
from prom.errors import Conflict, NotFound, ValidationFailed
from prom.extensions import db
from prom.instruments import UnknownInstrument, validate_answers
from prom.instruments.spec import SEVERITY_RANK, Alert, Definition
from prom.models.accounts import User
from prom.models.participants import Participant
from prom.models.responses import Alert as AlertRow
from prom.models.responses import Response, ResponseVersion, Score
from prom.scoring import ScoredResponse, score_response
from prom.services import adverse_events, audit, participants, placement, worsening
from prom.services.instruments import library
from prom.services.pagination import paginate

_responses = Response.__table__


# ---------------------------------------------------------------------------------------------
# Reads


def get_response(response_id: uuid.UUID, viewer: User) -> dict[str, Any]:
    response = _visible_response(response_id, viewer)
    audit.record("response.read", actor=viewer.id, target=("response", response.id))
    db.session.commit()
    return body(response)


def versions(response_id: uuid.UUID, viewer: User) -> list[dict[str, Any]]:
    """Every version of a response, oldest first, with its answers and scores."""
    response = _visible_response(response_id, viewer)
    audit.record("response.read", actor=viewer.id, target=("response", response.id),
                 detail={"versions": True})
    db.session.commit()
    return [{
        "version": v.version, "answers": v.answers, "item_timings": v.item_timings,
        "created_at": v.created_at.astimezone(UTC).isoformat(), "created_by": str(v.created_by),
        "reason": v.reason, "current": v.version == response.current_version,
        "scores": render_scores(_fields(s, SCORE_FIELDS) for s in v.scores),
        "alerts": [_fields(a, ALERT_FIELDS) for a in response.alerts if a.version == v.version],
    } for v in response.versions]


class Answered(NamedTuple):
    """A stored response: its body, the answers of its current version, its language."""

    body: dict[str, Any]
    answers: dict[str, Any]
    language: str | None


def get_with_answers(response_id: uuid.UUID, viewer: User) -> Answered:
    """A response with its current answers and language (for its FHIR form)."""
    response = _visible_response(response_id, viewer)
    audit.record("response.read", actor=viewer.id, target=("response", response.id),
                 detail={"answers": True})
    db.session.commit()
    return _answered(response)


def list_with_answers(participant_id: uuid.UUID, viewer: User, *, limit: int,
                      cursor: str | None = None) -> tuple[list[Answered], str | None]:
    """A page of a participant's responses, as `list_for_participant`, with their current
    answers and languages."""
    page, next_cursor = _page(participant_id, viewer, limit=limit, cursor=cursor,
                              detail={"answers": True})
    return [_answered(response) for response in page], next_cursor


def _answered(response: Response) -> Answered:
    return Answered(body(response), dict(response.current.answers), response.language)


def list_for_participant(participant_id: uuid.UUID | None, viewer: User, *, limit: int,
                         cursor: str | None = None, instrument: str | None = None,
                         timepoint: str | None = None,
                         since: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """A participant's responses, by time received (oldest first), one page at a time.
    `participant_id` None means the caller's own (a participant's `/me/responses`)."""
    page, next_cursor = _page(participant_id, viewer, limit=limit, cursor=cursor,
                              instrument=instrument, timepoint=timepoint, since=since)
    return [body(response) for response in page], next_cursor


def _page(participant_id: uuid.UUID | None, viewer: User, *, limit: int,
          cursor: str | None = None, instrument: str | None = None,
          timepoint: str | None = None, since: datetime | None = None,
          detail: dict[str, Any] | None = None) -> tuple[list[Response], str | None]:
    if participant_id is None:
        participant = viewer.participant
        if participant is None:
            raise NotFound("This account is not enrolled in a study.")
    else:
        participant = participants.visible(participant_id, viewer)
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
                 detail={"count": len(page), **(detail or {})})
    db.session.commit()
    return page, next_cursor


def stored(response_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Response]:
    """The stored responses among `response_ids`, with their versions and alerts (one query per
    table)."""
    ids = list(response_ids)
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(Response).where(Response.id.in_(ids)))}


def _visible_response(response_id: uuid.UUID, viewer: User) -> Response:
    """The response, or 404 when it or its participant is outside the viewer's scope."""
    return participants.visible_record(Response, response_id, viewer, "response")


# ---------------------------------------------------------------------------------------------
# Corrections


def amend(response_id: uuid.UUID, answers: dict[str, Any], reason: str,
          item_timings: dict[str, int] | None, *, actor: User) -> dict[str, Any]:
    """A correction by staff: a new version, validated and scored on the response's pinned
    instrument version. Earlier versions stay; the response points at the new one."""
    response = _visible_response(response_id, actor)
    definition = definition_for(response.instrument, response.instrument_version)
    check_answers(definition, answers, item_timings)
    number = response.current_version + 1
    previous_answers = db.session.scalar(select(ResponseVersion.answers).where(
        ResponseVersion.response_id == response.id, ResponseVersion.version == number - 1))
    participant = db.session.get(Participant, response.participant_id)
    scored = score_response(definition, answers)
    worse = worsening.raised([worsening.Candidate.of(
        placement.placed(response), participant.id, participant.study_id, definition, scored)])
    now = utcnow()
    rows = version_rows(definition, scored, response_id=response.id,
                        participant_id=response.participant_id, language=response.language,
                        number=number, answers=answers, item_timings=item_timings,
                        actor_id=actor.id, reason=reason, now=now,
                        also_raised=worse.get(response.id, ()))
    # The version number is part of the key and the pointer moves only from the version this
    # amendment was based on: of two simultaneous amendments, the second gets 409.
    if not update_if(db.session, _responses, response.id,
                     _responses.c.current_version == number - 1, current_version=number):
        db.session.rollback()
        raise Conflict("The response was amended at the same time; fetch it and try again.")
    insert_versions([rows])
    opening = adverse_events.opening(
        definition, answers, response_id=response.id, participant_id=participant.id,
        study_id=participant.study_id, reported_at=response.collected_at, opened_at=now)
    if opening is not None and not adverse_events.opened_for(response.id):
        adverse_events.open_events([opening])
    # The trail names what changed by item id, not value: the audit table is append-only, so
    # patient data written there could never be erased; every version's answers stay in
    # response_versions.
    audit.record("response.amend", actor=actor.id, target=("response", response.id),
                 detail={"version": number, "reason": reason,
                         "changed": changed_items(previous_answers, answers)},
                 occurred_at=now)
    db.session.commit()
    # The answer is the version this call created, even if another amendment follows at once.
    answer = render({**_row(response), "current_version": number}, rows.scores, rows.alerts)
    db.session.expire(response)  # its versions and pointer moved underneath the ORM
    return answer


def changed_items(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The item ids whose answer differs between two versions' answers, sorted (an item left
    out and an item answered null are both unanswered)."""
    return sorted(item for item in {*before, *after} if before.get(item) != after.get(item))


# ---------------------------------------------------------------------------------------------
# What a stored version is made of


class VersionRows(NamedTuple):
    """One version of a response as table rows: its answers, its scores, the alerts it raised."""

    version: dict[str, Any]
    scores: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def definition_for(instrument_id: str, version: str) -> Definition:
    """The pinned definition, or 422 naming `instrument` or `instrument_version`."""
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


def check_answers(definition: Definition, answers: dict[str, Any],
                  item_timings: dict[str, int] | None) -> None:
    """422 with `answers.<item>` / `item_timings.<item>` paths unless every answer is valid for
    the definition and every timing names one of its items."""
    errors = {(f"answers.{key}" if key else "answers"): messages
              for key, messages in validate_answers(definition, answers).items()}
    if item_timings:
        for key in item_timings:
            if not definition.has_item(key):
                errors[f"item_timings.{key}"] = ["unknown item"]
    if errors:
        raise ValidationFailed(errors=errors)


def version_rows(definition: Definition, scored: ScoredResponse, *, response_id: uuid.UUID,
                 participant_id: uuid.UUID, language: str | None, number: int,
                 answers: dict[str, Any], item_timings: dict[str, int] | None,
                 actor_id: uuid.UUID, reason: str | None, now: datetime,
                 also_raised: Sequence[Alert] = ()) -> VersionRows:
    """The rows of a checked and scored version, with the alerts scoring raised and those
    `also_raised` (on worsening), in the definition's order. Alert messages are stored in the
    response's language (English, or the first the definition has, when it has none in it)."""
    language = language or "en"
    raised = {alert.id for alert in (*scored.alerts, *also_raised)}
    return VersionRows(
        version={"response_id": response_id, "version": number, "answers": dict(answers),
                 "item_timings": item_timings, "created_at": now, "created_by": actor_id,
                 "reason": reason},
        scores=[{"response_id": response_id, "version": number, "scale": score.scale,
                 "position": k, "value": score.value, "status": score.status,
                 "n_answered": score.n_answered, "band": score.band,
                 "instrument_version": score.instrument_version,
                 "scoring_version": score.scoring_version}
                for k, score in enumerate(scored.scores.values())],
        alerts=[{"id": uuid.uuid4(), "response_id": response_id,
                 "participant_id": participant_id, "version": number, "position": k,
                 "rule": alert.id, "severity": alert.severity,
                 "severity_rank": SEVERITY_RANK[alert.severity],
                 "message": alert.message.get(language) or alert.message.get("en")
                 or next(iter(alert.message.values())),
                 "created_at": now}
                for k, alert in enumerate(definition.alerts) if alert.id in raised],
    )


_INSERT_VERSION = insert(ResponseVersion.__table__)
_INSERT_SCORE = insert(Score.__table__)
_INSERT_ALERT = insert(AlertRow.__table__)


def insert_versions(rows: list[VersionRows]) -> None:
    """Write versions with their scores and alerts: one (multi-row) INSERT per table."""
    execute_rows(db.session, _INSERT_VERSION, [r.version for r in rows])
    execute_rows(db.session, _INSERT_SCORE, [score for r in rows for score in r.scores])
    execute_rows(db.session, _INSERT_ALERT, [alert for r in rows for alert in r.alerts])


# ---------------------------------------------------------------------------------------------
# The response as the API returns it


def body(response: Response) -> dict[str, Any]:
    """A stored response as the API returns it: the same for the first answer and every
    replay."""
    return render(_row(response),
                  [_fields(score, SCORE_FIELDS) for score in response.current.scores],
                  [_fields(alert, ALERT_FIELDS) for alert in response.current_alerts])


#: What the API shows of a score and of an alert (a stored row has more: provenance, ids).
SCORE_FIELDS = ("scale", "value", "status", "n_answered", "band")
ALERT_FIELDS = ("rule", "severity", "message")


def render(row: Mapping[str, Any], scores: Iterable[Mapping[str, Any]],
           alerts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The body of a response from its `responses` row values and its current version's score
    and alert rows (the rows `version_rows` makes, or the same fields read back)."""
    offset = timezone(timedelta(minutes=row["collected_offset_minutes"]))
    return {
        "id": str(row["id"]),
        "participant_id": str(row["participant_id"]),
        "instrument": row["instrument"],
        "instrument_version": row["instrument_version"],
        "timepoint": row["timepoint"],
        "collected_at": row["collected_at"].astimezone(offset).isoformat(),
        "received_at": row["received_at"].astimezone(UTC).isoformat(),
        "version": row["current_version"],
        "analysis": {"timepoint": row["analysis_timepoint"], "study_day": row["study_day"],
                     "in_window": row["in_window"], "flags": list(row["window_flags"] or ())},
        "scores": render_scores(scores),
        "alerts": [{"rule": a["rule"], "severity": a["severity"], "message": a["message"]}
                   for a in alerts],
    }


def render_scores(scores: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """{scale: {value, status, n_answered, band}}, in the order given (the definition's)."""
    return {s["scale"]: {"value": s["value"], "status": s["status"],
                         "n_answered": s["n_answered"], "band": s["band"]} for s in scores}


def _row(response: Response) -> dict[str, Any]:
    return {column.key: getattr(response, column.key) for column in _responses.columns}


def _fields(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}
