"""Clinical alerts (`/alerts`): the clinic's triage list and acknowledgement."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from marshmallow import RAISE

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.schemas.alerts import (
    AcknowledgementSchema,
    AlertListArgsSchema,
    AlertPageSchema,
    AlertSchema,
)
from prom.services import alerts as service

blp = Blueprint("alerts", __name__, url_prefix="/alerts",
                description="Clinical alerts raised by responses: triage and acknowledgement")


@blp.route("")
@roles_required("admin", "clinician")
@blp.arguments(AlertListArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, AlertPageSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def list_alerts(**filters: Any) -> dict[str, Any]:
    """Alerts of the caller's sites (admins: all), most severe and newest first"""
    items, next_cursor = service.list_alerts(current_user(), **filters)
    return {"items": items, "next_cursor": next_cursor}


@blp.route("/<uuid:alert_id>/acknowledge", methods=["POST"])
@roles_required("admin", "clinician")
@blp.arguments(AcknowledgementSchema())
@blp.response(200, AlertSchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.alt_response(409, **PROBLEM_RESPONSE)
def acknowledge(body: dict[str, Any], alert_id: UUID) -> dict[str, Any]:
    """Acknowledge an alert once, with an optional note (who and when are recorded)"""
    return service.acknowledge(alert_id, body["note"], actor=current_user())
