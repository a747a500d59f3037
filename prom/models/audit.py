"""The audit trail: one append-only row per change, read of patient data, export or login attempt.

DESIGN.md requires that the trail answers who did what, to what, when and why, and that the table
refuses updates and deletes. The refusal lives in the database (triggers created by the baseline
migration), so it holds for every client, not only for this code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from prom.db import Base, utcnow


class AuditEvent(Base):
    """Something that happened and must stay on record."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    # BIGINT on PostgreSQL because every read of patient data adds a row; plain INTEGER on SQLite,
    # where only an INTEGER PRIMARY KEY is an auto-incrementing rowid alias.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who acted: a user id, "system" for jobs and commands, None when unknown (a failed login
    # with a user name that does not exist).
    actor: Mapped[str | None] = mapped_column(String(200))
    # What happened, as a dotted verb: "response.create", "participant.read", "auth.login_failed".
    action: Mapped[str] = mapped_column(String(100))
    # What it happened to: a resource type and its id, e.g. ("response", "<uuid>").
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    # Why and anything else worth keeping: {"reason": ...} for amendments, export filters, etc.
    detail: Mapped[dict[str, Any] | None]
    # The client's IP address as the app saw it (after any trusted proxy); 45 fits IPv6 text.
    client_address: Mapped[str | None] = mapped_column(String(45))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.target_type}:{self.target_id}>"
