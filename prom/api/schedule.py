"""What is due: a participant's own due list (`/me/due`) and a participant's schedule with
adherence (`/participants/{id}/schedule`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.schemas.schedule import DueListSchema, ScheduleSchema
from prom.services import schedule as service

blp = Blueprint("schedule", __name__, url_prefix="",
                description="Due lists and adherence, from the study's schedule and windows")


@blp.route("/me/due")
@roles_required("participant")
@blp.response(200, DueListSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
def my_due() -> dict[str, Any]:
    """The signed-in participant's questionnaires: upcoming, open, completed or missed"""
    return {"items": service.my_due(current_user())}


@blp.route("/participants/<uuid:participant_id>/schedule")
@roles_required()
@blp.response(200, ScheduleSchema)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def participant_schedule(participant_id: UUID) -> dict[str, Any]:
    """A participant's due list with adherence (staff in scope, or the participant)"""
    items, adherence = service.participant_schedule(participant_id, current_user())
    return {"items": items, "adherence": adherence}
