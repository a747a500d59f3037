"""Compiled scorer vs a plain per-row implementation of the same rules, in the same run.

For every instrument in the library:

- builds N synthetic answer sets (default 1,000,000) directly as an answer matrix: random valid
  answers, 5% of optional items missing, skip conditions honoured, column-major as
  `AnswerLayout.encode_many` builds it;
- **compiled**: scores all N with `CompiledScorer.score_matrix`, best of 3 runs;
- **per-row Python**: scores a sample of the same rows with `prom.scoring.reference.plain_scores`,
  the independent plain implementation that the test suite checks the engine against (warmed up
  first; its rate does not depend on N, and a million rows of it per instrument would take most
  of an hour). Both must agree on every sampled row, or the script stops;
- **one answer set**: `encode + score_matrix` (the engine: an answer dict in, score arrays out)
  and `score_response` (what the API calls per submission: the engine plus the `Score` objects
  and raised alerts), minimum and median of 15 repeats of 1,000 calls.

Timings on shared virtual machines drift by up to 2× from minute to minute, so each run also
prints a calibration: the cost of one trivial numpy call (adding two 8-element arrays). Compare
runs by their speed-up column, which divides two figures measured seconds apart.

Run:  .venv/bin/python benchmarks/bench_scoring.py [--rows 1000000] [--sample 20000] [--only ID ...]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prom.instruments import load_library
from prom.instruments.conditions import ConditionSet
from prom.instruments.spec import Definition
from prom.scoring import compiled, score_response
from prom.scoring.reference import plain_scores

MISSING_RATE = 0.05


def synthetic_matrix(definition: Definition, rows: int, rng: np.random.Generator) -> np.ndarray:
    layout = compiled(definition).layout
    matrix = np.full((rows, layout.width), np.nan, order="F")  # as encode_many builds it
    for item in definition.items:
        if not item.response.scorable:
            continue
        columns = layout.item_columns[item.id]
        if item.response.type == "multiple_choice":
            block = (rng.random((rows, len(columns))) < 0.2).astype(float)
            for code in item.response.exclusive:  # exclusive options stand alone
                block[:, item.response.codes.index(code)] = 0.0
            matrix[:, columns] = block
        else:
            values = np.asarray(item.response.numeric_values())
            matrix[:, columns[0]] = values[rng.integers(0, len(values), rows)]
        if not item.required:
            matrix[rng.random(rows) < MISSING_RATE, columns[0]: columns[-1] + 1] = np.nan
    for item in definition.items:  # hide what skip conditions hide, in item order
        if item.show_if is not None and item.response.scorable:
            shown = ConditionSet([item.show_if], layout).holds(matrix.T)[0]
            columns = layout.item_columns[item.id]
            matrix[~shown, columns[0]: columns[-1] + 1] = np.nan
    return matrix


def decode_row(definition: Definition, row: np.ndarray) -> dict:
    """A matrix row back to the answer dict a client would have sent."""
    layout = compiled(definition).layout
    answers = {}
    for item in definition.items:
        if not item.response.scorable:
            continue
        columns = layout.item_columns[item.id]
        if np.isnan(row[columns[0]]):
            continue
        response = item.response
        if response.type == "multiple_choice":
            answers[item.id] = [c for c, col in zip(response.codes, columns, strict=True)
                                if row[col] == 1.0]
        elif response.type == "single_choice":
            answers[item.id] = next(o.code for o in response.options if o.value == row[columns[0]])
        elif response.type == "boolean":
            answers[item.id] = bool(row[columns[0]])
        else:
            answers[item.id] = int(row[columns[0]])
    return answers


def microseconds(call, number: int = 1000, repeat: int = 15) -> tuple[float, float]:
    """(minimum, median) microseconds per call."""
    runs = [t / number * 1e6 for t in timeit.repeat(call, number=number, repeat=repeat)]
    return min(runs), statistics.median(runs)


def one_answer_set(definition: Definition, answers: dict) -> tuple[tuple[float, float], ...]:
    """(engine, score_response) timings for one answer set, each (min, median) µs."""
    scorer = compiled(definition)
    engine = microseconds(lambda: scorer.score_matrix(scorer.layout.encode(answers)[None, :]))
    full = microseconds(lambda: score_response(definition, answers))
    return engine, full


def calibration() -> float:
    a, b = np.ones(8), np.ones(8)
    return microseconds(lambda: a + b, number=20000)[0]


def bench(definition: Definition, rows: int, sample: int, rng: np.random.Generator) -> dict:
    scorer = compiled(definition)
    matrix = synthetic_matrix(definition, rows, rng)
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        arrays = scorer.score_matrix(matrix)
        seconds.append(time.perf_counter() - start)

    answer_sets = [decode_row(definition, matrix[i]) for i in range(min(sample, rows))]
    for answers in answer_sets[:200]:
        plain_scores(definition, answers)  # warm up
    start = time.perf_counter()
    plain = [plain_scores(definition, answers) for answers in answer_sets]
    plain_seconds = time.perf_counter() - start
    for i, expected in enumerate(plain):
        for k, scale in enumerate(definition.scales):
            want, got = expected[scale.id]["value"], arrays.values[i, k]
            same = (want is None and np.isnan(got)) or (want is not None and abs(want - got) < 1e-9)
            if not same:
                raise SystemExit(f"{definition.id}.{scale.id} row {i}: plain {want}, "
                                 f"compiled {got}")

    engine, full = one_answer_set(definition, answer_sets[0])
    return {
        "compiled_rate": rows / min(seconds),
        "compiled_seconds": min(seconds),
        "plain_rate": len(answer_sets) / plain_seconds,
        "engine": engine,
        "full": full,
    }


def single_only(library, only: list[str] | None, rng: np.random.Generator) -> None:
    print(f"one answer set; calibration: one trivial numpy call = {calibration():.2f} µs\n")
    print("| instrument | engine µs (min / median) | score_response µs (min / median) |")
    print("|---|---|---|")
    for definition in library.latest():
        if only and definition.id not in only:
            continue
        answers = decode_row(definition, synthetic_matrix(definition, 1, rng)[0])
        engine, full = one_answer_set(definition, answers)
        print(f"| {definition.id} | {engine[0]:.1f} / {engine[1]:.1f} | "
              f"{full[0]:.1f} / {full[1]:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--only", nargs="*", help="instrument ids (default: all)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--single-only", action="store_true",
                        help="only the one-answer-set timings (quick; repeat it at different "
                             "moments on a shared machine)")
    args = parser.parse_args()
    if args.single_only:
        single_only(load_library(), args.only, np.random.default_rng(args.seed))
        return

    rng = np.random.default_rng(args.seed)
    library = load_library()
    print(f"scoring benchmark: {args.rows:,} rows per instrument, per-row baseline on "
          f"{args.sample:,} of them; Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}; calibration: one trivial numpy call = {calibration():.2f} µs")
    print()
    print("| instrument | scales | compiled: s per 1M | compiled rows/s | per-row Python rows/s "
          "| speed-up | one answer set, engine µs (min / median) | score_response µs "
          "(min / median) |")
    print("|---|---|---|---|---|---|---|---|")
    for definition in library.latest():
        if args.only and definition.id not in args.only:
            continue
        r = bench(definition, args.rows, args.sample, rng)
        print(f"| {definition.id} | {len(definition.scales)} | "
              f"{r['compiled_seconds'] * 1e6 / args.rows:.2f} | {r['compiled_rate']:,.0f} | "
              f"{r['plain_rate']:,.0f} | {r['compiled_rate'] / r['plain_rate']:,.0f}× | "
              f"{r['engine'][0]:.1f} / {r['engine'][1]:.1f} | "
              f"{r['full'][0]:.1f} / {r['full'][1]:.1f} |", flush=True)
    print(f"\ncalibration at the end: {calibration():.2f} µs")


if __name__ == "__main__":
    main()
