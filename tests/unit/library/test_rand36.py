"""RAND 36-Item Health Survey 1.0: precode each item to 0–100, then average each scale's items.

Oracle: RAND's "Scoring Instructions for the 36-Item Short Form Survey" (rand.org), Table 1
(recoding) and Table 2 (scale membership), as reproduced in Top Clin Chiro 1994;1(1):51–59. The
tables are restated below independently of the definition file. RAND averages the items answered
and states no minimum; prom requires at least half of each scale's items (rounded up).
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
DEFN = LIBRARY.get("rand36")

# RAND Table 1: original response category (1…n) → recoded value.
FIVE_DOWN = {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}
THREE_UP = {1: 0, 2: 50, 3: 100}
TWO_UP = {1: 0, 2: 100}
SIX_DOWN = {1: 100, 2: 80, 3: 60, 4: 40, 5: 20, 6: 0}
SIX_UP = {1: 0, 2: 20, 3: 40, 4: 60, 5: 80, 6: 100}
FIVE_UP = {1: 0, 2: 25, 3: 50, 4: 75, 5: 100}
TABLE_1 = {
    **dict.fromkeys([1, 2, 20, 22, 34, 36], FIVE_DOWN),
    **dict.fromkeys(range(3, 13), THREE_UP),
    **dict.fromkeys(range(13, 20), TWO_UP),
    **dict.fromkeys([21, 23, 26, 27, 30], SIX_DOWN),
    **dict.fromkeys([24, 25, 28, 29, 31], SIX_UP),
    **dict.fromkeys([32, 33, 35], FIVE_UP),
}
# RAND Table 2: scale → items averaged; and prom's minimum answered (half, rounded up).
TABLE_2 = {
    "physical_functioning": list(range(3, 13)),
    "role_physical": [13, 14, 15, 16],
    "role_emotional": [17, 18, 19],
    "energy_fatigue": [23, 27, 29, 31],
    "emotional_wellbeing": [24, 25, 26, 28, 30],
    "social_functioning": [20, 32],
    "pain": [21, 22],
    "general_health": [1, 33, 34, 35, 36],
}
MIN_ANSWERED = {"physical_functioning": 5, "role_physical": 2, "role_emotional": 2,
                "energy_fatigue": 2, "emotional_wellbeing": 3, "social_functioning": 1,
                "pain": 1, "general_health": 3}

# One complete hand-scored form. Responses (item: category) and, per scale, the hand computation.
FULL_FORM = {
    1: 3, 2: 2,
    3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 2, 9: 1, 10: 2, 11: 3, 12: 3,
    13: 1, 14: 2, 15: 2, 16: 1, 17: 2, 18: 2, 19: 1,
    20: 2, 21: 4, 22: 3,
    23: 3, 24: 5, 25: 6, 26: 2, 27: 4, 28: 5, 29: 3, 30: 3, 31: 2,
    32: 3, 33: 4, 34: 2, 35: 3, 36: 3,
}
FULL_FORM_SCORES = {
    # (0 + 50 + 50 + 100 + 100 + 50 + 0 + 50 + 100 + 100) / 10
    "physical_functioning": 60.0,
    # (0 + 100 + 100 + 0) / 4
    "role_physical": 50.0,
    # (100 + 100 + 0) / 3
    "role_emotional": 200 / 3,
    # q23 3→60, q27 4→40, q29 3→40, q31 2→20: 160 / 4
    "energy_fatigue": 40.0,
    # q24 5→80, q25 6→100, q26 2→80, q28 5→80, q30 3→60: 400 / 5
    "emotional_wellbeing": 80.0,
    # q20 2→75, q32 3→50
    "social_functioning": 62.5,
    # q21 4→40, q22 3→50
    "pain": 45.0,
    # q1 3→50, q33 4→75, q34 2→75, q35 3→50, q36 3→50: 300 / 5
    "general_health": 60.0,
}


def form(responses: dict[int, int]) -> dict[str, int]:
    return {f"q{n}": code for n, code in responses.items()}


def best_or_worst(best: bool) -> dict[str, int]:
    """Every item at the category RAND recodes to 100 (best) or 0 (worst)."""
    target = 100 if best else 0
    return form({n: next(c for c, v in TABLE_1[n].items() if v == target) for n in TABLE_1})


def test_full_form_matches_hand_computed_scores_on_every_scale():
    answers = form(FULL_FORM)
    assert validate_answers(DEFN, answers) == {}
    scores = score_answers(DEFN, answers)
    assert set(scores) == set(FULL_FORM_SCORES)
    for scale, expected in FULL_FORM_SCORES.items():
        assert scores[scale].value == pytest.approx(expected), scale
        assert scores[scale].status == "scored"
        assert scores[scale].n_answered == len(TABLE_2[scale])


def test_rand_worked_example_energy_fatigue_with_item_31_blank():
    """Published example (Top Clin Chiro 1994 reproduction of RAND's rules): 23 = 4 → 40,
    27 = 3 → 60, 29 = 3 → 40, 31 left blank: (40 + 60 + 40) / 3 = 46.7."""
    score = score_answers(DEFN, form({23: 4, 27: 3, 29: 3}))["energy_fatigue"]
    assert score.value == pytest.approx(140 / 3)
    assert (score.status, score.n_answered) == ("prorated", 3)


def test_best_answers_score_100_on_every_scale():
    scores = score_answers(DEFN, best_or_worst(best=True))
    assert {scale: score.value for scale, score in scores.items()} == dict.fromkeys(TABLE_2, 100)


def test_worst_answers_score_0_on_every_scale():
    scores = score_answers(DEFN, best_or_worst(best=False))
    assert {scale: score.value for scale, score in scores.items()} == dict.fromkeys(TABLE_2, 0)


@pytest.mark.parametrize(
    ("scale", "item"), [(scale, item) for scale, items in TABLE_2.items() for item in items])
def test_each_item_is_precoded_by_rands_table_1(scale, item):
    """Vary one item over all its categories with the rest of its scale held at category 1."""
    others = {n: 1 for n in TABLE_2[scale] if n != item}
    for code, recoded in TABLE_1[item].items():
        answers = form({**others, item: code})
        expected = (sum(TABLE_1[n][1] for n in others) + recoded) / len(TABLE_2[scale])
        assert score_answers(DEFN, answers)[scale].value == pytest.approx(expected), code


def test_item_2_health_transition_is_not_scored():
    base = score_answers(DEFN, form({**FULL_FORM, 2: 1}))
    changed = score_answers(DEFN, form({**FULL_FORM, 2: 5}))
    assert {s: v.value for s, v in base.items()} == {s: v.value for s, v in changed.items()}
    assert all("q2" not in scale.items for scale in DEFN.scales)


@pytest.mark.parametrize("scale", list(TABLE_2))
def test_just_enough_answered_items_give_a_flagged_score(scale):
    kept = TABLE_2[scale][: MIN_ANSWERED[scale]]
    answers = form({n: FULL_FORM[n] for n in kept})
    score = score_answers(DEFN, answers)[scale]
    expected = sum(TABLE_1[n][FULL_FORM[n]] for n in kept) / len(kept)
    assert score.value == pytest.approx(expected)
    assert score.n_answered == len(kept)
    assert score.status == "prorated"  # fewer than all items: flagged


@pytest.mark.parametrize("scale", list(TABLE_2))
def test_one_fewer_answered_item_is_insufficient(scale):
    kept = TABLE_2[scale][: MIN_ANSWERED[scale] - 1]
    score = score_answers(DEFN, form({n: FULL_FORM[n] for n in kept}))[scale]
    assert (score.value, score.status, score.band) == (None, "insufficient", None)
    assert score.n_answered == len(kept)


def test_scales_are_0_to_100_and_higher_is_better():
    for scale in DEFN.scales:
        assert scale.range == (0, 100)
        assert scale.higher_is == "better"


def test_no_alerts_are_defined_or_raised():
    assert raised_alerts(DEFN, best_or_worst(best=False)) == []


@pytest.mark.parametrize(("item", "bad"), [("q1", 6), ("q3", 4), ("q13", 3), ("q21", 7),
                                           ("q32", 6), ("q36", 0)])
def test_categories_beyond_each_items_options_are_rejected(item, bad):
    assert item in validate_answers(DEFN, {**form(FULL_FORM), item: bad})


def test_every_item_is_required():
    answers = form(FULL_FORM)
    del answers["q17"]
    assert validate_answers(DEFN, answers) == {"q17": ["an answer is required"]}


def test_credit_line_is_carried_in_the_attribution():
    assert "developed at RAND as part of the Medical Outcomes Study" in DEFN.license.attribution
    assert DEFN.license.text_included is True
