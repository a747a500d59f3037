"""Declarative base and the column types every model shares.

Models subclass :class:`Base` and annotate columns with ``Mapped[...]``; the annotation picks the
column type through ``Base.type_annotation_map``, so the conventions below hold without each
model repeating them:

- ``Mapped[datetime]`` is a :class:`UTCDateTime`: timezone-aware in and out, stored as UTC.
- ``Mapped[uuid.UUID]`` is SQLAlchemy's ``Uuid``: native ``uuid`` on PostgreSQL, ``CHAR(32)`` on
  SQLite.
- ``Mapped[dict[str, Any]]`` is :data:`JSONDocument`: ``JSONB`` on PostgreSQL, JSON text on SQLite.

Constraint names follow :data:`NAMING_CONVENTION` so that migrations can refer to (and drop)
constraints by a predictable name on every database, including SQLite's batch mode.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData, Table, TypeDecorator, Uuid, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDocument = JSON().with_variant(JSONB(), "postgresql")
"""A JSON object or array; indexable ``JSONB`` on PostgreSQL."""


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: accepts only timezone-aware datetimes, stores UTC, returns aware UTC.

    Naive datetimes are refused rather than guessed at: a device time without an offset is
    ambiguous, and silently treating it as UTC would shift patients' answers by hours.
    SQLite has no timezone support, so there the stored value is naive UTC and the zone is
    re-attached when read; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every prom model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 -- SQLAlchemy reads this class attribute as declared
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSONDocument,
    }


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the default of every timestamp column."""
    return datetime.now(UTC)


_DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@functools.cache
def insert_unless_present(table: Table, dialect_name: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING <primary key>`` into ``table``: rows whose key
    is stored already are skipped, and only the keys of rows actually inserted come back. Of
    several transactions inserting one key, the database lets exactly one succeed; the others
    wait for it and then skip the row instead of failing. Built once per table and dialect."""
    try:
        insert = _DIALECT_INSERTS[dialect_name]
    except KeyError:
        raise NotImplementedError(f"prom supports PostgreSQL and SQLite, not {dialect_name}"
                                  ) from None
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


def execute_rows(session: Session, statement: Any, rows: list[dict[str, Any]]) -> Any:
    """Run ``statement`` for ``rows``: one row as a plain execution, several as one multi-row
    statement (SQLAlchemy's "insertmanyvalues"); nothing for none."""
    if not rows:
        return None
    return session.execute(statement, rows[0] if len(rows) == 1 else rows)


def update_if(session: Session, table: Table, row_id: Any, *conditions: Any,
              **values: Any) -> bool:
    """Set ``values`` on the row of ``table`` whose ``id`` is ``row_id``, only while
    ``conditions`` still hold (compare-and-set); True if it did. Check and write are one
    statement, so of concurrent callers exactly one succeeds and the others get False."""
    statement = update(table).where(table.c.id == row_id, *conditions).values(**values)
    return session.execute(statement).rowcount == 1


#: What a refusal of `is_storable_text` says about the field.
UNSTORABLE_TEXT = "must be Unicode text without NUL characters"


def is_storable_text(text: str) -> bool:
    """Whether every database prom runs on can store `text`: PostgreSQL refuses NUL in text and
    JSON, and no encoder takes a lone surrogate (which JSON's `\\ud800` escape and undecodable
    terminal bytes produce)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
