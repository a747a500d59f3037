"""PGIC: one 7-point rating coded 1 = very much improved … 7 = very much worse; score = the code.

Bands follow the IMMPACT categories (Dworkin et al., J Pain 2008): very much improved =
substantial, much improved = moderate, minimally improved = minimal benefit; then no change and
worse. Each code is checked against its category.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
DEFN = LIBRARY.get("pgic")


@pytest.mark.parametrize(
    ("code", "band"),
    [(1, "substantial_improvement"), (2, "moderate_improvement"), (3, "minimal_improvement"),
     (4, "no_change"), (5, "worse"), (6, "worse"), (7, "worse")],
)
def test_each_code_scores_itself_in_its_immpact_category(code, band):
    score = score_answers(DEFN, {"change": code})["pgic"]
    assert (score.value, score.status, score.band, score.n_answered) == (code, "scored", band, 1)


def test_option_labels_run_from_very_much_improved_to_very_much_worse():
    options = DEFN.item("change").response.options
    assert [o.code for o in options] == [1, 2, 3, 4, 5, 6, 7]
    assert options[0].label["en"] == "Very much improved"
    assert options[3].label["en"] == "No change"
    assert options[6].label["en"] == "Very much worse"


def test_lower_is_better():
    assert DEFN.scale("pgic").higher_is == "worse"


def test_unanswered_is_insufficient():
    score = score_answers(DEFN, {})["pgic"]
    assert (score.value, score.status, score.band) == (None, "insufficient", None)


@pytest.mark.parametrize("code", [6, 7])
def test_much_worse_alert_raised_for_much_or_very_much_worse(code):
    assert raised_alerts(DEFN, {"change": code}) == ["much_worse"]


@pytest.mark.parametrize("code", [1, 4, 5])
def test_much_worse_alert_not_raised_below_much_worse(code):
    assert raised_alerts(DEFN, {"change": code}) == []


@pytest.mark.parametrize("bad", [0, 8, "1"])
def test_codes_outside_1_to_7_are_rejected(bad):
    assert "change" in validate_answers(DEFN, {"change": bad})


def test_the_item_is_required():
    assert validate_answers(DEFN, {}) == {"change": ["an answer is required"]}
