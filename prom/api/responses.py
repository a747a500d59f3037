"""Submitted questionnaires (`/responses`): idempotent single and batch submission, and reads.

Clients generate each response's id. Sending it again is always safe: 201 the first time, 200
with the identical body for a replay, 409 if the same id arrives with different content.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask_smorest import Blueprint

from prom.auth import current_user, roles_required
from prom.errors import ProblemSchema
from prom.schemas.responses import (
    BatchResultsSchema,
    BatchSchema,
    ResponseCreateSchema,
    ResponseSchema,
)
from prom.services import responses as service

PROBLEM = {"schema": ProblemSchema, "content_type": "application/problem+json"}

blp = Blueprint("responses", __name__, url_prefix="/responses",
                description="Questionnaire responses: submit (idempotent), batch sync, read")


@blp.route("", methods=["POST"])
@blp.arguments(ResponseCreateSchema)
@blp.response(201, ResponseSchema)
@blp.alt_response(200, schema=ResponseSchema, description="a replay of a stored response")
@blp.alt_response(403, **PROBLEM)
@blp.alt_response(404, **PROBLEM)
@blp.alt_response(409, **PROBLEM)
@roles_required("participant", "clinician", "admin")
def submit(body: dict[str, Any]):
    """Submit a response: validated, scored and stored once, however often it is sent"""
    return service.submit(body, actor=current_user())


@blp.route("/batch", methods=["POST"])
@blp.arguments(BatchSchema)
@blp.response(200, BatchResultsSchema)
@roles_required("participant", "clinician", "admin")
def submit_batch(body: dict[str, Any]) -> dict[str, Any]:
    """Submit up to 500 responses (an app syncing after being offline); a result per entry"""
    return {"results": service.submit_batch(body["responses"], actor=current_user())}


@blp.route("/<uuid:response_id>")
@blp.response(200, ResponseSchema)
@blp.alt_response(404, **PROBLEM)
@roles_required()
def get_response(response_id: UUID) -> dict[str, Any]:
    """Get a response with its current scores"""
    return service.get_response(response_id, current_user())
