"""Schemas of adverse events, their reviews and the per-arm counts."""

from __future__ import annotations

import marshmallow as ma

from prom.models.adverse_events import ACTIONS, OUTCOMES, RELATEDNESS, SERIOUSNESS_CRITERIA
from prom.schemas.fields import InputSchema
from prom.schemas.participants import MAX_PAGE


class ReviewSchema(InputSchema):
    """A clinician's assessment of an event (what is posted, and what is returned with who and
    when)."""

    serious = ma.fields.Boolean(required=True, metadata={
        "description": "serious by ICH E2A: true exactly when a seriousness criterion is met"})
    seriousness_criteria = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(SERIOUSNESS_CRITERIA)),
        load_default=list, validate=ma.validate.Length(max=len(SERIOUSNESS_CRITERIA)),
        metadata={"description": "the ICH E2A criteria met: " + ", ".join(SERIOUSNESS_CRITERIA)})
    severity_grade = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 5),
                                       metadata={"description": "CTCAE grade 1–5 (5: death)"})
    relatedness = ma.fields.String(required=True, validate=ma.validate.OneOf(RELATEDNESS),
                                   metadata={"description": "causality: " + ", ".join(RELATEDNESS)})
    expected = ma.fields.Boolean(required=True, metadata={
        "description": "whether the protocol lists such events as expected"})
    action_taken = ma.fields.String(required=True, validate=ma.validate.OneOf(ACTIONS), metadata={
        "description": "on the programme: " + ", ".join(ACTIONS)})
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(OUTCOMES), metadata={
        "description": "ICH E2B outcome: " + ", ".join(OUTCOMES)})
    note = ma.fields.String(load_default=None, allow_none=True,
                            validate=ma.validate.Length(max=4000))

    @ma.validates("seriousness_criteria")
    def _unique(self, value: list[str], **_: object) -> None:
        if len(set(value)) != len(value):
            raise ma.ValidationError("each criterion at most once")


class StoredReviewSchema(ReviewSchema):
    number = ma.fields.Integer(required=True, metadata={"description": "1 for the first review"})
    reviewed_at = ma.fields.AwareDateTime(required=True)
    reviewed_by = ma.fields.UUID(required=True)


class ReportedSchema(ma.Schema):
    """What the patient reported on the adverse_event form (its current version)."""

    description = ma.fields.String(allow_none=True, required=True)
    onset_date = ma.fields.String(allow_none=True, required=True)
    ongoing = ma.fields.Boolean(allow_none=True, required=True)
    severity = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "the patient's rating: mild, moderate or severe"})
    seriousness = ma.fields.List(ma.fields.String(), allow_none=True, required=True)
    attributed = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "whether the patient thinks the programme caused it: no, unsure, yes"})
    serious = ma.fields.Boolean(required=True, metadata={
        "description": "the patient selected a seriousness criterion"})


class AdverseEventSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    participant_id = ma.fields.UUID(required=True)
    study_id = ma.fields.UUID(required=True)
    arm = ma.fields.String(required=True)
    site_id = ma.fields.UUID(required=True)
    response_id = ma.fields.UUID(required=True, metadata={"description": "the report"})
    timepoint = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "the report's analysis timepoint"})
    reported_at = ma.fields.AwareDateTime(required=True)
    opened_at = ma.fields.AwareDateTime(required=True)
    reported = ma.fields.Nested(ReportedSchema, required=True)
    status = ma.fields.String(required=True, metadata={
        "description": "awaiting_review or reviewed"})
    review = ma.fields.Nested(StoredReviewSchema, allow_none=True, required=True, metadata={
        "description": "the current (latest) review"})
    reviews = ma.fields.List(ma.fields.Nested(StoredReviewSchema), required=True, metadata={
        "description": "every review, oldest first"})


class AdverseEventListArgsSchema(InputSchema):
    status = ma.fields.String(load_default="all", validate=ma.validate.OneOf(
        ("awaiting_review", "reviewed", "all")))
    arm = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    site_id = ma.fields.UUID()
    participant_id = ma.fields.UUID()
    serious = ma.fields.Boolean(metadata={
        "description": "by the current review; unreviewed events match neither"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    cursor = ma.fields.String(validate=ma.validate.Length(min=1, max=500))


class AdverseEventPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AdverseEventSchema), required=True, metadata={
        "description": "newest report first"})
    next_cursor = ma.fields.String(allow_none=True, required=True)


class ArmCountsSchema(ma.Schema):
    arm = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    participants = ma.fields.Integer(required=True, metadata={"description": "enrolled"})
    participants_with_event = ma.fields.Integer(required=True)
    events = ma.fields.Integer(required=True)
    serious_events = ma.fields.Integer(required=True, metadata={
        "description": "serious by the current review"})
    participants_with_serious_event = ma.fields.Integer(required=True)
    awaiting_review = ma.fields.Integer(required=True)


class AdverseEventCountsSchema(ma.Schema):
    arms = ma.fields.List(ma.fields.Nested(ArmCountsSchema), required=True)
