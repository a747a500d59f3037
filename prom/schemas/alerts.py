"""Schemas of clinical alerts and their acknowledgement."""

from __future__ import annotations

import marshmallow as ma

from prom.schemas.fields import InputSchema
from prom.schemas.participants import MAX_PAGE


class AlertSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    participant_id = ma.fields.UUID(required=True)
    response_id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True, metadata={
        "description": "the response version whose answers raised it"})
    rule = ma.fields.String(required=True, metadata={"description": "the instrument's alert id"})
    severity = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True, metadata={"description": "open or acknowledged"})
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    acknowledged_by = ma.fields.UUID(allow_none=True, required=True)
    note = ma.fields.String(allow_none=True, required=True)


class AlertListArgsSchema(InputSchema):
    status = ma.fields.String(load_default="open",
                              validate=ma.validate.OneOf(("open", "acknowledged", "all")))
    participant_id = ma.fields.UUID()
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    cursor = ma.fields.String(validate=ma.validate.Length(min=1, max=500))


class AlertPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AlertSchema), required=True, metadata={
        "description": "most severe first, then newest first"})
    next_cursor = ma.fields.String(allow_none=True, required=True)


class AcknowledgementSchema(InputSchema):
    note = ma.fields.String(load_default=None, allow_none=True,
                            validate=ma.validate.Length(max=2000), metadata={
                                "description": "what was done, for the record"})
