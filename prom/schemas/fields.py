"""Fields shared by several schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma


class Timestamp(ma.fields.AwareDateTime):
    """ISO 8601 with a UTC offset, for an instant that exists in UTC (years 1–9999 after the
    offset is applied): `0001-01-01T00:00:00+01:00` is refused, not left to overflow later."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(UTC)
        except OverflowError as error:
            raise ma.ValidationError("is outside the range of dates prom can store") from error
        return moment


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("must not be blank")
