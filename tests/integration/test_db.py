"""Shared column types (prom/db.py) against the real database."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from prom.models import AuditEvent


def stored(db_session: Session, event: AuditEvent) -> AuditEvent:
    """The row as the database returns it, not the object still held by the session."""
    db_session.flush()
    db_session.expire(event)
    return db_session.scalars(select(AuditEvent).where(AuditEvent.id == event.id)).one()


def test_datetimes_come_back_aware_in_utc(db_session: Session) -> None:
    melbourne = timezone(timedelta(hours=11))
    collected = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=melbourne)
    event = AuditEvent(occurred_at=collected, action="test.datetime")
    db_session.add(event)

    occurred_at = stored(db_session, event).occurred_at

    assert occurred_at == collected
    assert occurred_at.tzinfo == UTC
    assert occurred_at.hour == 22


def test_naive_datetimes_are_refused(db_session: Session) -> None:
    db_session.add(AuditEvent(occurred_at=datetime(2026, 11, 24, 9, 30), action="test.naive"))

    with pytest.raises(StatementError, match="naive datetime"), db_session.begin_nested():
        db_session.flush()


def test_occurred_at_defaults_to_now(db_session: Session) -> None:
    before = datetime.now(UTC)
    event = AuditEvent(action="test.default")
    db_session.add(event)

    occurred_at = stored(db_session, event).occurred_at

    assert before <= occurred_at <= datetime.now(UTC)


def test_json_detail_round_trips(db_session: Session) -> None:
    detail = {"reason": "typo in answer", "fields": ["phq9_1"], "previous": {"phq9_1": 3}}
    event = AuditEvent(action="response.amend", detail=detail)
    db_session.add(event)

    assert stored(db_session, event).detail == detail
