"""Schemas of participants and of the cursor-paginated lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma

from prom.schemas.fields import InputSchema

MAX_PAGE = 200


def _known_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ma.ValidationError("not an IANA time zone, e.g. Europe/London") from error


def _not_in_future(day: date) -> None:
    # one day of slack: the clinic's local date may be ahead of UTC
    if day > datetime.now(UTC).date() + timedelta(days=1):
        raise ma.ValidationError("cannot be in the future")


class ParticipantCreateSchema(InputSchema):
    site_id = ma.fields.UUID(required=True)
    arm = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    enrolled_on = ma.fields.Date(required=True, validate=_not_in_future)
    randomised_on = ma.fields.Date(load_default=None, allow_none=True, validate=_not_in_future,
                                   metadata={"description": "when recorded, day 0 of the "
                                             "schedule instead of enrolled_on"})
    language = ma.fields.String(load_default="en", validate=ma.validate.Regexp(
        r"^[a-z]{2,3}(-[A-Z]{2})?$", error="a language tag such as en or pt-BR"))
    timezone = ma.fields.String(load_default="UTC", validate=[ma.validate.Length(max=64),
                                                              _known_timezone])

    @ma.validates_schema
    def randomised_after_enrolment(self, data: dict[str, Any], **_: object) -> None:
        randomised = data.get("randomised_on")
        if randomised is not None and randomised < data["enrolled_on"]:
            raise ma.ValidationError("cannot be before enrolled_on", "randomised_on")


class RandomisationSchema(InputSchema):
    randomised_on = ma.fields.Date(required=True, validate=_not_in_future, metadata={
        "description": "becomes day 0 of the participant's schedule"})


class ParticipantSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    study_id = ma.fields.UUID(required=True)
    site_id = ma.fields.UUID(required=True)
    arm = ma.fields.String(attribute="arm_code", required=True)
    enrolled_on = ma.fields.Date(required=True)
    randomised_on = ma.fields.Date(allow_none=True, required=True)
    language = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class EnrolledSchema(ParticipantSchema):
    activation_code = ma.fields.String(required=True, metadata={
        "description": "one-time code for POST /auth/activate; shown only in this response"})


class PageArgsSchema(InputSchema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    cursor = ma.fields.String(validate=ma.validate.Length(min=1, max=500))


class ParticipantPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ParticipantSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "pass as ?cursor= for the next page; null after the last"})
