"""CPU cost of one request, in process: where prom's submission cost goes, beside the baseline.

`bench_submit.py` measures throughput under load; this script explains it. It runs each kind of
request N times through Flask's test client (no HTTP, no gunicorn, one process) against a fresh
PostgreSQL database and reports the process CPU time per request:

- **baseline POST /responses**: `baseline_app.py`, marshmallow load and one Core INSERT;
- **authenticated no-op**: a route behind `roles_required()` returning `{}`, registered on this
  script's app only: the floor every authenticated prom request pays (token decoding, the one
  query for the user and the session's revocation, Flask);
- **GET /api/v1/me** as a participant;
- **POST /api/v1/responses**: one PHQ-9 submission (validated, scored, stored with its version,
  scores, alerts and audit row);
- **POST /api/v1/responses/batch**: 100 PHQ-9 submissions, reported per response.

The kinds run in turns (ABAB…, `--rounds`), so a slow phase of the machine hits all of them;
the table gives the minimum over rounds (the least disturbed, as `timeit` advises) and every
round's figure. A calibration figure (one trivial numpy call) is printed
at both ends, as in the other benchmarks.

Run:  .venv/bin/python benchmarks/cost_per_request.py [--requests 2000] [--rounds 3]
          [--database prom_cost]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_submit  # noqa: E402 -- after the path set-up above
from bench_submit import (  # noqa: E402
    calibration,
    drop_database,
    migrated_with_admin,
    phq9_response,
    server_url,
    set_up_participants,
)

BATCH = 100


def cpu_per_call(call: Callable[[], None], count: int) -> float:
    """Process CPU milliseconds per call of `call`, over `count` calls."""
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) * 1000 / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests of each kind per round (batches: a tenth as many)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database", default="prom_cost",
                        help="PostgreSQL database to drop, create and use (default prom_cost)")
    args = parser.parse_args()

    from baseline_app import create_app as create_baseline

    from prom.app import create_app
    from prom.auth import roles_required
    from prom.extensions import db

    url = server_url(args.database)
    env = {**os.environ, "PROM_DATABASE_URL": url, "PROM_LOG_LEVEL": "WARNING"}
    print(f"calibration at the start: one trivial numpy call = {calibration():.2f} µs",
          flush=True)
    email = "cost-admin@example.org"
    try:
        password = migrated_with_admin(args.database, env, email)
        secret, jwt_secret = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        [token] = set_up_participants(url, secret, jwt_secret, 1, email, password, 240)

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret,
                          "JWT_SECRET_KEY": jwt_secret, "RATELIMIT_STORAGE_URL": "memory://"})
        app.add_url_rule("/noop", "noop", roles_required()(lambda: {}))
        client = app.test_client()
        baseline = create_baseline(url).test_client()
        headers = {"Authorization": f"Bearer {token}"}
        now = datetime.now(UTC)

        def expect(response, status: int) -> None:
            if response.status_code != status:
                raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)}")

        def baseline_post() -> None:
            expect(baseline.post("/responses", json=phq9_response(now)), 201)

        def noop() -> None:
            expect(client.get("/noop", headers=headers), 200)

        def me() -> None:
            expect(client.get("/api/v1/me", headers=headers), 200)

        def single() -> None:
            expect(client.post("/api/v1/responses", json=phq9_response(now), headers=headers),
                   201)

        def batch() -> None:
            entries = [phq9_response(now) for _ in range(BATCH)]
            response = client.post("/api/v1/responses/batch", json={"responses": entries},
                                   headers=headers)
            expect(response, 200)
            if any(r["status"] != 201 for r in response.get_json()["results"]):
                raise SystemExit("a batch entry was not stored")

        kinds: list[tuple[str, Callable[[], None], int, int]] = [
            ("baseline POST /responses", baseline_post, args.requests, 1),
            ("prom authenticated no-op", noop, args.requests, 1),
            ("prom GET /api/v1/me (participant)", me, args.requests, 1),
            ("prom POST /api/v1/responses (PHQ-9)", single, args.requests, 1),
            (f"prom POST /api/v1/responses/batch, per response (batches of {BATCH})", batch,
             max(1, args.requests // 10), BATCH),
        ]
        for _, call, _, _ in kinds:  # warm up: caches, prepared statements, connections
            for _ in range(20):
                call()
        figures: dict[str, list[float]] = {name: [] for name, *_ in kinds}
        for _ in range(args.rounds):
            for name, call, count, per in kinds:
                figures[name].append(cpu_per_call(call, count) / per)

        base = min(figures[kinds[0][0]])
        print(f"\n{args.requests} requests of each kind per round, {args.rounds} rounds; "
              "process CPU ms per request (per response for batches), in process on "
              "PostgreSQL\n")
        print("| request | ms, minimum (each round) | × baseline |")
        print("|---|---|---|")
        for name, *_ in kinds:
            values = figures[name]
            print(f"| {name} | {min(values):.2f} "
                  f"({' / '.join(f'{v:.2f}' for v in values)}) | {min(values) / base:.2f} |")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(args.database)
    print(f"\ncalibration at the end: {calibration():.2f} µs")
    return 0


if __name__ == "__main__":
    bench_submit.signal.signal(bench_submit.signal.SIGINT, bench_submit.signal.default_int_handler)
    sys.exit(main())
