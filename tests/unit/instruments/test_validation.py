"""Answer validation: `validate_answers(definition, answers)` returns {} for a valid answer set,
otherwise every problem at once, keyed by item id ("" for the answer set as a whole).
"""

from __future__ import annotations

import pytest

from prom.instruments import load_library, validate_answers

HIDDEN = "must not be answered: its skip condition hides it"
REQUIRED = "an answer is required"
PHQ9_ITEMS = tuple(f"phq9_{n}" for n in range(1, 10))
SERIOUSNESS = ["death", "life_threatening", "hospitalisation", "disability",
               "congenital_anomaly", "medically_important"]


@pytest.fixture(scope="module")
def phq9(shipped_library):
    return shipped_library.get("phq9", "1")


@pytest.fixture(scope="module")
def nrs_pain(shipped_library):
    return shipped_library.get("nrs_pain", "1")


@pytest.fixture(scope="module")
def neq(shipped_library):
    return shipped_library.get("neq", "1")


@pytest.fixture(scope="module")
def adverse_event(shipped_library):
    return shipped_library.get("adverse_event", "1")


@pytest.fixture(scope="module")
def eq5d5l(shipped_library):
    return shipped_library.get("eq5d5l", "1")


def each(keys, message):
    return {key: [message] for key in keys}


def phq9_answers(value=0, **overrides):
    return {**dict.fromkeys(PHQ9_ITEMS, value), **overrides}


def neq_answers(**occurred):
    """Every NEQ effect answered "did not occur", except those given as qN=(impact, cause)."""
    answers = {f"q{n}_occurred": 0 for n in range(1, 21)}
    for name, (impact, cause) in occurred.items():
        answers[f"{name}_occurred"] = 1
        answers[f"{name}_impact"] = impact
        answers[f"{name}_cause"] = cause
    return answers


def adverse_event_answers(**overrides):
    """A complete report of an event that occurred."""
    return {"occurred": True, "description": "Headaches after the sessions",
            "onset_date": "2024-02-29", "ongoing": False, "severity": "moderate",
            "seriousness": ["none"], "attributed": "unsure", **overrides}


def item(identifier, response, **extra):
    return {"id": identifier, "label": identifier.capitalize(),
            "text": {"en": f"Question {identifier}?"}, "response": response, **extra}


@pytest.fixture(scope="module")
def skip_logic(minimal_definition, write_library):
    """A synthetic definition with any/all skip conditions and a gate on a non-required item."""
    document = minimal_definition(id="skips")
    rating = "rating"
    document["items"] = [
        item("a", rating),
        item("b", rating),
        item("either", rating, show_if={"any": [{"item": "a", "gte": 3},
                                                {"item": "b", "gte": 3}]}),
        item("both", rating, required=True, show_if={"all": [{"item": "a", "gte": 3},
                                                             {"item": "b", "gte": 3}]}),
        item("gate", {"type": "boolean"}),
        item("detail", {"type": "text", "max_length": 5}, required=True,
             show_if={"item": "gate", "equals": True}),
        item("colour", {"type": "single_choice", "options": [
            {"code": "red", "label": {"en": "Red"}}, {"code": "green", "label": {"en": "Green"}},
            {"code": "blue", "label": {"en": "Blue"}}]}),
        item("warm", rating, show_if={"item": "colour", "in": ["red", "green"]}),
        item("picks", {"type": "multiple_choice", "exclusive": [99], "options": [
            {"code": 1, "label": {"en": "One"}}, {"code": 2, "label": {"en": "Two"}},
            {"code": 99, "label": {"en": "Neither"}}]}),
    ]
    del document["scales"]
    return load_library(write_library({"skips-1.yaml": document})).get("skips")


# ------------------------------------------------------------------------- valid answer sets


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        ("phq9", phq9_answers(0)),
        ("phq9", phq9_answers(3, difficulty=3)),
        ("phq9", phq9_answers(0, phq9_9=1, difficulty=0)),
        ("phq9", phq9_answers(1)),  # difficulty shown but not required
        ("nrs_pain", {"average": 5}),
        ("nrs_pain", {"average": 0, "worst": 10, "least": 0, "now": 7}),
        ("nrs_pain", {"average": 5, "worst": None}),  # null is "not answered"
        ("neq", neq_answers()),
        ("neq", neq_answers(q1=(3, "treatment"), q20=(0, "other"))),
        ("adverse_event", {"occurred": False}),
        ("adverse_event", adverse_event_answers()),
        ("adverse_event", adverse_event_answers(onset_date=None)),  # not required
        ("adverse_event", adverse_event_answers(seriousness=["death", "hospitalisation"])),
        ("adverse_event", adverse_event_answers(seriousness=SERIOUSNESS)),
        ("eq5d5l", {"mo": 1, "sc": 2, "ua": 3, "pd": 4, "ad": 5, "vas": 70}),
        ("eq5d5l", {"mo": 5, "sc": 5, "ua": 5, "pd": 5, "ad": 5, "vas": 0}),
    ],
    ids=["phq9-zeros", "phq9-max", "phq9-item9-only", "phq9-difficulty-optional",
         "nrs-average-only", "nrs-all", "nrs-null", "neq-none", "neq-two-effects",
         "ae-none", "ae-full", "ae-no-date", "ae-two-criteria", "ae-all-criteria",
         "eq5d5l-mixed", "eq5d5l-worst"],
)
def test_valid_answer_sets_give_no_errors(instrument, answers, shipped_library):
    assert validate_answers(shipped_library.get(instrument), answers) == {}


def test_empty_answer_set_is_valid_when_nothing_is_required(skip_logic):
    assert validate_answers(skip_logic, {}) == {}


# -------------------------------------------------------------------------- unknown and type


def test_unknown_item_is_reported_by_its_key(nrs_pain):
    assert validate_answers(nrs_pain, {"average": 5, "mood": 3}) == {"mood": ["unknown item"]}


def test_unknown_item_is_reported_even_when_null(nrs_pain):
    assert validate_answers(nrs_pain, {"average": 5, "mood": None}) == {"mood": ["unknown item"]}


@pytest.mark.parametrize("value", ["5", True, False, 5.0, 3.5, [5], {"value": 5}],
                         ids=["string", "true", "false", "float-whole", "float", "list", "dict"])
def test_integer_item_accepts_only_whole_numbers(value, nrs_pain):
    assert validate_answers(nrs_pain, {"average": value}) == {
        "average": ["must be a whole number"]}


@pytest.mark.parametrize("value", [1, 0, "true", "yes", None],
                         ids=["one", "zero", "string-true", "string-yes", "null"])
def test_boolean_item_accepts_only_true_or_false(value, adverse_event):
    errors = validate_answers(adverse_event, {"occurred": value})

    expected = REQUIRED if value is None else "must be true or false"
    assert errors == {"occurred": [expected]}


@pytest.mark.parametrize("value", [-1, 11, 10**20], ids=["below", "above", "huge"])
def test_integer_item_out_of_range_is_rejected(value, nrs_pain):
    assert validate_answers(nrs_pain, {"average": value}) == {
        "average": ["must be between 0 and 10"]}


@pytest.mark.parametrize("value", [0, 10], ids=["min", "max"])
def test_integer_item_range_is_inclusive(value, nrs_pain):
    assert validate_answers(nrs_pain, {"average": value}) == {}


@pytest.mark.parametrize("value", [4, -1, "1", True, 1.0, [1]],
                         ids=["above", "below", "string", "true", "float", "list"])
def test_single_choice_with_integer_codes_accepts_only_its_codes(value, phq9):
    errors = validate_answers(phq9, phq9_answers(0, phq9_1=value))

    assert errors == {"phq9_1": ["must be one of [0, 1, 2, 3]"]}


@pytest.mark.parametrize("value", ["critical", "Mild", "MILD", 0, 1, True],
                         ids=["unknown", "capitalised", "upper", "position-0", "position-1",
                              "true"])
def test_single_choice_with_text_codes_accepts_only_its_codes(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(severity=value))

    assert errors == {"severity": ["must be one of ['mild', 'moderate', 'severe']"]}


def test_single_choice_codes_with_values_are_answered_by_code_not_value(neq):
    errors = validate_answers(neq, neq_answers(q1=(2, 1)))  # 1 is the value of "treatment"

    assert errors == {"q1_cause": ["must be one of ['treatment', 'other']"]}


# --------------------------------------------------------------------------- multiple choice


@pytest.mark.parametrize("value", ["death", 1, {"death": True}, ("death",)],
                         ids=["string", "integer", "dict", "tuple"])
def test_multiple_choice_must_be_a_list(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(seriousness=value))

    assert list(errors) == ["seriousness"]
    assert errors["seriousness"][0].startswith("must be a list of codes from ['death', ")


@pytest.mark.parametrize("value", [["death", "zombie"], ["Death"], [0], [None], [["death"]]],
                         ids=["unknown", "capitalised", "position", "null", "nested"])
def test_multiple_choice_rejects_an_unknown_code(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(seriousness=value))

    assert list(errors) == ["seriousness"]
    assert errors["seriousness"][0].startswith("every entry must be one of ['death', ")


def test_multiple_choice_rejects_a_boolean_for_an_integer_code(skip_logic):
    errors = validate_answers(skip_logic, {"picks": [True]})

    assert errors == {"picks": ["every entry must be one of [1, 2, 99]"]}


@pytest.mark.parametrize("value", [["death", "death"], ["death", "disability", "death"]],
                         ids=["pair", "among-others"])
def test_multiple_choice_rejects_a_repeated_code(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(seriousness=value))

    assert errors == {"seriousness": ["codes must not repeat"]}


@pytest.mark.parametrize("value", [["none", "death"], ["death", "none"],
                                   ["hospitalisation", "none", "disability"]],
                         ids=["first", "last", "middle"])
def test_multiple_choice_exclusive_code_must_stand_alone(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(seriousness=value))

    assert errors == {"seriousness": ["'none' cannot be combined with other answers"]}


def test_multiple_choice_exclusive_integer_code_must_stand_alone(skip_logic):
    assert validate_answers(skip_logic, {"picks": [99]}) == {}
    assert validate_answers(skip_logic, {"picks": [1, 2]}) == {}
    assert validate_answers(skip_logic, {"picks": [1, 99]}) == {
        "picks": ["99 cannot be combined with other answers"]}


# ------------------------------------------------------------------------------------ required


def test_required_item_missing_is_reported(phq9):
    answers = phq9_answers(1)
    del answers["phq9_3"]

    assert validate_answers(phq9, answers) == {"phq9_3": [REQUIRED]}


def test_required_item_given_as_null_is_missing(phq9):
    assert validate_answers(phq9, phq9_answers(1, phq9_3=None)) == {"phq9_3": [REQUIRED]}


def test_every_missing_required_item_is_reported(phq9):
    assert validate_answers(phq9, {}) == each(PHQ9_ITEMS, REQUIRED)


def test_optional_item_may_be_left_out(nrs_pain):
    assert validate_answers(nrs_pain, {"average": 3}) == {}
    assert validate_answers(nrs_pain, {"worst": 3}) == {"average": [REQUIRED]}


# ----------------------------------------------------------------------------- text and dates


def test_text_of_exactly_max_length_is_accepted(adverse_event):
    assert validate_answers(adverse_event, adverse_event_answers(description="x" * 2000)) == {}


def test_text_max_length_counts_characters_not_bytes(adverse_event):
    assert validate_answers(adverse_event, adverse_event_answers(description="é" * 2000)) == {}


def test_text_one_longer_than_max_length_is_rejected(adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(description="x" * 2001))

    assert errors == {"description": ["must be at most 2000 characters"]}


@pytest.mark.parametrize("value", [42, ["text"], True], ids=["number", "list", "boolean"])
def test_text_item_needs_a_string(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(description=value))

    assert errors == {"description": ["must be text"]}


@pytest.mark.parametrize("value", ["2024-02-29", "2023-12-31", "1999-01-01"])
def test_valid_dates_are_accepted(value, adverse_event):
    assert validate_answers(adverse_event, adverse_event_answers(onset_date=value)) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "is not a valid calendar date"),
        ("2023-02-29", "is not a valid calendar date"),
        ("2024-13-01", "is not a valid calendar date"),
        ("2024-00-10", "is not a valid calendar date"),
        ("24-01-01", "must be a date as YYYY-MM-DD"),
        ("20240101", "must be a date as YYYY-MM-DD"),
        ("2024-1-1", "must be a date as YYYY-MM-DD"),
        ("01/02/2024", "must be a date as YYYY-MM-DD"),
        ("2024-01-01T10:00:00", "must be a date as YYYY-MM-DD"),
        ("", "must be a date as YYYY-MM-DD"),
        (20240101, "must be a date as YYYY-MM-DD"),
    ],
)
def test_invalid_dates_are_rejected(value, message, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(onset_date=value))

    assert errors == {"onset_date": [message]}


@pytest.mark.parametrize("value", ["2024-01-01\n", "２０２４-０１-０１"],
                         ids=["trailing-newline", "fullwidth-digits"])
def test_dates_must_be_plain_ascii_yyyy_mm_dd(value, adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(onset_date=value))

    assert list(errors) == ["onset_date"]


# ----------------------------------------------------------------------------- skip conditions


def test_answer_to_an_item_hidden_by_its_skip_condition_is_rejected(adverse_event):
    errors = validate_answers(adverse_event, {"occurred": False, "description": "Headache"})

    assert errors == {"description": [HIDDEN]}


def test_same_item_may_be_answered_when_its_condition_shows_it(adverse_event):
    assert validate_answers(adverse_event, adverse_event_answers(description="Headache")) == {}


def test_every_answer_to_hidden_items_is_reported(adverse_event):
    answers = {**adverse_event_answers(), "occurred": False}

    errors = validate_answers(adverse_event, answers)

    assert errors == each(
        ["description", "onset_date", "ongoing", "severity", "seriousness", "attributed"], HIDDEN)


def test_phq9_difficulty_is_hidden_when_no_problem_is_reported(phq9):
    assert validate_answers(phq9, phq9_answers(0, difficulty=1)) == {"difficulty": [HIDDEN]}
    assert validate_answers(phq9, phq9_answers(0, phq9_5=2, difficulty=1)) == {}


def test_hidden_required_item_is_not_required(adverse_event, neq):
    assert validate_answers(adverse_event, {"occurred": False}) == {}
    assert validate_answers(neq, neq_answers()) == {}


def test_shown_required_item_is_required(adverse_event, neq):
    errors = validate_answers(adverse_event, {"occurred": True})

    assert errors == each(
        ["description", "ongoing", "severity", "seriousness", "attributed"], REQUIRED)
    answers = {**neq_answers(), "q7_occurred": 1}
    assert validate_answers(neq, answers) == {"q7_impact": [REQUIRED], "q7_cause": [REQUIRED]}


def test_item_whose_controlling_item_is_unanswered_may_not_be_answered(skip_logic):
    assert validate_answers(skip_logic, {"detail": "hi"}) == {"detail": [HIDDEN]}
    assert validate_answers(skip_logic, {"gate": None, "detail": "hi"}) == {"detail": [HIDDEN]}


def test_item_whose_controlling_item_is_unanswered_is_not_required(skip_logic):
    assert validate_answers(skip_logic, {}) == {}
    assert validate_answers(skip_logic, {"gate": False}) == {}
    assert validate_answers(skip_logic, {"gate": True}) == {"detail": [REQUIRED]}
    assert validate_answers(skip_logic, {"gate": True, "detail": "hi"}) == {}


def test_invalid_controlling_answer_hides_its_dependants(adverse_event):
    errors = validate_answers(adverse_event, adverse_event_answers(occurred="yes"))

    assert errors["occurred"] == ["must be true or false"]
    assert errors["description"] == [HIDDEN]


@pytest.mark.parametrize(
    ("a", "b", "either_shown", "both_shown"),
    [
        (3, 0, True, False),
        (0, 4, True, False),
        (3, 4, True, True),
        (2, 2, False, False),
        (4, None, True, False),  # all: one part unknown → not shown
        (0, None, False, False),  # any: no part true, one unknown → not shown
        (None, None, False, False),
    ],
)
def test_any_and_all_conditions(a, b, either_shown, both_shown, skip_logic):
    given = {"a": a, "b": b}

    errors = validate_answers(skip_logic, {**given, "either": 1, "both": 1})
    missing = validate_answers(skip_logic, given)

    assert ("either" in errors) is not either_shown
    assert ("both" in errors) is not both_shown
    assert all(messages == [HIDDEN] for messages in errors.values())
    assert missing == ({"both": [REQUIRED]} if both_shown else {})


@pytest.mark.parametrize(("colour", "shown"), [("red", True), ("green", True),
                                                ("blue", False), (None, False)])
def test_in_condition_on_text_codes(colour, shown, skip_logic):
    errors = validate_answers(skip_logic, {"colour": colour, "warm": 2})

    assert errors == ({} if shown else {"warm": [HIDDEN]})


# --------------------------------------------------------------------- the answer set as a whole


@pytest.mark.parametrize("answers", [None, [], ["average", 5], "average=5", 5, True],
                         ids=["null", "empty-list", "list", "string", "number", "boolean"])
def test_answer_set_that_is_not_an_object_is_one_error_on_the_empty_key(answers, nrs_pain):
    errors = validate_answers(nrs_pain, answers)

    assert list(errors) == [""]
    assert errors[""] == ["must be an object mapping item ids to answers"]


def test_non_string_keys_are_unknown_items(nrs_pain):
    assert validate_answers(nrs_pain, {"average": 5, 1: 2}) == {"1": ["unknown item"]}


def test_every_problem_is_reported_at_once(phq9):
    answers = {"phq9_1": 4, "phq9_2": "1", "phq9_3": True, "phq9_4": 1.0, "phq9_5": None,
               "phq9_6": 2, "phq9_7": 2, "phq9_8": 2, "mood": 1}

    errors = validate_answers(phq9, answers)

    assert errors == {
        "phq9_1": ["must be one of [0, 1, 2, 3]"],
        "phq9_2": ["must be one of [0, 1, 2, 3]"],
        "phq9_3": ["must be one of [0, 1, 2, 3]"],
        "phq9_4": ["must be one of [0, 1, 2, 3]"],
        "phq9_5": [REQUIRED],
        "phq9_9": [REQUIRED],
        "mood": ["unknown item"],
    }


def test_every_problem_is_reported_at_once_across_kinds(adverse_event):
    answers = adverse_event_answers(description="x" * 2001, onset_date="2024-02-30",
                                    ongoing=1, severity="extreme",
                                    seriousness=["none", "death"], attributed=None, extra=1)

    errors = validate_answers(adverse_event, answers)

    assert set(errors) == {"description", "onset_date", "ongoing", "severity", "seriousness",
                           "attributed", "extra"}
    assert all(len(messages) == 1 for messages in errors.values())


def test_validation_does_not_change_the_answers(adverse_event):
    answers = adverse_event_answers()
    before = {key: (list(value) if isinstance(value, list) else value)
              for key, value in answers.items()}

    validate_answers(adverse_event, answers)

    assert answers == before
