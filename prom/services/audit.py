"""The audit trail, written from services inside their own transaction: a change and its audit
row commit together or not at all."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from prom.extensions import db
from prom.models.audit import AuditEvent


def record(action: str, *, actor: Any = None, target: tuple[str, Any] | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Add an audit row to the current session (the caller's transaction commits it)."""
    db.session.add(AuditEvent(
        action=action,
        actor=None if actor is None else str(actor),
        target_type=target[0] if target else None,
        target_id=str(target[1]) if target else None,
        detail=detail,
        client_address=request.remote_addr if has_request_context() else None,
    ))
