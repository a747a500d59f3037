"""PHQ-9: sum of nine 0–3 items, 0–27 (Kroenke, Spitzer & Williams, J Gen Intern Med
2001;16:606–613).

Severity bands and their cut points (5, 10, 15, 20) are Kroenke 2001's. No worked example with
missing items is published; proration (sum × 9 / answered, at most two missing) is prom's stated
rule, flagged by status `prorated`. Item 10 (difficulty) is not scored (Kroenke 2001).
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

DEFN = load_library().get("phq9")
ITEMS = [f"phq9_{n}" for n in range(1, 10)]


def answers_summing_to(total: int, self_harm: int = 0) -> dict[str, int]:
    """Nine answers adding up to `total`, with item 9 fixed to `self_harm`."""
    answers, left = {"phq9_9": self_harm}, total - self_harm
    for item in ITEMS[:-1]:
        answers[item] = min(3, left)
        left -= answers[item]
    assert left == 0
    return answers


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"), (24, "severe"),
])
def test_sum_and_kroenke_bands_at_each_cut_point(total, band):
    score = score_answers(DEFN, answers_summing_to(total))["phq9"]
    assert score.value == total
    assert score.band == band
    assert score.status == "scored"
    assert score.n_answered == 9


def test_every_item_nearly_every_day_is_the_maximum_27():
    score = score_answers(DEFN, dict.fromkeys(ITEMS, 3))["phq9"]
    assert (score.value, score.band) == (27, "severe")


def test_two_missing_items_are_prorated():
    answers = dict.fromkeys(ITEMS[:7], 2)  # 14 over 7 answered → 14 × 9 / 7 = 18
    score = score_answers(DEFN, answers)["phq9"]
    assert score.value == pytest.approx(18.0)
    assert score.status == "prorated"
    assert score.n_answered == 7
    assert score.band == "moderately_severe"


def test_three_missing_items_are_insufficient():
    score = score_answers(DEFN, dict.fromkeys(ITEMS[:6], 2))["phq9"]
    assert score.value is None
    assert score.status == "insufficient"
    assert score.band is None


def test_the_difficulty_item_is_not_scored():
    answers = answers_summing_to(12)
    with_difficulty = score_answers(DEFN, {**answers, "difficulty": 3})["phq9"]
    assert with_difficulty.value == score_answers(DEFN, answers)["phq9"].value == 12


def test_difficulty_is_asked_only_when_a_problem_was_reported():
    none = dict.fromkeys(ITEMS, 0)
    assert validate_answers(DEFN, {**none, "difficulty": 1}) == {
        "difficulty": ["must not be answered: its skip condition hides it"]}
    assert validate_answers(DEFN, {**none, "phq9_4": 1, "difficulty": 1}) == {}


@pytest.mark.parametrize(("self_harm", "raised"), [(0, False), (1, True), (3, True)])
def test_any_answer_above_not_at_all_on_item_9_raises_the_critical_alert(self_harm, raised):
    alerts = raised_alerts(DEFN, answers_summing_to(self_harm + 2, self_harm=self_harm))
    assert ("self_harm_thoughts" in alerts) is raised
    alert = next(a for a in DEFN.alerts if a.id == "self_harm_thoughts")
    assert alert.severity == "critical"


def test_self_harm_alert_does_not_depend_on_the_total_being_scorable():
    # only item 9 answered: the total is insufficient, the safety alert still fires
    assert raised_alerts(DEFN, {"phq9_9": 2}) == ["self_harm_thoughts"]


@pytest.mark.parametrize(("total", "raised"), [(19, False), (20, True), (24, True)])
def test_severe_total_alert_from_20(total, raised):
    assert ("severe_depression" in raised_alerts(DEFN, answers_summing_to(total))) is raised


def test_all_nine_items_are_required_when_collected():
    errors = validate_answers(DEFN, dict.fromkeys(ITEMS[:8], 1))
    assert errors == {"phq9_9": ["an answer is required"]}


def test_mcid_is_five_points():
    assert DEFN.scale("phq9").mcid.absolute == 5
