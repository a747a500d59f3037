"""GAD-7: sum of seven 0–3 items, 0–21, bands at 5/10/15 (Spitzer et al., Arch Intern Med 2006).

No published worked example exists; the cases below are hand-computed from the published rule
(sum of the items). The missing-data rule (prorate with at most two missing) is prom's, mirroring
the PHQ-9 definition.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
DEFN = LIBRARY.get("gad7")
ITEMS = [f"gad7_{n}" for n in range(1, 8)]


def answers_summing_to(total: int) -> dict[str, int]:
    """Seven answers (each 0–3) that add up to `total`, filled from item 1."""
    answers = {}
    for item in ITEMS:
        answers[item] = min(3, total)
        total -= answers[item]
    assert total == 0
    return answers


def test_all_items_not_at_all_scores_zero_minimal():
    score = score_answers(DEFN, dict.fromkeys(ITEMS, 0))["gad7"]
    assert (score.value, score.status, score.band, score.n_answered) == (0, "scored", "minimal", 7)


def test_all_items_nearly_every_day_scores_21_severe():
    score = score_answers(DEFN, dict.fromkeys(ITEMS, 3))["gad7"]
    assert (score.value, score.band) == (21, "severe")


def test_total_is_the_plain_sum_of_the_items():
    answers = {"gad7_1": 2, "gad7_2": 1, "gad7_3": 3, "gad7_4": 0, "gad7_5": 1, "gad7_6": 2,
               "gad7_7": 0}
    assert score_answers(DEFN, answers)["gad7"].value == 9


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)
def test_bands_change_at_5_10_and_15(total, band):
    score = score_answers(DEFN, answers_summing_to(total))["gad7"]
    assert (score.value, score.band) == (total, band)


def test_one_missing_item_is_prorated_and_flagged():
    answers = {"gad7_1": 2, "gad7_2": 2, "gad7_3": 2, "gad7_4": 1, "gad7_5": 1, "gad7_6": 1}
    score = score_answers(DEFN, answers)["gad7"]
    # 9 * 7 / 6 = 10.5 (hand-computed), moderate band
    assert score.value == pytest.approx(10.5)
    assert (score.status, score.n_answered, score.band) == ("prorated", 6, "moderate")


def test_two_missing_items_still_prorated():
    answers = {"gad7_1": 3, "gad7_2": 2, "gad7_3": 1, "gad7_4": 0, "gad7_5": 2}
    score = score_answers(DEFN, answers)["gad7"]
    assert score.value == pytest.approx(8 * 7 / 5)
    assert (score.status, score.n_answered) == ("prorated", 5)


def test_three_missing_items_is_insufficient():
    answers = {"gad7_1": 3, "gad7_2": 2, "gad7_3": 1, "gad7_4": 0}
    score = score_answers(DEFN, answers)["gad7"]
    assert (score.value, score.status, score.band, score.n_answered) == (
        None, "insufficient", None, 4)


def test_severe_anxiety_alert_raised_at_15():
    assert raised_alerts(DEFN, answers_summing_to(15)) == ["severe_anxiety"]


def test_severe_anxiety_alert_not_raised_at_14():
    assert raised_alerts(DEFN, answers_summing_to(14)) == []


def test_severe_anxiety_alert_uses_the_prorated_score():
    # 13 from six items → 13 * 7 / 6 = 15.17: severe
    answers = {"gad7_1": 3, "gad7_2": 3, "gad7_3": 3, "gad7_4": 2, "gad7_5": 1, "gad7_6": 1}
    assert raised_alerts(DEFN, answers) == ["severe_anxiety"]


def test_difficulty_is_not_scored():
    base = answers_summing_to(6)
    with_difficulty = {**base, "difficulty": 3}
    assert validate_answers(DEFN, with_difficulty) == {}
    assert score_answers(DEFN, with_difficulty)["gad7"].value == 6


def test_difficulty_is_hidden_when_no_problem_was_reported():
    answers = {**dict.fromkeys(ITEMS, 0), "difficulty": 0}
    assert "difficulty" in validate_answers(DEFN, answers)


def test_every_symptom_item_is_required():
    answers = answers_summing_to(3)
    del answers["gad7_4"]
    assert validate_answers(DEFN, answers) == {"gad7_4": ["an answer is required"]}


@pytest.mark.parametrize("bad", [4, -1, "1", True])
def test_answers_outside_0_to_3_are_rejected(bad):
    answers = {**dict.fromkeys(ITEMS, 0), "gad7_1": bad}
    assert "gad7_1" in validate_answers(DEFN, answers)


def test_mcid_is_four_points():
    assert DEFN.scale("gad7").mcid.absolute == 4
