"""Pain Disability Index (instruments/pdi-1.yaml): sum of seven 0–10 ratings, 0–70 (Pollard CA.
Percept Mot Skills 1984;59:974; Tait RC et al. Arch Phys Med Rehabil 1987;68:438–441). No worked
example or missing-data rule is published; expected values are hand-computed from the sum rule
and prom's documented proration (sum × 7 / answered, at least 5 of 7 answered).
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
PDI = LIBRARY.get("pdi")
ITEMS = ("family_home", "recreation", "social", "occupation", "sexual", "self_care", "life_support")


def answers(*values):
    return {item: value for item, value in zip(ITEMS, values, strict=True) if value is not None}


def pdi(*values):
    return score_answers(PDI, answers(*values))["pdi"]


def test_is_version_1_with_public_item_and_scale_ids():
    assert PDI.version == "1"
    assert [item.id for item in PDI.items] == list(ITEMS)
    assert [scale.id for scale in PDI.scales] == ["pdi"]
    assert PDI.domains == ("physical_function",)


def test_ships_no_item_text():
    assert PDI.license.text_included is False
    assert all(not item.text for item in PDI.items)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((0,) * 7, 0),
        ((10,) * 7, 70),
        ((1, 2, 3, 4, 5, 6, 7), 28),
        ((8, 6, 7, 9, 0, 2, 1), 33),
    ],
)
def test_score_is_the_sum_of_the_seven_ratings(values, expected):
    score = pdi(*values)
    assert score.value == pytest.approx(expected)
    assert score.status == "scored"
    assert score.n_answered == 7


def test_one_missing_rating_is_prorated_and_flagged():
    score = pdi(4, 4, 4, None, 4, 4, 4)
    assert score.value == pytest.approx(28.0)  # 24 x 7 / 6
    assert score.status == "prorated"
    assert score.n_answered == 6


def test_scores_with_five_of_seven_answered():
    score = pdi(2, 3, 5, None, None, 6, 4)
    assert score.value == pytest.approx(20 * 7 / 5)  # 28.0
    assert score.status == "prorated"
    assert score.n_answered == 5


def test_four_of_seven_answered_is_insufficient():
    score = pdi(2, 3, 5, None, None, 6, None)
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 4


def test_prorated_value_is_not_rounded():
    score = pdi(1, 0, 0, None, None, 0, 0)
    assert score.value == pytest.approx(1.4)  # 1 x 7 / 5


def test_has_no_bands():
    assert pdi(*(10,) * 7).band is None


def test_mcid_is_the_conservative_end_of_the_reported_range():
    mcid = PDI.scale("pdi").mcid
    assert mcid.absolute == 9.5
    assert "Soer" in mcid.source
    assert PDI.scale("pdi").higher_is == "worse"


def test_raises_no_alerts():
    assert raised_alerts(PDI, answers(*(10,) * 7)) == []


def test_complete_answers_are_valid():
    assert validate_answers(PDI, answers(1, 2, 3, 4, 5, 6, 7)) == {}


def test_no_item_is_required():
    # occupation and sexual behaviour are often left blank; proration handles it
    assert validate_answers(PDI, answers(1, 2, 3, None, None, 6, 7)) == {}


@pytest.mark.parametrize("value", [11, -1, 3.5])
def test_rejects_answers_outside_whole_numbers_0_to_10(value):
    assert list(validate_answers(PDI, {**answers(*(0,) * 7), "sexual": value})) == ["sexual"]
