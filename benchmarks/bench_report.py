"""Latency of the clinic report for a participant with five years of weekly data.

Target (issue 4): the JSON report's p95 under 50 ms.

The script makes a fresh PostgreSQL database and a study. The schedule has a baseline (NRS,
PEG, PHQ-9, GAD-7, EQ-5D-5L), a weekly timepoint repeated 260 times (NRS and PEG) and a
four-weekly one repeated 65 times (PHQ-9 and GAD-7). One participant is enrolled five years
ago and answers every occurrence, through the real batch service, on a slowly improving
trajectory from `prom.synthetic`. That is 655 responses and nine outcomes (NRS 2 scales, PEG,
PHQ-9, GAD-7, EQ-5D-5L 4 scales) with 919 points in all.

It then times, in process through Flask's test client (no HTTP, one process), wall clock per
request:

- **data floor**: one SQL query of the participant's responses joined to their current scores,
  serialised with `json.dumps`. This is the least any report of these numbers costs. It is the
  baseline measured in the same run;
- **GET /api/v1/me** (a clinician): the floor every authenticated request pays;
- **GET /api/v1/participants/{id}/report**, JSON: the target;
- **the same report as HTML**: nine matplotlib charts, for information.

The app's long-lived objects are frozen out of the garbage collector after start-up, as
`wsgi.py` does in production.

The kinds run in turns (`--rounds`), so a slow phase of the machine hits all of them. Each kind's
percentiles are over all its requests. A calibration figure is printed at both ends, as in the
other benchmarks.

Run:  .venv/bin/python benchmarks/bench_report.py [--requests 200] [--rounds 3]
          [--database prom_report]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_submit  # noqa: E402 -- after the path set-up above
from bench_submit import (  # noqa: E402
    calibration,
    drop_database,
    migrated_with_admin,
    percentile,
    server_url,
)

YEARS_OF_WEEKS = 260
WEEKLY = ["nrs_pain", "peg"]
FOUR_WEEKLY = ["phq9", "gad7"]
BASELINE = ["nrs_pain", "peg", "phq9", "gad7", "eq5d5l"]


def schedule() -> list[dict]:
    return [
        {"timepoint": "baseline", "day": 0, "window_before": 7, "window_after": 3,
         "instruments": BASELINE},
        {"timepoint": "week", "day": 7, "every": 7, "count": YEARS_OF_WEEKS,
         "window_before": 3, "window_after": 3, "instruments": WEEKLY},
        {"timepoint": "month", "day": 28, "every": 28, "count": YEARS_OF_WEEKS // 4,
         "window_before": 3, "window_after": 3, "instruments": FOUR_WEEKLY},
    ]


def five_years(enrolled_on: date, participant_id: str) -> list[dict]:
    """Every scheduled response of the participant, on target days, improving slowly."""
    from prom.services.instruments import library
    from prom.synthetic import answers_at

    rng = np.random.default_rng(20261125)
    entries = []

    def add(instrument: str, day: int, timepoint: str) -> None:
        definition = library().get(instrument)
        severity = float(np.clip(0.7 - 0.3 * day / (7 * YEARS_OF_WEEKS)
                                 + rng.normal(0, 0.05), 0, 1))
        collected = datetime.combine(enrolled_on + timedelta(days=day), clock(18), tzinfo=UTC)
        entries.append({"id": str(uuid.uuid4()), "participant_id": participant_id,
                        "instrument": instrument, "instrument_version": definition.version,
                        "collected_at": collected.isoformat(), "timepoint": timepoint,
                        "answers": answers_at(definition, severity, rng,
                                              on=collected.date())})

    for instrument in BASELINE:
        add(instrument, 0, "baseline")
    for week in range(1, YEARS_OF_WEEKS + 1):
        for instrument in WEEKLY:
            add(instrument, 7 * week, f"week{week}")
        if week % 4 == 0:
            for instrument in FOUR_WEEKLY:
                add(instrument, 7 * week, f"month{week // 4}")
    return entries


def timed(call: Callable[[], None], count: int) -> list[float]:
    """Wall-clock milliseconds of each of `count` calls."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200,
                        help="requests of each kind per round (HTML: a fifth as many)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="prom_report",
                        help="PostgreSQL database to drop, create and use (default prom_report)")
    args = parser.parse_args()

    from sqlalchemy import select

    from prom.app import create_app
    from prom.extensions import db
    from prom.models.accounts import User
    from prom.models.responses import Response, Score
    from prom.services import submissions

    url = server_url(args.database)
    env = {**os.environ, "PROM_DATABASE_URL": url, "PROM_LOG_LEVEL": "WARNING"}
    print(f"calibration at the start: one trivial numpy call = {calibration():.2f} µs",
          flush=True)
    email = "report-admin@example.org"
    try:
        password = migrated_with_admin(args.database, env, email)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48),
                          "JWT_SECRET_KEY": secrets.token_urlsafe(48),
                          "RATELIMIT_STORAGE_URL": "memory://"})
        gc.freeze()  # as wsgi.py does after create_app
        client = app.test_client()
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}

        def ok(response, status: int = 200):
            if response.status_code != status:
                raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)}")
            return response

        site = ok(client.post("/api/v1/sites", json={"code": "BENCH", "name": "Bench clinic"},
                              headers=headers), 201).get_json()
        study = ok(client.post("/api/v1/studies", json={
            "code": "BENCH-5Y", "name": "Five years weekly",
            "arms": [{"code": "icbt", "name": "Internet CBT"}], "schedule": schedule()},
            headers=headers), 201).get_json()
        enrolled_on = datetime.now(UTC).date() - timedelta(days=7 * YEARS_OF_WEEKS + 7)
        participant = ok(client.post(f"/api/v1/studies/{study['id']}/participants", json={
            "site_id": site["id"], "arm": "icbt", "enrolled_on": enrolled_on.isoformat(),
            "timezone": "Europe/London"}, headers=headers), 201).get_json()

        started = time.perf_counter()
        with app.app_context():
            entries = five_years(enrolled_on, participant["id"])
            admin = db.session.scalar(select(User).where(User.email == email))
            for start in range(0, len(entries), 500):
                results = submissions.submit_batch(entries[start:start + 500], actor=admin)
                if any(r["status"] != 201 for r in results):
                    raise SystemExit(f"not stored: {[r for r in results if r['status'] != 201]}")
        print(f"stored {len(entries)} responses in {time.perf_counter() - started:.1f} s",
              flush=True)

        path = f"/api/v1/participants/{participant['id']}/report"
        report = ok(client.get(path, headers=headers)).get_json()
        outcomes = report["outcomes"]
        points = sum(len(o["series"]) for o in outcomes)
        print(f"report: {len(outcomes)} outcomes, {points} points, "
              f"{len(json.dumps(report)) / 1024:.0f} KiB of JSON", flush=True)

        def data_floor() -> None:
            with app.app_context():
                rows = db.session.execute(
                    select(Response.id, Response.instrument, Response.collected_at,
                           Response.analysis_timepoint, Score.scale, Score.value, Score.band)
                    .join(Score, (Score.response_id == Response.id)
                          & (Score.version == Response.current_version))
                    .where(Response.participant_id == uuid.UUID(participant["id"]))).all()
                json.dumps([[str(r[0]), r[1], r[2].isoformat(), r[3], r[4], r[5], r[6]]
                            for r in rows])

        def me() -> None:
            ok(client.get("/api/v1/me", headers=headers))

        def report_json() -> None:
            ok(client.get(path, headers=headers))

        def report_html() -> None:
            ok(client.get(path, headers=headers, query_string={"format": "html"}))

        kinds = [("data floor: one query + json.dumps (baseline)", data_floor, args.requests),
                 ("GET /api/v1/me (clinician)", me, args.requests),
                 ("GET …/report (JSON)", report_json, args.requests),
                 (f"GET …/report?format=html ({len(outcomes)} charts)", report_html,
                  max(1, args.requests // 5))]
        for _, call, _ in kinds:  # warm up: caches, connections, matplotlib's font cache
            for _ in range(5):
                call()
        figures: dict[str, list[float]] = {name: [] for name, *_ in kinds}
        for _ in range(args.rounds):
            for name, call, count in kinds:
                figures[name].extend(timed(call, count))

        print(f"\n{args.rounds} rounds; wall-clock ms per request, in process on PostgreSQL "
              f"({len(entries)} responses)\n")
        print("| request | n | p50 | p95 | p99 | max |")
        print("|---|---|---|---|---|---|")
        for name, *_ in kinds:
            values = sorted(figures[name])
            print(f"| {name} | {len(values)} | {percentile(values, 50):.1f} | "
                  f"{percentile(values, 95):.1f} | {percentile(values, 99):.1f} | "
                  f"{values[-1]:.1f} |")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(args.database)
    print(f"\ncalibration at the end: {calibration():.2f} µs")
    return 0


if __name__ == "__main__":
    bench_submit.signal.signal(bench_submit.signal.SIGINT, bench_submit.signal.default_int_handler)
    sys.exit(main())
