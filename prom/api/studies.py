"""Studies (`/studies`): created by admins, visible to staff (researchers: granted studies)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.models.studies import Study
from prom.schemas.studies import (
    MemberCreateSchema,
    MemberSchema,
    StudyCreateSchema,
    StudyListSchema,
    StudySchema,
)
from prom.services import studies as service

STAFF = ("admin", "clinician", "researcher")

blp = Blueprint("studies", __name__, url_prefix="/studies",
                description="Studies: arms, schedule of timepoints, researchers' access")


@blp.route("", methods=["POST"])
@roles_required("admin")
@blp.arguments(StudyCreateSchema())
@blp.response(201, StudySchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(409, **PROBLEM_RESPONSE)
def create_study(body: dict[str, Any]) -> Study:
    """Create a study with its arms and schedule (admin)"""
    return service.create_study(body, actor=current_user().id)


@blp.route("")
@roles_required(*STAFF)
@blp.response(200, StudyListSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
def list_studies() -> dict[str, Any]:
    """List the studies the caller may see"""
    return {"items": service.list_studies(current_user())}


@blp.route("/<uuid:study_id>")
@roles_required(*STAFF)
@blp.response(200, StudySchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def get_study(study_id: UUID) -> Study:
    """Get a study"""
    return service.get_study(study_id, current_user())


@blp.route("/<uuid:study_id>/members", methods=["POST"])
@roles_required("admin")
@blp.arguments(MemberCreateSchema())
@blp.response(201, MemberSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(200, schema=MemberSchema, description="already a member")
@blp.alt_response(404, **PROBLEM_RESPONSE)
def grant_member(body: dict[str, Any], study_id: UUID):
    """Grant a researcher access to a study (admin); repeating it changes nothing"""
    membership, created = service.grant_member(study_id, body["user_id"],
                                               actor=current_user().id)
    return membership, 201 if created else 200
