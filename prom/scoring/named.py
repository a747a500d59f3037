"""Named scorers: scoring rules that the declarative vocabulary does not cover.

A named scorer is prepared once per scale into a vectorised function from the scale's item block
(rows × items, NaN = missing) to values; rows with any item missing give NaN (the engine marks them
insufficient because named scales need every item). Each prepared scorer carries a `signature` of
its data for the scoring-version digest, and the loader asks `named_scorer_range` for its range.

To add one: write a `prepare_*` function, register it in `_SCORERS`, and document its parameters in
instruments/README.md.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from prom.instruments.spec import Item, Scale


@dataclass(frozen=True)
class PreparedScorer:
    function: Callable[[np.ndarray], np.ndarray]
    low: float
    high: float
    signature: str

    def __call__(self, block: np.ndarray) -> np.ndarray:
        return self.function(block)


# ------------------------------------------------------------------------------------- EQ-5D-5L

EQ5D_DIMENSIONS = ("MO", "SC", "UA", "PD", "AD")
EQ5D_STATES = 5**5
_EQ5D_VALUE_SETS: Mapping[str, tuple[str, str]] = {
    # parameter -> (file, column or value-set name)
    "england": ("eq5d5l_value_sets.csv", "EQ-5D-5L England (Devlin 2018)"),
    "us": ("eq5d5l_value_sets.csv", "EQ-5D-5L USA (Pickard 2019)"),
    "crosswalk_uk": ("eq5d5l_crosswalk_van_hout_2012.csv", "uk"),
    "crosswalk_us": ("eq5d5l_crosswalk_van_hout_2012.csv", "usa"),
}


def eq5d_state_index(levels: np.ndarray) -> np.ndarray:
    """Rows of five levels 1..5 (MO, SC, UA, PD, AD) → 0..3124, the position of state '11111'…"""
    return ((levels - 1) @ np.array([625.0, 125.0, 25.0, 5.0, 1.0])).astype(np.intp)


@cache
def eq5d_value_table(tables: Path, value_set: str) -> tuple[float, ...]:
    """The index of all 3,125 states, in state order, for one value set."""
    if value_set not in _EQ5D_VALUE_SETS:
        raise ValueError(f"unknown EQ-5D-5L value_set {value_set!r}; known: "
                         f"{sorted(_EQ5D_VALUE_SETS)}")
    file, column = _EQ5D_VALUE_SETS[value_set]
    path = tables / file
    if not path.is_file():
        raise ValueError(f"EQ-5D-5L table {file} not found in {tables}")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    states = [f"{a}{b}{c}{d}{e}" for a in range(1, 6) for b in range(1, 6) for c in range(1, 6)
              for d in range(1, 6) for e in range(1, 6)]
    if "state" in rows[0]:  # a crosswalk: one value per state
        by_state = {row["state"]: float(row[column]) for row in rows}
        missing = [s for s in states if s not in by_state]
        if missing:
            raise ValueError(f"{file} lacks states {missing[:5]}")
        return tuple(by_state[s] for s in states)
    # an additive value set: start value plus one decrement per dimension and level
    terms = {row["term"]: float(row["coefficient"]) for row in rows if row["value_set"] == column}
    if "StartValue" not in terms:
        raise ValueError(f"{file} has no StartValue for {column!r}")
    values = []
    for state in states:
        value = terms["StartValue"]
        for dimension, level in zip(EQ5D_DIMENSIONS, state, strict=True):
            value += terms.get(f"{dimension}{level}", 0.0)
        values.append(round(value, 10))  # cancel float noise from adding decimal decrements
    return tuple(values)


def prepare_eq5d5l_index(scale: Scale, items: list[Item], tables: Path) -> PreparedScorer:
    params = dict(scale.scorer_params)
    if set(params) != {"value_set"}:
        raise ValueError("eq5d5l_index takes exactly one parameter, value_set")
    if len(items) != 5 or any(
        i.response.numeric_values() != (1.0, 2.0, 3.0, 4.0, 5.0) for i in items
    ):
        raise ValueError("eq5d5l_index needs the five dimensions MO, SC, UA, PD, AD, in that "
                         "order, each answered 1..5")
    table = np.asarray(eq5d_value_table(tables, params["value_set"]))

    def score(block: np.ndarray) -> np.ndarray:
        complete = ~np.isnan(block).any(axis=1)
        levels = np.where(complete[:, None], block, 1.0)
        return np.where(complete, table[eq5d_state_index(levels)], np.nan)

    return PreparedScorer(score, float(table.min()), float(table.max()),
                          signature=f"eq5d5l_index:{params['value_set']}:"
                                    f"{hashlib.sha256(table.tobytes()).hexdigest()[:12]}")


_SCORERS: Mapping[str, Callable[[Scale, list[Item], Path], PreparedScorer]] = {
    "eq5d5l_index": prepare_eq5d5l_index,
}


def prepare_named_scorer(scale: Scale, items: list[Item], tables: Path) -> PreparedScorer:
    if scale.scorer not in _SCORERS:
        raise ValueError(f"unknown named scorer {scale.scorer!r}; known: {sorted(_SCORERS)}")
    return _SCORERS[scale.scorer](scale, items, tables)


def named_scorer_range(scale: Scale, items: list[Item], tables: Path) -> tuple[float, float]:
    """The possible range of a named scale; ValueError explains a bad name or parameters."""
    prepared = prepare_named_scorer(scale, items, tables)
    return prepared.low, prepared.high


def named_scorers() -> list[str]:
    return sorted(_SCORERS)


