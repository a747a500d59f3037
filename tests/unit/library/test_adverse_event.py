"""prom's adverse-event form: `serious` = number of ICH E2A seriousness criteria selected.

ICH E2A (1994): an adverse event is serious if it results in death, is life-threatening, requires or
prolongs inpatient hospitalisation, results in persistent or significant disability/incapacity, is a
congenital anomaly/birth defect, or is another medically important event. Any one criterion makes
the event serious; severity (mild/moderate/severe) is a separate, intensity scale.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
DEFN = LIBRARY.get("adverse_event")
CRITERIA = ["death", "life_threatening", "hospitalisation", "disability", "congenital_anomaly",
            "medically_important"]
FOLLOW_UPS = ["description", "onset_date", "ongoing", "severity", "seriousness", "attributed"]


def report(**changes) -> dict[str, object]:
    """A complete report of a mild, non-serious event; keyword arguments replace answers."""
    answers = {"occurred": True, "description": "Headaches after the relaxation exercises.",
               "onset_date": "2025-03-02", "ongoing": False, "severity": "mild",
               "seriousness": ["none"], "attributed": "unsure"}
    answers.update(changes)
    return {key: value for key, value in answers.items() if value is not None}


def serious(answers):
    score = score_answers(DEFN, answers)["serious"]
    return score.value, score.status, score.band


def test_no_event_is_a_complete_report():
    assert validate_answers(DEFN, {"occurred": False}) == {}


def test_no_event_scores_not_serious_through_the_hidden_value():
    assert serious({"occurred": False}) == (0, "scored", "not_serious")
    assert score_answers(DEFN, {"occurred": False})["serious"].n_answered == 1


def test_no_event_raises_no_alert():
    assert raised_alerts(DEFN, {"occurred": False}) == []


def test_event_with_none_of_the_criteria_is_not_serious():
    answers = report()
    assert validate_answers(DEFN, answers) == {}
    assert serious(answers) == (0, "scored", "not_serious")
    assert raised_alerts(DEFN, answers) == []


@pytest.mark.parametrize("criterion", CRITERIA)
def test_any_single_criterion_makes_the_event_serious(criterion):
    answers = report(seriousness=[criterion])
    assert validate_answers(DEFN, answers) == {}
    assert serious(answers) == (1, "scored", "serious")
    assert raised_alerts(DEFN, answers) == ["serious_event"]


def test_serious_counts_the_criteria_met():
    assert serious(report(seriousness=["hospitalisation", "life_threatening"]))[0] == 2


def test_all_six_criteria_score_six():
    assert serious(report(seriousness=CRITERIA)) == (6, "scored", "serious")


def test_none_cannot_be_combined_with_a_criterion():
    answers = report(seriousness=["none", "hospitalisation"])
    assert list(validate_answers(DEFN, answers)) == ["seriousness"]


def test_severe_event_raises_the_high_alert():
    assert raised_alerts(DEFN, report(severity="severe")) == ["severe_event"]


@pytest.mark.parametrize("severity", ["mild", "moderate"])
def test_mild_or_moderate_event_raises_no_severity_alert(severity):
    assert raised_alerts(DEFN, report(severity=severity)) == []


def test_severe_and_serious_event_raises_both_alerts_in_order():
    answers = report(severity="severe", seriousness=["disability"])
    assert raised_alerts(DEFN, answers) == ["serious_event", "severe_event"]


def test_severity_alone_does_not_make_an_event_serious():
    assert serious(report(severity="severe"))[0] == 0


@pytest.mark.parametrize("item", FOLLOW_UPS)
def test_follow_up_questions_are_hidden_when_no_event_occurred(item):
    answers = {"occurred": False, item: report()[item]}
    assert validate_answers(DEFN, answers) == {
        item: ["must not be answered: its skip condition hides it"]}


def test_follow_ups_other_than_onset_date_are_required_when_an_event_occurred():
    assert validate_answers(DEFN, {"occurred": True}) == {
        item: ["an answer is required"] for item in FOLLOW_UPS if item != "onset_date"}


def test_onset_date_is_optional():
    assert validate_answers(DEFN, report(onset_date=None)) == {}


def test_occurred_is_required():
    assert validate_answers(DEFN, {}) == {"occurred": ["an answer is required"]}


def test_unanswered_occurred_leaves_serious_insufficient():
    assert serious({}) == (None, "insufficient", None)


def test_event_without_a_seriousness_answer_is_insufficient_not_zero():
    answers = report(seriousness=None)
    assert serious(answers) == (None, "insufficient", None)
    assert raised_alerts(DEFN, answers) == []


def test_description_may_be_2000_characters_but_not_2001():
    assert validate_answers(DEFN, report(description="x" * 2000)) == {}
    assert list(validate_answers(DEFN, report(description="x" * 2001))) == ["description"]


@pytest.mark.parametrize("bad", ["2025-02-30", "02/03/2025", 20250302])
def test_onset_date_must_be_a_real_iso_date(bad):
    assert list(validate_answers(DEFN, report(onset_date=bad))) == ["onset_date"]


@pytest.mark.parametrize(("item", "bad"), [("severity", "grade_3"), ("attributed", "maybe"),
                                           ("ongoing", "yes"), ("occurred", 1)])
def test_answers_outside_the_codes_are_rejected(item, bad):
    assert item in validate_answers(DEFN, report(**{item: bad}))


@pytest.mark.parametrize("attributed", ["no", "unsure", "yes"])
def test_attribution_does_not_change_the_score(attributed):
    assert serious(report(attributed=attributed)) == (0, "scored", "not_serious")
