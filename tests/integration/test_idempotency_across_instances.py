"""Idempotent submission holds across app instances sharing one database.

The issue requires that "parallel identical submissions (at least 20 threads, two app instances on
PostgreSQL) store exactly one row". Two apps are built with ``create_app`` on the same
``DATABASE_URL`` and the same signing keys, as two web workers or hosts would be; the threads are
split between them and all post one payload with one participant token.

This module is deliberately not marked ``postgres`` (that marker means "needs PostgreSQL"): it
runs in both CI passes and must pass on both databases. Only on PostgreSQL is the race truly
concurrent (each instance has its own connection pool and the primary key decides the winner);
on SQLite every write transaction begins IMMEDIATE, so the inserts are serialised by the file
lock and the test mostly exercises the replay path, which must still give the same answers.

No ``db_session`` here: its single connection cannot serve threads, so the data is committed for
real, with unique codes and emails, and the checks look only at this test's response id.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from prom.app import create_app
from prom.extensions import db
from prom.models.audit import AuditEvent
from prom.models.responses import Response, ResponseVersion
from tests.api.conftest import RAISED_RATE_LIMITS
from tests.api.studies_fixtures import (
    API,
    activate,
    bearer,
    build_world,
)
from tests.api.test_responses import phq9_answers, submission
from tests.conftest import FAST_PASSWORD_HASHING

THREADS = 24  # the issue asks for at least 20; an even number splits evenly over two apps


@pytest.fixture
def instances(database_url: str) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances on one database, sharing their signing keys (as deployed workers do)."""
    shared = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "JWT_SECRET_KEY": secrets.token_hex(32),
        **FAST_PASSWORD_HASHING,
        **RAISED_RATE_LIMITS,
    }
    apps = (create_app(dict(shared)), create_app(dict(shared)))
    yield apps
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def count(model: Any, *conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_parallel_identical_submissions_on_two_instances_store_exactly_one_response(
    instances: tuple[Flask, Flask],
) -> None:
    app_a, app_b = instances
    with app_a.app_context():
        world = build_world(app_a.test_client())
        tokens = activate(world.client, world.participant["activation_code"])
    headers = bearer(tokens["access_token"])  # issued by app A, accepted by app B
    sent = submission(timepoint="baseline", answers=phq9_answers(1),
                      item_timings={"phq9_1": 1200})
    barrier = threading.Barrier(THREADS)

    def submit(index: int) -> tuple[int, int, Any]:
        app = instances[index % 2]
        client = app.test_client()
        barrier.wait(timeout=60)
        response = client.post(f"{API}/responses", json=sent, headers=headers)
        return index % 2, response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(submit, range(THREADS)))

    statuses = sorted(status for _, status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert {instance for instance, _, _ in results} == {0, 1}
    bodies = [body for _, _, body in results]
    assert all(body == bodies[0] for body in bodies), bodies
    first = bodies[0]
    assert first["id"] == sent["id"]
    assert first["participant_id"] == world.participant_id
    assert first["version"] == 1
    assert first["scores"]["phq9"]["value"] == 9
    response_id = uuid.UUID(sent["id"])
    with app_b.app_context():
        assert count(Response, Response.id == response_id) == 1
        assert count(ResponseVersion, ResponseVersion.response_id == response_id) == 1
        assert count(AuditEvent, AuditEvent.action == "response.create",
                     AuditEvent.target_id == sent["id"]) == 1
    for app in instances:
        read = app.test_client().get(f"{API}/responses/{sent['id']}", headers=headers)
        assert read.status_code == 200, read.get_data(as_text=True)
        assert read.json == first
        again = app.test_client().post(f"{API}/responses", json=sent, headers=headers)
        assert again.status_code == 200, again.get_data(as_text=True)
        assert again.json == first
