"""Schemas of due lists and adherence."""

from __future__ import annotations

import marshmallow as ma

STATUSES = ("upcoming", "open", "completed", "missed")


class DueItemSchema(ma.Schema):
    timepoint = ma.fields.String(required=True, metadata={
        "description": "the occurrence, e.g. baseline, week3 (the third of a repeating week)"})
    instrument = ma.fields.String(required=True)
    opens_at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "local midnight of the window's first day, in the participant's zone"})
    closes_at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "local midnight after the window's last day (exclusive)"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES), metadata={
        "description": "upcoming, open, completed (an in-window response) or missed"})


class DueListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DueItemSchema), required=True)


class AdherenceSchema(ma.Schema):
    completed = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)
    missed = ma.fields.Integer(required=True)
    due_so_far = ma.fields.Integer(required=True, metadata={
        "description": "items whose window has opened: completed + open + missed"})
    rate = ma.fields.Float(allow_none=True, required=True, metadata={
        "description": "completed / due_so_far; null while nothing has been due"})


class ScheduleSchema(DueListSchema):
    adherence = ma.fields.Nested(AdherenceSchema, required=True)
