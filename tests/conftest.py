"""Fixtures shared by every test.

The database is SQLite in a temporary directory unless ``PROM_TEST_DATABASE_URL`` names another
(CI runs the suite a second time on PostgreSQL). It is migrated to head once per session; each
test gets a fresh app bound to it, so tests may add throwaway routes or override settings.

- ``database_url``: the migrated database's URL.
- ``app``, ``client``, ``runner``: a TESTING app, its test client and CLI runner.
- ``db_session``: the app's ``db.session``, inside a transaction rolled back after the test;
  requests made through ``client`` during the test share it, so they are rolled back too.
- ``load_script(name)``: a script of scripts/ as a module (scripts are not in the package).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from prom import migrations
from prom.app import create_app
from prom.extensions import create_database_engine, db

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str) -> ModuleType:
    """`scripts/<name>.py` imported as the module `name` (once; later calls return it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses in the script look their module up by name
    spec.loader.exec_module(module)
    return module


#: argon2id at its minimum cost: tests hash hundreds of passwords (production keeps the default).
FAST_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8, "ARGON2_PARALLELISM": 1}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the test database, migrated to head."""
    return migrated(os.environ.get("PROM_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('database') / 'prom.db'}"
    ))


def migrated(url: str) -> str:
    """`url`, after migrating its database to head."""
    engine = create_database_engine(url)
    try:
        migrations.upgrade(engine, "head")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **FAST_PASSWORD_HASHING})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        # Sessions join the outer transaction through a SAVEPOINT, so code under test may
        # commit (services do) and the rollback below still undoes everything.
        db.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
        yield db.session
        db.session.close()
        transaction.rollback()
