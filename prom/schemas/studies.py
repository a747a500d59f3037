"""Schemas of studies, their arms and schedule, and study membership."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from prom.schemas.fields import InputSchema

CODE = ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$",
                          error="1 to 64 letters, digits, '.', '_' or '-'")
NAME = ma.validate.Length(min=1, max=200)


class ArmSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=CODE)
    name = ma.fields.String(required=True, validate=NAME)


class TimepointSchema(ma.Schema):
    timepoint = ma.fields.String(required=True, validate=CODE, attribute="code", metadata={
        "description": "free text code, e.g. baseline, week4, post, fu3m"})
    day = ma.fields.Integer(required=True, strict=True,
                            validate=ma.validate.Range(min=-3650, max=3650), metadata={
                                "description": "target day after the anchor date"})
    window_before = ma.fields.Integer(required=True, strict=True,
                                      validate=ma.validate.Range(min=0, max=3650))
    window_after = ma.fields.Integer(required=True, strict=True,
                                     validate=ma.validate.Range(min=0, max=3650))
    instruments = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
                                 required=True, validate=ma.validate.Length(min=1, max=50))
    every = ma.fields.Integer(strict=True, allow_none=True, load_default=None,
                              validate=ma.validate.Range(min=1, max=3650), metadata={
                                  "description": "days between occurrences of a repeating "
                                                 "timepoint"})
    count = ma.fields.Integer(strict=True, load_default=1,
                              validate=ma.validate.Range(min=1, max=520), metadata={
                                  "description": "occurrences; a repeating timepoint `week` "
                                                 "becomes week1, week2, …"})

    @ma.validates_schema
    def repeats_have_an_interval(self, data: dict[str, Any], **_: object) -> None:
        if data.get("count", 1) > 1 and data.get("every") is None:
            raise ma.ValidationError("a repeating timepoint (count > 1) needs every", "every")


class StudyCreateSchema(InputSchema):
    code = ma.fields.String(required=True, validate=CODE)
    name = ma.fields.String(required=True, validate=NAME)
    arms = ma.fields.List(ma.fields.Nested(ArmSchema), required=True,
                          validate=ma.validate.Length(min=1, max=20))
    schedule = ma.fields.List(ma.fields.Nested(TimepointSchema), load_default=list,
                              validate=ma.validate.Length(max=200))

    @ma.validates_schema
    def codes_unique(self, data: dict[str, Any], **_: object) -> None:
        errors: dict[str, Any] = {}
        for field, key in (("arms", "code"), ("schedule", "code")):
            seen: set[str] = set()
            for index, entry in enumerate(data.get(field, [])):
                name = "timepoint" if field == "schedule" else key
                if entry[key] in seen:
                    errors.setdefault(field, {})[index] = {name: [f"duplicate {name} "
                                                                 f"{entry[key]!r}"]}
                seen.add(entry[key])
        if errors:
            raise ma.ValidationError(errors)


class StudySchema(StudyCreateSchema):
    id = ma.fields.UUID(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class StudyListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StudySchema), required=True)


class MemberCreateSchema(InputSchema):
    user_id = ma.fields.UUID(required=True)


class MemberSchema(ma.Schema):
    study_id = ma.fields.UUID(required=True)
    user_id = ma.fields.UUID(required=True)
