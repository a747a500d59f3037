"""Scoring on hostile input: whatever the validator accepts scores, within each scale's range.

Answer sets come from the same arbitrary-JSON strategy as the validator's property tests
(tests/unit/instruments/test_validation_properties.py), so most are refused; those accepted (with
and without required items enforced) must score through the compiled scorer, one at a time and as a
batch, without raising, and every score is either a finite number inside the scale's declared
`range` or None with status `insufficient`.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prom.instruments import load_library, validate_answers
from prom.scoring import STATUS_NAMES, score_response, score_responses
from tests.unit.instruments.test_validation_properties import hostile_answers
from tests.unit.scoring.strategies import answer_sets

LIBRARY = load_library()
DEFINITIONS = list(LIBRARY)
IDS = [f"{d.id}-{d.version}" for d in DEFINITIONS]
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def assert_in_range(definition, scored) -> None:
    assert set(scored.scores) == {scale.id for scale in definition.scales}
    for scale in definition.scales:
        score = scored.scores[scale.id]
        assert score.status in STATUS_NAMES, scale.id
        low, high = scale.range
        if score.value is None:
            assert score.status == "insufficient", scale.id
            assert score.band is None, scale.id
        else:
            assert score.status != "insufficient", scale.id
            assert math.isfinite(score.value), scale.id
            assert low - 1e-9 <= score.value <= high + 1e-9, (scale.id, score.value)
        assert 0 <= score.n_answered <= len(definition.items), scale.id


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_every_accepted_hostile_answer_set_scores_within_range(definition, data):
    answers = data.draw(hostile_answers(definition))
    accepted = [enforce for enforce in (True, False)
                if validate_answers(definition, answers, enforce_required=enforce) == {}]
    if not accepted:
        return
    scored = score_response(definition, answers)
    assert_in_range(definition, scored)
    assert score_responses(definition, [answers, answers]) == [scored, scored]


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_sparse_valid_answer_sets_score_within_range(definition, data):
    """Mostly missing answers (what `prom score` accepts): the floor of every scale's range."""
    answers = data.draw(answer_sets(definition, missing=0.9))
    for item in definition.items:
        if not item.required and data.draw(st.booleans()):
            answers.pop(item.id, None)
    if validate_answers(definition, answers, enforce_required=False):
        return  # dropping an item can expose a hidden one; not this test's concern
    assert_in_range(definition, score_response(definition, answers))


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
def test_an_empty_answer_set_scores_insufficient_or_within_range(definition):
    assert validate_answers(definition, {}, enforce_required=False) == {}
    assert_in_range(definition, score_response(definition, {}))
