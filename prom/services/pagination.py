"""Keyset (cursor) pagination: a page ends at the key of its last row (a timestamp and an id,
say), and the next page starts after it.

Cursors are opaque to clients (URL-safe base64 of the key), stable while rows are added, and a
cursor the API did not hand out is refused with 422 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from prom.errors import ValidationFailed
from prom.extensions import db


def paginate(query: Select[Any], *keys: InstrumentedAttribute[Any], limit: int,
             cursor: str | None, descending: bool = False) -> tuple[list[Any], str | None]:
    """One page of `query` ordered by `keys` (ascending, or all descending), and the cursor of
    the next page (None at the end). The last key must be unique (an id)."""
    query = query.order_by(*(key.desc() if descending else key for key in keys))
    if cursor is not None:
        after = tuple_(*keys), tuple_(*decode_cursor(cursor, keys))
        query = query.where(after[0] < after[1] if descending else after[0] > after[1])
    rows = list(db.session.scalars(query.limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor([getattr(last, key.key) for key in keys])


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else
                      str(v) if isinstance(v, uuid.UUID) else v for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[InstrumentedAttribute[Any], ...]) -> list[Any]:
    """The key values of a cursor, typed as the key columns; 422 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong shape")
        return [_typed(value, key.type.python_type) for value, key in zip(values, keys,
                                                                           strict=True)]
    except (ValueError, TypeError, OverflowError, binascii.Error,
            json.JSONDecodeError) as error:
        raise ValidationFailed(errors={"cursor": ["not a cursor this API returned"]}) from error


def _typed(value: Any, python_type: type) -> Any:
    if python_type is datetime:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when.astimezone(UTC)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is int and type(value) is int:
        return value
    raise ValueError(f"unexpected cursor value {value!r}")
