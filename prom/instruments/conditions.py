"""Vectorised evaluation of skip conditions and alert rules.

A `ConditionSet` compiles many conditions once and evaluates all of them over an answer matrix in a
fixed number of numpy operations, however many conditions there are. Results are three-valued:
`is_true` and `is_false` are both False where the answer that decides is missing ("unknown").

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

_OPERATORS = ("equals", "not_equals", "gte", "gt", "lte", "lt")
_COMPARE = {
    "equals": np.equal, "not_equals": np.not_equal, "gte": np.greater_equal,
    "gt": np.greater, "lte": np.less_equal, "lt": np.less,
}


class ConditionSet:
    """Evaluate `conditions` over X (answers) and, for alert rules, V (scale values)."""

    def __init__(self, conditions: Sequence[Condition], layout: AnswerLayout,
                 scale_ids: Sequence[str] = ()) -> None:
        scale_position = {scale_id: index for index, scale_id in enumerate(scale_ids)}
        atom_columns: list[int] = []  # index into [X | V]
        atom_operator: list[int] = []
        atom_operand: list[float] = []
        comparison_starts: list[int] = []
        condition_starts: list[int] = []
        condition_is_all: list[bool] = []
        comparisons = 0

        def atom(column: int, operator: str, operand: float) -> None:
            atom_columns.append(column)
            atom_operator.append(_OPERATORS.index(operator))
            atom_operand.append(operand)

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
        self._operand = np.asarray(atom_operand, dtype=float)
        operators = np.asarray(atom_operator, dtype=np.intp)
        self._by_operator = [(name, np.flatnonzero(operators == code))
                             for code, name in enumerate(_OPERATORS) if (operators == code).any()]
        self._single_operator = len(self._by_operator) == 1
        # OR over atoms within a comparison and any/all over comparisons are counts, done as
        # matrix products (far faster than reduceat over strided boolean columns); skipped when
        # every comparison is one atom, or every condition one comparison.
        self._atoms_per_comparison = _membership(comparison_starts, len(atom_columns))
        self._comparisons_per_condition = _membership(condition_starts, comparisons)
        self._is_all = np.asarray(condition_is_all, dtype=bool)
        self.uses_scales = bool((self._columns >= layout.width).any()) if self.size else False

    def evaluate(self, answers: np.ndarray,
                 scales: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(is_true, is_false), each of shape (rows, conditions)."""
        rows = answers.shape[0]
        if self.size == 0:
            empty = np.zeros((rows, 0), dtype=bool)
            return empty, empty
        source = np.hstack([answers, scales]) if self.uses_scales else answers
        values = source[:, self._columns]
        known = ~np.isnan(values)
        if self._single_operator:
            name = self._by_operator[0][0]
            result = _COMPARE[name](values, self._operand)
        else:
            result = np.empty(values.shape, dtype=bool)
            for name, positions in self._by_operator:
                result[:, positions] = _COMPARE[name](values[:, positions],
                                                      self._operand[positions])
        true = known & result
        false = known & ~result
        if self._atoms_per_comparison is not None:
            true, false = _any_all(true, false, *self._atoms_per_comparison, all_mode=None)
        if self._comparisons_per_condition is not None:
            true, false = _any_all(true, false, *self._comparisons_per_condition,
                                   all_mode=self._is_all)
        return true, false


def _membership(starts: list[int], total: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(parts × groups) 0/1 matrix and group sizes, or None when every group has one part."""
    if len(starts) == total:
        return None
    bounds = [*starts, total]
    matrix = np.zeros((total, len(starts)), dtype=np.float32)
    for group, (first, last) in enumerate(itertools.pairwise(bounds)):
        matrix[first:last, group] = 1.0
    return matrix, np.diff(bounds).astype(np.float32)


def _any_all(true: np.ndarray, false: np.ndarray, membership: np.ndarray, sizes: np.ndarray,
             all_mode: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Three-valued any (or all, where all_mode) over groups of columns."""
    n_true = true.astype(np.float32) @ membership
    n_false = false.astype(np.float32) @ membership
    any_true, any_false = n_true > 0, n_false == sizes
    if all_mode is None or not all_mode.any():
        return any_true, any_false
    all_true, all_false = n_true == sizes, n_false > 0
    return np.where(all_mode, all_true, any_true), np.where(all_mode, all_false, any_false)
