"""Compiled scorer vs a plain per-row implementation of the same rules.

For every instrument in the library:
- builds N synthetic answer sets (default 1,000,000) directly as an answer matrix — random valid
  answers, some optional items missing, skip conditions honoured;
- scores all N with the compiled scorer (`CompiledScorer.score_matrix`) and times it;
- scores a sample of the same rows with `prom.scoring.reference.plain_scores`, the per-row Python
  baseline, and times it (the per-row rate is measured on the sample: one million rows of plain
  Python per instrument would take most of an hour, and the rate does not depend on N);
- checks that both agree on the sample;
- times one answer set end to end (`score_response`: encode a dict, score, build results), which
  is what the API does per submission.

Run:  .venv/bin/python benchmarks/bench_scoring.py [--rows 1000000] [--sample 20000] [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
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
            matrix[rng.random(rows) < MISSING_RATE, columns[0] : columns[-1] + 1] = np.nan
    conditional = [
        item for item in definition.items if item.show_if is not None and item.response.scorable
    ]
    if conditional:  # hide what the skip conditions hide, in item order (they chain forwards)
        for item in conditional:
            shown = ConditionSet([item.show_if], layout).holds(matrix.T).T
            columns = layout.item_columns[item.id]
            matrix[~shown[:, 0], columns[0] : columns[-1] + 1] = np.nan
    return matrix


def decode_row(definition: Definition, row: np.ndarray) -> dict:
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
            answers[item.id] = [
                c for c, col in zip(response.codes, columns, strict=True) if row[col] == 1.0
            ]
        elif response.type == "single_choice":
            answers[item.id] = next(o.code for o in response.options if o.value == row[columns[0]])
        elif response.type == "boolean":
            answers[item.id] = bool(row[columns[0]])
        else:
            answers[item.id] = int(row[columns[0]])
    return answers


def one_answer_set_us(definition: Definition, answers: dict, repeats: int = 3000) -> float:
    score_response(definition, answers)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            score_response(definition, answers)
        timings.append((time.perf_counter() - start) / repeats)
    return statistics.median(timings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--only", nargs="*", help="instrument ids (default: all)")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    library = load_library()
    print(
        f"# scoring benchmark: {args.rows:,} rows per instrument, per-row baseline on "
        f"{args.sample:,}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}"
    )
    print(
        "| instrument | scales | compiled: s for all rows | compiled: rows/s | "
        "per-row Python: rows/s | speed-up | one answer set (µs) |"
    )
    print("|---|---|---|---|---|---|---|")
    for definition in library.latest():
        if args.only and definition.id not in args.only:
            continue
        scorer = compiled(definition)
        matrix = synthetic_matrix(definition, args.rows, rng)
        start = time.perf_counter()
        arrays = scorer.score_matrix(matrix)
        compiled_seconds = time.perf_counter() - start

        sample_rows = [
            decode_row(definition, matrix[i]) for i in range(min(args.sample, args.rows))
        ]
        start = time.perf_counter()
        plain = [plain_scores(definition, answers) for answers in sample_rows]
        plain_seconds = time.perf_counter() - start
        for i, expected in enumerate(plain):  # same answers, same scores
            for k, scale in enumerate(definition.scales):
                want = expected[scale.id]["value"]
                got = arrays.values[i, k]
                assert (want is None and np.isnan(got)) or abs(want - got) < 1e-9, (
                    definition.id,
                    scale.id,
                    i,
                    want,
                    got,
                )

        compiled_rate = args.rows / compiled_seconds
        plain_rate = len(sample_rows) / plain_seconds
        single = one_answer_set_us(definition, sample_rows[0])
        print(
            f"| {definition.id} | {len(definition.scales)} | {compiled_seconds:.2f} | "
            f"{compiled_rate:,.0f} | {plain_rate:,.0f} | {compiled_rate / plain_rate:,.0f}× | "
            f"{single:.1f} |",
            flush=True,
        )
        del matrix, arrays


if __name__ == "__main__":
    main()
