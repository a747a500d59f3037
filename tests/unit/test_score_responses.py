"""`score_responses` (many answer sets in one engine call) equals `score_response` row by row.

Checked on every definition of the shipped library, every version, with random valid answer
sets (missing optional items and skip conditions included, from tests/unit/scoring/strategies):
the batch path must give, in order, exactly what scoring each set on its own gives: the same
scales with the same values, statuses, counts, bands and provenance, and the same alerts.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prom.instruments import load_library, validate_answers
from prom.instruments.spec import Definition
from prom.scoring import ScoredResponse, score_response, score_responses
from tests.unit.scoring.strategies import answer_sets

LIBRARY = load_library()
DEFINITIONS = list(LIBRARY)  # every version of every instrument
IDS = [f"{d.id}-{d.version}" for d in DEFINITIONS]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_same(batch: list[ScoredResponse], single: list[ScoredResponse]) -> None:
    """Equal, and equal in the details that `==` would let pass (int vs float, key order)."""
    assert batch == single
    for row, (got, want) in enumerate(zip(batch, single, strict=True)):
        assert list(got.scores) == list(want.scores), row
        for scale, score in got.scores.items():
            expected = want.scores[scale]
            assert type(score.value) is type(expected.value), (row, scale)
            if score.value is not None:
                assert not math.isnan(score.value), (row, scale)
        assert [a.id for a in got.alerts] == [a.id for a in want.alerts], row


def valid(definition: Definition, answers: dict) -> dict:
    assert validate_answers(definition, answers) == {}, answers
    return answers


def test_the_library_is_not_empty() -> None:
    assert len(DEFINITIONS) >= 18
    assert {d.id for d in DEFINITIONS} >= {"phq9", "gad7", "nrs_pain", "promis29"}


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_a_batch_scores_like_each_row_alone(definition: Definition, data: st.DataObject) -> None:
    sets = data.draw(st.lists(answer_sets(definition), min_size=2, max_size=12), label="sets")
    sets = [valid(definition, answers) for answers in sets]

    batch = score_responses(definition, sets)

    assert len(batch) == len(sets)
    assert_same(batch, [score_response(definition, answers) for answers in sets])


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_a_batch_of_one_scores_like_the_row_alone(definition: Definition,
                                                  data: st.DataObject) -> None:
    answers = valid(definition, data.draw(answer_sets(definition), label="answers"))

    batch = score_responses(definition, [answers])

    assert len(batch) == 1
    assert_same(batch, [score_response(definition, answers)])


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_a_rows_score_does_not_depend_on_its_neighbours(definition: Definition,
                                                        data: st.DataObject) -> None:
    """The same set scored between others, alone, and with the batch reversed: one result."""
    sets = data.draw(st.lists(answer_sets(definition), min_size=1, max_size=8), label="sets")
    target = valid(definition, data.draw(answer_sets(definition), label="target"))
    sets = [valid(definition, answers) for answers in sets]
    position = data.draw(st.integers(0, len(sets)), label="position")
    batch = [*sets[:position], target, *sets[position:]]

    forward = score_responses(definition, batch)
    backward = score_responses(definition, batch[::-1])

    assert forward[position] == score_response(definition, target)
    assert backward == forward[::-1]


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
def test_an_empty_batch_scores_nothing(definition: Definition) -> None:
    assert score_responses(definition, []) == []


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_sparse_sets_between_full_ones_score_like_alone(definition: Definition,
                                                        data: st.DataObject) -> None:
    """Sets with only the required items next to sets with every shown item answered: a missing
    answer must not borrow its neighbour's value."""
    full = valid(definition, data.draw(answer_sets(definition, missing=0.0), label="full"))
    sparse = valid(definition, data.draw(answer_sets(definition, missing=1.0), label="sparse"))
    sets = [full, sparse, full, sparse]

    batch = score_responses(definition, sets)

    assert_same(batch, [score_response(definition, answers) for answers in sets])
