"""Every instrument, with realistic answers at every severity, through FHIR and back.

For each definition in the library, synthetic answer sets (`prom.synthetic.answers_at`, which
answers exactly the items shown) become a QuestionnaireResponse that the R4B model accepts, and
are read back into the same native answers. The Questionnaire's ``enableWhen`` is evaluated as a
FHIR form filler would (a small evaluator below, following the R4 rules for ``enableWhen`` and
``enableBehavior``) and must enable exactly the items prom shows: a client that renders prom's
Questionnaire asks what prom's own validation expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from prom.fhir.questionnaire import questionnaire
from prom.fhir.response import questionnaire_response, submission
from prom.instruments import load_library
from prom.synthetic import _shown, answers_at

LIBRARY = load_library()
BASE = "https://prom.example.org/api/v1/fhir"
SEVERITIES = np.linspace(0.0, 1.0, 11)
SEEDS = range(4)


def answer_sets(definition: Any) -> list[dict[str, Any]]:
    """Noisy answers at 11 severities for 4 seeds, and the best and worst without noise (PHQ-9
    all "not at all" hides its difficulty item)."""
    sets = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        sets += [answers_at(definition, float(severity), rng) for severity in SEVERITIES]
    rng = np.random.default_rng(0)
    sets += [answers_at(definition, severity, rng, noise=0.0, omit_optional=0.0)
             for severity in (0.0, 1.0)]
    return sets


def stored(definition: Any) -> dict[str, Any]:
    return {"id": "0b4f2c55-9f7e-4f0e-9a53-d1d1f6b0a001",
            "participant_id": "5d1c2b3a-0000-4000-8000-000000000002",
            "instrument": definition.id, "instrument_version": definition.version,
            "timepoint": None, "collected_at": "2026-11-20T09:30:00+01:00", "version": 1}


# ---------------------------------------------------------------------------------------------
# A FHIR R4 enableWhen evaluator (https://hl7.org/fhir/R4/questionnaire-definitions.html)

_ORDER = {">": lambda a, b: a > b, "<": lambda a, b: a < b,
          ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def _comparable(answer: Mapping[str, Any]) -> Any:
    for key, value in answer.items():
        if key.startswith("value"):
            return (value["system"], value["code"]) if key == "valueCoding" else value
    raise AssertionError(f"no value in {answer}")


def _holds(condition: Mapping[str, Any], answers: Mapping[str, list[Any]]) -> bool:
    given = answers.get(condition["question"], [])
    operator = condition["operator"]
    [(key, expected)] = [(k, v) for k, v in condition.items() if k.startswith("answer")]
    if operator == "exists":
        return bool(given) == expected
    if key == "answerCoding":
        expected = (expected["system"], expected["code"])
    if operator == "=":
        return any(value == expected for value in given)
    assert operator in _ORDER, f"prom should not write {operator!r}: see prom/fhir/questionnaire"
    return any(_ORDER[operator](value, expected) for value in given)


def enabled(item: Mapping[str, Any], answers: Mapping[str, list[Any]]) -> bool:
    conditions = item["enableWhen"]
    results = [_holds(condition, answers) for condition in conditions]
    if len(results) == 1:
        return results[0]
    return all(results) if item["enableBehavior"] == "all" else any(results)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("definition", list(LIBRARY), ids=lambda d: f"{d.id}-{d.version}")
def test_synthetic_answers_go_through_fhir_unchanged_and_enable_the_items_prom_shows(
        definition: Any) -> None:
    form = questionnaire(definition, "en", BASE, "https://prom.example.org/definition")
    by_link = {item["linkId"]: item for item in form["item"]}
    conditional = [item for item in definition.items if "enableWhen" in by_link[item.id]]
    checked, outcomes = 0, set()

    for answers in answer_sets(definition):
        resource = questionnaire_response(stored(definition), answers, definition, BASE, "en")
        QuestionnaireResponse.model_validate(resource)

        body, _ = submission(resource, definition, BASE)
        assert body["answers"] == {k: v for k, v in answers.items() if v is not None}

        given = {entry["linkId"]: [_comparable(a) for a in entry.get("answer", [])]
                 for entry in resource.get("item", [])}
        for item in conditional:
            shown = _shown(definition, item, answers)
            assert enabled(by_link[item.id], given) == shown, (item.id, answers)
            checked += 1
            outcomes.add(shown)

    assert checked == len(conditional) * (len(SEEDS) * len(SEVERITIES) + 2)
    assert outcomes == ({True, False} if conditional else set())  # both ways were tried
