"""Instrument definitions as FHIR R4 Questionnaires (prom.fhir.questionnaire), checked with the
fhir.resources R4B models (R4B's Questionnaire is R4's)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from prom.fhir import (
    ENABLE_WHEN_EXPRESSION,
    HIDDEN_VALUE_EXTENSION,
    ITEM_CONTROL,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    SCALE_EXTENSION,
    SLIDER_STEP,
)
from prom.fhir.questionnaire import questionnaire
from prom.instruments import load_library
from prom.instruments.spec import Comparison, Condition

LIBRARY = load_library()
BASE = "https://prom.example.org/api/v1/fhir"


def mapped(instrument_id: str, version: str | None = None) -> dict[str, Any]:
    definition = LIBRARY.get(instrument_id, version)
    resource = questionnaire(definition, "en", BASE, f"https://x/{instrument_id}")
    Questionnaire.model_validate(resource)
    return resource


def item(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for i in resource["item"] if i["linkId"] == link_id)


def extension(element: dict[str, Any], url: str) -> dict[str, Any]:
    [found] = [e for e in element.get("extension", []) if e["url"] == url]
    return found


@pytest.mark.parametrize("definition", list(LIBRARY), ids=lambda d: f"{d.id}-{d.version}")
def test_every_instrument_maps_to_a_valid_questionnaire(definition: Any) -> None:
    resource = questionnaire(definition, "en", BASE)

    Questionnaire.model_validate(resource)
    assert resource["url"] == f"{BASE}/Questionnaire/{definition.id}"
    assert resource["version"] == definition.version
    questions = [i for i in resource["item"] if i["type"] != "display"]
    assert [i["linkId"] for i in questions] == [i.id for i in definition.items]
    assert all(i["text"] for i in questions)
    assert len([e for e in resource.get("extension", []) if e["url"] == SCALE_EXTENSION]) == \
        len(definition.scales)
    assert resource["copyright"].startswith(f"© {definition.license.holder.rstrip('.')}.")
    assert ".." not in resource["copyright"]


def test_phq9_items_are_coded_choices_with_ordinal_values_and_a_loinc_code() -> None:
    resource = mapped("phq9")

    assert resource["code"][0] == {"system": "http://loinc.org", "code": "44249-1",
                                   "display": resource["code"][0]["display"]}
    first = item(resource, "phq9_1")
    assert first["type"] == "choice" and first["required"] is True
    assert "repeats" not in first
    system = f"{BASE}/CodeSystem/phq9-frequency"
    assert [o["valueCoding"] for o in first["answerOption"]] == [
        {"system": system, "code": "0", "display": "Not at all"},
        {"system": system, "code": "1", "display": "Several days"},
        {"system": system, "code": "2", "display": "More than half the days"},
        {"system": system, "code": "3", "display": "Nearly every day"}]
    assert [extension(o, ORDINAL_VALUE)["valueDecimal"] for o in first["answerOption"]] == \
        [0, 1, 2, 3]
    # item 10 has its own inline format, so its own CodeSystem: its 0 means something else
    assert item(resource, "difficulty")["answerOption"][0]["valueCoding"]["system"] == \
        f"{BASE}/CodeSystem/phq9-difficulty"


def test_phq9_difficulty_is_enabled_when_any_item_is_at_least_several_days() -> None:
    difficulty = item(mapped("phq9"), "difficulty")

    assert difficulty["enableBehavior"] == "any"
    assert difficulty["required"] is False
    # each "phq9_n gte 1" is the options scored 1, 2 or 3
    assert len(difficulty["enableWhen"]) == 27
    assert {(w["question"], w["operator"], w["answerCoding"]["code"])
            for w in difficulty["enableWhen"]} == {
        (f"phq9_{n}", "=", code) for n in range(1, 10) for code in ("1", "2", "3")}


def test_gad7_difficulty_is_enabled_by_any_of_the_seven_items() -> None:
    difficulty = item(mapped("gad7"), "difficulty")

    assert difficulty["enableBehavior"] == "any"
    assert {w["question"] for w in difficulty["enableWhen"]} == {f"gad7_{n}" for n in range(1, 8)}


def test_adverse_event_items_follow_occurred_and_map_every_response_type() -> None:
    resource = mapped("adverse_event")

    occurred = item(resource, "occurred")
    assert occurred["type"] == "boolean"
    description = item(resource, "description")
    assert description["type"] == "text" and description["maxLength"] == 2000
    assert description["enableWhen"] == [
        {"question": "occurred", "operator": "=", "answerBoolean": True}]
    assert "enableBehavior" not in description  # one condition needs none
    assert item(resource, "onset_date")["type"] == "date"
    seriousness = item(resource, "seriousness")
    assert seriousness["type"] == "choice" and seriousness["repeats"] is True
    assert extension(seriousness, HIDDEN_VALUE_EXTENSION)["valueDecimal"] == 0
    assert all("extension" not in o for o in seriousness["answerOption"])  # indicators
    severity = item(resource, "severity")
    assert [o["valueCoding"]["code"] for o in severity["answerOption"]] == \
        ["mild", "moderate", "severe"]


def test_neq_impact_follows_occurred_and_keeps_its_hidden_value() -> None:
    impact = item(mapped("neq"), "q1_impact")

    assert impact["enableWhen"] == [{"question": "q1_occurred", "operator": "=",
                                     "answerCoding": {"system": f"{BASE}/CodeSystem/neq-occurred",
                                                      "code": "1"}}]
    assert extension(impact, HIDDEN_VALUE_EXTENSION)["valueDecimal"] == 0
    cause = item(mapped("neq"), "q1_cause")
    # declared option values are the ordinal values scoring uses
    assert [extension(o, ORDINAL_VALUE)["valueDecimal"] for o in cause["answerOption"]] == [1, 0]


def test_nrs_pain_is_an_integer_from_0_to_10_with_its_anchors() -> None:
    average = item(mapped("nrs_pain"), "average")

    assert average["type"] == "integer"
    assert extension(average, MIN_VALUE)["valueInteger"] == 0
    assert extension(average, MAX_VALUE)["valueInteger"] == 10
    entry_format = extension(average, "http://hl7.org/fhir/StructureDefinition/entryFormat")
    assert "0 = No pain" in entry_format["valueString"]


def test_eq5d5l_vas_is_a_slider_with_step_1() -> None:
    vas = item(mapped("eq5d5l"), "vas")

    control = extension(vas, ITEM_CONTROL)["valueCodeableConcept"]["coding"][0]
    assert control["code"] == "slider"
    assert extension(vas, SLIDER_STEP)["valueInteger"] == 1
    assert extension(vas, MAX_VALUE)["valueInteger"] == 100
    # Its anchors are labelled "0 (worst)" and "100 (best)": not "0 = 0 (worst)".
    assert extension(vas, "http://hl7.org/fhir/StructureDefinition/entryFormat")[
        "valueString"] == "0–100 (0 (worst); 100 (best))"


def test_licensed_instrument_without_text_shows_only_its_labels() -> None:
    definition = LIBRARY.get("bpi_sf")
    assert definition.license.text_included is False
    resource = mapped("bpi_sf")

    questions = {i["linkId"]: i for i in resource["item"] if i["type"] != "display"}
    assert {link: q["text"] for link, q in questions.items()} == {
        i.id: i.label for i in definition.items}
    assert not [i for i in resource["item"] if i["type"] == "display"]  # no instructions text
    assert definition.license.holder in resource["copyright"]
    assert "not included" in resource["copyright"]


def test_scales_carry_method_items_range_bands_and_mcid() -> None:
    resource = mapped("phq9")

    [scale] = [e for e in resource["extension"] if e["url"] == SCALE_EXTENSION]
    parts = scale["extension"]
    assert [p["valueString"] for p in parts if p["url"] == "item"] == \
        [f"phq9_{n}" for n in range(1, 10)]
    method = LIBRARY.get("phq9").scales[0].method
    assert next(p for p in parts if p["url"] == "method")["valueCode"] == method
    assert next(p for p in parts if p["url"] == "code")["valueCoding"]["code"] == "44261-6"
    assert next(p for p in parts if p["url"] == "range")["valueRange"] == {
        "low": {"value": 0}, "high": {"value": 27}}
    bands = [p for p in parts if p["url"] == "band"]
    assert [b["extension"][0]["valueCoding"]["code"] for b in bands][:2] == ["minimal", "mild"]
    mcid = next(p for p in parts if p["url"] == "mcid")["extension"]
    assert {m["url"] for m in mcid} >= {"absolute", "source"}
    assert resource["extension"][0] == {
        "url": "https://prom.dev/fhir/StructureDefinition/definition",
        "valueUri": "https://x/phq9"}


# ---------------------------------------------------------------------------------------------
# Conditions enableWhen cannot say, on a real definition with a replaced show_if


def with_condition(condition: Condition, item_id: str = "attributed") -> dict[str, Any]:
    definition = LIBRARY.get("adverse_event")
    items = tuple(replace(i, show_if=condition) if i.id == item_id else i
                  for i in definition.items)
    changed = replace(definition, items=items)
    resource = questionnaire(changed, "en", BASE)
    Questionnaire.model_validate(resource)
    return item(resource, item_id)


def test_an_option_not_selected_on_a_multiple_choice_item_is_a_fhirpath_expression() -> None:
    attributed = with_condition(Condition("single", (
        Comparison("item", "seriousness", "not_equals", "none"),)))

    assert "enableWhen" not in attributed
    expression = extension(attributed, ENABLE_WHEN_EXPRESSION)["valueExpression"]
    assert expression["language"] == "text/fhirpath"
    assert "linkId = 'seriousness'" in expression["expression"]
    assert "where(code = 'none').empty()" in expression["expression"]


def test_all_of_an_in_is_a_fhirpath_expression_and_all_of_single_comparisons_is_all() -> None:
    expressed = with_condition(Condition("all", (
        Comparison("item", "occurred", "equals", True),
        Comparison("item", "severity", "in", ["moderate", "severe"]))))
    assert "enableWhen" not in expressed
    text = extension(expressed, ENABLE_WHEN_EXPRESSION)["valueExpression"]["expression"]
    assert " and " in text and "'moderate' | 'severe'" in text

    both = with_condition(Condition("all", (
        Comparison("item", "occurred", "equals", True),
        Comparison("item", "severity", "equals", "severe"))))
    assert both["enableBehavior"] == "all"
    assert [w["question"] for w in both["enableWhen"]] == ["occurred", "severity"]


def test_in_and_not_equals_expand_to_equalities_with_any() -> None:
    either = with_condition(Condition("single", (
        Comparison("item", "severity", "in", ["moderate", "severe"]),)))
    assert either["enableBehavior"] == "any"
    assert [w["answerCoding"]["code"] for w in either["enableWhen"]] == ["moderate", "severe"]

    other = with_condition(Condition("single", (
        Comparison("item", "severity", "not_equals", "mild"),)))
    assert [w["answerCoding"]["code"] for w in other["enableWhen"]] == ["moderate", "severe"]

    no_event = with_condition(Condition("single", (
        Comparison("item", "occurred", "not_equals", True),)))
    assert no_event["enableWhen"] == [
        {"question": "occurred", "operator": "=", "answerBoolean": False}]
