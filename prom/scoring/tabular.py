"""Score a table of answers (one row per answer set, one column per item): `prom score`.

Cells arrive as text, as in a CSV typed up from paper forms. Each cell is parsed by its item's
response type, every row is validated with the same rules as the API, and the valid rows are scored
in one batch by the compiled scorer. pandas is fine here: this is not the request path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prom.instruments.spec import Definition, Item
from prom.instruments.validation import validate_answers
from prom.scoring import STATUS_NAMES, compiled

_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
MULTIPLE_CHOICE_SEPARATOR = ";"


@dataclass(frozen=True)
class CellError:
    row: int  # 1-based data row (the header is row 0)
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


def parse_cell(item: Item, text: str) -> Any:
    """A CSV cell → the answer value the API would receive (unparseable text passes through,
    so that validation reports it with the item's own message)."""
    text = text.strip()
    kind = item.response.type
    if kind == "integer" or (kind == "single_choice" and _integer_codes(item)):
        return int(text) if _INTEGER.match(text) else text
    if kind == "multiple_choice":
        parts = [part.strip() for part in text.split(MULTIPLE_CHOICE_SEPARATOR) if part.strip()]
        if _integer_codes(item):
            return [int(p) if _INTEGER.match(p) else p for p in parts]
        return parts
    if kind == "boolean":
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    return text


def _integer_codes(item: Item) -> bool:
    return all(isinstance(code, int) for code in item.response.codes)


def score_frame(definition: Definition, frame: pd.DataFrame,
                skip_invalid: bool = False) -> tuple[pd.DataFrame, list[CellError]]:
    """Return the frame with score columns added, and every invalid cell.

    Without `skip_invalid` any invalid cell means no scores at all (the caller reports the errors);
    with it, invalid rows get status `invalid` and empty scores.
    """
    items = [item for item in definition.items if item.id in frame.columns]
    answer_sets: list[dict[str, Any]] = []
    errors: list[CellError] = []
    invalid_rows: set[int] = set()
    for position, row in enumerate(frame[[item.id for item in items]].itertuples(index=False)):
        answers = {item.id: parse_cell(item, cell)
                   for item, cell in zip(items, row, strict=True)
                   if isinstance(cell, str) and cell.strip() != ""}
        problems = validate_answers(definition, answers, enforce_required=False)
        if problems:
            invalid_rows.add(position)
            for column, messages in problems.items():
                errors.extend(CellError(position + 1, column or "(row)", m) for m in messages)
            answers = {}
        answer_sets.append(answers)
    if errors and not skip_invalid:
        return frame, errors

    scorer = compiled(definition)
    arrays = scorer.score_matrix(scorer.layout.encode_many(answer_sets))
    out = frame.copy()
    invalid = np.zeros(len(frame), dtype=bool)
    invalid[list(invalid_rows)] = True
    for k, scale in enumerate(definition.scales):
        name = score_column(scale.id, frame.columns)
        values = np.where(invalid, np.nan, arrays.values[:, k])
        out[name] = values
        statuses = np.asarray(STATUS_NAMES, dtype=object)[arrays.status[:, k]]
        out[f"{name}_status"] = np.where(invalid, "invalid", statuses)
        if scale.bands:
            codes = np.asarray([band.code for band in scale.bands] + [""], dtype=object)
            bands = codes[arrays.band[:, k]]  # -1 picks the trailing "" (no band)
            out[f"{name}_band"] = np.where(invalid, "", bands)
    return out, errors


def score_column(scale_id: str, input_columns) -> str:
    """`<scale>`, or `<scale>_score` where an input column already has that name (eq5d5l `vas`)."""
    return f"{scale_id}_score" if scale_id in input_columns else scale_id
