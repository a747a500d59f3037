"""Keyset (cursor) pagination: a page ends at a (timestamp, id) key, the next starts after it.

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


def paginate(query: Select[Any], when: InstrumentedAttribute[datetime],
             row_id: InstrumentedAttribute[uuid.UUID], *, limit: int,
             cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of `query` ordered by (when, id), and the cursor of the next (None at the end)."""
    query = query.order_by(when, row_id).limit(limit + 1)
    if cursor is not None:
        query = query.where(tuple_(when, row_id) > decode_cursor(cursor))
    rows = list(db.session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, when.key), getattr(last, row_id.key))


def encode_cursor(when: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([when.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when_text, row_id = json.loads(raw)
        when = datetime.fromisoformat(when_text)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when.astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError, binascii.Error,
            json.JSONDecodeError) as error:
        raise ValidationFailed(errors={"cursor": ["not a cursor this API returned"]}) from error
