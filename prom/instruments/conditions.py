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
    """Evaluate `conditions` over answers and, for alert rules, scale values.

    Arrays are column-major: answers (columns × rows), scales (scales × rows), results
    (conditions × rows). Batches then run their inner loops along the rows, which is several
    times faster than along a handful of columns."""

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
        self._low = np.asarray([low for low, _, _ in atom_intervals], dtype=float)[:, np.newaxis]
        self._high = np.asarray([high for _, high, _ in atom_intervals],
                                dtype=float)[:, np.newaxis]
        self._negate = np.asarray([negate for _, _, negate in atom_intervals],
                                  dtype=bool)[:, np.newaxis]
        # one-sided sets (only gte/gt, or only lte/lt) need one comparison instead of two
        self._bounded_below = bool((self._low > -np.inf).any())
        self._bounded_above = bool((self._high < np.inf).any())
        self._any_negated = bool(self._negate.any())
        self._all_negated = bool(self._negate.size) and bool(self._negate.all())
        # How atoms group into comparisons (an `in` or a multiple-choice comparison has several)
        # and comparisons into conditions (any/all); None where every group has one member.
        self._atoms_per_comparison = _membership(comparison_starts, len(atom_columns))
        self._comparisons_per_condition = _membership(condition_starts, comparisons)
        self._is_all = np.asarray(condition_is_all, dtype=bool)[:, np.newaxis]
        self._modes = ("all" if all(condition_is_all) else
                       "any" if not any(condition_is_all) else "mixed")
        self.uses_scales = bool((self._columns >= layout.width).any()) if self.size else False
        if self.uses_scales:
            # Gather only the referenced answer and scale columns, then the atoms from those:
            # concatenating whole matrices would copy every answer of every row.
            width = layout.width
            self._answer_columns = np.unique(self._columns[self._columns < width])
            self._scale_columns = np.unique(self._columns[self._columns >= width]) - width
            referenced = [*self._answer_columns, *(self._scale_columns + width)]
            self._positions = np.asarray([referenced.index(c) for c in self._columns],
                                         dtype=np.intp)

    def holds(self, answers: np.ndarray, scales: np.ndarray | None = None) -> np.ndarray:
        """(conditions × rows): True where the condition is known to be true."""
        atoms = self._atoms(answers, scales, holds=True)
        return self._combine(atoms, holds=True)

    def fails(self, answers: np.ndarray, scales: np.ndarray | None = None) -> np.ndarray:
        """(conditions × rows): True where the condition is known to be false (an item whose
        `show_if` fails is hidden for certain; one whose controlling item is missing is not)."""
        atoms = self._atoms(answers, scales, holds=False)
        return self._combine(atoms, holds=False)

    def _atoms(self, answers: np.ndarray, scales: np.ndarray | None, holds: bool) -> np.ndarray:
        """Per atom, known true (`holds`) or known false. Inside and outside the interval are
        both False for NaN, so neither needs a mask for unknown values."""
        if self.uses_scales:
            referenced = np.concatenate([answers.take(self._answer_columns, axis=0),
                                         scales.take(self._scale_columns, axis=0)])
            values = referenced.take(self._positions, axis=0)
        else:
            values = answers.take(self._columns, axis=0)
        if self._any_negated and not self._all_negated:
            inside, outside = self._inside(values), self._outside(values)
            return np.where(self._negate, outside, inside) if holds else np.where(
                self._negate, inside, outside)
        inside_wanted = holds != self._all_negated  # which test answers the question
        return self._inside(values) if inside_wanted else self._outside(values)

    def _inside(self, values: np.ndarray) -> np.ndarray:
        if not self._bounded_above:
            return values >= self._low
        if not self._bounded_below:
            return values <= self._high
        return (values >= self._low) & (values <= self._high)

    def _outside(self, values: np.ndarray) -> np.ndarray:
        if not self._bounded_above:
            return values < self._low
        if not self._bounded_below:
            return values > self._high
        return (values < self._low) | (values > self._high)

    def _combine(self, atoms: np.ndarray, holds: bool) -> np.ndarray:
        """OR over the atoms of a comparison, then any/all over a condition's comparisons.
        Known-true of `any` is "some part true"; known-false of `any` is "every part false";
        `all` the other way round."""
        if self._atoms_per_comparison is not None:
            atoms = _reduce(atoms, *self._atoms_per_comparison, every=not holds)
        if self._comparisons_per_condition is None:
            return atoms
        grouping = self._comparisons_per_condition
        if self._modes == "any":
            return _reduce(atoms, *grouping, every=not holds)
        if self._modes == "all":
            return _reduce(atoms, *grouping, every=holds)
        return np.where(self._is_all, _reduce(atoms, *grouping, every=holds),
                        _reduce(atoms, *grouping, every=not holds))


def _membership(starts: list[int], total: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """How parts (contiguous rows) form groups: a (groups × parts) 0/1 matrix, the group sizes,
    and the common size when all groups have one (else 0); None when every group has one part."""
    if len(starts) == total:
        return None
    bounds = [*starts, total]
    matrix = np.zeros((len(starts), total), dtype=np.float32)
    for group, (first, last) in enumerate(itertools.pairwise(bounds)):
        matrix[group, first:last] = 1.0
    sizes = np.diff(bounds)
    common = int(sizes[0]) if (sizes == sizes[0]).all() else 0
    return matrix, sizes.astype(np.float32)[:, np.newaxis], common


def _reduce(parts: np.ndarray, membership: np.ndarray, sizes: np.ndarray, common: int,
            every: bool) -> np.ndarray:
    """Per group: is every part true (`every`), else is any part true. Groups of one common size
    (usually 2 or 3) are combined part by part; uneven groups are counted with a matrix product."""
    if common:  # strided views: part i of every group is parts[i::common]
        combine = np.logical_and if every else np.logical_or
        result = parts[0::common]
        for i in range(1, common):
            result = combine(result, parts[i::common])
        return result
    counted = membership @ parts
    return counted == sizes if every else counted > 0


def distinct(conditions: Sequence[Condition]) -> tuple[list[Condition], np.ndarray]:
    """The distinct conditions, and for each given condition the position of its twin among them
    (forms repeat one skip condition for several items: evaluate it once)."""
    unique: dict[str, int] = {}
    found: list[Condition] = []
    index = []
    for condition in conditions:
        key = repr(condition)
        if key not in unique:
            unique[key] = len(found)
            found.append(condition)
        index.append(unique[key])
    return found, np.asarray(index, dtype=np.intp)
