"""The audit trail, written from services inside their own transaction: a change and its audit
row commit together or not at all.

Rows are written with a Core INSERT at once (not added to the ORM session for the next flush):
the same transaction, without the unit of work's bookkeeping, and a batch of submissions writes
all its rows in one multi-row statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import insert

from prom.db import execute_rows, utcnow
from prom.extensions import db
from prom.models.audit import AuditEvent

_INSERT = insert(AuditEvent.__table__)  # built once: every change and read writes one


def event(action: str, *, actor: Any = None, target: tuple[str, Any] | None = None,
          detail: dict[str, Any] | None = None,
          occurred_at: datetime | None = None) -> dict[str, Any]:
    """One audit row's values: who (`actor`), did what (`action`), to what (`target`: a type and
    an id), with what `detail`, when (`occurred_at`, default now: a change passes the time it
    stamped on the row it wrote, so that the trail and the record agree to the microsecond), from
    which client address (the current request's, if any)."""
    return {
        "occurred_at": occurred_at or utcnow(),
        "action": action,
        "actor": None if actor is None else str(actor),
        "target_type": target[0] if target else None,
        "target_id": str(target[1]) if target else None,
        "detail": detail,
        "client_address": request.remote_addr if has_request_context() else None,
    }


def record(action: str, *, actor: Any = None, target: tuple[str, Any] | None = None,
           detail: dict[str, Any] | None = None, occurred_at: datetime | None = None) -> None:
    """Write one audit row in the current transaction (the caller's commit keeps it)."""
    record_many([event(action, actor=actor, target=target, detail=detail,
                       occurred_at=occurred_at)])


def record_many(events: list[dict[str, Any]]) -> None:
    """Write audit rows made by `event` in the current transaction, in one statement.

    Pending ORM changes are not flushed first: they are flushed at the caller's commit, so that
    their errors (a duplicate code, say) surface where the caller handles them."""
    with db.session.no_autoflush:
        execute_rows(db.session, _INSERT, events)
