"""PHQ-4: four 0–3 items; anxiety = items 1–2 (GAD-2), depression = items 3–4 (PHQ-2).

Rules from Kroenke, Spitzer, Williams & Löwe, Psychosomatics 2009 (as reproduced by the NINDS
Common Data Elements): total 0–12 banded 0–2 normal, 3–5 mild, 6–8 moderate, 9–12 severe; each
subscale 0–6, positive screen at 3 or more. No worked example is published: the cases are
hand-computed from these rules. Every item is required for every scale (prom's judgement).
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
DEFN = LIBRARY.get("phq4")


def answers(a1: int, a2: int, d1: int, d2: int) -> dict[str, int]:
    return {"phq4_1": a1, "phq4_2": a2, "phq4_3": d1, "phq4_4": d2}


def values(scores) -> dict[str, float | None]:
    return {scale: score.value for scale, score in scores.items()}


def test_total_and_subscales_are_sums_of_their_items():
    scores = score_answers(DEFN, answers(2, 1, 0, 3))
    assert values(scores) == {"phq4": 6, "anxiety": 3, "depression": 3}
    assert all(score.status == "scored" for score in scores.values())


def test_anxiety_uses_items_1_and_2_only():
    scores = score_answers(DEFN, answers(3, 3, 0, 0))
    assert values(scores) == {"phq4": 6, "anxiety": 6, "depression": 0}


def test_depression_uses_items_3_and_4_only():
    scores = score_answers(DEFN, answers(0, 0, 3, 3))
    assert values(scores) == {"phq4": 6, "anxiety": 0, "depression": 6}


@pytest.mark.parametrize(
    ("items", "total", "band"),
    [((0, 0, 0, 0), 0, "normal"), ((1, 1, 0, 0), 2, "normal"), ((1, 1, 1, 0), 3, "mild"),
     ((2, 1, 1, 1), 5, "mild"), ((2, 2, 1, 1), 6, "moderate"), ((2, 2, 2, 2), 8, "moderate"),
     ((3, 2, 2, 2), 9, "severe"), ((3, 3, 3, 3), 12, "severe")],
)
def test_total_bands_change_at_3_6_and_9(items, total, band):
    score = score_answers(DEFN, answers(*items))["phq4"]
    assert (score.value, score.band) == (total, band)


@pytest.mark.parametrize(
    ("pair", "band"),
    [((0, 0), "negative"), ((1, 1), "negative"), ((2, 0), "negative"), ((2, 1), "positive"),
     ((0, 3), "positive"), ((3, 3), "positive")],
)
def test_each_subscale_screens_positive_at_3(pair, band):
    scores = score_answers(DEFN, answers(*pair, *pair))
    assert scores["anxiety"].band == band
    assert scores["depression"].band == band


def test_one_missing_anxiety_item_leaves_total_and_anxiety_insufficient():
    scores = score_answers(DEFN, {"phq4_1": 3, "phq4_3": 2, "phq4_4": 2})
    assert (scores["phq4"].value, scores["phq4"].status) == (None, "insufficient")
    assert (scores["anxiety"].value, scores["anxiety"].status) == (None, "insufficient")
    assert (scores["depression"].value, scores["depression"].status) == (4, "scored")


def test_one_missing_depression_item_leaves_depression_insufficient():
    scores = score_answers(DEFN, {"phq4_1": 1, "phq4_2": 2, "phq4_4": 3})
    assert scores["phq4"].status == "insufficient"
    assert scores["depression"].status == "insufficient"
    assert (scores["anxiety"].value, scores["anxiety"].band) == (3, "positive")


def test_no_alerts_below_every_threshold():
    assert raised_alerts(DEFN, answers(1, 1, 1, 1)) == []


def test_anxiety_screen_alert_at_3():
    assert raised_alerts(DEFN, answers(2, 1, 1, 0)) == ["anxiety_screen_positive"]


def test_depression_screen_alert_at_3():
    assert raised_alerts(DEFN, answers(1, 0, 1, 2)) == ["depression_screen_positive"]


def test_severe_distress_alert_at_9_with_both_screens():
    assert raised_alerts(DEFN, answers(3, 2, 2, 2)) == [
        "anxiety_screen_positive", "depression_screen_positive", "severe_distress"]


def test_no_severe_distress_alert_at_8():
    assert "severe_distress" not in raised_alerts(DEFN, answers(2, 2, 2, 2))


def test_every_item_is_required():
    assert validate_answers(DEFN, {"phq4_1": 0, "phq4_2": 0, "phq4_3": 0}) == {
        "phq4_4": ["an answer is required"]}


@pytest.mark.parametrize("bad", [4, -1, "0", None])
def test_answers_outside_0_to_3_are_rejected_or_missing(bad):
    result = validate_answers(DEFN, {**answers(0, 0, 0, 0), "phq4_2": bad})
    assert "phq4_2" in result
