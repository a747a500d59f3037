"""Vectorised evaluation of skip conditions and alert rules.

A `ConditionSet` compiles many conditions once and evaluates all of them over an answer matrix in a
fixed number of numpy operations, however many conditions there are. Conditions are three-valued:
`holds` (known true) and `fails` (known false) are both False where a deciding answer is missing.

- a comparison with its item (or scale) missing is unknown;
- `in` is true when any listed value matches, false when the value is known and none matches;
- `any` is true if one part is true, false if every part is false; `all` the other way round.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from prom.instruments.layout import AnswerLayout
from prom.instruments.spec import Condition


def _interval(operator: str, operand: float) -> tuple[float, float, bool]:
    """Every operator as `low ≤ value ≤ high`, negated for not_equals: one test for any mix."""
    if operator in ("equals", "not_equals"):
        return operand, operand, operator == "not_equals"
    return {
        "gte": (operand, np.inf),
        "gt": (np.nextafter(operand, np.inf), np.inf),
        "lte": (-np.inf, operand),
        "lt": (-np.inf, np.nextafter(operand, -np.inf)),
    }[operator] + (False,)


class ConditionSet:
    """Evaluate `conditions` over X (answers) and, for alert rules, V (scale values)."""

    def __init__(self, conditions: Sequence[Condition], layout: AnswerLayout,
                 scale_ids: Sequence[str] = ()) -> None:
        scale_position = {scale_id: index for index, scale_id in enumerate(scale_ids)}
        atom_columns: list[int] = []  # index into [X | V]
        atom_intervals: list[tuple[float, float, bool]] = []
        comparison_starts: list[int] = []
        condition_starts: list[int] = []
        condition_is_all: list[bool] = []
        comparisons = 0

        def atom(column: int, operator: str, operand: float) -> None:
            atom_columns.append(column)
            atom_intervals.append(_interval(operator, operand))

        for condition in conditions:
            condition_starts.append(comparisons)
            condition_is_all.append(condition.mode == "all")
            for comparison in condition.comparisons:
                comparison_starts.append(len(atom_columns))
                comparisons += 1
                if comparison.source == "scale":
                    column = layout.width + scale_position[comparison.ref]
                    atom(column, comparison.operator, float(comparison.operand))
                    continue
                item = layout.definition.item(comparison.ref)
                operands = (comparison.operand if comparison.operator == "in"
                            else [comparison.operand])
                if item.response.type == "multiple_choice":
                    # "equals x" means x is selected; "not_equals x" that it is not.
                    selected = 0.0 if comparison.operator == "not_equals" else 1.0
                    for code in operands:
                        atom(layout.option_column[(item.id, code)], "equals", selected)
                    continue
                operator = "equals" if comparison.operator == "in" else comparison.operator
                for code in operands:
                    number = (float(code) if operator not in ("equals", "not_equals")
                              else layout.numeric(item, code))
                    atom(layout.item_columns[item.id][0], operator, number)

        self.size = len(conditions)
        self._columns = np.asarray(atom_columns, dtype=np.intp)
        self._low = np.asarray([low for low, _, _ in atom_intervals], dtype=float)
        self._high = np.asarray([high for _, high, _ in atom_intervals], dtype=float)
        self._negate = np.asarray([negate for _, _, negate in atom_intervals], dtype=bool)
        self._masks_unknown = bool(self._negate.any())
        # OR over atoms within a comparison and any/all over comparisons are counts, done as
        # matrix products (far faster than reduceat over strided boolean columns); skipped when
        # every comparison is one atom, or every condition one comparison.
        self._atoms_per_comparison = _membership(comparison_starts, len(atom_columns))
        self._comparisons_per_condition = _membership(condition_starts, comparisons)
        self._is_all = np.asarray(condition_is_all, dtype=bool)
        self.uses_scales = bool((self._columns >= layout.width).any()) if self.size else False

    def holds(self, answers: np.ndarray, scales: np.ndarray | None = None) -> np.ndarray:
        """(rows, conditions): True where the condition is known to be true.

        A comparison with NaN is already false, except `not_equals`, which must be masked."""
        values, true = self._compare(answers, scales)
        if self._masks_unknown:
            true &= ~np.isnan(values)
        if self._atoms_per_comparison is not None:
            membership, _ = self._atoms_per_comparison
            true = (true @ membership) > 0
        if self._comparisons_per_condition is not None:
            membership, sizes = self._comparisons_per_condition
            counted = true @ membership
            true = counted > 0
            if self._is_all.any():
                true = np.where(self._is_all, counted == sizes, true)
        return true

    def fails(self, answers: np.ndarray, scales: np.ndarray | None = None) -> np.ndarray:
        """(rows, conditions): True where the condition is known to be false (an item whose
        `show_if` fails is hidden for certain; one whose controlling item is missing is not)."""
        values, result = self._compare(answers, scales)
        false = ~(np.isnan(values) | result)
        if self._atoms_per_comparison is not None:  # a comparison fails when every atom does
            membership, sizes = self._atoms_per_comparison
            false = (false @ membership) == sizes
        if self._comparisons_per_condition is not None:
            membership, sizes = self._comparisons_per_condition
            counted = false @ membership
            false = counted == sizes  # `any` fails when every part fails
            if self._is_all.any():  # `all` fails when one part fails
                false = np.where(self._is_all, counted > 0, false)
        return false

    def _compare(self, answers: np.ndarray,
                 scales: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The compared values and each atom's comparison result, (rows, atoms) each."""
        source = np.concatenate([answers, scales], axis=1) if self.uses_scales else answers
        values = source[:, self._columns]
        result = (values >= self._low) & (values <= self._high)  # NaN: False
        if self._masks_unknown:
            result ^= self._negate
        return values, result


def _membership(starts: list[int], total: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(parts × groups) 0/1 matrix and group sizes, or None when every group has one part."""
    if len(starts) == total:
        return None
    bounds = [*starts, total]
    matrix = np.zeros((total, len(starts)), dtype=np.float32)
    for group, (first, last) in enumerate(itertools.pairwise(bounds)):
        matrix[first:last, group] = 1.0
    return matrix, np.diff(bounds).astype(np.float32)
