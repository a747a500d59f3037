"""Adverse events (`/adverse-events`, `/studies/{id}/adverse-events`): review and listing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from marshmallow import RAISE

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.schemas.adverse_events import (
    AdverseEventCountsSchema,
    AdverseEventListArgsSchema,
    AdverseEventPageSchema,
    AdverseEventSchema,
    ReviewSchema,
)
from prom.services import adverse_events as service

blp = Blueprint("adverse_events", __name__, url_prefix="",
                description="Adverse events reported by participants, and clinicians' reviews")


@blp.route("/adverse-events/<uuid:event_id>")
@roles_required("admin", "clinician", "researcher")
@blp.response(200, AdverseEventSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def get_event(event_id: UUID) -> dict[str, Any]:
    """An adverse event with the patient's report and every review"""
    return service.get_event(event_id, current_user())


@blp.route("/adverse-events/<uuid:event_id>/review", methods=["POST"])
@roles_required("admin", "clinician")
@blp.arguments(ReviewSchema())
@blp.response(201, AdverseEventSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.alt_response(409, **PROBLEM_RESPONSE)
def review(body: dict[str, Any], event_id: UUID) -> dict[str, Any]:
    """Review an event; the review becomes its current assessment and earlier ones are kept"""
    return service.review(event_id, body, actor=current_user())


@blp.route("/studies/<uuid:study_id>/adverse-events")
@roles_required("admin", "clinician", "researcher")
@blp.arguments(AdverseEventListArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, AdverseEventPageSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def list_for_study(study_id: UUID, **filters: Any) -> dict[str, Any]:
    """A study's adverse events, newest first (clinicians: their sites' participants)"""
    items, next_cursor = service.list_for_study(study_id, current_user(), **filters)
    return {"items": items, "next_cursor": next_cursor}


@blp.route("/studies/<uuid:study_id>/adverse-events/counts")
@roles_required("admin", "clinician", "researcher")
@blp.response(200, AdverseEventCountsSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def counts(study_id: UUID) -> dict[str, Any]:
    """Per arm: participants with any and with a serious adverse event, events, unreviewed"""
    return {"arms": service.counts_per_arm(study_id, current_user())}
