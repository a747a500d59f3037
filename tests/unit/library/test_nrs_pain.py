"""Pain NRS: 0–10 ratings; `pain_intensity` is the average-pain rating, IMMPACT's core pain outcome
(Dworkin et al., Pain 2005;113:9–19); `pain_severity` the mean of the four ratings.

Bands 0 none, 1–3 mild, 4–6 moderate, 7–10 severe are the common convention (reference notes
§1.1). The MCID, 2 points or 30% (Farrar et al., Pain 2001;94:149–158; IMMPACT 2008), is recorded on
both scales. No published rule exists for missing ratings in the composite: prom requires 3 of 4.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

DEFN = load_library().get("nrs_pain")


@pytest.mark.parametrize(("rating", "band"), [
    (0, "none"), (1, "mild"), (3, "mild"), (4, "moderate"), (6, "moderate"), (7, "severe"),
    (10, "severe"),
])
def test_pain_intensity_is_the_average_rating_with_its_band(rating, band):
    score = score_answers(DEFN, {"average": rating})["pain_intensity"]
    assert (score.value, score.band, score.status) == (rating, band, "scored")


def test_pain_severity_is_the_mean_of_all_four_ratings():
    score = score_answers(DEFN, {"average": 5, "worst": 8, "least": 2, "now": 4})["pain_severity"]
    assert score.value == pytest.approx(19 / 4)
    assert score.band == "moderate"
    assert score.status == "scored"


def test_pain_severity_with_one_rating_missing_is_the_mean_of_three():
    score = score_answers(DEFN, {"average": 6, "worst": 9, "now": 7})["pain_severity"]
    assert score.value == pytest.approx(22 / 3)
    assert score.status == "prorated"
    assert score.band == "severe"


def test_pain_severity_needs_three_ratings():
    score = score_answers(DEFN, {"average": 6, "worst": 9})["pain_severity"]
    assert (score.value, score.status) == (None, "insufficient")


def test_a_mean_between_band_minimums_takes_the_lower_band():
    # 3.5 lies between the mild (1) and moderate (4) minimums: mild
    score = score_answers(DEFN, {"average": 3, "worst": 4, "least": 3, "now": 4})["pain_severity"]
    assert (score.value, score.band) == (3.5, "mild")


def test_average_pain_is_required_and_the_others_optional():
    assert validate_answers(DEFN, {"worst": 5}) == {"average": ["an answer is required"]}
    assert validate_answers(DEFN, {"average": 5}) == {}


@pytest.mark.parametrize(("rating", "raised"), [(7, False), (8, True), (10, True)])
def test_severe_pain_alert_from_an_average_of_8(rating, raised):
    assert (raised_alerts(DEFN, {"average": rating}) == ["severe_pain"]) is raised


def test_mcid_two_points_or_thirty_percent():
    for scale in DEFN.scales:
        assert (scale.mcid.absolute, scale.mcid.percent) == (2, 30)
        assert scale.higher_is == "worse"
