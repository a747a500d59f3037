"""Soak: sustained submissions from many retrying devices while workers die and PostgreSQL
restarts; then proof that nothing acknowledged was lost or stored twice.

Issue 6 asks for it: 10 minutes for the record, run by hand (not in CI), with the figures in
BENCHMARKS.md.

**Set-up.** A fresh PostgreSQL database, migrated by `prom db upgrade`, an admin from
`prom create-admin`, a study and one activated participant per device. gunicorn serves the app
(`--workers 4`), with rate limits in Redis as in production.

**Devices.** Each device is a thread that submits PHQ-9 responses one after another, as the
mobile app does: a response gets its UUID when it is filled in, and the device sends it until it
is acknowledged (201 or 200), with the **same id and body** after a timeout, a dropped
connection, a 5xx or a 429. It waits `Retry-After` when the server gives one, else backs off
(0.2 s doubling to 3 s). A 409 or a 4xx other than 429 would be a bug and is counted.

**Faults.** Every `--kill-every` seconds a random gunicorn worker gets SIGKILL (the master starts
another). Once, at `--restart-at` (a fraction of the run), PostgreSQL is restarted with
`pg_ctlcluster … restart` (the outage lasts as long as the restart takes).

**Verification, after the devices stop.**
- Every id any device saw acknowledged is stored exactly once, with the answers it sent.
- No stored response is unknown to the devices, and no id has two rows (the primary key makes
  that impossible; it is counted anyway).
- 5xx answers are counted, split into inside the outage (stop issued → first success after it)
  and outside it. During the outage every 5xx should be 503 problem+json with `Retry-After`.
- Recovery: the seconds from PostgreSQL accepting connections again to the first 201 after it.

Run:  .venv/bin/python benchmarks/soak.py [--seconds 600] [--devices 32] [--kill-every 30]
          [--restart-at 0.5] [--database prom_soak] [--keep-db]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_submit import (  # noqa: E402
    calibration,
    drop_database,
    migrated_with_admin,
    phq9_response,
    postgres_version,
    server_url,
    set_up_participants,
    start_gunicorn,
    wait_until_ready,
)

TIMEOUT = 5.0  # a device gives up waiting for an answer after this and sends again
ADMIN = "soak-admin@prom.local"


@dataclass
class Outcome:
    at: float  # monotonic seconds
    status: int  # 0: no answer (timeout, refused, reset)
    problem: bool = False  # application/problem+json
    retry_after: bool = False


@dataclass
class Device:
    token: str
    acknowledged: dict[str, dict] = field(default_factory=dict)  # id → answers sent
    outcomes: list[Outcome] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)


@dataclass
class Chaos:
    kills: int = 0
    outage_start: float | None = None  # restart issued
    outage_end: float | None = None  # PostgreSQL accepts connections again
    notes: list[str] = field(default_factory=list)


def send(port: int, device: Device, body: bytes) -> Outcome:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        connection.request("POST", "/api/v1/responses", body=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {device.token}"})
        response = connection.getresponse()
        response.read()
        outcome = Outcome(time.monotonic(), response.status,
                          response.getheader("Content-Type", "").startswith(
                              "application/problem+json"),
                          response.getheader("Retry-After") is not None)
        connection.close()
        return outcome
    except (OSError, http.client.HTTPException):
        return Outcome(time.monotonic(), 0)


def run_device(port: int, device: Device, stop: threading.Event) -> None:
    while not stop.is_set():
        entry = phq9_response(datetime.now(UTC))
        body = json.dumps(entry).encode()
        wait = 0.2
        while True:  # the same id until acknowledged: an app never drops a filled-in form
            outcome = send(port, device, body)
            device.outcomes.append(outcome)
            if outcome.status in (200, 201):
                device.acknowledged[entry["id"]] = entry["answers"]
                break
            if outcome.status in (409,) or (400 <= outcome.status < 500
                                            and outcome.status != 429):
                device.bugs.append(f"{entry['id']}: {outcome.status}")
                break
            if stop.is_set() and time.monotonic() > stop_deadline[0]:
                device.bugs.append(f"{entry['id']}: never acknowledged before the end")
                return
            time.sleep(wait)
            wait = min(wait * 2, 3.0)


stop_deadline = [float("inf")]  # devices finish their last form until this moment


def postgres_cluster() -> tuple[str, str]:
    version = postgres_version().split(".")[0]
    return version, "main"


def chaos(server, chaos_state: Chaos, stop: threading.Event, kill_every: float,
          restart_at: float | None, started: float) -> None:
    next_kill = started + kill_every
    while not stop.wait(0.2):
        now = time.monotonic()
        if restart_at is not None and chaos_state.outage_start is None and now >= restart_at:
            version, cluster = postgres_cluster()
            chaos_state.outage_start = time.monotonic()
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster,
                            "restart"], check=True, capture_output=True)
            while True:
                try:
                    psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                                    connect_timeout=1).close()
                    break
                except psycopg.OperationalError:
                    time.sleep(0.05)
            chaos_state.outage_end = time.monotonic()
            chaos_state.notes.append(f"PostgreSQL restarted at {now - started:.0f} s, down "
                                     f"{chaos_state.outage_end - chaos_state.outage_start:.1f} s")
        if now >= next_kill:
            workers = server.worker_pids()
            if workers:
                victim = random.choice(workers)
                try:
                    os.kill(victim, signal.SIGKILL)
                    chaos_state.kills += 1
                except ProcessLookupError:
                    pass
            next_kill += kill_every


def verify(database_url: str, devices: list[Device]) -> dict:
    acknowledged = {k: v for d in devices for k, v in d.acknowledged.items()}
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as c:
        rows = c.execute(
            "SELECT r.id::text, count(*), min(v.answers::text) FROM responses r "
            "JOIN response_versions v ON v.response_id = r.id AND v.version = 1 "
            "GROUP BY r.id").fetchall()
    stored = {row[0]: (row[1], json.loads(row[2])) for row in rows}
    missing = [k for k in acknowledged if k not in stored]
    twice = [k for k, (count, _) in stored.items() if count != 1]
    changed = [k for k, answers in acknowledged.items()
               if k in stored and stored[k][1] != answers]
    unknown = [k for k in stored if k not in acknowledged]
    return {"acknowledged": len(acknowledged), "stored": len(stored), "missing": len(missing),
            "stored_twice": len(twice), "answers_differ": len(changed),
            "stored_not_acknowledged": len(unknown)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--devices", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=30)
    parser.add_argument("--restart-at", type=float, default=0.5,
                        help="fraction of the run at which PostgreSQL restarts; 0: never")
    parser.add_argument("--database", default="prom_soak")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    database_url = server_url(args.database)
    secret, jwt_secret = secrets.token_hex(32), secrets.token_hex(32)
    env = {**os.environ, "PROM_DATABASE_URL": database_url, "PROM_SECRET_KEY": secret,
           "PROM_JWT_SECRET_KEY": jwt_secret, "PROM_ACCESS_TOKEN_MINUTES": "240",
           "PROM_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379", "PROM_LOG_LEVEL": "ERROR"}
    password = migrated_with_admin(args.database, env, ADMIN)
    tokens = set_up_participants(database_url, secret, jwt_secret, args.devices, ADMIN,
                                 password, token_minutes=240)
    log = ROOT / "benchmarks" / ".soak-gunicorn.log"
    server = start_gunicorn("prom", "wsgi:app", env, log,
                            extra=("--workers", str(args.workers), "--timeout", "30"))
    try:
        wait_until_ready(server, "GET", "/healthz", {200})
        print(f"PostgreSQL {postgres_version()}; calibration {calibration():.2f} µs; "
              f"{args.devices} devices, {args.workers} workers, {args.seconds:.0f} s")
        devices = [Device(token) for token in tokens]
        stop = threading.Event()
        started = time.monotonic()
        state = Chaos()
        restart = started + args.seconds * args.restart_at if args.restart_at > 0 else None
        threads = [threading.Thread(target=run_device, args=(server.port, d, stop))
                   for d in devices]
        monkey = threading.Thread(target=chaos, args=(server, state, stop, args.kill_every,
                                                      restart, started))
        for thread in [*threads, monkey]:
            thread.start()
        while time.monotonic() - started < args.seconds:
            time.sleep(1)
        stop_deadline[0] = time.monotonic() + 60  # time for last forms to be acknowledged
        stop.set()
        for thread in [*threads, monkey]:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.stop()

    outcomes = sorted((o for d in devices for o in d.outcomes), key=lambda o: o.at)
    statuses = Counter(o.status for o in outcomes)
    recovered = None
    if state.outage_end is not None:
        recovered = next((o.at for o in outcomes if o.at > state.outage_end
                          and o.status == 201), None)
    window = (state.outage_start or 0, recovered or state.outage_end or 0)
    inside = [o for o in outcomes if window[0] <= o.at <= window[1]]
    outside = [o for o in outcomes if not window[0] <= o.at <= window[1]]
    result = {
        "seconds": round(elapsed, 1), "requests": len(outcomes),
        "acknowledged_per_second": round(sum(len(d.acknowledged) for d in devices) / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "worker_kills": state.kills, "chaos": state.notes,
        "5xx_outside_outage": sum(1 for o in outside if o.status >= 500),
        "no_answer_outside_outage": sum(1 for o in outside if o.status == 0),
        "5xx_in_outage": sum(1 for o in inside if o.status >= 500),
        "5xx_in_outage_not_503_problem_with_retry_after": sum(
            1 for o in inside if o.status >= 500
            and not (o.status == 503 and o.problem and o.retry_after)),
        "recovery_seconds_after_database_back": (
            None if recovered is None else round(recovered - state.outage_end, 2)),
        "device_bugs": [bug for d in devices for bug in d.bugs][:20],
        **verify(database_url, devices),
    }
    print(json.dumps(result, indent=2))
    if not args.keep_db:
        drop_database(args.database)
    ok = (result["missing"] == 0 and result["stored_twice"] == 0
          and result["answers_differ"] == 0 and not result["device_bugs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
