"""Overlays (`PROM_INSTRUMENTS_PATH`): licensed wording merged into a definition that ships without
it. An overlay may supply text only; anything that would change what is valid or how it is scored
is rejected, with the overlay's file name.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from prom.instruments import LibraryError, load_library, validate_answers
from prom.scoring import compiled, score_answers

SHIPPED = Path(__file__).resolve().parents[3] / "instruments"


def located(errors):
    return [(Path(error.file).name, error.path) for error in errors]


@pytest.fixture(scope="module")
def licensed(minimal_definition):
    """A definition shipped without text: a response set, an inline choice, an integer set."""
    document = minimal_definition(id="licensed")
    document["license"]["text_included"] = False
    document["title"] = {"en": "Licensed questionnaire (wording by overlay)"}
    document["response_sets"]["frequency"] = {
        "type": "single_choice",
        "options": [{"code": code, "label": {"en": f"Level {code}"}} for code in range(4)],
    }
    document["items"] = [
        {"id": "f1", "label": "Frequency 1", "response": "frequency", "required": True},
        {"id": "f2", "label": "Frequency 2", "response": "frequency"},
        {"id": "r1", "label": "Rating 1", "response": "rating"},
        {"id": "helped", "label": "Helped", "response": {
            "type": "single_choice",
            "options": [{"code": "no", "label": {"en": "No"}},
                        {"code": "yes", "label": {"en": "Yes"}}]}},
    ]
    document["scales"] = [
        {"id": "total", "label": {"en": "Total"}, "method": "sum", "items": ["f1", "f2", "r1"],
         "range": [0, 10], "higher_is": "worse",
         "bands": [{"code": "low", "min": 0, "label": {"en": "Low"}},
                   {"code": "high", "min": 5, "label": {"en": "High"}}]},
    ]
    document["alerts"] = [{"id": "high", "when": {"scale": "total", "gte": 8},
                           "severity": "medium", "message": {"en": "Total of 8 or more"}}]
    return document


@pytest.fixture(scope="module")
def library_dir(licensed, minimal_definition, write_library):
    return write_library({"licensed-1.yaml": licensed, "mini-1.yaml": minimal_definition()})


def full_overlay(**extra):
    return {
        "overlay": True,
        "id": "licensed",
        "version": "1",
        "languages": ["en", "de"],
        "title": {"en": "The Licensed Questionnaire", "de": "Der lizenzierte Fragebogen"},
        "description": {"en": "Licensed wording."},
        "instructions": {"en": "Answer every question."},
        "items": {
            "f1": {"text": {"en": "How often did the first thing happen?",
                            "de": "Wie oft geschah das Erste?"}},
            "f2": {"text": {"en": "How often did the second thing happen?"}},
            "r1": {"text": {"en": "How strong was it?"}},
            "helped": {"text": {"en": "Did it help?"},
                       "options": {"no": {"en": "Not at all"}, "yes": {"en": "Yes, it did"}}},
        },
        "response_sets": {
            "frequency": {"options": {"0": {"en": "Never"}, "3": {"en": "Always"}}},
            "rating": {"anchors": {"4": {"en": "As strong as can be"}}},
        },
        **extra,
    }


@pytest.fixture(scope="module")
def overlaid(library_dir, write_library):
    overlay_dir = write_library({"licensed.yaml": full_overlay()}, name="overlay")
    return load_library(library_dir, overlay_directory=overlay_dir)


@pytest.fixture(scope="module")
def bare(library_dir):
    return load_library(library_dir)


# --------------------------------------------------------------------------- text is merged in


def test_definition_without_overlay_has_no_text(bare):
    definition = bare.get("licensed")

    assert definition.text_source == "none"
    assert all(not item.text for item in definition.items)


def test_overlay_supplies_item_text(overlaid):
    definition = overlaid.get("licensed")

    assert definition.item("f1").text == {"en": "How often did the first thing happen?",
                                          "de": "Wie oft geschah das Erste?"}
    assert definition.item("f2").text == {"en": "How often did the second thing happen?"}
    assert definition.item("helped").text == {"en": "Did it help?"}


def test_overlay_supplies_option_labels_of_a_response_set(overlaid):
    definition = overlaid.get("licensed")

    for item_id in ("f1", "f2"):  # both items share the response set
        labels = [option.label["en"] for option in definition.item(item_id).response.options]
        assert labels == ["Never", "Level 1", "Level 2", "Always"]


def test_overlay_supplies_option_labels_of_an_inline_response(overlaid):
    options = overlaid.get("licensed").item("helped").response.options

    assert [(o.code, o.label["en"]) for o in options] == [("no", "Not at all"),
                                                          ("yes", "Yes, it did")]


def test_overlay_supplies_anchor_labels(overlaid):
    anchors = overlaid.get("licensed").item("r1").response.anchors

    assert [(a.value, a.label["en"]) for a in anchors] == [(0, "None"),
                                                           (4, "As strong as can be")]


def test_overlay_supplies_title_description_instructions_and_languages(overlaid):
    definition = overlaid.get("licensed")

    assert definition.title == {"en": "The Licensed Questionnaire",
                                "de": "Der lizenzierte Fragebogen"}
    assert definition.description == {"en": "Licensed wording."}
    assert definition.instructions == {"en": "Answer every question."}
    assert definition.languages == ("en", "de")


def test_overlaid_text_is_in_the_served_document(overlaid):
    document = overlaid.get("licensed").document

    assert document["items"][0]["text"]["en"] == "How often did the first thing happen?"
    assert document["response_sets"]["frequency"]["options"][0]["label"] == {"en": "Never"}
    assert document["title"]["en"] == "The Licensed Questionnaire"


def test_text_source_becomes_overlay_only_for_the_overlaid_definition(overlaid):
    assert overlaid.get("licensed").text_source == "overlay"
    assert overlaid.get("mini").text_source == "bundled"
    assert overlaid.overlay_directory is not None


def test_overlay_does_not_change_the_file_it_was_merged_into(overlaid, bare, licensed):
    assert overlaid.get("licensed").license.text_included is False
    assert bare.get("licensed").document["title"] == licensed["title"]
    assert "text" not in bare.get("licensed").document["items"][0]


def test_partial_overlay_keeps_the_other_labels(library_dir, write_library):
    overlay = {"overlay": True, "id": "licensed", "version": "1",
               "items": {"f1": {"text": {"en": "Only this one"}}}}
    library = load_library(library_dir, write_library({"o.yaml": overlay}, name="overlay"))

    definition = library.get("licensed")
    assert definition.text_source == "overlay"
    assert definition.item("f1").text == {"en": "Only this one"}
    assert definition.item("f2").text == {}
    assert definition.title == {"en": "Licensed questionnaire (wording by overlay)"}
    assert definition.item("f1").response.options[0].label == {"en": "Level 0"}


# ---------------------------------------------------------------------- scoring is unchanged


@pytest.mark.parametrize(
    "answers",
    [
        {"f1": 0, "f2": 0, "r1": 0},
        {"f1": 3, "f2": 3, "r1": 4, "helped": "yes"},
        {"f1": 2, "f2": 1, "r1": 2},
        {"f1": 2},
    ],
)
def test_overlay_leaves_scoring_unchanged(answers, overlaid, bare):
    with_text, without_text = overlaid.get("licensed"), bare.get("licensed")

    assert with_text.scales == without_text.scales
    assert with_text.alerts == without_text.alerts
    assert [(i.id, i.required, i.show_if, i.hidden_value, i.response.type,
             i.response.numeric_values(), i.response.codes) for i in with_text.items] == [
        (i.id, i.required, i.show_if, i.hidden_value, i.response.type,
         i.response.numeric_values(), i.response.codes) for i in without_text.items]
    assert validate_answers(with_text, answers) == validate_answers(without_text, answers) == {}
    assert score_answers(with_text, answers) == score_answers(without_text, answers)


def test_overlay_leaves_the_scoring_version_unchanged(overlaid, bare):
    assert (compiled(overlaid.get("licensed")).scoring_version
            == compiled(bare.get("licensed")).scoring_version)


@pytest.fixture(scope="module")
def neq_pair(shipped_library, write_library):
    """The shipped NEQ-20 (no text), and a copy of it loaded with an overlay for three effects."""
    directory = write_library({})
    shutil.copy(SHIPPED / "neq-1.yaml", directory / "neq-1.yaml")
    overlay = {
        "overlay": True, "id": "neq", "version": "1",
        "title": {"en": "Negative Effects Questionnaire"},
        "items": {f"q{n}_occurred": {"text": {"en": f"Effect {n} wording"}} for n in (1, 2, 3)},
        "response_sets": {"occurred": {"options": {"0": {"en": "No, never"},
                                                   "1": {"en": "Yes, it happened"}}},
                          "cause": {"options": {"treatment": {"en": "The treatment I received"},
                                                "other": {"en": "Other circumstances"}}},
                          "impact": {"anchors": {"0": {"en": "Not at all"},
                                                 "4": {"en": "Extremely"}}}},
    }
    overlay_dir = write_library({"neq-1.yaml": overlay}, name="overlay")
    return shipped_library.get("neq", "1"), load_library(directory, overlay_dir).get("neq")


def test_overlay_on_a_shipped_definition_keeps_its_scores(neq_pair):
    bare_neq, neq = neq_pair
    answers = {f"q{n}_occurred": 0 for n in range(1, 21)}
    answers.update(q2_occurred=1, q2_impact=4, q2_cause="treatment",
                   q5_occurred=1, q5_impact=2, q5_cause="other")

    assert neq.text_source == "overlay"
    assert neq.item("q1_occurred").text == {"en": "Effect 1 wording"}
    assert neq.item("q1_cause").response.options[0].label == {"en": "The treatment I received"}
    assert validate_answers(neq, answers) == {}
    scores = {scale: score.value for scale, score in score_answers(neq, answers).items()}
    assert scores == {"n_effects": 2, "impact": 6, "n_treatment_related": 1}
    assert score_answers(neq, answers) == score_answers(bare_neq, answers)
    assert compiled(neq).scoring_version == compiled(bare_neq).scoring_version


# ------------------------------------------------------------------ overlays that are rejected


def overlay_errors(library_dir, write_library, library_errors, overlay, file_name="ovl.yaml"):
    return library_errors(library_dir, write_library({file_name: overlay}, name="overlay"))


@pytest.mark.parametrize(
    ("extra", "path", "unexpected"),
    [
        ({"scales": [{"id": "total", "method": "mean"}]}, "$", "scales"),
        ({"alerts": []}, "$", "alerts"),
        ({"license": {"text_included": True}}, "$", "license"),
        ({"domains": ["quality_of_life"]}, "$", "domains"),
        ({"items": {"f1": {"response": "rating"}}}, "$.items.f1", "response"),
        ({"items": {"f1": {"required": False}}}, "$.items.f1", "required"),
        ({"items": {"f2": {"show_if": {"item": "f1", "gte": 1}}}}, "$.items.f2", "show_if"),
        ({"items": {"f2": {"hidden_value": 0}}}, "$.items.f2", "hidden_value"),
        ({"response_sets": {"rating": {"max": 10}}}, "$.response_sets.rating", "max"),
        ({"response_sets": {"frequency": {"type": "integer"}}}, "$.response_sets.frequency",
         "type"),
    ],
    ids=["scales", "alerts", "license", "domains", "item-response", "item-required",
         "item-show_if", "item-hidden_value", "response-set-max", "response-set-type"],
)
def test_overlay_that_would_change_scoring_or_validity_is_rejected(
        extra, path, unexpected, library_dir, write_library, library_errors):
    overlay = {"overlay": True, "id": "licensed", "version": "1"}
    for key, value in extra.items():
        overlay[key] = value

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert located(errors) == [("ovl.yaml", path)]
    assert f"'{unexpected}' was unexpected" in errors[0].reason
    assert "an overlay may only supply text" in errors[0].reason


def test_overlay_cannot_change_an_option_value(library_dir, write_library, library_errors):
    overlay = {"overlay": True, "id": "licensed", "version": "1",
               "response_sets": {"frequency": {"options": {"3": {"en": "Always", "value": 9}}}}}

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert ("ovl.yaml", "$.response_sets.frequency.options['3'].value") in located(errors)
    assert all(Path(error.file).name == "ovl.yaml" for error in errors)
    assert all("an overlay may only supply text" in error.reason for error in errors)


@pytest.mark.parametrize("missing", ["overlay", "id", "version"])
def test_overlay_must_say_what_it_overlays(missing, library_dir, write_library, library_errors):
    overlay = {"overlay": True, "id": "licensed", "version": "1"}
    del overlay[missing]

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert located(errors) == [("ovl.yaml", "$")]
    assert f"'{missing}' is a required property" in errors[0].reason


@pytest.mark.parametrize(("instrument_id", "version"), [("nope", "1"), ("licensed", "2"),
                                                        ("licensed", "1.0")])
def test_overlay_for_an_unknown_instrument_or_version_is_rejected(
        instrument_id, version, library_dir, write_library, library_errors):
    overlay = {"overlay": True, "id": instrument_id, "version": version}

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert located(errors) == [("ovl.yaml", "$.id")]
    assert f"overlay for unknown instrument {instrument_id} version {version}" in errors[0].reason


@pytest.mark.parametrize(
    ("overlay_part", "path", "reason"),
    [
        ({"items": {"f9": {"text": {"en": "?"}}}}, "$.items.f9", "no such item"),
        ({"response_sets": {"agreement": {"options": {"0": {"en": "?"}}}}},
         "$.response_sets.agreement", "no such response set"),
        ({"response_sets": {"frequency": {"options": {"7": {"en": "?"}}}}},
         "$.response_sets.frequency.options.7", "no code 7"),
        ({"response_sets": {"rating": {"anchors": {"2": {"en": "?"}}}}},
         "$.response_sets.rating.anchors.2", "no value 2"),
        ({"items": {"helped": {"options": {"maybe": {"en": "?"}}}}},
         "$.items.helped.options.maybe", "no code maybe"),
        ({"items": {"f1": {"options": {"0": {"en": "?"}}}}}, "$.items.f1",
         "uses a response set"),
    ],
    ids=["item", "response-set", "option-code", "anchor-value", "inline-option-code",
         "labels-of-a-shared-set-on-an-item"],
)
def test_overlay_naming_something_the_definition_lacks_is_rejected(
        overlay_part, path, reason, library_dir, write_library, library_errors):
    overlay = {"overlay": True, "id": "licensed", "version": "1", **overlay_part}

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert located(errors) == [("ovl.yaml", path)]
    assert reason in errors[0].reason


def test_every_overlay_problem_is_reported(library_dir, write_library, library_errors):
    first = {"overlay": True, "id": "licensed", "version": "1",
             "items": {"f9": {"text": {"en": "?"}}, "f8": {"text": {"en": "?"}}}}
    second = {"overlay": True, "id": "mini", "version": "1", "scales": []}
    third = {"overlay": True, "id": "gone", "version": "1"}
    overlay_dir = write_library({"a.yaml": first, "b.yaml": second, "c.yaml": third},
                                name="overlay")

    errors = library_errors(library_dir, overlay_dir)

    assert sorted(located(errors)) == [("a.yaml", "$.items.f8"), ("a.yaml", "$.items.f9"),
                                       ("b.yaml", "$"), ("c.yaml", "$.id")]


def test_overlay_with_a_yaml_syntax_error_is_reported_with_its_line(library_dir, write_library,
                                                                    library_errors):
    text = 'overlay: true\nid: licensed\nversion: "1"\ntitle: en: x\n'

    errors = overlay_errors(library_dir, write_library, library_errors, text)

    assert located(errors) == [("ovl.yaml", "line 4")]
    assert "not valid YAML" in errors[0].reason


def test_missing_overlay_directory_is_an_error(library_dir, tmp_path, library_errors):
    missing = tmp_path / "no-overlays"

    errors = library_errors(library_dir, missing)

    assert [(error.file, error.path) for error in errors] == [(str(missing), "$")]
    assert "overlay directory not found" in errors[0].reason


def test_empty_overlay_directory_changes_nothing(library_dir, write_library):
    library = load_library(library_dir, write_library({}, name="overlay"))

    assert library.get("licensed").text_source == "none"


# ----------------------------------------------------------------- where overlay errors point


def test_overlay_text_in_a_language_it_does_not_list_is_blamed_on_the_overlay(
        library_dir, write_library, library_errors):
    overlay = {"overlay": True, "id": "licensed", "version": "1",
               "items": {"f1": {"text": {"en": "First?", "de": "Erstens?"}}}}

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert [Path(error.file).name for error in errors] == ["ovl.yaml"]
    assert "'de'" in errors[0].reason
    assert "not listed" in errors[0].reason


def test_overlay_for_a_definition_with_its_own_error_is_not_called_unknown(
        licensed, write_library, library_errors):
    broken = copy.deepcopy(licensed)
    broken["items"][3]["hidden_value"] = 0  # without show_if
    directory = write_library({"licensed-1.yaml": broken})
    overlay = {"overlay": True, "id": "licensed", "version": "1",
               "items": {"f1": {"text": {"en": "First?"}}}}

    errors = library_errors(directory, write_library({"ovl.yaml": overlay}, name="overlay"))

    assert located(errors) == [("licensed-1.yaml", "$.items[3].hidden_value")]


@pytest.mark.parametrize(
    "overlay_part",
    [
        {"languages": ["english"]},
        {"title": {"english": "Title"}},
        {"items": {"f1": {"text": {"EN": "First?"}}}},
        {"response_sets": {"frequency": {"options": {"0": {"value": "5"}}}}},
    ],
    ids=["languages", "title", "item-text", "option-label"],
)
def test_overlay_language_tags_must_be_valid(overlay_part, library_dir, write_library,
                                             library_errors):
    overlay = {"overlay": True, "id": "licensed", "version": "1", **overlay_part}

    errors = overlay_errors(library_dir, write_library, library_errors, overlay)

    assert [Path(error.file).name for error in errors] == ["ovl.yaml"]


def test_overlay_labels_for_integer_codes_may_be_unquoted_yaml_keys(library_dir, write_library):
    text = ('overlay: true\nid: licensed\nversion: "1"\n'
            'response_sets:\n  frequency: {options: {0: {en: Never}, 3: {en: Always}}}\n'
            '  rating: {anchors: {4: {en: As strong as can be}}}\n')
    library = load_library(library_dir, write_library({"ovl.yaml": text}, name="overlay"))

    definition = library.get("licensed")
    labels = [option.label["en"] for option in definition.item("f1").response.options]
    assert labels == ["Never", "Level 1", "Level 2", "Always"]
    assert definition.item("r1").response.anchors[-1].label == {"en": "As strong as can be"}


def test_two_overlays_for_one_definition_are_not_silently_dropped(library_dir, write_library):
    english = {"overlay": True, "id": "licensed", "version": "1",
               "items": {"f1": {"text": {"en": "First?"}}}}
    german = {"overlay": True, "id": "licensed", "version": "1", "languages": ["de"],
              "items": {"f2": {"text": {"de": "Zweitens?"}}}}
    overlay_dir = write_library({"licensed-de.yaml": german, "licensed-en.yaml": english},
                                name="overlay")

    definition, errors = load_or_errors(library_dir, overlay_dir)

    if errors:  # rejecting the second overlay, naming it, would be fine too
        assert {Path(error.file).name for error in errors} <= {"licensed-de.yaml",
                                                               "licensed-en.yaml"}
    else:
        assert definition.item("f1").text == {"en": "First?"}
        assert definition.item("f2").text == {"de": "Zweitens?"}


def load_or_errors(directory, overlay_directory):
    try:
        return load_library(directory, overlay_directory).get("licensed"), []
    except LibraryError as raised:
        return None, raised.errors
