"""NEQ-20: per effect occurred (0/1), impact 0–4 and cause (treatment/other), shown if occurred.

Scoring from neqscale.com ("Download & Scoring"): the number of effects that occurred, split by
attribution to the treatment; prom sums the impact ratings (0–80) where neqscale reports their mean.
No published worked example: the cases are hand-computed from these rules.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
DEFN = LIBRARY.get("neq")
EFFECTS = range(1, 21)


def none_occurred() -> dict[str, object]:
    return {f"q{n}_occurred": 0 for n in EFFECTS}


def with_effects(*effects: tuple[int, int, str]) -> dict[str, object]:
    """No effects except the given (number, impact, cause) ones."""
    answers = none_occurred()
    for n, impact, cause in effects:
        answers.update({f"q{n}_occurred": 1, f"q{n}_impact": impact, f"q{n}_cause": cause})
    return answers


def summary(answers) -> dict[str, tuple]:
    return {scale: (score.value, score.status) for scale, score in
            score_answers(DEFN, answers).items()}


def test_definition_has_sixty_items_in_effect_order():
    ids = [item.id for item in DEFN.items]
    assert len(ids) == 60
    assert ids[:3] == ["q1_occurred", "q1_impact", "q1_cause"]
    assert ids[-1] == "q20_cause"


def test_no_item_text_is_shipped():
    assert DEFN.license.text_included is False
    assert all(not item.text for item in DEFN.items)


def test_no_effects_scores_zero_on_every_scale():
    answers = none_occurred()
    assert validate_answers(DEFN, answers) == {}
    assert summary(answers) == {"n_effects": (0, "scored"), "impact": (0, "scored"),
                                "n_treatment_related": (0, "scored")}


def test_hidden_impact_and_cause_count_as_answered_zeros():
    scores = score_answers(DEFN, none_occurred())
    assert scores["impact"].n_answered == 20
    assert scores["n_treatment_related"].n_answered == 20


def test_a_mix_of_effects_is_counted_summed_and_split_by_cause():
    # effects 3 (impact 4, treatment), 7 (2, other), 12 (1, treatment), 20 (0, other):
    # n = 4; impact = 4 + 2 + 1 + 0 = 7; treatment-related = 2 (hand-computed)
    answers = with_effects((3, 4, "treatment"), (7, 2, "other"), (12, 1, "treatment"),
                           (20, 0, "other"))
    assert validate_answers(DEFN, answers) == {}
    assert summary(answers) == {"n_effects": (4, "scored"), "impact": (7, "scored"),
                                "n_treatment_related": (2, "scored")}


def test_every_effect_at_maximum_scores_20_80_20():
    answers = with_effects(*[(n, 4, "treatment") for n in EFFECTS])
    assert summary(answers) == {"n_effects": (20, "scored"), "impact": (80, "scored"),
                                "n_treatment_related": (20, "scored")}


def test_effect_attributed_to_other_circumstances_is_not_treatment_related():
    scores = score_answers(DEFN, with_effects((5, 3, "other")))
    assert scores["n_effects"].value == 1
    assert scores["n_treatment_related"].value == 0


def test_impact_zero_on_an_occurred_effect_still_counts_as_an_effect():
    scores = score_answers(DEFN, with_effects((9, 0, "treatment")))
    assert (scores["n_effects"].value, scores["impact"].value) == (1, 0)
    assert scores["n_treatment_related"].value == 1


def test_answering_impact_when_the_effect_did_not_occur_is_an_error():
    answers = {**none_occurred(), "q4_impact": 2}
    assert validate_answers(DEFN, answers) == {
        "q4_impact": ["must not be answered: its skip condition hides it"]}


def test_answering_cause_when_the_effect_did_not_occur_is_an_error():
    answers = {**none_occurred(), "q4_cause": "treatment"}
    assert "q4_cause" in validate_answers(DEFN, answers)


def test_impact_and_cause_are_required_when_the_effect_occurred():
    answers = {**none_occurred(), "q6_occurred": 1}
    assert validate_answers(DEFN, answers) == {"q6_impact": ["an answer is required"],
                                               "q6_cause": ["an answer is required"]}


def test_occurred_is_required_for_every_effect():
    answers = none_occurred()
    del answers["q15_occurred"]
    assert validate_answers(DEFN, answers) == {"q15_occurred": ["an answer is required"]}


@pytest.mark.parametrize(("item", "bad"), [("q1_impact", 5), ("q1_impact", -1),
                                           ("q1_cause", "me"), ("q1_occurred", 2)])
def test_out_of_range_answers_are_rejected(item, bad):
    answers = {**with_effects((1, 1, "other")), item: bad}
    assert item in validate_answers(DEFN, answers)


def test_occurred_effect_without_impact_makes_impact_insufficient():
    answers = {**none_occurred(), "q2_occurred": 1, "q2_cause": "treatment"}
    scores = score_answers(DEFN, answers)
    assert (scores["impact"].value, scores["impact"].status) == (None, "insufficient")
    assert scores["impact"].n_answered == 19
    assert scores["n_effects"].value == 1
    assert scores["n_treatment_related"].value == 1


def test_occurred_effect_without_cause_makes_treatment_count_insufficient():
    answers = {**none_occurred(), "q2_occurred": 1, "q2_impact": 3}
    scores = score_answers(DEFN, answers)
    assert scores["n_treatment_related"].status == "insufficient"
    assert scores["impact"].value == 3


def test_unanswered_occurred_leaves_its_effect_unknown_not_zero():
    answers = none_occurred()
    del answers["q8_occurred"]
    scores = score_answers(DEFN, answers)
    assert {scale: score.status for scale, score in scores.items()} == {
        "n_effects": "insufficient", "impact": "insufficient",
        "n_treatment_related": "insufficient"}


@pytest.mark.parametrize("impact", [3, 4])
def test_treatment_effect_with_impact_3_or_more_raises_its_alert(impact):
    assert raised_alerts(DEFN, with_effects((11, impact, "treatment"))) == ["q11_treatment_impact"]


def test_treatment_effect_with_impact_2_raises_no_alert():
    assert raised_alerts(DEFN, with_effects((11, 2, "treatment"))) == []


def test_high_impact_effect_caused_by_other_circumstances_raises_no_alert():
    assert raised_alerts(DEFN, with_effects((11, 4, "other"))) == []


def test_no_effects_raise_no_alert():
    assert raised_alerts(DEFN, none_occurred()) == []


def test_each_qualifying_effect_raises_its_own_alert_in_order():
    answers = with_effects((20, 4, "treatment"), (1, 3, "treatment"), (5, 4, "other"))
    assert raised_alerts(DEFN, answers) == ["q1_treatment_impact", "q20_treatment_impact"]
