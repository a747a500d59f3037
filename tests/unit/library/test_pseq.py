"""Pain Self-Efficacy Questionnaire (instruments/pseq-1.yaml): sum of ten 0–6 items, 0–60, higher
is better (Nicholas MK. Eur J Pain 2007;11:153–163); ePPOC bands. No worked example is published
in the sources read; values are hand-computed from the sum rule and prom's documented proration
(sum × 10 / answered with at most 2 missing).
"""

import math

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
PSEQ = LIBRARY.get("pseq")
ITEMS = tuple(f"q{n}" for n in range(1, 11))

# ePPOC, whole points: 0-19 severe, 20-30 moderate, 31-40 mild, 41-60 minimal
EPPOC = ((19, "severe"), (30, "moderate"), (40, "mild"), (60, "minimal"))


def answers_with(total, answered=10):
    """`answered` items (the first ones) whose values add up to `total`."""
    assert 0 <= total <= 6 * answered
    given, left = {}, total
    for item in ITEMS[:answered]:
        given[item] = min(6, left)
        left -= given[item]
    return given


def pseq(given):
    return score_answers(PSEQ, given)["pseq"]


def eppoc_band(value):
    whole = math.floor(value + 0.5)  # rounded half up to a whole point
    return next(code for upper, code in EPPOC if whole <= upper)


def test_is_version_1_with_public_item_and_scale_ids():
    assert PSEQ.version == "1"
    assert [item.id for item in PSEQ.items] == list(ITEMS)
    assert [scale.id for scale in PSEQ.scales] == ["pseq"]
    assert PSEQ.domains == ("pain_cognition",)


def test_ships_no_item_text():
    assert PSEQ.license.text_included is False
    assert all(not item.text for item in PSEQ.items)


@pytest.mark.parametrize(("total", "expected"), [(0, 0), (60, 60), (33, 33)])
def test_score_is_the_sum_of_the_ten_items(total, expected):
    score = pseq(answers_with(total))
    assert score.value == pytest.approx(expected)
    assert score.status == "scored"
    assert score.n_answered == 10


def test_no_item_is_reversed():
    given = dict(zip(ITEMS, (6, 5, 4, 3, 2, 1, 0, 6, 5, 4), strict=True))
    assert pseq(given).value == pytest.approx(36)


@pytest.mark.parametrize(
    ("total", "answered", "expected"),
    [
        (27, 9, 30.0),  # 27 x 10 / 9
        (24, 8, 30.0),  # 24 x 10 / 8
        (17, 9, 170 / 9),  # 18.89, not rounded
    ],
)
def test_prorates_with_up_to_two_missing(total, answered, expected):
    score = pseq(answers_with(total, answered))
    assert score.value == pytest.approx(expected)
    assert score.status == "prorated"
    assert score.n_answered == answered


def test_three_missing_is_insufficient():
    score = pseq(answers_with(30, answered=7))
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 7
    assert score.band is None


@pytest.mark.parametrize(
    ("total", "answered", "band"),
    [
        (0, 10, "severe"),
        (19, 10, "severe"),
        (17, 9, "severe"),  # 18.89
        (20, 10, "moderate"),
        (30, 10, "moderate"),
        (31, 10, "mild"),
        (28, 9, "mild"),  # 31.11
        (40, 10, "mild"),
        (41, 10, "minimal"),
        (60, 10, "minimal"),
    ],
)
def test_bands_follow_eppoc_at_their_boundaries(total, answered, band):
    assert pseq(answers_with(total, answered)).band == band


def test_every_attainable_score_lands_in_the_eppoc_integer_band():
    # prorated scores are multiples of 10/9 or 10/8; none lies strictly between 19 and 20, 30 and
    # 31 or 40 and 41, so the half-way band mins reproduce ePPOC's whole-point bands exactly
    for answered in (8, 9, 10):
        for total in range(6 * answered + 1):
            score = pseq(answers_with(total, answered))
            assert score.band == eppoc_band(score.value), (answered, total, score.value)


def test_higher_is_better_and_mcid_is_7_points_per_eppoc():
    scale = PSEQ.scale("pseq")
    assert scale.higher_is == "better"
    assert scale.mcid.absolute == 7
    assert "ePPOC" in scale.mcid.source
    # the ePPOC rule also needs a change of band; the scale says so
    assert "band" in scale.description


def test_raises_no_alerts():
    assert raised_alerts(PSEQ, answers_with(0)) == []


def test_complete_answers_are_valid():
    assert validate_answers(PSEQ, answers_with(33)) == {}


@pytest.mark.parametrize("value", [7, -1, "6"])
def test_accepts_only_codes_0_to_6(value):
    assert list(validate_answers(PSEQ, {**answers_with(33), "q10": value})) == ["q10"]
