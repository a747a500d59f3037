"""Concurrent writers on the embedded SQLite default never see "database is locked".

DESIGN.md makes SQLite (WAL, busy timeout) the default store, served by gunicorn with two
workers (`make run`). Two processes then write one file, and SQLite lets one write at a time:
a writer must wait its turn, never fail. This test runs the real thing: a fresh, migrated SQLite
file; gunicorn with 2 gthread workers; 16 client threads posting single responses and batches
for several seconds, a third of them retries of ids already sent (sometimes still in flight on
another thread). No answer may be a 5xx, every entry must be acknowledged (201 the first time,
200 for a replay), and every acknowledged id is stored exactly once, with one version and one
`response.create` audit row.

It needs no PostgreSQL, so it is skipped in the PostgreSQL pass of CI, which would only repeat it.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from prom.app import create_app
from prom.extensions import create_database_engine, db
from prom.models.audit import AuditEvent
from prom.models.responses import Response, ResponseVersion
from tests.api.conftest import RAISED_RATE_LIMITS
from tests.api.studies_fixtures import API, activate, build_world, enrol
from tests.api.test_responses import phq9_answers, submission
from tests.conftest import FAST_PASSWORD_HASHING, migrated

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

CLIENT_THREADS = 16
PARTICIPANTS = 4
SECONDS = 8.0
BATCH_SIZE = 12
RETRY_SHARE = 0.35  # of entries that resend an id sent before

pytestmark = pytest.mark.skipif(
    not (os.environ.get("PROM_TEST_DATABASE_URL") or "sqlite").startswith("sqlite"),
    reason="runs its own SQLite database; the PostgreSQL pass would only repeat it")


def free_port() -> int:
    """A port the kernel has just handed out, 18500 or above (lower ones belong to others)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 18500:
            return port
    raise RuntimeError("no free port at or above 18500")


@dataclass
class Server:
    url: str
    port: int
    tokens: list[str]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn (2 gthread workers) on a fresh SQLite file with PARTICIPANTS activated."""
    url = migrated(f"sqlite:///{tmp_path / 'prom.db'}")
    secret, jwt_secret = secrets.token_hex(32), secrets.token_hex(32)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": secret,
                      "JWT_SECRET_KEY": jwt_secret, **FAST_PASSWORD_HASHING,
                      **RAISED_RATE_LIMITS})
    with app.app_context():
        world = build_world(app.test_client())
        enrolments = [world.participant, *(
            enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)
            for _ in range(PARTICIPANTS - 1))]
        tokens = [activate(world.client, enrolment["activation_code"])["access_token"]
                  for enrolment in enrolments]
        db.engine.dispose()

    port = free_port()
    env = {**os.environ, "PROM_DATABASE_URL": url, "PROM_SECRET_KEY": secret,
           "PROM_JWT_SECRET_KEY": jwt_secret, "PROM_RATELIMIT_STORAGE_URL": "memory://",
           "PROM_LOG_LEVEL": "WARNING"}
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--worker-class", "gthread", "--threads", "4",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_healthy(process, port, log)
        yield Server(url=url, port=port, tokens=tokens)
    finally:
        process.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    server_log = log.read_text()
    assert "database is locked" not in server_log, server_log[-3000:]
    assert "Traceback" not in server_log, server_log[-3000:]


def wait_until_healthy(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz in 30 s:\n{log.read_text()}")


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    tokens: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (token, body)
    acknowledged: Counter[str] = field(default_factory=Counter)  # id -> times 201 or 200
    created: Counter[str] = field(default_factory=Counter)  # id -> times 201
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def entries(self, rng: random.Random, count: int) -> tuple[str, list[dict[str, Any]]]:
        """`count` bodies for one participant: new ones, and retries of ids sent before."""
        token = None
        bodies = []
        with self.lock:
            for _ in range(count):
                earlier = [sent for sent in self.sent if token in (None, sent[0])]
                if earlier and rng.random() < RETRY_SHARE:
                    token, body = rng.choice(earlier[-200:])
                else:
                    token = token or rng.choice(self.tokens)
                    body = submission(answers=phq9_answers(rng.randint(0, 3), phq9_9=0))
                    self.sent.append((token, body))
                bodies.append(body)
        return token, bodies

    def record(self, what: str, status: int, body: dict[str, Any] | None) -> None:
        with self.lock:
            self.statuses[f"{what} {status}"] += 1
            if status >= 500 or "locked" in json.dumps(body):
                self.failures.append(f"{what} {status}: {body}")
                return
            if what == "single":
                results = [{"id": body.get("id"), "status": status}]
            elif status == 200:
                results = body["results"]
            else:
                self.failures.append(f"{what} {status}: {body}")
                return
            for result in results:
                if result["status"] not in (200, 201):
                    self.failures.append(f"{what} entry {result}")
                    continue
                self.acknowledged[result["id"]] += 1
                if result["status"] == 201:
                    self.created[result["id"]] += 1


def hammer(port: int, tally: Tally, seed: int, until: float) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        batch = rng.random() < 0.4
        token, bodies = tally.entries(rng, rng.randint(2, BATCH_SIZE) if batch else 1)
        # Retries within one batch repeat an id: the service answers the repeat as a replay.
        path, payload = (f"{API}/responses/batch", {"responses": bodies}) if batch else \
            (f"{API}/responses", bodies[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", path, body=json.dumps(payload), headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            answer = connection.getresponse()
            raw = answer.read()
        except OSError as error:
            with tally.lock:
                tally.failures.append(f"{path}: {error!r}")
            continue
        finally:
            connection.close()
        tally.record("batch" if batch else "single", answer.status, json.loads(raw or b"null"))


def test_two_gunicorn_workers_writing_one_sqlite_file_never_fail(server: Server) -> None:
    tally = Tally(server.tokens)
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=hammer, args=(server.port, tally, seed, until))
               for seed in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 90)

    assert not tally.failures, (tally.failures[:10], tally.statuses)
    assert tally.statuses["single 200"] and tally.statuses["batch 200"], tally.statuses
    assert sum(tally.created.values()) > 100, tally.statuses  # it really was a load
    assert all(times == 1 for times in tally.created.values()), "an id was created twice"

    engine = create_database_engine(server.url)
    try:
        with engine.connect() as connection:
            stored = Counter(str(uuid.UUID(str(row))) for row in connection.scalars(
                select(Response.id)))
            versions = Counter(str(uuid.UUID(str(row))) for row in connection.scalars(
                select(ResponseVersion.response_id)))
            audited = Counter(connection.scalars(select(AuditEvent.target_id).where(
                AuditEvent.action == "response.create")))
            assert connection.scalar(select(func.count()).select_from(Response)) == len(stored)
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()
    acknowledged = set(tally.acknowledged)
    assert acknowledged == set(tally.created), "an id was acknowledged but never created"
    assert set(stored) == acknowledged
    assert all(stored[i] == versions[i] == audited[i] == 1 for i in acknowledged)
