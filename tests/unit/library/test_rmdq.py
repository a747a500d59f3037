"""Roland–Morris Disability Questionnaire (instruments/rmdq-1.yaml): the number of statements
answered yes, 0–24 (Roland M, Morris R. Spine 1983;8:141–144); an unmarked statement scores No.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import score_answers

LIBRARY = load_library()
RMDQ = LIBRARY.get("rmdq")
ITEMS = tuple(f"q{n}" for n in range(1, 25))


def answers(yes=(), answered=ITEMS):
    """Answer the `answered` statements: 1 for those in `yes`, 0 for the others."""
    return {item: int(item in yes) for item in answered}


def rmdq(given):
    return score_answers(RMDQ, given)["rmdq"]


def test_is_version_1_with_public_item_and_scale_ids():
    assert RMDQ.version == "1"
    assert [item.id for item in RMDQ.items] == list(ITEMS)
    assert [scale.id for scale in RMDQ.scales] == ["rmdq"]
    assert RMDQ.domains == ("physical_function",)


def test_ships_no_item_text():
    assert RMDQ.license.text_included is False
    assert all(not item.text for item in RMDQ.items)


@pytest.mark.parametrize(
    ("yes", "expected"),
    [
        ((), 0),
        (ITEMS, 24),
        (ITEMS[:12], 12),
        (("q1", "q13", "q24"), 3),
    ],
)
def test_score_is_the_number_of_yes_answers(yes, expected):
    score = rmdq(answers(yes))
    assert score.value == expected
    assert score.status == "scored"
    assert score.n_answered == 24


def test_published_percent_improvement_example_exceeds_the_mcid():
    # Worked example (yhocphuchoi.com RMDQ page): 12 at baseline, 2 at the end → 10 / 12 = 83%
    baseline = rmdq(answers(ITEMS[:12])).value
    follow_up = rmdq(answers(ITEMS[:2])).value
    improvement = (baseline - follow_up) / baseline * 100
    assert improvement == pytest.approx(83.33, abs=0.01)
    mcid = RMDQ.scale("rmdq").mcid
    assert baseline - follow_up >= mcid.absolute
    assert improvement >= mcid.percent


def test_an_unanswered_statement_counts_as_no():
    # Roland's convention: a blank scores No, so 20 yes + 4 blanks is 20, not prorated to 24
    score = rmdq(answers(yes=ITEMS[:20], answered=ITEMS[:20]))
    assert score.value == 20
    assert score.n_answered == 20
    assert score.status == "prorated"  # the engine flags any score computed with items missing


def test_scores_with_twenty_statements_answered():
    score = rmdq(answers(yes=("q5", "q6", "q7"), answered=ITEMS[4:]))
    assert score.value == 3
    assert score.n_answered == 20


def test_nineteen_statements_answered_is_insufficient():
    score = rmdq(answers(yes=("q6",), answered=ITEMS[5:]))
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 19


def test_has_no_bands():
    assert rmdq(answers(ITEMS)).band is None


def test_mcid_is_5_points_or_30_percent_per_ostelo():
    mcid = RMDQ.scale("rmdq").mcid
    assert (mcid.absolute, mcid.percent) == (5, 30)
    assert "Ostelo" in mcid.source
    assert RMDQ.scale("rmdq").higher_is == "worse"


def test_raises_only_the_worsening_alert():
    assert RMDQ.answer_alerts == ()
    assert [(a.id, a.worsening) for a in RMDQ.worsening_alerts] == [
        ("disability_worse_than_baseline", "rmdq")]


def test_complete_answers_are_valid():
    assert validate_answers(RMDQ, answers(ITEMS[:7])) == {}


@pytest.mark.parametrize("value", [2, -1, True, "yes"])
def test_accepts_only_codes_0_and_1(value):
    assert list(validate_answers(RMDQ, {**answers(), "q5": value})) == ["q5"]


def test_every_statement_is_required_in_the_electronic_form():
    given = answers()
    del given["q24"]
    assert list(validate_answers(RMDQ, given)) == ["q24"]
