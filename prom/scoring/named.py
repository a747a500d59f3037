"""Named scorers: scoring rules that the declarative vocabulary does not cover.

A named scorer is prepared once per scale into a keyed table (`PreparedScorer`): the compiled
engine computes the key with the same matrix product as every other scale and looks the score up.
Named scales need every item answered, so a missing item makes the score insufficient. Each
prepared scorer carries a `signature` of its data for the scoring-version digest, and the loader
asks `named_scorer_range` for its range.

To add one: write a `prepare_*` function, register it in `_SCORERS`, and document its parameters in
instruments/README.md.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from prom.instruments.spec import Item, Scale


@dataclass(frozen=True)
class PreparedScorer:
    """A named scorer as a keyed table: key = Σ item_weights · item values + key_offset, and the
    score is table[key]. Value sets, crosswalks and raw-to-T tables all have this shape, so the
    compiled engine scores them with the same matrix product and one gather as `lookup` scales."""

    item_weights: tuple[float, ...]
    key_offset: int
    table: np.ndarray
    signature: str

    @property
    def low(self) -> float:
        return float(self.table.min())

    @property
    def high(self) -> float:
        return float(self.table.max())


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


EQ5D_WEIGHTS = (625.0, 125.0, 25.0, 5.0, 1.0)


@cache
def eq5d_states() -> list[str]:
    """The 3,125 EQ-5D-5L profiles in order: '11111', '11112', …, '55555'."""
    return ["".join(map(str, p)) for p in itertools.product(range(1, 6), repeat=5)]


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
    states = eq5d_states()
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
    # state 11111 is position 0: Σ (level − 1) · 5^(4 − dimension)
    return PreparedScorer(item_weights=EQ5D_WEIGHTS, key_offset=-int(sum(EQ5D_WEIGHTS)),
                          table=table,
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


