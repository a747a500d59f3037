"""EQ-5D-5L (instruments/eq5d5l-1.yaml): three value-set indices from the 5-digit profile and the
EQ VAS (Herdman M et al. Qual Life Res 2011;20:1727–1736).

Index values are computed by hand from the coefficients in instruments/tables/eq5d5l_value_sets.csv
(England: Devlin NJ et al. Health Econ 2018, doi:10.1002/hec.3564; US: Pickard AS et al. Value
Health 2019, doi:10.1016/j.jval.2019.02.009), which are additive: 1 − Σ decrements, level 1 = 0.
Crosswalk values are read straight from the 3,125-state van Hout 2012 table (column uk).
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
EQ5D = LIBRARY.get("eq5d5l")
DIMENSIONS = ("mo", "sc", "ua", "pd", "ad")
INDICES = ("index_england", "index_us", "index_crosswalk_uk")


def profile(state, vas=50):
    """Answers for a 5-digit state such as '21143' (MO, SC, UA, PD, AD) and a VAS rating."""
    answers = {dimension: int(level) for dimension, level in zip(DIMENSIONS, state, strict=True)}
    if vas is not None:
        answers["vas"] = vas
    return answers


def index(scale, state):
    return score_answers(EQ5D, profile(state))[scale]


def test_public_item_and_scale_ids():
    assert LIBRARY.get("eq5d5l", "1") is EQ5D
    assert [item.id for item in EQ5D.items] == [*DIMENSIONS, "vas"]
    assert [scale.id for scale in EQ5D.scales] == [*INDICES, "vas"]


def test_ships_no_euroqol_wording():
    assert EQ5D.license.text_included is False
    assert all(not item.text for item in EQ5D.items)


@pytest.mark.parametrize("scale", INDICES)
def test_full_health_11111_is_one_in_every_value_set(scale):
    score = index(scale, "11111")
    assert score.value == pytest.approx(1.0, abs=1e-12)
    assert score.status == "scored"
    assert score.n_answered == 5


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        # England: 1 - (0.274 + 0.203 + 0.184 + 0.335 + 0.289) = 1 - 1.285 = -0.285
        ("index_england", -0.285),
        # US: 1 - (0.322 + 0.261 + 0.255 + 0.414 + 0.321) = 1 - 1.573 = -0.573
        ("index_us", -0.573),
        # crosswalk table, state 55555, column uk (the UK EQ-5D-3L minimum, 33333 in 3L)
        ("index_crosswalk_uk", -0.594),
    ],
)
def test_worst_state_55555_is_the_value_set_minimum(scale, expected):
    assert index(scale, "55555").value == pytest.approx(expected, abs=1e-9)
    assert EQ5D.scale(scale).range[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        # 21143: MO2 0.058 + SC1 0 + UA1 0 + PD4 0.276 + AD3 0.104 = 0.438 → 1 - 0.438 = 0.562
        ("21143", 0.562),
        # 12345: MO1 0 + SC2 0.050 + UA3 0.063 + PD4 0.276 + AD5 0.289 = 0.678 → 0.322
        ("12345", 0.322),
        # 11112: AD2 0.078 → 0.922
        ("11112", 0.922),
        # 33333: 0.076 + 0.080 + 0.063 + 0.084 + 0.104 = 0.407 → 0.593
        ("33333", 0.593),
    ],
)
def test_england_index_of_mixed_states(state, expected):
    assert index("index_england", state).value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        # 21143: MO2 0.096 + PD4 0.318 + AD3 0.123 = 0.537 → 1 - 0.537 = 0.463
        ("21143", 0.463),
        # 12345: SC2 0.089 + UA3 0.101 + PD4 0.318 + AD5 0.321 = 0.829 → 0.171
        ("12345", 0.171),
        # 11112: AD2 0.057 → 0.943
        ("11112", 0.943),
        # 33333: 0.122 + 0.107 + 0.101 + 0.098 + 0.123 = 0.551 → 0.449
        ("33333", 0.449),
    ],
)
def test_us_index_of_mixed_states(state, expected):
    assert index("index_us", state).value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("state", "expected"),
    # rows of eq5d5l_crosswalk_van_hout_2012.csv, column uk
    [("11112", 0.879), ("21143", 0.456), ("12345", 0.063), ("33333", 0.516), ("54321", 0.071)],
)
def test_crosswalk_index_is_read_from_the_3125_state_table(state, expected):
    assert index("index_crosswalk_uk", state).value == pytest.approx(expected, abs=1e-9)


def test_the_dimension_order_matters():
    # 12345 and 54321 are different states; a scorer that ignored the order would tie them
    assert index("index_england", "54321").value != pytest.approx(
        index("index_england", "12345").value)
    # 54321: MO5 0.274 + SC4 0.164 + UA3 0.063 + PD2 0.063 + AD1 0 = 0.564 → 0.436
    assert index("index_england", "54321").value == pytest.approx(0.436, abs=1e-9)


@pytest.mark.parametrize("scale", INDICES)
@pytest.mark.parametrize("missing", DIMENSIONS)
def test_any_missing_dimension_leaves_every_index_insufficient(scale, missing):
    answers = profile("21143")
    del answers[missing]
    score = score_answers(EQ5D, answers)[scale]
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 4


@pytest.mark.parametrize("vas", [0, 1, 73, 99, 100])
def test_vas_is_passed_through_unchanged(vas):
    score = score_answers(EQ5D, profile("11111", vas=vas))["vas"]
    assert score.value == vas
    assert score.status == "scored"


def test_index_is_scored_without_the_vas_and_vas_without_the_profile():
    scores = score_answers(EQ5D, profile("21143", vas=None))
    assert scores["index_england"].value == pytest.approx(0.562, abs=1e-9)
    assert scores["vas"].value is None
    assert scores["vas"].status == "insufficient"
    assert score_answers(EQ5D, {"vas": 64})["vas"].value == 64


def test_us_mcid_is_declared_and_others_are_not():
    assert EQ5D.scale("index_us").mcid.absolute == pytest.approx(0.078)
    assert EQ5D.scale("index_england").mcid is None
    assert EQ5D.scale("index_crosswalk_uk").mcid is None
    assert all(EQ5D.scale(scale).higher_is == "better" for scale in (*INDICES, "vas"))


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("11115", ["extreme_anxiety_depression"]),
        ("11114", []),
        ("11151", ["extreme_pain_discomfort"]),
        ("11141", []),
        ("11155", ["extreme_anxiety_depression", "extreme_pain_discomfort"]),
        ("55545", ["extreme_anxiety_depression"]),
    ],
)
def test_level_5_on_anxiety_depression_or_pain_raises_an_alert(state, expected):
    assert raised_alerts(EQ5D, profile(state)) == expected


def test_complete_answers_are_valid():
    assert validate_answers(EQ5D, profile("21143", vas=80)) == {}


@pytest.mark.parametrize(
    ("item", "value"), [("mo", 0), ("mo", 6), ("ad", "5"), ("vas", -1), ("vas", 101), ("vas", 50.5)]
)
def test_out_of_range_answers_are_rejected(item, value):
    answers = profile("11111")
    answers[item] = value
    assert item in validate_answers(EQ5D, answers)


def test_every_dimension_and_the_vas_is_required():
    assert set(validate_answers(EQ5D, {})) == {*DIMENSIONS, "vas"}
