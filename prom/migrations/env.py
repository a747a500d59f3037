"""Alembic environment: migrates the connection that ``prom.migrations`` hands over.

Offline mode (``--sql``) is not supported: prom always migrates a live database.
"""

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TypeDecorator

import prom.models  # noqa: F401 -- importing the models registers every table on Base.metadata
from prom.db import Base


def render_storage_type(type_: str, obj: Any, _context: AutogenContext) -> str | bool:
    """Autogenerate writes prom's shared column types as the type they store.

    A revision must keep meaning what it meant when it was written, so it should not import
    application code: ``UTCDateTime()`` is rendered as ``sa.DateTime(timezone=True)``.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported; use `prom db`")
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `prom db ...`, which passes the app's connection")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead. Rebuilding
        # drops a table's triggers, so a batch migration of audit_events must recreate them.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_storage_type,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
