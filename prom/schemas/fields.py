"""Fields shared by several schemas."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from prom.db import UNSTORABLE_TEXT, is_storable_text


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


def unstorable_text_paths(data: Any) -> list[str]:
    """The dotted paths of every string (value or key) in ``data`` no database can store.

    A loop, not recursion: JSON nested nearly as deep as the parser allows must not overflow
    the stack here."""
    found: list[str] = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not is_storable_text(value):
                found.append(".".join(path))
        elif isinstance(value, Mapping):
            for key in value:
                key_text = str(key)
                if is_storable_text(key_text):
                    stack.append(((*path, key_text), value[key]))
                else:
                    found.append(".".join((*path, ascii(key_text))))
        elif isinstance(value, list | tuple):
            stack.extend(((*path, str(position)), item) for position, item in enumerate(value))
    return sorted(found)


class InputSchema(ma.Schema):
    """A request body or query string: text that no database can store is a 422 naming the
    field, before any field is loaded (rather than a 500 from the driver, on PostgreSQL only)."""

    @ma.pre_load
    def refuse_unstorable_text(self, data: Any, **_kwargs: Any) -> Any:
        if paths := unstorable_text_paths(data):
            raise ma.ValidationError({path or ma.exceptions.SCHEMA: [UNSTORABLE_TEXT]
                                      for path in paths})
        return data
