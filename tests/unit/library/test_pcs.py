"""Pain Catastrophizing Scale (instruments/pcs-1.yaml): total 0–52 and subscales rumination (items
8–11), magnification (6, 7, 13) and helplessness (1–5, 12) (Sullivan MJL et al. Psychol Assess
1995;7:524–532; PCS User Manual 2009). No worked example is published in the sources read; the
cases are hand-computed from those rules and prom's documented proration (at most one item missing
per subscale, and at most one in the total).
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
PCS = LIBRARY.get("pcs")
ITEMS = tuple(f"q{n}" for n in range(1, 14))
SUBSCALE_OF = {
    **{f"q{n}": "helplessness" for n in (1, 2, 3, 4, 5, 12)},
    **{f"q{n}": "magnification" for n in (6, 7, 13)},
    **{f"q{n}": "rumination" for n in (8, 9, 10, 11)},
}
SUBSCALES = ("rumination", "magnification", "helplessness")
# q1..q13; hand-computed: rumination 2+1+0+4 = 7, magnification 4+3+2 = 9,
# helplessness 4+3+2+1+0+3 = 13, total 29
EXAMPLE = dict(zip(ITEMS, (4, 3, 2, 1, 0, 4, 3, 2, 1, 0, 4, 3, 2), strict=True))


def scores(given):
    return score_answers(PCS, given)


def without(*items, base=None):
    given = dict(EXAMPLE if base is None else base)
    for item in items:
        del given[item]
    return given


def test_is_version_1_with_public_item_and_scale_ids():
    assert PCS.version == "1"
    assert [item.id for item in PCS.items] == list(ITEMS)
    assert [scale.id for scale in PCS.scales] == ["pcs", *SUBSCALES]
    assert PCS.domains == ("pain_cognition",)


def test_ships_no_item_text():
    assert PCS.license.text_included is False
    assert all(not item.text for item in PCS.items)


def test_total_and_subscales_of_a_complete_form():
    result = scores(EXAMPLE)
    assert result["pcs"].value == pytest.approx(29)
    assert result["rumination"].value == pytest.approx(7)
    assert result["magnification"].value == pytest.approx(9)
    assert result["helplessness"].value == pytest.approx(13)
    assert all(result[s].status == "scored" for s in ("pcs", *SUBSCALES))


@pytest.mark.parametrize("item", ITEMS)
def test_each_item_belongs_to_exactly_one_subscale(item):
    given = {other: 0 for other in ITEMS}
    given[item] = 4
    result = scores(given)
    assert result["pcs"].value == pytest.approx(4)
    for subscale in SUBSCALES:
        expected = 4 if SUBSCALE_OF[item] == subscale else 0
        assert result[subscale].value == pytest.approx(expected), subscale


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, {"pcs": 0, "rumination": 0, "magnification": 0, "helplessness": 0}),
        (4, {"pcs": 52, "rumination": 16, "magnification": 12, "helplessness": 24}),
    ],
)
def test_no_item_is_reversed(value, expected):
    result = scores({item: value for item in ITEMS})
    assert {scale: result[scale].value for scale in expected} == pytest.approx(expected)


def test_one_missing_item_prorates_its_subscale_and_the_total():
    result = scores(without("q8"))  # q8 = 2, rumination
    assert result["rumination"].value == pytest.approx(5 * 4 / 3)
    assert result["rumination"].status == "prorated"
    assert result["pcs"].value == pytest.approx(27 * 13 / 12)
    assert result["pcs"].status == "prorated"
    assert result["pcs"].n_answered == 12
    assert result["magnification"].status == "scored"
    assert result["helplessness"].status == "scored"


@pytest.mark.parametrize(
    ("missing", "subscale", "expected"),
    [
        ("q6", "magnification", 5 * 3 / 2),  # 3 + 2 answered, x 3 / 2
        ("q12", "helplessness", 10 * 6 / 5),  # 4+3+2+1+0 answered, x 6 / 5
    ],
)
def test_other_subscales_prorate_with_one_missing(missing, subscale, expected):
    score = scores(without(missing))[subscale]
    assert score.value == pytest.approx(expected)
    assert score.status == "prorated"


@pytest.mark.parametrize(
    ("missing", "subscale"),
    [
        (("q8", "q9"), "rumination"),
        (("q6", "q13"), "magnification"),
        (("q1", "q12"), "helplessness"),
    ],
)
def test_two_missing_in_a_subscale_is_insufficient(missing, subscale):
    result = scores(without(*missing))
    assert result[subscale].value is None
    assert result[subscale].status == "insufficient"
    assert result["pcs"].status == "insufficient"


def test_two_missing_in_different_subscales_prorates_both_but_not_the_total():
    result = scores(without("q1", "q8"))
    assert result["helplessness"].status == "prorated"
    assert result["rumination"].status == "prorated"
    assert result["magnification"].status == "scored"
    assert result["pcs"].value is None
    assert result["pcs"].status == "insufficient"
    assert result["pcs"].n_answered == 11


@pytest.mark.parametrize(
    ("given", "value", "band"),
    [
        ({item: 0 for item in ITEMS}, 0, "below_threshold"),
        (EXAMPLE, 29, "below_threshold"),
        ({**EXAMPLE, "q5": 1}, 30, "clinically_relevant"),
        ({item: 4 for item in ITEMS}, 52, "clinically_relevant"),
        # prorated totals are banded unrounded: 27 x 13/12 = 29.25 below, 28 x 13/12 = 30.33 above
        (without("q8"), 29.25, "below_threshold"),
        (without("q8", base={**EXAMPLE, "q5": 1}), 28 * 13 / 12, "clinically_relevant"),
    ],
)
def test_total_of_30_or_more_is_clinically_relevant(given, value, band):
    score = scores(given)["pcs"]
    assert score.value == pytest.approx(value)
    assert score.band == band


def test_subscales_have_no_bands():
    result = scores({item: 4 for item in ITEMS})
    assert all(result[s].band is None for s in SUBSCALES)


def test_has_no_mcid_because_none_is_established():
    assert all(scale.mcid is None for scale in PCS.scales)
    assert all(scale.higher_is == "worse" for scale in PCS.scales)


def test_raises_no_alerts():
    assert raised_alerts(PCS, {item: 4 for item in ITEMS}) == []


def test_complete_answers_are_valid():
    assert validate_answers(PCS, EXAMPLE) == {}


@pytest.mark.parametrize("value", [5, -1, "4"])
def test_accepts_only_codes_0_to_4(value):
    assert list(validate_answers(PCS, {**EXAMPLE, "q13": value})) == ["q13"]
