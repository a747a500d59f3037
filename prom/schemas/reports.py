"""Schema of the clinic report (`GET /participants/{id}/report`); the rules are in
`prom.reports.clinic`."""

from __future__ import annotations

import marshmallow as ma

from prom.schemas.adverse_events import AdverseEventSchema
from prom.schemas.fields import InputSchema
from prom.schemas.instruments import BandSchema, McidSchema
from prom.schemas.schedule import AdherenceSchema


class _StudyRef(ma.Schema):
    id = ma.fields.UUID(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class _ArmRef(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class ReportParticipantSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    study = ma.fields.Nested(_StudyRef, required=True)
    arm = ma.fields.Nested(_ArmRef, required=True)
    enrolled_on = ma.fields.Date(required=True)
    randomised_on = ma.fields.Date(allow_none=True, required=True)
    anchor = ma.fields.Date(required=True, metadata={"description": "day 0 of the schedule"})
    timezone = ma.fields.String(required=True)


class PointSchema(ma.Schema):
    response_id = ma.fields.UUID(required=True)
    timepoint = ma.fields.String(allow_none=True, required=True)
    date = ma.fields.Date(required=True, metadata={"description": "local collection date"})
    study_day = ma.fields.Integer(allow_none=True, required=True)
    value = ma.fields.Float(allow_none=True, required=True)
    band = ma.fields.String(allow_none=True, required=True)


class SeriesPointSchema(PointSchema):
    status = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "scored, prorated or insufficient"})
    flags = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "out_of_window, not_scheduled, unknown_timepoint, duplicate_in_window"})


class ResponderSchema(ma.Schema):
    category = ma.fields.String(required=True, metadata={
        "description": "substantial_improvement, moderate_improvement (pain, IMMPACT), improved, "
                       "no_important_change or worsened"})
    label = ma.fields.String(required=True)
    rule = ma.fields.String(required=True)


class OutcomeSchema(ma.Schema):
    instrument = ma.fields.String(required=True)
    instrument_title = ma.fields.String(allow_none=True, required=True)
    scale = ma.fields.String(required=True)
    label = ma.fields.String(allow_none=True, required=True)
    range = ma.fields.List(ma.fields.Float(), required=True)
    higher_is = ma.fields.String(required=True)
    bands = ma.fields.List(ma.fields.Nested(BandSchema), required=True)
    mcid = ma.fields.Nested(McidSchema, allow_none=True, required=True)
    series = ma.fields.List(ma.fields.Nested(SeriesPointSchema), required=True, metadata={
        "description": "every stored response, oldest first"})
    baseline = ma.fields.Nested(PointSchema, allow_none=True, required=True)
    latest = ma.fields.Nested(PointSchema, allow_none=True, required=True)
    change = ma.fields.Float(allow_none=True, required=True, metadata={
        "description": "latest − baseline"})
    percent_change = ma.fields.Float(allow_none=True, required=True, metadata={
        "description": "change / |baseline| × 100; null when the baseline is 0"})
    responder = ma.fields.Nested(ResponderSchema, allow_none=True, required=True)


class ReportAlertSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    rule = ma.fields.String(required=True)
    severity = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    instrument = ma.fields.String(required=True)
    response_id = ma.fields.UUID(required=True)


class NegativeEffectScoreSchema(ma.Schema):
    label = ma.fields.String(allow_none=True, required=True)
    value = ma.fields.Float(allow_none=True, required=True)
    band = ma.fields.String(allow_none=True, required=True)


class NegativeEffectsSchema(ma.Schema):
    response_id = ma.fields.UUID(required=True)
    timepoint = ma.fields.String(allow_none=True, required=True)
    date = ma.fields.Date(required=True)
    scores = ma.fields.Dict(keys=ma.fields.String(),
                            values=ma.fields.Nested(NegativeEffectScoreSchema), required=True)


class ReportSchema(ma.Schema):
    participant = ma.fields.Nested(ReportParticipantSchema, required=True)
    generated_at = ma.fields.AwareDateTime(required=True)
    adherence = ma.fields.Nested(AdherenceSchema, required=True)
    outcomes = ma.fields.List(ma.fields.Nested(OutcomeSchema), required=True)
    alerts = ma.fields.List(ma.fields.Nested(ReportAlertSchema), required=True, metadata={
        "description": "open alerts, most severe first"})
    adverse_events = ma.fields.List(ma.fields.Nested(AdverseEventSchema), required=True)
    negative_effects = ma.fields.List(ma.fields.Nested(NegativeEffectsSchema), required=True,
                                      metadata={"description": "NEQ responses"})


class ReportArgsSchema(InputSchema):
    format = ma.fields.String(load_default=None, validate=ma.validate.OneOf(("json", "html")),
                              metadata={"description": "html for the printable page; the "
                                                       "Accept header is used otherwise"})
