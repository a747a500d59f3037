"""The answer validator on hostile input: arbitrary JSON never raises.

For every definition of the shipped library (every version), answer sets are drawn from arbitrary
JSON — None, booleans, huge integers, NaN and infinities, odd unicode, nested lists and objects —
keyed by real item ids and by random keys, mixed with valid values so that some sets pass.
`validate_answers` must return either `{}` or a map from item id (or `""`, the answer set as a
whole) to non-empty messages; it must never raise. Whether valid answers then score is checked in
tests/unit/scoring/test_scoring_properties.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prom.instruments import load_library, validate_answers
from prom.instruments.spec import Definition
from tests.unit.scoring.strategies import response_values

LIBRARY = load_library()
DEFINITIONS = list(LIBRARY)
IDS = [f"{d.id}-{d.version}" for d in DEFINITIONS]
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ODD_TEXT = st.sampled_from([
    "", " ", "\x00", "\n", "2024-02-30", "2024-02-29\n", "٢٠٢٤-٠١-٠١", "２０２４-０１-０１",
    "\u202e", "\ud800", "\U0001f600" * 3, "NaN", "Infinity", "1e309", "-0", "0x10", "true",
    "null", "é" * 5000,
])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**100, -(10**100)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    ODD_TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=12,
)


@st.composite
def hostile_answers(draw: st.DrawFn, definition: Definition) -> Any:
    """Mostly an object keyed by real item ids, each answer missing, null, valid or hostile."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)  # not necessarily an object at all
    # a third of the sets have no hostile value at all, so that enough of them pass to be scored
    kinds = ["missing", "null", "valid", "valid"] + ["hostile"] * draw(st.sampled_from([0, 1, 1]))
    answers: dict[Any, Any] = {}
    for item in definition.items:
        kind = draw(st.sampled_from(kinds))
        if kind == "null":
            answers[item.id] = None
        elif kind == "valid":
            answers[item.id] = draw(response_values(item.response))
        elif kind == "hostile":
            answers[item.id] = draw(JSON)
    if "hostile" in kinds:
        answers.update(draw(st.dictionaries(st.text(max_size=12), JSON, max_size=3)))
    return answers


def assert_field_keyed(errors: Any, answers: Any, definition: Definition) -> None:
    assert isinstance(errors, dict)
    for key, messages in errors.items():
        assert isinstance(key, str)
        if key:
            assert definition.has_item(key) or (isinstance(answers, dict) and key in answers)
        assert isinstance(messages, list)
        assert messages
        assert all(isinstance(message, str) and message for message in messages)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_arbitrary_json_gives_field_keyed_errors_or_none(definition, data):
    answers = data.draw(hostile_answers(definition))
    for enforce_required in (True, False):
        errors = validate_answers(definition, answers, enforce_required=enforce_required)
        assert_field_keyed(errors, answers, definition)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(value=JSON)
def test_any_json_value_for_any_item_is_judged_without_raising(definition, value):
    for item in definition.items:
        errors = validate_answers(definition, {item.id: value}, enforce_required=False)
        assert_field_keyed(errors, {item.id: value}, definition)


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), -float("inf"), 1.0, 10**100, -(10**100), True, "1", [1], {"a": 1},
])
def test_non_integers_and_out_of_range_integers_are_refused(value):
    definition = next(d for d in DEFINITIONS if d.id == "nrs_pain")
    item = next(item for item in definition.items if item.response.type == "integer")
    errors = validate_answers(definition, {item.id: value}, enforce_required=False)
    assert list(errors) == [item.id]


@pytest.mark.parametrize("value", [
    "2024-02-30", "2024-02-29\n", "٢٠٢٤-٠١-٠١", "２０２４-０１-０１", "20240101", "2024-1-1",
    20240101,
])
def test_malformed_dates_are_refused(value):
    definition, item = next((d, item) for d in DEFINITIONS for item in d.items
                            if item.response.type == "date")
    errors = validate_answers(definition, {item.id: value}, enforce_required=False)
    assert list(errors) == [item.id]
