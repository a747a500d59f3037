"""Reports on a participant (`/participants/{id}/report`): JSON, or a printable HTML page."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from flask import Response, request
from marshmallow import RAISE

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.reports.html import render_html
from prom.schemas.reports import ReportArgsSchema, ReportSchema
from prom.services import reports as service

blp = Blueprint("reports", __name__, url_prefix="",
                description="Clinic reports: outcomes over time, change from baseline, alerts, "
                            "adverse events and adherence")


@blp.route("/participants/<uuid:participant_id>/report")
@roles_required("admin", "clinician", "researcher")
@blp.arguments(ReportArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, ReportSchema)
@blp.doc(responses={"200": {"description": "The report: JSON, or a printable HTML page",
                            "content": {"application/json": {"schema": ReportSchema},
                                        "text/html": {"schema": {"type": "string"}}}}})
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def clinic_report(participant_id: UUID, format: str | None) -> Any:
    """A participant's clinic report. JSON by default; `?format=html` (or `Accept: text/html`)
    gives a printable page with a chart per outcome."""
    if format is None:
        best = request.accept_mimetypes.best_match(["application/json", "text/html"])
        format = "html" if best == "text/html" else "json"
    report = service.clinic_report(participant_id, current_user(), format=format)
    # The report is built ready for JSON, in the shape ReportSchema documents (a test holds
    # them together): a dump through the schema would cost more than building it.
    if format == "json":
        page = Response(json.dumps(report, separators=(",", ":"), allow_nan=False),
                        mimetype="application/json")
    else:
        page = Response(render_html(report), mimetype="text/html")
    page.headers["Vary"] = "Accept"
    return page
