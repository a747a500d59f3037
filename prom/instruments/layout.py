"""How answers become numbers: the column layout of a definition's answer matrix.

Scoring, skip conditions and alerts all work on a float matrix of shape (responses × columns), NaN
for "not answered". Each scorable single-valued item is one column; a multiple-choice item is one
0/1 column per option. Dates and free text have no column: they are stored, never scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from prom.instruments.spec import Code, Definition, Item


@dataclass(frozen=True)
class Column:
    item: str
    code: Code | None  # the option, for a multiple-choice indicator column


class AnswerLayout:
    """Column positions for one definition, and the encoder from answer dicts to rows."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        columns: list[Column] = []
        self.item_columns: dict[str, list[int]] = {}
        self.option_column: dict[tuple[str, Code], int] = {}
        # item id → (first column, how): None for a number (integer, boolean), {code: value} for
        # a single choice, or (option count, {code: column}) for a multiple choice
        self._encoder_of: dict[str, tuple[int, Any]] = {}
        for item in definition.items:
            response = item.response
            if not response.scorable:
                continue
            start = len(columns)
            if response.type == "multiple_choice":
                for option in response.options:
                    self.option_column[(item.id, option.code)] = len(columns)
                    columns.append(Column(item.id, option.code))
                positions = {option.code: start + k for k, option in enumerate(response.options)}
                self._encoder_of[item.id] = (start, (len(response.options), positions))
            else:
                columns.append(Column(item.id, None))
                if response.type == "single_choice":
                    values = {option.code: option.value for option in response.options}
                    self._encoder_of[item.id] = (start, values)
                else:  # integer, boolean: the answer is its own number
                    self._encoder_of[item.id] = (start, None)
            self.item_columns[item.id] = list(range(start, len(columns)))
        self.columns = tuple(columns)
        self.width = len(columns)

    def numeric(self, item: Item, code: Any) -> float:
        """The number a single-valued answer code becomes (for condition operands)."""
        if item.response.type == "single_choice":
            option = item.response.option(code)
            assert option is not None
            return option.value
        return float(code)

    def encode(self, answers: Mapping[str, Any]) -> np.ndarray:
        """One answer set → one row. Answers must already be valid (see validation.py).

        Filled as a Python list and converted once: cheaper than item-by-item numpy writes."""
        return np.array(self._encode_list(answers), dtype=float)

    def _encode_list(self, answers: Mapping[str, Any]) -> list[float]:
        row = [np.nan] * self.width
        encoders = self._encoder_of
        for item_id, value in answers.items():  # only what was answered: forms skip a lot
            encoder = encoders.get(item_id)
            if encoder is None or value is None:  # unscored (date, text) or unanswered
                continue
            start, how = encoder
            if how is None:
                row[start] = value
            elif type(how) is dict:
                row[start] = how[value]
            else:
                count, positions = how
                row[start:start + count] = [0.0] * count
                for code in value:
                    row[positions[code]] = 1.0
        return row

    def encode_many(self, answer_sets: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Many answer sets → one matrix, column-major (Fortran order): the compiled scorer reads
        it column by column, which is then contiguous."""
        rows = [self._encode_list(answers) for answers in answer_sets]
        return np.asfortranarray(np.array(rows, dtype=float).reshape(len(rows), self.width))


@lru_cache(maxsize=512)
def layout_for(definition: Definition) -> AnswerLayout:
    """The layout of a loaded definition, built once (definitions hash by identity)."""
    return AnswerLayout(definition)
