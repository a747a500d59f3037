"""Research exports (`/studies/{id}/export`) and review-ready summaries
(`/studies/{id}/summary`)."""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

from flask import send_file
from marshmallow import RAISE

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.schemas.exports import ExportArgsSchema, SummaryArgsSchema, SummarySchema
from prom.services import exports as service

blp = Blueprint("exports", __name__, url_prefix="",
                description="Research exports: analysis-ready datasets with codebook and "
                            "manifest, and per-arm summaries")


@blp.route("/studies/<uuid:study_id>/export")
@roles_required("admin", "researcher")
@blp.arguments(ExportArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.doc(responses={"200": {"description": "A zip: data/, codebook.csv, codebook.json, "
                                           "README.txt and manifest.json",
                            "content": {"application/zip": {"schema": {
                                "type": "string", "format": "binary"}}}}})
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def export(study_id: UUID, **args: Any) -> Any:
    """A study's research export as a zip (pseudonymised unless `identified=true`)"""
    request = service.ExportRequest(
        layouts=tuple(dict.fromkeys(args["layout"])), format=args["format"],
        duplicates=args["duplicates"], identified=args["identified"], arms=tuple(args["arm"]),
        instruments=tuple(args["instrument"]), timepoints=tuple(args["timepoint"]),
        comparator=args["comparator"])
    archive, name, _ = service.export_archive(study_id, request, current_user())
    response = send_file(archive, mimetype="application/zip", as_attachment=True,
                         download_name=name, max_age=0)
    # The length lets a client show progress and notice a cut-short download.
    response.content_length = os.fstat(archive.fileno()).st_size
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/studies/<uuid:study_id>/summary")
@roles_required("admin", "researcher")
@blp.arguments(SummaryArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, SummarySchema)
@blp.alt_response(403, **PROBLEM_RESPONSE)
@blp.alt_response(404, **PROBLEM_RESPONSE)
def summary(study_id: UUID, duplicates: str, arm: list[str], comparator: str | None) -> Any:
    """Per arm × timepoint × scale: N, mean, SD, median, IQR, change, responders; each arm
    against the comparator: mean difference, Hedges' g and risk ratio with 95% CIs; adverse
    events per arm"""
    return service.summary(study_id, current_user(), comparator=comparator,
                           duplicates=duplicates, arms=arm)
