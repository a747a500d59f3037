"""The Database extension (prom/extensions.py) on the real database."""

import pytest
from flask import Flask
from sqlalchemy import text

from prom.extensions import db


def test_sqlite_connections_are_configured_for_safety(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas; this run is on another database")
        with db.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 5000
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1


def test_session_belongs_to_the_app_context(app: Flask) -> None:
    with app.app_context():
        session = db.session
        assert db.session is session
        assert session.execute(text("SELECT 1")).scalar() == 1
    with app.app_context():
        assert db.session is not session


def test_db_session_fixture_is_the_apps_session(app: Flask, db_session) -> None:
    assert db.session is db_session
