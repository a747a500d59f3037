"""Flask extensions, created unbound here and bound to an app by ``create_app``.

Modules import these objects (``from prom.extensions import db``) without needing an app, and
every app built by ``create_app`` -- one per test, one per worker -- binds them in turn.

The database is a small extension of our own instead of Flask-SQLAlchemy: plain SQLAlchemy 2.x
(an Engine and a ``sessionmaker``), so that services, the CLI, migrations and scripts use the same
engine setup, and nothing Flask-specific leaks into queries.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import flask_smorest
from flask import Flask, current_app, g
from flask_compress import Compress
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest.utils import prepare_response
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from prom.errors import PROBLEM_JSON, ProblemSchema

log = logging.getLogger(__name__)

#: Applied to every new SQLite connection. WAL lets readers work while one writer writes;
#: busy_timeout makes a second writer wait (in ms) instead of failing at once; FULL syncs the
#: WAL on every commit so a power cut loses no acknowledged response; SQLite leaves foreign
#: keys unenforced unless asked, per connection.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


def create_database_engine(url: str) -> Engine:
    """An Engine for ``url`` with prom's per-database settings (see :data:`SQLITE_PRAGMAS`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        # Fail a health check or request in seconds when the server is unreachable, rather
        # than after the operating system's TCP timeout.
        options["connect_args"] = {"connect_timeout": 10}
    return create_engine(parsed, **options)


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Stop the sqlite3 module from issuing its own BEGIN (it does so only before DML, which
    # breaks SAVEPOINT and transactional DDL); _begin_immediate issues it instead. This is the
    # recipe in SQLAlchemy's SQLite documentation ("Enabling Non-Legacy SQLite Transactional
    # Modes").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_immediate(connection: Any) -> None:
    # IMMEDIATE takes the write lock at BEGIN, so a transaction that reads and then writes
    # waits its turn (busy_timeout) instead of failing with "database is locked" when it tries
    # to upgrade its read lock. The cost is that transactions on one SQLite file run one at a
    # time, which suits the embedded single-host deployment; PostgreSQL is the store for scale.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class _BoundDatabase:
    engine: Engine
    sessionmaker: sessionmaker[Session]


class Database:
    """SQLAlchemy for a Flask app: one Engine per app, one Session per app context.

    ``db.session`` is created on first use inside an app context (each request has its own) and
    closed when that context ends, which rolls back anything left uncommitted. Services commit;
    views never do.
    """

    _extension_key = "prom.database"
    _session_key = "prom_db_session"

    def init_app(self, app: Flask) -> None:
        os.makedirs(app.instance_path, exist_ok=True)  # home of the default SQLite database
        engine = create_database_engine(app.config["DATABASE_URL"])
        app.extensions[self._extension_key] = _BoundDatabase(
            engine=engine, sessionmaker=sessionmaker(bind=engine, expire_on_commit=False)
        )
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        """The current app's Engine."""
        return self._bound().engine

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        """The current app's session factory (tests reconfigure it to bind one connection)."""
        return self._bound().sessionmaker

    @property
    def session(self) -> Session:
        """The Session of the current app context."""
        if self._session_key not in g:
            setattr(g, self._session_key, self.sessionmaker())
        session: Session = getattr(g, self._session_key)
        return session

    def ping(self) -> bool:
        """Whether the database answers ``SELECT 1`` (failures are logged, not raised)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.warning("Database ping failed", exc_info=True)
            return False
        return True

    def _bound(self) -> _BoundDatabase:
        bound: _BoundDatabase = current_app.extensions[self._extension_key]
        return bound

    def _close_session(self, _exc: BaseException | None) -> None:
        session: Session | None = g.pop(self._session_key, None)
        if session is not None:
            session.close()


class Api(flask_smorest.Api):
    """flask-smorest's Api, documenting error responses as prom's problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # The parent (flask-smorest 0.47) documents every status, errors included, as
        # application/json with its own error schema; prom's errors are problem+json, and a
        # success status has no error body to document.
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


class InstrumentLibrary:
    """The instrument library, loaded and checked once per app at start-up.

    A bad definition stops the app from starting (`LibraryError` lists every problem), so a
    server never runs with an instrument it cannot validate or score. Read it with
    `prom.services.instruments.library()`.
    """

    def init_app(self, app: Flask) -> None:
        from prom.services.instruments import EXTENSION_KEY

        app.extensions[EXTENSION_KEY] = _load_library_once(
            app.config.get("INSTRUMENTS_DIR"), app.config.get("INSTRUMENTS_PATH"))


def _load_library_once(directory: Any, overlay: Any) -> Any:
    """The library, loaded once per process for the same files (every test builds an app; a
    process with several apps shares one immutable library). A changed file is a new key."""
    from prom.instruments.loader import DEFAULT_DIRECTORY

    paths = [Path(directory or DEFAULT_DIRECTORY), *([Path(overlay)] if overlay else [])]
    fingerprint = tuple(
        (str(path), tuple(sorted((f.name, f.stat().st_mtime_ns) for f in path.rglob("*")
                                 if f.is_file())) if path.is_dir() else None)
        for path in paths)
    return _cached_library(fingerprint, directory, overlay)


@functools.lru_cache(maxsize=8)
def _cached_library(_fingerprint: tuple, directory: Any, overlay: Any) -> Any:
    from prom.instruments import load_library

    return load_library(directory, overlay)


db = Database()
instruments = InstrumentLibrary()
api = Api()
jwt = JWTManager()
# Limits are declared per route (login, refresh); there is no global default limit.
limiter = Limiter(key_func=get_remote_address)
compress = Compress()
