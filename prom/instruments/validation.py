"""Answer validation: every problem in an answer set, keyed by item id.

`validate_answers(definition, answers)` returns `{}` for a valid answer set, otherwise a map from
item id to messages (the key `""` is the answer set as a whole). The API prefixes the keys with
`answers.`; `prom score` adds row and column. Nothing here raises on bad input: arbitrary JSON gives
either no errors or a field-keyed error map.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from prom.instruments.conditions import ConditionSet, distinct
from prom.instruments.layout import layout_for
from prom.instruments.spec import Definition, Response

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_SHOWN_CODES = 12


def validate_answers(definition: Definition, answers: Any,
                     enforce_required: bool = True) -> dict[str, list[str]]:
    """Every problem in `answers`. `enforce_required=False` is for data collected elsewhere
    (`prom score`): a missing required item is then left to the scales' missing-data rules."""
    if not isinstance(answers, Mapping):
        return {"": ["must be an object mapping item ids to answers"]}
    errors: dict[str, list[str]] = {}
    valid: dict[str, Any] = {}
    items = {item.id: item for item in definition.items}
    for key, value in answers.items():
        item = items.get(key) if isinstance(key, str) else None
        if item is None:
            errors[str(key)] = ["unknown item"]
            continue
        if value is None:
            continue
        problem = check_value(item.response, value)
        if problem:
            errors[key] = [problem]
        else:
            valid[key] = value

    conditional, conditions, twin = _skip_conditions(definition)
    shown = np.ones(len(definition.items), dtype=bool)
    if conditions.size:
        column = layout_for(definition).encode(valid)[:, np.newaxis]  # column-major: 1 row
        shown[conditional] = conditions.holds(column)[twin, 0]
    for index, item in enumerate(definition.items):
        answered = answers.get(item.id) is not None
        if not shown[index] and answered and item.id not in errors:
            errors[item.id] = ["must not be answered: its skip condition hides it"]
        elif enforce_required and shown[index] and item.required and not answered:
            errors[item.id] = ["an answer is required"]
    return errors


@lru_cache(maxsize=512)
def _skip_conditions(definition: Definition) -> tuple[np.ndarray, ConditionSet, np.ndarray]:
    """Items with a skip condition, the distinct conditions, and each item's condition."""
    conditional = [i for i, item in enumerate(definition.items) if item.show_if is not None]
    unique, twin = distinct([definition.items[i].show_if for i in conditional])
    return (np.asarray(conditional, dtype=np.intp), ConditionSet(unique, layout_for(definition)),
            twin)


def check_value(response: Response, value: Any) -> str | None:
    """The problem with one non-null answer, or None when it is valid."""
    kind = response.type
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if not response.min <= value <= response.max:  # type: ignore[operator]
            return f"must be between {response.min} and {response.max}"
        return None
    if kind == "single_choice":
        if not _is_code(value) or response.option(value) is None:
            return f"must be one of {_codes(response)}"
        return None
    if kind == "multiple_choice":
        if not isinstance(value, list):
            return f"must be a list of codes from {_codes(response)}"
        if any(not _is_code(code) or response.option(code) is None for code in value):
            return f"every entry must be one of {_codes(response)}"
        if len(set(value)) != len(value):
            return "codes must not repeat"
        exclusive = [code for code in value if code in response.exclusive]
        if exclusive and len(value) > 1:
            return f"{exclusive[0]!r} cannot be combined with other answers"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return "must be a date as YYYY-MM-DD"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "is not a valid calendar date"
        return None
    if not isinstance(value, str):
        return "must be text"
    if len(value) > response.max_length:  # type: ignore[operator]
        return f"must be at most {response.max_length} characters"
    return None


def _is_code(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _codes(response: Response) -> str:
    codes = [repr(code) for code in response.codes]
    if len(codes) > _MAX_SHOWN_CODES:
        codes = [*codes[:_MAX_SHOWN_CODES], "…"]
    return "[" + ", ".join(codes) + "]"
