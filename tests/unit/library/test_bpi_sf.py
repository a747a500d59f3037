"""BPI short form (instruments/bpi_sf-1.yaml): severity = mean of 4 items, interference = mean of
the answered items when at least 4 of 7 are answered (Cleeland, BPI User Guide 2009; ePPOC).
No worked example is published (shared reference INSTRUMENTS.md §2.1), so every expected value
here is computed by hand from those published rules.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
BPI = LIBRARY.get("bpi_sf")
SEVERITY = ("worst", "least", "average", "now")
INTERFERENCE = ("general_activity", "mood", "walking", "work", "relations", "sleep", "enjoyment")


def answers(severity=(0, 0, 0, 0), interference=(0,) * 7):
    given = dict(zip(SEVERITY, severity, strict=True))
    given.update(zip(INTERFERENCE, interference, strict=True))
    return {item: value for item, value in given.items() if value is not None}


def test_is_version_1_with_public_item_and_scale_ids():
    assert BPI.version == "1"
    assert [item.id for item in BPI.items] == [*SEVERITY, *INTERFERENCE]
    assert [scale.id for scale in BPI.scales] == ["severity", "interference"]
    assert set(BPI.domains) == {"pain_intensity", "physical_function"}


def test_ships_no_item_text():
    assert BPI.license.text_included is False
    assert all(not item.text for item in BPI.items)


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ((8, 2, 5, 4), 4.75),  # hand-computed: 19 / 4
        ((0, 0, 0, 0), 0.0),
        ((10, 10, 10, 10), 10.0),
        ((9, 3, 6, 5), 5.75),  # 23 / 4
    ],
)
def test_severity_is_the_mean_of_the_four_ratings(severity, expected):
    score = score_answers(BPI, answers(severity=severity))["severity"]
    assert score.value == pytest.approx(expected)
    assert score.status == "scored"
    assert score.n_answered == 4


@pytest.mark.parametrize("missing", range(4))
def test_severity_needs_all_four_ratings(missing):
    severity = [6, 2, 4, 3]
    severity[missing] = None
    score = score_answers(BPI, answers(severity=severity))["severity"]
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 3


def test_interference_is_the_mean_of_the_seven_ratings():
    score = score_answers(BPI, answers(interference=(3, 4, 5, 6, 7, 8, 9)))["interference"]
    assert score.value == pytest.approx(6.0)  # 42 / 7
    assert score.status == "scored"
    assert score.n_answered == 7


def test_interference_needs_four_of_seven():
    # User Guide: usable when more than 50% (4 of 7) are answered; mean of those answered
    four = answers(interference=(2, 5, None, 7, None, 1, None))
    score = score_answers(BPI, four)["interference"]
    assert score.value == pytest.approx(15 / 4)
    assert score.n_answered == 4
    assert score.status == "prorated"  # the engine flags any score computed with items missing


def test_interference_with_three_of_seven_is_insufficient():
    three = answers(interference=(2, 5, None, 7, None, None, None))
    score = score_answers(BPI, three)["interference"]
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 3


def test_scales_are_scored_independently():
    given = answers(severity=(5, None, 5, 5), interference=(4,) * 7)
    scores = score_answers(BPI, given)
    assert scores["severity"].status == "insufficient"
    assert scores["interference"].value == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("severity", "mean", "band"),
    [
        ((0, 0, 0, 0), 0.0, "mild"),
        ((4, 4, 4, 5), 4.25, "mild"),  # rounds to 4: ePPOC 0-4 mild
        ((4, 4, 5, 5), 4.5, "moderate"),  # rounds half up to 5: moderate
        ((6, 6, 6, 7), 6.25, "moderate"),  # rounds to 6: ePPOC 5-6 moderate
        ((6, 6, 7, 7), 6.5, "severe"),  # rounds half up to 7: severe
        ((10, 10, 10, 10), 10.0, "severe"),
    ],
)
def test_severity_bands_are_eppoc_item_bands_on_the_rounded_mean(severity, mean, band):
    score = score_answers(BPI, answers(severity=severity))["severity"]
    assert score.value == pytest.approx(mean)
    assert score.band == band


def test_interference_has_no_bands():
    score = score_answers(BPI, answers(interference=(9,) * 7))["interference"]
    assert score.value == pytest.approx(9.0)
    assert score.band is None


def test_interference_mcid_is_one_point_per_immpact():
    mcid = BPI.scale("interference").mcid
    assert mcid.absolute == 1
    assert "IMMPACT" in mcid.source
    assert BPI.scale("interference").higher_is == "worse"


@pytest.mark.parametrize(
    ("severity", "raised"),
    [
        ((9, 3, 8, 6), ["severe_pain"]),
        ((10, 10, 10, 10), ["severe_pain"]),
        ((10, 9, 7, 10), []),  # worst, least and now do not raise it: only average ≥ 8
        ((0, 0, 0, 0), []),
    ],
)
def test_severe_pain_alert_fires_on_average_pain_from_8(severity, raised):
    assert raised_alerts(BPI, answers(severity=severity)) == raised


def test_complete_answers_are_valid():
    assert validate_answers(BPI, answers(severity=(7, 2, 5, 4), interference=(3,) * 7)) == {}


@pytest.mark.parametrize(("item", "value"), [("worst", 11), ("least", -1), ("mood", 10.5)])
def test_rejects_answers_outside_whole_numbers_0_to_10(item, value):
    given = {**answers(), item: value}
    assert list(validate_answers(BPI, given)) == [item]


def test_every_item_is_required_in_the_electronic_form():
    errors = validate_answers(BPI, {"worst": 5})
    assert set(errors) == {*SEVERITY, *INTERFERENCE} - {"worst"}
