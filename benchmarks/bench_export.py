"""Time and peak memory of a research export of a large study, against a naive pandas baseline.

Target (issue 5): a synthetic study of 10,000 participants × 8 timepoints × 5 instruments on
PostgreSQL; the wide Parquet export, with its codebook and manifest, in under 30 s and with a
peak memory under 1.5 GB, compared in the same run with a naive `pandas.read_sql` of the same
rows followed by `pivot_table`.

**The study** is made once by `prom.services.synthetic_trial.store_trial` (the real batch
submission service: validated, scored, placed) in its own PostgreSQL database and kept for later
runs (`--rebuild` makes it again; it takes about five minutes). Two arms of 5,000; the
synthetic trial's 8 timepoints (baseline, weeks 2, 4 and 6, post-treatment, 3, 6 and 12 months)
each ask for NRS, BPI-SF, PHQ-9, GAD-7 and EQ-5D-5L; nobody drops out or misses a form, so
there are 400,000 responses and 800,000 scores (10 scales).

**What is measured.** Each kind runs in a fresh Python process, so its peak resident memory
(`ru_maxrss`, which includes the interpreter, pandas, pyarrow and the app) is its own; the
kinds alternate over `--rounds`, so a slow phase of the machine hits all of them:

- **naive**: `pandas.read_sql` of every current score of the study joined to its response,
  participant and arm, then `pivot_table` to one row per participant and a column per
  instrument × scale × timepoint, written with `DataFrame.to_parquet`. It has no duplicate
  rule, no change or responder columns, no labels, codebook or manifest, and no audit: the least
  a hand-made wide file costs. This is the baseline of the same run.
- **prom wide**: `prom.services.exports.export_archive` with `layout=wide, format=parquet`: what
  `GET /studies/{id}/export?layout=wide` does before sending the file: the design and codebook,
  the chunked read, selection, change and responder columns, the Parquet file, codebook CSV and
  JSON, README, manifest with SHA-256s, the zip, and the audit row.
- **prom default**: the same with the default layouts (scores_long, wide, adverse_events,
  summary), for information.

Run:  .venv/bin/python benchmarks/bench_export.py [--rounds 3] [--database prom_bench_export]
          [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_submit import calibration, postgres_version, recreate_database, server_url  # noqa: E402

STUDY = "BENCH-EXPORT"
PER_ARM = 5_000
ADMIN = "bench-export@prom.local"
KINDS = ("naive", "prom_wide", "prom_default")


def spec():
    from prom.synthetic_trial import DEFAULT_SCHEDULE, Arm, TrialSpec

    schedule = tuple({**timepoint, "instruments": [i for i in timepoint["instruments"]
                                                   if i != "adverse_event"]}
                     for timepoint in DEFAULT_SCHEDULE)
    return TrialSpec(code=STUDY, schedule=schedule, arms=(
        Arm("icbt", "Internet CBT", PER_ARM), Arm("usual_care", "Usual care", PER_ARM)),
        effects={"icbt": {"nrs_pain": 0.5, "bpi_sf": 0.4, "phq9": 0.3, "gad7": 0.25,
                          "eq5d5l": 0.3}},
        adverse_events={}, drop_out=0.0, missed=0.0, duplicates=0.0)


def app_for(database: str):
    from prom.app import create_app

    return create_app({"DATABASE_URL": server_url(database), "TESTING": True})


def build(database: str) -> None:
    """Make the study in a new database (about five minutes)."""
    from prom import migrations
    from prom.extensions import create_database_engine
    from prom.services.synthetic_trial import staff_actor, store_trial

    recreate_database(database)
    engine = create_database_engine(server_url(database))
    migrations.upgrade(engine, "head")
    engine.dispose()
    app = app_for(database)
    with app.app_context():
        actor, _ = staff_actor(ADMIN, "bench-export-password")
        stored = store_trial(spec(), actor=actor, progress=lambda s: print(
            f"\r  {s.participants.total():>6} participants, {s.responses:>7} responses",
            end="", file=sys.stderr))
        print(f"\nstored {stored.participants.total()} participants and {stored.responses} "
              f"responses in {stored.seconds:.0f} s", file=sys.stderr)


def counts(database: str) -> dict[str, int] | None:
    """Participants, responses and scores of the study, or None when it is not there."""
    import psycopg

    try:
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={database}") as c:
            row = c.execute(
                "SELECT (SELECT count(*) FROM participants p JOIN studies s ON s.id = p.study_id"
                "        WHERE s.code = %(code)s),"
                " (SELECT count(*) FROM responses r JOIN participants p ON p.id = r.participant_id"
                "  JOIN studies s ON s.id = p.study_id WHERE s.code = %(code)s),"
                " (SELECT count(*) FROM scores)", {"code": STUDY}).fetchone()
    except psycopg.OperationalError:
        return None
    return {"participants": row[0], "responses": row[1], "scores": row[2]}


# ---------------------------------------------------------------------------------------------
# One measurement, in its own process


NAIVE_QUERY = """
SELECT p.id AS participant_id, a.code AS arm, r.instrument, s.scale, r.analysis_timepoint,
       s.value
FROM scores s
JOIN responses r ON r.id = s.response_id AND r.current_version = s.version
JOIN participants p ON p.id = r.participant_id
JOIN arms a ON a.id = p.arm_id
JOIN studies st ON st.id = p.study_id
WHERE st.code = %(code)s AND r.analysis_timepoint IS NOT NULL
"""


def measure(kind: str, database: str, out: Path) -> dict:
    """Run one kind; returns seconds, peak RSS and what was written."""
    import pandas as pd
    from sqlalchemy import create_engine, select

    started_rss = _rss_mib()
    if kind == "naive":
        engine = create_engine(server_url(database))
        started = time.perf_counter()
        with engine.connect() as connection:
            rows = pd.read_sql(NAIVE_QUERY.replace("%(code)s", f"'{STUDY}'"), connection)
        wide = rows.pivot_table(index=["participant_id", "arm"],
                                columns=["instrument", "scale", "analysis_timepoint"],
                                values="value", aggfunc="first")
        wide.columns = ["_".join(c) for c in wide.columns]
        wide = wide.reset_index()
        wide["participant_id"] = wide["participant_id"].astype(str)
        wide.to_parquet(out / "naive.parquet")
        seconds = time.perf_counter() - started
        result = {"rows": len(wide), "columns": wide.shape[1],
                  "bytes": (out / "naive.parquet").stat().st_size}
        engine.dispose()
    else:
        from prom.extensions import db
        from prom.models.accounts import User
        from prom.models.studies import Study
        from prom.services import exports

        app = app_for(database)
        layouts = ("wide",) if kind == "prom_wide" else exports.DEFAULT_LAYOUTS
        with app.app_context():
            admin = db.session.scalar(select(User).where(User.email == ADMIN))
            study = db.session.scalar(select(Study).where(Study.code == STUDY))
            started_rss = _rss_mib()
            started = time.perf_counter()
            archive, name, manifest = exports.export_archive(
                study.id, exports.ExportRequest(layouts=layouts, format="parquet"), admin)
            with (out / name).open("wb") as target:
                while block := archive.read(1 << 20):
                    target.write(block)
            archive.close()
            seconds = time.perf_counter() - started
        result = {"rows": manifest["row_counts"], "bytes": (out / name).stat().st_size,
                  "columns": sum(f.get("columns", 0) for f in manifest["files"])}
    return {"kind": kind, "seconds": seconds, "peak_rss_mib": _peak_mib(),
            "rss_before_mib": started_rss, **result}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="prom_bench_export")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="make the study again")
    parser.add_argument("--measure", choices=KINDS, help=argparse.SUPPRESS)  # child process
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.database, Path(args.out))))
        return 0

    found = counts(args.database)
    if args.rebuild or not found or found["participants"] != 2 * PER_ARM:
        print(f"making the study in {args.database} …", file=sys.stderr)
        build(args.database)
        found = counts(args.database)
    print(f"PostgreSQL {postgres_version()}; study {STUDY}: {found['participants']:,} "
          f"participants, {found['responses']:,} responses, {found['scores']:,} scores")
    print(f"calibration {calibration():.2f} µs")
    results: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    scratch = ROOT / "benchmarks" / ".export-scratch"
    scratch.mkdir(exist_ok=True)
    for round_ in range(args.rounds):
        for kind in KINDS:
            out = scratch / f"{kind}-{round_}"
            out.mkdir(exist_ok=True)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", kind, "--database", args.database,
                 "--out", str(out)], capture_output=True, text=True, cwd=ROOT, check=False)
            if child.returncode != 0:
                print(child.stderr, file=sys.stderr)
                return 1
            result = json.loads(child.stdout.strip().splitlines()[-1])
            results[kind].append(result)
            print(f"  round {round_ + 1} {kind:13} {result['seconds']:6.1f} s  peak "
                  f"{result['peak_rss_mib']:6.0f} MiB  (before {result['rss_before_mib']:4.0f}"
                  f" MiB)  {result['bytes'] / 2**20:6.1f} MiB written")
            for path in out.iterdir():
                path.unlink()
            out.rmdir()
    print(f"calibration {calibration():.2f} µs")
    print("\n| kind | seconds: median (min–max) | peak RSS MiB: max | written MiB |")
    print("|---|---|---|---|")
    for kind, runs in results.items():
        seconds = [r["seconds"] for r in runs]
        print(f"| {kind} | {statistics.median(seconds):.1f} ({min(seconds):.1f}–"
              f"{max(seconds):.1f}) | {max(r['peak_rss_mib'] for r in runs):.0f} | "
              f"{runs[-1]['bytes'] / 2**20:.1f} |")
    print(json.dumps({kind: runs[-1]["rows"] for kind, runs in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
