#!/usr/bin/env python3
"""Generate a synthetic randomised trial into prom, through the API or straight into a database.

The trial (arms, N per arm, schedule, effect sizes per outcome, drop-out, missed timepoints,
skipped items, adverse-event rates, duplicates, seed, enrolment dates) is a
`prom.synthetic_trial.TrialSpec`: its defaults, a JSON file (--spec), and the options below, in
that order. The model, and why the standardised effect on a single-item scale such as nrs_pain
is exact, are in that module's docstring. The same spec and seed give the same data.

- --server URL: as an API client (urllib, no other dependency). Signs in as staff (an admin:
  creating sites and studies needs one), creates the sites that are missing and the study,
  enrols each participant with their randomisation date, and posts their responses to
  /api/v1/responses/batch, at most 500 per request. Answers are generated with this checkout's
  instrument definitions, which must match the server's.
- --database URL: in process, through the same services the API uses (`prom.services.
  synthetic_trial.store_trial`): validated, scored, placed and alerted on like real data.
  --migrate first brings the schema up to date.

Participants are generated and stored one at a time, so memory stays flat at any size.

Examples:
  .venv/bin/python scripts/synth_cohort.py --database sqlite:///instance/synth.db --migrate
  .venv/bin/python scripts/synth_cohort.py --server http://localhost:8000 \\
      --email admin@demo.prom.local --n 50 --effect icbt:nrs_pain=0.8 --study-code TRIAL-2
  .venv/bin/python scripts/synth_cohort.py --print-spec > spec.json   # edit, then --spec
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from prom.synthetic_trial import Arm, TrialSpec, generate

MAX_BATCH = 500
DEFAULT_EMAIL = "synthetic-admin@prom.local"
PROGRESS_SECONDS = 5.0


class Failed(Exception):
    """Reported to the user in one message; exit status 1."""


# ---------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synth_cohort.py", description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_argument_group("where to store (--server, --database or --print-spec)")
    where = target.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="URL",
                       help="a prom server, e.g. http://localhost:8000 (the API is under "
                            "/api/v1)")
    where.add_argument("--database", metavar="URL",
                       help="a SQLAlchemy URL, e.g. sqlite:///synth.db or "
                            "postgresql+psycopg://postgres@127.0.0.1:5432/prom")
    where.add_argument("--print-spec", action="store_true",
                       help="print the resolved spec as JSON (for --spec) and store nothing")
    target.add_argument("--email", help="staff account to act as. With --server: an admin's "
                        "email (required). With --database: default "
                        f"{DEFAULT_EMAIL}, created as an admin if it does not exist")
    target.add_argument("--password", help="its password (default: $PROM_PASSWORD, else "
                        "prompted for with --server; with --database only used when the "
                        "account is created, random if not given)")
    target.add_argument("--migrate", action="store_true",
                        help="with --database: migrate the schema to the latest first")
    target.add_argument("--batch-size", type=int, default=MAX_BATCH, metavar="N",
                        help=f"responses per batch, 1–{MAX_BATCH} (default {MAX_BATCH})")
    target.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    trial = parser.add_argument_group("the trial (defaults: prom.synthetic_trial.TrialSpec)")
    trial.add_argument("--spec", type=Path, metavar="FILE.json",
                       help="TrialSpec fields as JSON (as --print-spec writes them; any subset); "
                            "the options below override it")
    trial.add_argument("--study-code", help="study code (default SYNTH-TRIAL; must be new)")
    trial.add_argument("--study-name", help="study name")
    trial.add_argument("--arms", metavar="CODE[:NAME]=N,...",
                       help="arms and their sizes, e.g. 'icbt=100,usual_care:Usual care=100' "
                            "(default icbt, education, usual_care, 100 each). Effects and "
                            "adverse-event rates of arms no longer present are dropped")
    trial.add_argument("--n", type=int, metavar="N", help="participants in every arm")
    trial.add_argument("--comparator", metavar="ARM",
                       help="the arm effects are measured against (default usual_care)")
    trial.add_argument("--effect", action="append", default=[], metavar="ARM:INSTRUMENT=D",
                       help="standardised effect (Cohen's d, positive = better than the "
                            "comparator) at post-treatment; repeatable. Defaults: icbt nrs_pain "
                            "0.5, bpi_sf 0.4, phq9 0.3, gad7 0.25, eq5d5l 0.3; education about "
                            "0.1–0.2. Exact for single-item scales (nrs_pain), on the latent "
                            "severity otherwise")
    trial.add_argument("--effect-half-life", type=float, metavar="DAYS",
                       help="the effect fades after post-treatment with this half-life "
                            "(default: kept)")
    trial.add_argument("--comparator-change", type=float, metavar="SD",
                       help="improvement of every arm by post-treatment, in SDs (default 0.2)")
    trial.add_argument("--drop-out", type=float, metavar="RATE",
                       help="share of participants who stop after a random timepoint "
                            "(default 0.15)")
    trial.add_argument("--missed", type=float, metavar="RATE",
                       help="share of timepoints after baseline missed whole (default 0.10)")
    trial.add_argument("--missing-items", type=float, metavar="RATE",
                       help="share of optional items skipped (default 0.05)")
    trial.add_argument("--adverse-events", metavar="ARM=RATE,...",
                       help="share of adverse-event forms (at post by default) reporting an "
                            "event, per arm (default icbt 0.15, education 0.10, usual_care 0.08; "
                            "0.08 for an arm not named); a bare RATE sets every arm")
    trial.add_argument("--serious", type=float, metavar="RATE",
                       help="share of events that are serious (default 0.10)")
    trial.add_argument("--duplicates", type=float, metavar="RATE",
                       help="share of forms filled in again later in their window (default "
                            "0.01)")
    trial.add_argument("--undeclared", type=float, metavar="RATE",
                       help="share of timepoints sent without naming the timepoint (default "
                            "0.10)")
    trial.add_argument("--seed", type=int, help="random seed (default 20240611)")
    trial.add_argument("--enrolment-start", type=date.fromisoformat, metavar="YYYY-MM-DD",
                       help="first enrolment day (default 2022-01-10); the whole trial must "
                            "lie in the past")
    trial.add_argument("--enrolment-days", type=int, metavar="DAYS",
                       help="enrolment is spread over this many days (default 365)")
    return parser


def build_spec(args: argparse.Namespace) -> TrialSpec:
    """The spec: defaults, then --spec, then the options."""
    spec = TrialSpec()
    if args.spec is not None:
        spec = TrialSpec.from_dict(json.loads(args.spec.read_text(encoding="utf-8")))
    changes: dict[str, Any] = {}
    if args.arms:
        names = {arm.code: arm.name for arm in spec.arms}
        arms = []
        for part in args.arms.split(","):
            label, _, n = part.partition("=")
            code, _, name = label.strip().partition(":")
            if not n.strip().isdigit():
                raise Failed(f"--arms: {part!r} is not CODE[:NAME]=N")
            arms.append(Arm(code, name or names.get(code, code), int(n)))
        changes["arms"] = tuple(arms)
    if args.n is not None:
        changes["arms"] = tuple(dataclasses.replace(arm, n=args.n)
                                for arm in changes.get("arms", spec.arms))
    codes = {arm.code for arm in changes.get("arms", spec.arms)}
    effects = {arm: dict(values) for arm, values in spec.effects.items() if arm in codes}
    for option in args.effect:
        try:
            pair, value = option.split("=")
            arm, instrument = pair.split(":")
            effects.setdefault(arm, {})[instrument] = float(value)
        except ValueError as error:
            raise Failed(f"--effect: {option!r} is not ARM:INSTRUMENT=D") from error
    adverse_events = {arm: rate for arm, rate in spec.adverse_events.items() if arm in codes}
    if args.adverse_events:
        try:
            if "=" not in args.adverse_events:
                adverse_events = dict.fromkeys(codes, float(args.adverse_events))
            else:
                for part in args.adverse_events.split(","):
                    arm, rate = part.split("=")
                    adverse_events[arm.strip()] = float(rate)
        except ValueError as error:
            raise Failed(f"--adverse-events: {args.adverse_events!r} is not ARM=RATE,... "
                         "or RATE") from error
    changes.update(effects=effects, adverse_events=adverse_events)
    for option, name in (("study_code", "code"), ("study_name", "name"),
                         ("comparator", "comparator"),
                         ("effect_half_life", "effect_half_life_days"),
                         ("comparator_change", "comparator_change"), ("drop_out", "drop_out"),
                         ("missed", "missed"), ("missing_items", "missing_items"),
                         ("serious", "serious"), ("duplicates", "duplicates"),
                         ("undeclared", "undeclared"), ("seed", "seed"),
                         ("enrolment_start", "enrolment_start"),
                         ("enrolment_days", "enrolment_days")):
        if getattr(args, option) is not None:
            changes[name] = getattr(args, option)
    try:
        return dataclasses.replace(spec, **changes)
    except (ValueError, TypeError) as error:
        raise Failed(f"bad trial: {error}") from error


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (args.server or args.database or args.print_spec):
        parser.error("give --server URL, --database URL or --print-spec")
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be from 1 to {MAX_BATCH}")
    if args.migrate and not args.database:
        parser.error("--migrate goes with --database")
    try:
        spec = build_spec(args)
        if args.print_spec:
            print(json.dumps(spec.to_dict(), indent=2))
            return 0
        progress = None if args.quiet else Progress(spec.size)
        if args.database:
            summary = store_in_database(spec, args, progress)
        else:
            summary = store_through_api(spec, args, progress)
    except Failed as error:
        print(f"synth_cohort: {error}", file=sys.stderr)
        return 1
    arms = ", ".join(f"{arm.code} {summary['participants'][arm.code]}" for arm in spec.arms)
    seconds = summary["seconds"]
    print(f"Stored study {spec.code} ({summary['study_id']}) in {seconds:.1f} s: "
          f"{sum(summary['participants'].values())} participants ({arms}), "
          f"{summary['responses']} responses ({summary['responses'] / max(seconds, 1e-9):.0f}"
          f"/s), {summary['adverse_events']} adverse event(s) reported.")
    return 0


class Progress:
    """A line on stderr every few seconds: participants and responses so far, and the rate."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = self.shown = time.perf_counter()

    def __call__(self, participants: int, responses: int) -> None:
        now = time.perf_counter()
        if now - self.shown >= PROGRESS_SECONDS:
            self.shown = now
            print(f"  {participants}/{self.total} participants, {responses} responses "
                  f"({responses / (now - self.started):.0f}/s)", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Into a database, through the services


def store_in_database(spec: TrialSpec, args: argparse.Namespace,
                      progress: Progress | None) -> dict[str, Any]:
    from prom import migrations
    from prom.app import create_app
    from prom.errors import ProblemError
    from prom.extensions import db
    from prom.services.synthetic_trial import Refused, staff_actor, store_trial

    app = create_app({"DATABASE_URL": args.database})
    with app.app_context():
        try:
            if args.migrate:
                migrations.upgrade(db.engine, "head")
            actor, created = staff_actor(args.email or DEFAULT_EMAIL,
                                         args.password or os.environ.get("PROM_PASSWORD"))
            if created and not args.quiet:
                print(f"Created admin {actor.email} to act as.", file=sys.stderr)
            stored = store_trial(spec, actor=actor, batch_size=args.batch_size,
                                 progress=(lambda s: progress(sum(s.participants.values()),
                                                              s.responses))
                                 if progress else None)
        except Refused as error:
            raise Failed(str(error)) from error
        except ProblemError as error:  # what the API would have answered with a 4xx
            raise Failed(f"{error.detail}" + (f" {json.dumps(error.errors)}" if error.errors
                                              else "")) from error
        finally:
            db.engine.dispose()
    return {"study_id": str(stored.study_id), "participants": stored.participants,
            "responses": stored.responses, "adverse_events": stored.adverse_events,
            "seconds": stored.seconds}


# ---------------------------------------------------------------------------------------------
# Through the API


class Api:
    """A signed-in staff client of /api/v1: JSON in and out, refreshing its token when it
    expires and waiting when rate limited."""

    def __init__(self, server: str, email: str, password: str, *, timeout: float = 300.0):
        self.base = server.rstrip("/") + "/api/v1"
        self.timeout = timeout
        tokens = self._send("POST", "/auth/login", {"email": email, "password": password})
        self.access, self.refresh = tokens["access_token"], tokens["refresh_token"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self._send(method, path, body, self.access)
        except _HttpError as error:
            if error.status != 401:
                raise
        tokens = self._send("POST", "/auth/refresh", None, self.refresh)  # expired: rotate
        self.access, self.refresh = tokens["access_token"], tokens["refresh_token"]
        return self._send(method, path, body, self.access)

    def _send(self, method: str, path: str, body: Any, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for _ in range(5):
            request = urllib.request.Request(self.base + path, data=data, headers=headers,
                                             method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                problem = _problem(error)
                if error.code == 429:
                    time.sleep(float(error.headers.get("Retry-After") or 5))
                    continue
                raise _HttpError(method, path, error.code, problem) from None
            except urllib.error.URLError as error:
                raise Failed(f"cannot reach {self.base}: {error.reason}") from error
        raise Failed(f"{method} {path}: still rate limited after 5 attempts")


class _HttpError(Failed):
    def __init__(self, method: str, path: str, status: int, problem: dict[str, Any]) -> None:
        detail = problem.get("detail") or problem.get("title") or ""
        errors = problem.get("errors")
        super().__init__(f"{method} {path}: {status} {detail}"
                         + (f" {json.dumps(errors)}" if errors else ""))
        self.status = status


def _problem(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        problem = json.loads(error.read())
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def store_through_api(spec: TrialSpec, args: argparse.Namespace,
                      progress: Progress | None) -> dict[str, Any]:
    if not args.email:
        raise Failed("--server needs --email (an admin's)")
    password = args.password or os.environ.get("PROM_PASSWORD") or getpass.getpass(
        f"Password for {args.email}: ")
    started = time.perf_counter()
    api = Api(args.server, args.email, password)
    existing = {site["code"]: site["id"] for site in api.call("GET", "/sites")["items"]}
    site_ids = {site.code: existing.get(site.code) or api.call(
        "POST", "/sites", {"code": site.code, "name": site.name})["id"] for site in spec.sites}
    study_id = api.call("POST", "/studies", spec.study_body())["id"]
    summary: dict[str, Any] = {"study_id": study_id, "participants": Counter(), "responses": 0,
                               "adverse_events": 0}
    pending: list[dict[str, Any]] = []
    for person in generate(spec):
        enrolment = person.enrolment
        participant = api.call("POST", f"/studies/{study_id}/participants",
                               enrolment.body(site_ids[enrolment.site]))
        summary["participants"][enrolment.arm] += 1
        pending += person.entries(participant["id"])
        while len(pending) >= args.batch_size:
            _post_batch(api, pending[:args.batch_size], summary, progress)
            del pending[:args.batch_size]
    if pending:
        _post_batch(api, pending, summary, progress)
    summary["seconds"] = time.perf_counter() - started
    return summary


def _post_batch(api: Api, entries: list[dict[str, Any]], summary: dict[str, Any],
                progress: Progress | None) -> None:
    try:
        results = api.call("POST", "/responses/batch", {"responses": entries})["results"]
    except _HttpError as error:
        if error.status != 413 or len(entries) == 1:
            raise
        half = len(entries) // 2  # over the server's body limit: send it in two
        _post_batch(api, entries[:half], summary, progress)
        _post_batch(api, entries[half:], summary, progress)
        return
    for entry, result in zip(entries, results, strict=True):
        if result["status"] != 201:
            raise Failed(f"response {entry['id']} ({entry['instrument']}) was refused: "
                         f"{json.dumps(result)}")
    summary["responses"] += len(entries)
    summary["adverse_events"] += sum(1 for entry in entries
                                     if entry["instrument"] == "adverse_event"
                                     and entry["answers"]["occurred"])
    if progress is not None:
        progress(sum(summary["participants"].values()), summary["responses"])


if __name__ == "__main__":
    sys.exit(main())
