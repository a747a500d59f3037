"""PEG-3 (instruments/peg-1.yaml): mean of three 0–10 items (Krebs EE et al., J Gen Intern Med
2009;24:733–738). No worked example is published in the paper; the cases below are computed by
hand from the published rule (score = mean of the three items), except where a source is named.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
PEG = LIBRARY.get("peg")
ITEMS = ("pain", "enjoyment", "activity")


def answers(pain, enjoyment, activity):
    given = {"pain": pain, "enjoyment": enjoyment, "activity": activity}
    return {item: value for item, value in given.items() if value is not None}


def peg(pain, enjoyment, activity):
    return score_answers(PEG, answers(pain, enjoyment, activity))["peg"]


def test_is_version_1_with_public_item_and_scale_ids():
    assert PEG.version == "1"
    assert [item.id for item in PEG.items] == list(ITEMS)
    assert [scale.id for scale in PEG.scales] == ["peg"]
    assert set(PEG.domains) == {"pain_intensity", "physical_function"}


def test_ships_no_item_text():
    assert PEG.license.text_included is False
    assert all(not item.text for item in PEG.items)


@pytest.mark.parametrize(
    ("pain", "enjoyment", "activity", "expected"),
    [
        (5, 5, 5, 5.0),  # illustrative case on achawaqat.com PEG page: 5, 5, 5 → 5 (moderate)
        (0, 0, 0, 0.0),
        (10, 10, 10, 10.0),
        (7, 6, 4, 17 / 3),  # hand-computed: (7 + 6 + 4) / 3
        (1, 0, 0, 1 / 3),
    ],
)
def test_score_is_the_mean_of_the_three_items(pain, enjoyment, activity, expected):
    score = peg(pain, enjoyment, activity)
    assert score.value == pytest.approx(expected)
    assert score.status == "scored"
    assert score.n_answered == 3


@pytest.mark.parametrize("missing", ITEMS)
def test_needs_all_three_items(missing):
    given = {"pain": 6, "enjoyment": 6, "activity": 6}
    del given[missing]
    score = score_answers(PEG, given)["peg"]
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 2
    assert score.band is None


@pytest.mark.parametrize(
    ("item_values", "band"),
    [
        ((0, 0, 0), "mild"),
        ((4, 4, 3), "mild"),  # 3.67: below 4
        ((4, 4, 4), "moderate"),  # 4.0: first moderate value
        ((7, 7, 6), "moderate"),  # 6.67: below 7
        ((7, 7, 7), "severe"),  # 7.0: first severe value
        ((10, 10, 10), "severe"),
    ],
)
def test_bands_split_at_4_and_7(item_values, band):
    assert peg(*item_values).band == band


def test_mcid_is_the_immpact_30_percent_heuristic():
    mcid = PEG.scale("peg").mcid
    assert mcid.percent == 30
    assert mcid.absolute is None
    assert "IMMPACT" in mcid.source


@pytest.mark.parametrize(
    ("pain", "raised"),
    [(8, ["severe_pain"]), (10, ["severe_pain"]), (7, []), (0, [])],
)
def test_severe_pain_alert_fires_on_the_pain_item_from_8(pain, raised):
    # interference at the maximum must not raise it: the alert is about pain intensity
    assert raised_alerts(PEG, answers(pain, 10, 10)) == raised


def test_severe_pain_alert_is_not_raised_when_pain_is_unanswered():
    assert raised_alerts(PEG, answers(None, 10, 10)) == []


def test_complete_answers_are_valid():
    assert validate_answers(PEG, answers(3, 4, 5)) == {}


@pytest.mark.parametrize("value", [-1, 11, 2.5, "3", True])
def test_rejects_answers_outside_whole_numbers_0_to_10(value):
    errors = validate_answers(PEG, {**answers(3, 4, 5), "pain": value})
    assert list(errors) == ["pain"]


@pytest.mark.parametrize("missing", ITEMS)
def test_every_item_is_required(missing):
    given = answers(3, 4, 5)
    del given[missing]
    assert list(validate_answers(PEG, given)) == [missing]
