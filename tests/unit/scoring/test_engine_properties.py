"""Properties of the compiled scoring engine, checked on every shipped instrument.

The compiled scorer is compared with `prom.scoring.reference`, a plain per-row implementation of the
same rules that shares no code with it, on random valid answer sets (with missing items and skip
conditions). Scores must also stay within each scale's declared range, and scales must move in the
direction of their items.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prom.instruments import load_library, validate_answers
from prom.scoring import compiled, raised_alerts, score_answers
from prom.scoring.reference import plain_alerts, plain_scores
from tests.unit.scoring.strategies import answer_sets

LIBRARY = load_library()
DEFINITIONS = LIBRARY.latest()
IDS = [d.id for d in DEFINITIONS]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_compiled_scores_match_the_plain_reference(definition, data):
    answers = data.draw(answer_sets(definition))
    assert validate_answers(definition, answers) == {}
    scores = score_answers(definition, answers)
    expected = plain_scores(definition, answers)
    for scale_id, score in scores.items():
        want = expected[scale_id]
        assert score.status == want["status"], scale_id
        assert score.n_answered == want["n_answered"], scale_id
        assert score.band == want["band"], scale_id
        if want["value"] is None:
            assert score.value is None
        else:
            assert score.value == pytest.approx(want["value"], rel=1e-12, abs=1e-12), scale_id
    assert raised_alerts(definition, answers) == plain_alerts(definition, answers, expected)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_scores_stay_within_the_declared_range(definition, data):
    answers = data.draw(answer_sets(definition, missing=0.1))
    for scale_id, score in score_answers(definition, answers).items():
        if score.value is None:
            assert score.status == "insufficient"
            continue
        low, high = definition.scale(scale_id).range
        assert low - 1e-9 <= score.value <= high + 1e-9, (scale_id, score.value)
        assert not math.isnan(score.value)


def _monotone_cases():
    """(definition, scale, item, direction) for items whose effect on a scale has a known sign."""
    for definition in DEFINITIONS:
        for scale in definition.scales:
            if scale.method in ("named", "count"):
                continue
            for item_id in scale.items:
                item = definition.item(item_id)
                if item.response.type not in ("integer", "single_choice"):
                    continue
                recoded = [r for r in scale.recode if item_id in r.items]
                direction = 1
                if recoded:
                    values = [recoded[0].mapping[int(v)] for v in item.response.numeric_values()]
                    if values == sorted(values):
                        direction = 1
                    elif values == sorted(values, reverse=True):
                        direction = -1
                    else:
                        continue
                if item_id in scale.reverse:
                    direction = -direction
                yield pytest.param(definition, scale, item, direction,
                                   id=f"{definition.id}.{scale.id}.{item_id}")


@pytest.mark.parametrize(("definition", "scale", "item", "direction"), list(_monotone_cases()))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_higher_answer_moves_the_scale_in_its_direction(definition, scale, item, direction,
                                                         data):
    answers = data.draw(answer_sets(definition, missing=0.0))
    if item.id not in answers:
        return  # hidden by a skip condition in this draw
    values = sorted(item.response.numeric_values())
    codes = {item.response.option(c).value if item.response.type == "single_choice" else c: c
             for c in (item.response.codes or range(item.response.min, item.response.max + 1))}
    low, high = codes[values[0]], codes[values[-1]]
    at_low = score_answers(definition, {**answers, item.id: low})[scale.id].value
    at_high = score_answers(definition, {**answers, item.id: high})[scale.id].value
    if at_low is None or at_high is None:
        return
    assert (at_high - at_low) * direction >= -1e-12


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
def test_one_row_and_a_batch_give_the_same_scores(definition):
    """The batch path is the single path with more rows: check row by row."""
    rng = np.random.default_rng(7)
    sets = [answer_sets(definition).example() for _ in range(0)]  # hypothesis example() is slow
    scorer = compiled(definition)
    sets = []
    for _ in range(40):
        answers = {}
        for item in definition.items:
            if item.response.type == "integer":
                answers[item.id] = int(rng.integers(item.response.min, item.response.max + 1))
            elif item.response.type == "single_choice":
                answers[item.id] = item.response.codes[rng.integers(len(item.response.codes))]
        answers = {k: v for k, v in answers.items()
                   if validate_answers(definition, {k: v}).get(k) is None}
        sets.append(answers)
    sets = [a for a in sets if validate_answers(definition, a) == {}] or [{}]
    batch = scorer.score_matrix(scorer.layout.encode_many(sets))
    for row, answers in enumerate(sets):
        single = scorer.score_matrix(scorer.layout.encode(answers)[np.newaxis, :])
        np.testing.assert_array_equal(batch.values[row], single.values[0])
        np.testing.assert_array_equal(batch.status[row], single.status[0])
        np.testing.assert_array_equal(batch.band[row], single.band[0])


@pytest.mark.parametrize("definition", DEFINITIONS, ids=IDS)
def test_an_empty_answer_set_scores_nothing(definition):
    for score in score_answers(definition, {}).values():
        assert score.value is None or score.n_answered > 0 or score.status == "insufficient"


def test_scoring_version_changes_with_the_rules_and_not_otherwise(tmp_path):
    import shutil

    import yaml

    directory = tmp_path / "instruments"
    shutil.copytree(LIBRARY.directory / "tables", directory / "tables")
    source = yaml.safe_load((LIBRARY.directory / "phq9-1.yaml").read_text())
    source["title"] = {"en": "Retitled"}
    (directory / "phq9-1.yaml").write_text(yaml.safe_dump(source))
    retitled = load_library(directory).get("phq9")
    source["scales"][0]["min_answered"] = 8
    (directory / "phq9-1.yaml").write_text(yaml.safe_dump(source))
    stricter = load_library(directory).get("phq9")
    original = compiled(LIBRARY.get("phq9")).scoring_version
    assert compiled(retitled).scoring_version == original
    assert compiled(stricter).scoring_version != original
