"""Submitted questionnaires (`/responses`): idempotent single and batch submission, and reads.

Clients generate each response's id. Sending it again is always safe: 201 the first time, 200
with the identical body for a replay, 409 if the same id arrives with different content.

FHIR: `POST /responses` also takes a QuestionnaireResponse (`Content-Type:
application/fhir+json`), read into the native body and then validated, scored and stored exactly
as one (its `id` is the response id); errors name the FHIR paths sent. It is answered with the
native body, or, when `Accept` prefers `application/fhir+json`, with the stored response as `GET
/responses/{id}?format=fhir` gives it: the QuestionnaireResponse, with the Observations of its
scores as contained resources (`derivedFrom` the response).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from marshmallow import RAISE

from prom.api.parsing import (
    Blueprint,
    fhir_response,
    reads_fhir,
    wants_fhir,
)
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.schemas.fhir import (
    FHIR_JSON,
    QUESTIONNAIRE_RESPONSE,
    STORED_QUESTIONNAIRE_RESPONSE,
    FormatArgsSchema,
)
from prom.schemas.responses import (
    AmendmentSchema,
    BatchResultsSchema,
    BatchSchema,
    ResponseCreateSchema,
    ResponseListArgsSchema,
    ResponsePageSchema,
    ResponseSchema,
    VersionListSchema,
)
from prom.services import fhir, submissions
from prom.services import responses as service

blp = Blueprint("responses", __name__, url_prefix="/responses",
                description="Questionnaire responses: submit (idempotent), batch sync, read, "
                            "amend")
# A participant's responses, as sub-resources of the participant (staff) and of /me.
lists_blp = Blueprint("participant_responses", __name__, url_prefix="",
                      description="A participant's responses, newest last, cursor-paginated")


#: A response's FHIR form, documented beside the JSON one.
FHIR_RESPONSE = {"content": {FHIR_JSON: {"schema": STORED_QUESTIONNAIRE_RESPONSE}}}


def _read_questionnaire_response(resource: Any) -> Any:
    return fhir.read_submission(resource, current_user())


@blp.route("", methods=["POST"])
@roles_required("participant", "clinician", "admin")
@blp.arguments(ResponseCreateSchema())
@blp.response(201, ResponseSchema)
@blp.alt_response(200, schema=ResponseSchema, description="a replay of a stored response")
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.alt_response(409, **PROBLEM_RESPONSE)
@blp.doc(requestBody={"content": {FHIR_JSON: {"schema": QUESTIONNAIRE_RESPONSE}}},
         responses={201: FHIR_RESPONSE, 200: FHIR_RESPONSE})
@reads_fhir(_read_questionnaire_response)
def submit(body: dict[str, Any]):
    """Submit a response (or a FHIR QuestionnaireResponse): validated, scored, stored once"""
    answer, status = submissions.submit(body, actor=current_user())
    if wants_fhir():
        return fhir_response(fhir.submitted_resource(answer, body), status)
    return answer, status


@blp.route("/batch", methods=["POST"])
@roles_required("participant", "clinician", "admin")
@blp.arguments(BatchSchema())
@blp.response(200, BatchResultsSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
def submit_batch(body: dict[str, Any]) -> dict[str, Any]:
    """Submit up to 500 responses (an app syncing after being offline); a result per entry"""
    return {"results": submissions.submit_batch(body["responses"], actor=current_user())}


@blp.route("/<uuid:response_id>")
@roles_required()
@blp.arguments(FormatArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, ResponseSchema)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.doc(responses={200: FHIR_RESPONSE})
def get_response(response_id: UUID, representation: str = "json") -> Any:
    """Get a response with its current scores (`format=fhir`: a FHIR QuestionnaireResponse)"""
    if representation == "fhir":
        return fhir_response(fhir.response_resource(response_id, current_user()))
    return service.get_response(response_id, current_user())


@blp.route("/<uuid:response_id>/amendments", methods=["POST"])
@roles_required("clinician", "admin")
@blp.arguments(AmendmentSchema())
@blp.response(201, ResponseSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.alt_response(409, **PROBLEM_RESPONSE)
def amend(body: dict[str, Any], response_id: UUID) -> dict[str, Any]:
    """Correct a response (staff, with a reason): a new, rescored version; earlier ones stay"""
    return service.amend(response_id, body["answers"], body["reason"],
                         body.get("item_timings"), actor=current_user())


@blp.route("/<uuid:response_id>/versions")
@roles_required()
@blp.response(200, VersionListSchema)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def versions(response_id: UUID) -> dict[str, Any]:
    """Every version of a response, oldest first"""
    return {"items": service.versions(response_id, current_user())}


@lists_blp.route("/me/responses")
@roles_required("participant")
@lists_blp.arguments(ResponseListArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@lists_blp.response(200, ResponsePageSchema)
@lists_blp.alt_response(403, **PROBLEM_RESPONSE)
@lists_blp.alt_response(404, **PROBLEM_RESPONSE)
def my_responses(**filters: Any) -> dict[str, Any]:
    """The signed-in participant's responses"""
    items, next_cursor = service.list_for_participant(None, current_user(), **filters)
    return {"items": items, "next_cursor": next_cursor}


@lists_blp.route("/participants/<uuid:participant_id>/responses")
@roles_required()
@lists_blp.arguments(ResponseListArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@lists_blp.response(200, ResponsePageSchema)
@lists_blp.alt_response(404, **PROBLEM_RESPONSE)
def participant_responses(participant_id: UUID, **filters: Any) -> dict[str, Any]:
    """A participant's responses (staff in scope, or the participant)"""
    items, next_cursor = service.list_for_participant(participant_id, current_user(), **filters)
    return {"items": items, "next_cursor": next_cursor}
