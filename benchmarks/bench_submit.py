"""Submissions under load: prom vs a minimal Flask endpoint, on PostgreSQL, in the same run.

One command does everything and cleans up after itself (also on Ctrl-C or an error):

1. drops and recreates a PostgreSQL database (default ``prom_bench``), runs ``prom db upgrade``
   and ``prom create-admin`` against it;
2. sets up a site, a study with one arm and N participants (default 64) through prom's API, in
   process with Flask's test client, and activates each participant (``POST /auth/activate``,
   production-strength argon2) for its own access token. The in-process app has rate limiting
   switched off: activation allows 10 attempts a minute per client address, and every activation
   here comes from one address. Setup is not measured;
3. starts prom under gunicorn (2 sync workers, ``wsgi:app``, random secrets, ``memory://`` rate
   limits) and the baseline (``benchmarks/baseline_app.py``, 2 sync workers: marshmallow
   validation and one Core INSERT, no auth, no scoring) on the same database, and waits until
   both answer;
4. drives each with C concurrent connections (default 32): one client thread per connection, each
   a persistent ``http.client.HTTPConnection`` (gunicorn's sync worker closes the connection after
   every response, so the client reconnects for each request; both servers pay that alike), each
   posting distinct, valid PHQ-9 responses (a new UUID each) for a fixed time after a warm-up:

   - **prom single**: ``POST /api/v1/responses`` with the participant's bearer token (thread k
     cycles over participants k, k+C, ...), expecting 201;
   - **baseline**: ``POST /responses`` on the baseline with the same bodies, expecting 201;
   - **prom batch**: ``POST /api/v1/responses/batch`` with B responses (default 100) per request,
     expecting 200 with B entries of status 201 each.

   prom single and baseline alternate in ABBA order over ``--rounds`` rounds (default 2), so
   both see the same phases of a noisy machine; the batch phase runs once, last;
5. prints a markdown table (throughput, latency p50/p95/p99 and max, failures, CPU used by the
   client, the app workers, PostgreSQL and any other process on the machine) and the verdict
   against each target: prom ≥ 0.75× the baseline's throughput; prom p99 < 100 ms; batch
   responses/s ≥ 10× single.

Counted in a window: the requests that complete inside it (after the warm-up, before the end).
Any response that is not the expected status (or a batch entry that is not 201) is a failure and
is reported; there must be none. On a 2-core machine the client, both servers' workers and
PostgreSQL share the cores: the CPU columns show who used them.

Run:  .venv/bin/python benchmarks/bench_submit.py [--seconds 20] [--connections 32]
          [--batch-size 100] [--participants 64] [--rounds 2] [--warmup 3] [--keep-db]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import timeit
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PHQ9_ITEMS = [f"phq9_{i}" for i in range(1, 10)]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TARGET_RATIO = 0.75
TARGET_P99_MS = 100.0
TARGET_BATCH_FACTOR = 10.0


# ---------------------------------------------------------------------------------------------
# Request bodies


def phq9_response(now: datetime) -> dict:
    """A valid PHQ-9 submission with a fresh id: random answers; `difficulty` only when shown."""
    answers = {item: random.randint(0, 3) for item in PHQ9_ITEMS}
    if any(answers.values()):
        answers["difficulty"] = random.randint(0, 3)
    collected = now - timedelta(minutes=random.randint(1, 600))
    return {"id": str(uuid.uuid4()), "instrument": "phq9", "instrument_version": "1",
            "collected_at": collected.isoformat(), "answers": answers}


# ---------------------------------------------------------------------------------------------
# Database and servers


def server_url(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def recreate_database(name: str) -> None:
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def migrated_with_admin(name: str, env: dict[str, str], email: str) -> str:
    """Recreate database `name`, migrate it with `prom db upgrade` and create an admin with
    `email` through `prom create-admin`, as an operator would; returns the admin's password."""
    recreate_database(name)
    password = secrets.token_urlsafe(16)
    subprocess.run([str(VENV_BIN / "prom"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([str(VENV_BIN / "prom"), "create-admin", "--email", email, "--password",
                    password], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return password


def drop_database(name: str) -> None:
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version() -> str:
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres") as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_gunicorn(name: str, target: str, env: dict[str, str], log: Path,
                   extra: tuple[str, ...] = ()) -> Server:
    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", *extra, target]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    return Server(name, port, process, log)


def wait_until_ready(server: Server, method: str, path: str, ok: set[int],
                     timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode}; "
                             f"log:\n{server.log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request(method, path, body=b"{}" if method == "POST" else None,
                               headers={"Content-Type": "application/json"})
            status = connection.getresponse().status
            connection.close()
            if status in ok and len(server.worker_pids()) >= 2:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not become ready in {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc (clock ticks of user + system time)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuSample:
    client: float
    app: float
    postgres: float
    busy: float
    total: float

    @classmethod
    def take(cls, server: Server) -> CpuSample:
        busy, total = machine_busy()
        return cls(client=cpu_seconds(os.getpid()),
                   app=sum(cpu_seconds(pid) for pid in server.worker_pids()),
                   postgres=sum(cpu_seconds(pid) for pid in postgres_pids()),
                   busy=busy, total=total)


# ---------------------------------------------------------------------------------------------
# Load generation


@dataclass
class Phase:
    name: str
    server: Server
    path: str
    tokens: list[str] | None  # bearer tokens to cycle over (None: no auth)
    batch: int = 0  # 0: single submissions; B: batches of B
    completed: list[tuple[float, float, int, int]] = field(default_factory=list)
    # (end time, latency s, responses stored, failures) per request completed in the window
    failures_outside: int = 0
    first_errors: list[str] = field(default_factory=list)
    window: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


def drive(phase: Phase, connections: int, warmup: float, seconds: float) -> None:
    """Run `connections` client threads against the phase's server; fill `phase`."""
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    window_start, window_end = start + warmup, start + warmup + seconds
    results: list[list[tuple[float, float, int, int]]] = [[] for _ in range(connections)]
    aborted = threading.Event()

    def client(k: int) -> None:
        own = phase.tokens[k::connections] if phase.tokens else [None]
        connection = http.client.HTTPConnection("127.0.0.1", phase.server.port, timeout=120)
        out = results[k]
        n = 0
        while time.perf_counter() < start:
            time.sleep(0.01)
        try:
            while not aborted.is_set():
                began = time.perf_counter()
                if began >= window_end:
                    break
                now = datetime.now(UTC)
                if phase.batch:
                    body = {"responses": [phq9_response(now) for _ in range(phase.batch)]}
                else:
                    body = phq9_response(now)
                headers = {"Content-Type": "application/json"}
                token = own[n % len(own)]
                n += 1
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                try:
                    connection.request("POST", phase.path, body=json.dumps(body),
                                       headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    status, payload = 0, repr(error).encode()
                ended = time.perf_counter()
                stored, failed = outcome(phase, status, payload)
                if failed and len(phase.first_errors) < 5:
                    with lock:
                        phase.first_errors.append(f"{status}: {payload[:300]!r}")
                if window_start <= ended <= window_end:
                    out.append((ended, ended - began, stored, failed))
                elif failed:
                    with lock:
                        phase.failures_outside += failed
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True)
               for k in range(connections)]
    for thread in threads:
        thread.start()
    while time.perf_counter() < window_start:
        time.sleep(0.01)
    before = CpuSample.take(phase.server)
    while time.perf_counter() < window_end:
        time.sleep(0.01)
    after = CpuSample.take(phase.server)
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        aborted.set()
        raise
    phase.completed.extend(r for per_thread in results for r in per_thread)
    phase.window += seconds
    wall = after.total - before.total  # jiffies of all cores
    cores = os.cpu_count() or 1
    for key in ("client", "app", "postgres"):
        phase.cpu[key] = phase.cpu.get(key, 0.0) + getattr(after, key) - getattr(before, key)
    phase.cpu["busy"] = phase.cpu.get("busy", 0.0) + (after.busy - before.busy) / wall * cores \
        * seconds
    phase.cpu["core_seconds"] = phase.cpu.get("core_seconds", 0.0) + cores * seconds


def outcome(phase: Phase, status: int, payload: bytes) -> tuple[int, int]:
    """(responses stored, failures) for one request."""
    if not phase.batch:
        return (1, 0) if status == 201 else (0, 1)
    if status != 200:
        return 0, phase.batch
    results = json.loads(payload)["results"]
    stored = sum(1 for r in results if r["status"] == 201)
    return stored, phase.batch - stored


# ---------------------------------------------------------------------------------------------
# Setup through prom's API (in process)


def set_up_participants(database_url: str, secret: str, jwt_secret: str, participants: int,
                        admin_email: str, admin_password: str, token_minutes: int) -> list[str]:
    """Site, study (one arm), `participants` enrolled and activated: their access tokens."""
    from prom.app import create_app
    from prom.extensions import db

    app = create_app({
        "DATABASE_URL": database_url, "SECRET_KEY": secret, "JWT_SECRET_KEY": jwt_secret,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=token_minutes),
        "RATELIMIT_ENABLED": False,  # activation: 10 a minute per address, all from one here
    })
    client = app.test_client()

    def call(path: str, body: dict, token: str | None = None, expect: int = 201) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.post(f"/api/v1{path}", json=body, headers=headers)
        if response.status_code != expect:
            raise SystemExit(f"setup: POST {path} -> {response.status_code} "
                             f"{response.get_data()!r}")
        return response.get_json()

    admin = call("/auth/login", {"email": admin_email, "password": admin_password},
                 expect=200)["access_token"]
    site = call("/sites", {"code": "bench", "name": "Benchmark site"}, admin)
    study = call("/studies", {"code": "bench", "name": "Benchmark study",
                              "arms": [{"code": "a", "name": "Arm A"}]}, admin)
    tokens = []
    for _ in range(participants):
        enrolled = call(f"/studies/{study['id']}/participants",
                        {"site_id": site["id"], "arm": "a",
                         "enrolled_on": date.today().isoformat()}, admin)
        activated = call("/auth/activate", {"activation_code": enrolled["activation_code"],
                                            "password": secrets.token_urlsafe(16)}, expect=200)
        tokens.append(activated["access_token"])
    with app.app_context():
        db.engine.dispose()
    return tokens


# ---------------------------------------------------------------------------------------------
# Report


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]  # nearest rank


def summary(phase: Phase) -> dict:
    latencies = sorted(r[1] * 1000 for r in phase.completed)
    stored = sum(r[2] for r in phase.completed)
    failures = sum(r[3] for r in phase.completed) + phase.failures_outside
    cpu = phase.cpu
    return {
        "requests": len(phase.completed), "stored": stored, "failures": failures,
        "rate": stored / phase.window if phase.window else float("nan"),
        "request_rate": len(phase.completed) / phase.window if phase.window else float("nan"),
        "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99), "max": latencies[-1] if latencies else float("nan"),
        "client_cpu": cpu["client"] / phase.window * 100,
        "app_cpu": cpu["app"] / phase.window * 100,
        "pg_cpu": cpu["postgres"] / phase.window * 100,
        "busy": cpu["busy"] / phase.window * 100,
        "other_cpu": (cpu["busy"] - cpu["client"] - cpu["app"] - cpu["postgres"])
        / phase.window * 100,
        "app_ms": cpu["app"] / stored * 1000 if stored else float("nan"),
        "pg_ms": cpu["postgres"] / stored * 1000 if stored else float("nan"),
    }


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| run | requests | responses stored | responses/s | requests/s | latency ms p50 / p95 / "
        "p99 / max | failures | CPU % client / app workers / PostgreSQL / other processes "
        f"(of {(os.cpu_count() or 1) * 100}) | app + PG CPU ms per response |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in rows:
        lines.append(
            f"| {name} | {s['requests']:,} | {s['stored']:,} | {s['rate']:,.0f} | "
            f"{s['request_rate']:,.1f} | {s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f} / "
            f"{s['max']:.1f} | {s['failures']} | {s['client_cpu']:.0f} / {s['app_cpu']:.0f} / "
            f"{s['pg_cpu']:.0f} / {s['other_cpu']:.0f} | {s['app_ms']:.2f} + {s['pg_ms']:.2f} |")
    return "\n".join(lines)


def calibration() -> float:
    """µs of one trivial numpy call (as in bench_scoring.py): the machine's speed right now."""
    a, b = np.ones(8), np.ones(8)
    runs = timeit.repeat(lambda: a + b, number=20000, repeat=15)
    return min(runs) / 20000 * 1e6


def merged(phases: list[Phase], name: str) -> Phase:
    total = Phase(name, phases[0].server, phases[0].path, phases[0].tokens, phases[0].batch)
    for phase in phases:
        total.completed += phase.completed
        total.failures_outside += phase.failures_outside
        total.window += phase.window
        for key, value in phase.cpu.items():
            total.cpu[key] = total.cpu.get(key, 0.0) + value
    return total


# ---------------------------------------------------------------------------------------------


def interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measured seconds per run, after the warm-up (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="unmeasured seconds of load before each run (default 3)")
    parser.add_argument("--connections", type=int, default=32,
                        help="concurrent client connections, one thread each (default 32)")
    parser.add_argument("--batch-size", type=int, default=100,
                        help="responses per batch request (default 100; prom allows 500)")
    parser.add_argument("--participants", type=int, default=64,
                        help="participants enrolled and activated; each connection cycles over "
                             "its own share (default 64)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of prom single + baseline, in ABBA order (default 2)")
    parser.add_argument("--database", default="prom_bench",
                        help="PostgreSQL database to drop, create and use (default prom_bench)")
    parser.add_argument("--keep-db", action="store_true",
                        help="leave the database in place at the end (it is still dropped and "
                             "recreated at the start)")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    if args.participants < args.connections:
        parser.error("--participants must be at least --connections (one participant per "
                     "simulated device at a time)")
    random.seed(args.seed)

    database_url = server_url(args.database)
    secret, jwt_secret = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    token_minutes = 240
    env = {**os.environ, "PROM_DATABASE_URL": database_url, "PROM_SECRET_KEY": secret,
           "PROM_JWT_SECRET_KEY": jwt_secret, "PROM_RATELIMIT_STORAGE_URL": "memory://",
           "PROM_ACCESS_TOKEN_MINUTES": str(token_minutes), "PROM_LOG_LEVEL": "WARNING",
           "BASELINE_DATABASE_URL": database_url}
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    servers: list[Server] = []
    # Ctrl-C and SIGTERM (e.g. a CI timeout) both clean up; SIGINT explicitly, as a shell's
    # background job inherits it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)

    try:
        import gunicorn
        print(f"submission benchmark: {args.connections} connections, {args.seconds:g} s per run "
              f"after {args.warmup:g} s warm-up, {args.rounds} rounds (ABBA), batches of "
              f"{args.batch_size}, {args.participants} participants; "
              f"{os.cpu_count()} cores shared by client, servers and PostgreSQL; "
              f"Python {platform.python_version()}, gunicorn {gunicorn.__version__}, "
              f"PostgreSQL {postgres_version()}; calibration: one trivial numpy call = "
              f"{calibration():.2f} µs", flush=True)

        started = time.perf_counter()
        admin_email = "bench-admin@example.org"
        admin_password = migrated_with_admin(args.database, env, admin_email)
        from baseline_app import create_schema
        from sqlalchemy import create_engine
        engine = create_engine(database_url)
        create_schema(engine)  # before the workers start, so they do not race to create it
        engine.dispose()
        tokens = set_up_participants(database_url, secret, jwt_secret, args.participants,
                                     admin_email, admin_password, token_minutes)
        print(f"setup: database, admin, site, study and {len(tokens)} activated participants "
              f"in {time.perf_counter() - started:.1f} s", flush=True)

        prom = start_gunicorn("prom", "wsgi:app", env, logs / "bench_submit_prom.log")
        servers.append(prom)
        baseline = start_gunicorn("baseline", "baseline_app:app", env,
                                  logs / "bench_submit_baseline.log",
                                  extra=("--pythonpath", str(ROOT / "benchmarks")))
        servers.append(baseline)
        wait_until_ready(prom, "GET", "/healthz", {200})
        wait_until_ready(baseline, "POST", "/responses", {422})
        print(f"servers: prom on :{prom.port} (workers {prom.worker_pids()}), baseline on "
              f":{baseline.port} (workers {baseline.worker_pids()})\n", flush=True)

        singles, baselines = [], []
        for r in range(args.rounds):
            order = ["prom", "baseline"] if r % 2 == 0 else ["baseline", "prom"]
            for which in order:
                if which == "prom":
                    phase = Phase(f"prom single, round {r + 1}", prom, "/api/v1/responses",
                                  tokens)
                    singles.append(phase)
                else:
                    phase = Phase(f"baseline, round {r + 1}", baseline, "/responses", None)
                    baselines.append(phase)
                drive(phase, args.connections, args.warmup, args.seconds)
                s = summary(phase)
                print(f"  {phase.name}: {s['rate']:,.0f} responses/s, p99 {s['p99']:.1f} ms, "
                      f"{s['failures']} failures", flush=True)
        batch = Phase(f"prom batch of {args.batch_size}", prom, "/api/v1/responses/batch",
                      tokens, batch=args.batch_size)
        drive(batch, args.connections, max(args.warmup, 5.0), args.seconds)
        s = summary(batch)
        print(f"  {batch.name}: {s['rate']:,.0f} responses/s, {s['failures']} failures\n",
              flush=True)

        rows = [(p.name, summary(p)) for p in [*singles, *baselines]]
        single, base, batched = (summary(merged(singles, "prom single, all rounds")),
                                 summary(merged(baselines, "baseline, all rounds")),
                                 summary(batch))
        rows += [("**prom single, all rounds**", single), ("**baseline, all rounds**", base),
                 (f"**prom batch of {args.batch_size}**", batched)]
        print(table(rows))
        print()

        ratios = [summary(a)["rate"] / summary(b)["rate"] for a, b in zip(singles, baselines,
                                                                          strict=True)]
        ratio = single["rate"] / base["rate"]
        round_p99 = [summary(p)["p99"] for p in singles]
        factor = batched["rate"] / single["rate"]
        failures = single["failures"] + base["failures"] + batched["failures"]

        def verdict(met: bool) -> str:
            return "MET" if met else "MISSED"

        print(f"- prom ≥ {TARGET_RATIO}× baseline throughput: {verdict(ratio >= TARGET_RATIO)} — "
              f"{single['rate']:,.0f} vs {base['rate']:,.0f} responses/s = {ratio:.2f}× "
              f"(per round: {', '.join(f'{x:.2f}×' for x in ratios)}; min {min(ratios):.2f}×, "
              f"median {statistics.median(ratios):.2f}×)")
        print(f"- prom p99 < {TARGET_P99_MS:.0f} ms: {verdict(single['p99'] < TARGET_P99_MS)} — "
              f"p99 {single['p99']:.1f} ms (p50 {single['p50']:.1f}, p95 {single['p95']:.1f}; "
              f"per round: {', '.join(f'{p99:.1f}' for p99 in round_p99)} ms)")
        print(f"- batches of {args.batch_size} ≥ {TARGET_BATCH_FACTOR:.0f}× single responses/s: "
              f"{verdict(factor >= TARGET_BATCH_FACTOR)} — {batched['rate']:,.0f} vs "
              f"{single['rate']:,.0f} responses/s = {factor:.2f}× (request latency p50 "
              f"{batched['p50']:.0f} ms, p99 {batched['p99']:.0f} ms)")
        print(f"- failures (non-2xx, or batch entries not 201): {failures}"
              + (" — MUST BE 0" if failures else ""))
        for phase in [*singles, *baselines, batch]:
            for error in phase.first_errors:
                print(f"  {phase.name}: {error}")
        print(f"\ncalibration at the end: {calibration():.2f} µs; total "
              f"{time.perf_counter() - started:.0f} s")
        return 1 if failures else 0
    finally:
        for server in servers:
            server.stop()
        if args.keep_db:
            print(f"kept database {args.database}")
        else:
            drop_database(args.database)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped and database dropped", file=sys.stderr)
        sys.exit(130)
