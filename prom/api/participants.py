"""Participants: enrolment into a study (`/studies/{id}/participants`) and reads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from marshmallow import RAISE

from prom.api.parsing import Blueprint, fhir_response
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.models.participants import Participant
from prom.schemas.fhir import BUNDLE, FHIR_JSON, BundlePageArgsSchema
from prom.schemas.participants import (
    EnrolledSchema,
    PageArgsSchema,
    ParticipantCreateSchema,
    ParticipantPageSchema,
    ParticipantSchema,
    RandomisationSchema,
)
from prom.services import fhir
from prom.services import participants as service

blp = Blueprint("participants", __name__, url_prefix="",
                description="Enrolment and participant records, scoped to the caller")


@blp.route("/studies/<uuid:study_id>/participants", methods=["POST"])
@roles_required("admin", "clinician")
@blp.arguments(ParticipantCreateSchema())
@blp.response(201, EnrolledSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def enrol(body: dict[str, Any], study_id: UUID) -> service.Enrolment:
    """Enrol a participant (clinician of the site, or admin); returns the activation code once"""
    return service.enrol(study_id, body, actor=current_user())


@blp.route("/studies/<uuid:study_id>/participants")
@roles_required()
@blp.arguments(PageArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, ParticipantPageSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def list_participants(study_id: UUID, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """List a study's participants the caller may see, oldest first (cursor pagination)"""
    page, next_cursor = service.list_participants(study_id, current_user(), limit=limit,
                                                  cursor=cursor)
    return {"items": page, "next_cursor": next_cursor}


@blp.route("/participants/<uuid:participant_id>")
@roles_required()
@blp.response(200, ParticipantSchema)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def get_participant(participant_id: UUID) -> Participant:
    """Get a participant (staff in scope, or the participant themself)"""
    return service.get_participant(participant_id, current_user())


@blp.route("/participants/<uuid:participant_id>/randomisation", methods=["POST"])
@roles_required("admin", "clinician")
@blp.arguments(RandomisationSchema())
@blp.response(200, ParticipantSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.alt_response(409, **PROBLEM_RESPONSE)
def record_randomisation(body: dict[str, Any], participant_id: UUID) -> Participant:
    """Record the randomisation date once (clinician of the site, or admin); it then anchors the
    participant's schedule"""
    return service.record_randomisation(participant_id, body["randomised_on"],
                                        actor=current_user())


@blp.route("/participants/<uuid:participant_id>/fhir")
@roles_required()
@blp.arguments(BundlePageArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, content_type=FHIR_JSON, description="a searchset Bundle")
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.doc(responses={200: {"content": {FHIR_JSON: {"schema": BUNDLE}}}})
def participant_fhir(participant_id: UUID, limit: int, cursor: str | None = None) -> Any:
    """A participant's responses and scores as a FHIR Bundle, oldest first, a page at a time"""
    return fhir_response(fhir.participant_bundle(participant_id, current_user(), limit=limit,
                                                 cursor=cursor))
