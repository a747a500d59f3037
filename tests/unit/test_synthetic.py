"""Synthetic answers are valid for every shipped instrument, follow severity, and repeat by seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prom.instruments import load_library, validate_answers
from prom.scoring import score_responses
from prom.synthetic import (
    adverse_event_answers,
    answers_at,
    neq_answers,
    pgic_severity,
)

LIBRARY = load_library()
DEFINITIONS = list(LIBRARY)
ON = dt.date(2025, 3, 30)  # a day the clocks change in Europe/London: dates must not care
SERIOUSNESS = ["death", "life_threatening", "hospitalisation", "disability",
               "congenital_anomaly", "medically_important"]


@settings(max_examples=300, deadline=None)
@given(definition=st.sampled_from(DEFINITIONS), severity=st.floats(0, 1),
       seed=st.integers(0, 2**32 - 1), noise=st.sampled_from([0.0, 0.08, 0.3]))
def test_every_answer_set_is_valid(definition, severity, seed, noise):
    answers = answers_at(definition, severity, np.random.default_rng(seed), noise=noise, on=ON)
    assert validate_answers(definition, answers) == {}


@settings(max_examples=200, deadline=None)
@given(occurred=st.booleans(), severity=st.sampled_from(["mild", "moderate", "severe"]),
       serious=st.lists(st.sampled_from(SERIOUSNESS), unique=True, max_size=3),
       seed=st.integers(0, 2**32 - 1))
def test_every_adverse_event_report_is_valid(occurred, severity, serious, seed):
    answers = adverse_event_answers(np.random.default_rng(seed), occurred, severity, serious,
                                    on=ON)
    assert validate_answers(LIBRARY.get("adverse_event"), answers) == {}
    assert answers["occurred"] is occurred


@settings(max_examples=100, deadline=None)
@given(expected=st.floats(0, 25), seed=st.integers(0, 2**32 - 1))
def test_every_neq_answer_set_is_valid(expected, seed):
    assert validate_answers(LIBRARY.get("neq"),
                            neq_answers(np.random.default_rng(seed), expected)) == {}


def _mean_main_scale(definition, severity: float, draws: int = 200) -> float:
    rng = np.random.default_rng(20240601)
    answer_sets = [answers_at(definition, severity, rng, on=ON) for _ in range(draws)]
    main = definition.scales[0].id
    values = [scored.scores[main].value for scored in score_responses(definition, answer_sets)]
    return float(np.mean([v for v in values if v is not None]))


@pytest.mark.parametrize("definition", [d for d in DEFINITIONS if d.scales],
                         ids=lambda d: d.id)
def test_the_main_scale_gets_worse_with_severity(definition):
    mild, severe = _mean_main_scale(definition, 0.2), _mean_main_scale(definition, 0.8)
    if definition.scales[0].higher_is == "worse":
        assert severe > mild
    else:
        assert severe < mild


def test_answers_repeat_for_a_seed_and_differ_between_seeds():
    phq9 = LIBRARY.get("phq9")
    first = [answers_at(phq9, 0.5, np.random.default_rng(7), on=ON) for _ in range(2)]
    other = answers_at(phq9, 0.5, np.random.default_rng(8), on=ON)
    assert first[0] == first[1]
    assert other != first[0]


def test_answers_are_plain_json_values():
    for definition in DEFINITIONS:
        answers = answers_at(definition, 0.6, np.random.default_rng(3), on=ON)
        for value in answers.values():
            assert type(value) in (int, str, bool, list)


def test_items_of_one_answer_set_vary():
    answers = answers_at(LIBRARY.get("bpi_sf"), 0.5, np.random.default_rng(11), on=ON)
    assert len(set(answers.values())) > 1


def test_a_0_to_100_scale_is_answered_with_the_direction_of_its_scale():
    eq5d = LIBRARY.get("eq5d5l")
    rng = np.random.default_rng(5)
    healthy = [answers_at(eq5d, 0.1, rng, on=ON)["vas"] for _ in range(50)]
    unwell = [answers_at(eq5d, 0.9, rng, on=ON)["vas"] for _ in range(50)]
    assert np.mean(healthy) > 75 > 25 > np.mean(unwell)


def test_nothing_happened_is_a_one_item_report():
    assert adverse_event_answers(np.random.default_rng(1), False) == {"occurred": False}


def test_a_serious_event_names_its_criteria_and_scores_serious():
    answers = adverse_event_answers(np.random.default_rng(1), True, "severe",
                                    ["hospitalisation"], on=ON)
    assert answers["seriousness"] == ["hospitalisation"]
    [scored] = score_responses(LIBRARY.get("adverse_event"), [answers])
    assert scored.scores["serious"].value == 1
    assert {alert.id for alert in scored.alerts} == {"serious_event", "severe_event"}
    assert answers.get("onset_date", "") < ON.isoformat()


def test_an_event_without_criteria_is_not_serious():
    answers = adverse_event_answers(np.random.default_rng(1), True, "moderate", on=ON)
    assert answers["seriousness"] == ["none"]


def test_pgic_follows_improvement():
    pgic = LIBRARY.get("pgic")

    def mean_code(improvement: float) -> float:
        rng = np.random.default_rng(2)
        return float(np.mean([answers_at(pgic, pgic_severity(improvement), rng)["change"]
                              for _ in range(200)]))

    assert mean_code(0.35) < 2.6  # about "much improved"
    assert 3.5 < mean_code(0.0) < 4.5  # about "no change"
    assert mean_code(0.35) < mean_code(0.2) < mean_code(0.08) < mean_code(-0.15)


def test_severity_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="severity"):
        answers_at(LIBRARY.get("peg"), 1.5, np.random.default_rng(1))
