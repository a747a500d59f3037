"""Stored responses as QuestionnaireResponses and Observations, and QuestionnaireResponses read
back into native submission bodies (prom.fhir.response, prom.fhir.observation, prom.fhir.bundle).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from prom.fhir import TIMEPOINT_EXTENSION
from prom.fhir.bundle import searchset
from prom.fhir.observation import observations, with_scores
from prom.fhir.response import InvalidResource, instrument_of, questionnaire_response, submission
from prom.instruments import load_library

LIBRARY = load_library()
BASE = "https://prom.example.org/api/v1/fhir"
RESPONSE_ID = "0b4f2c55-9f7e-4f0e-9a53-d1d1f6b0a001"
PARTICIPANT_ID = "5d1c2b3a-0000-4000-8000-000000000002"

ADVERSE_EVENT = {"occurred": True, "description": "Headache after the session",
                 "onset_date": "2026-11-01", "ongoing": False, "severity": "moderate",
                 "seriousness": ["hospitalisation", "medically_important"],
                 "attributed": "unsure"}


def stored(instrument: str, **changes: Any) -> dict[str, Any]:
    body = {"id": RESPONSE_ID, "participant_id": PARTICIPANT_ID, "instrument": instrument,
            "instrument_version": LIBRARY.get(instrument).version, "timepoint": "baseline",
            "collected_at": "2026-11-20T09:30:00+01:00",
            "received_at": "2026-11-20T08:31:02.123456+00:00", "version": 1,
            "scores": {}, "alerts": []}
    body.update(changes)
    return body


def out(instrument: str, answers: dict[str, Any], **changes: Any) -> dict[str, Any]:
    resource = questionnaire_response(stored(instrument, **changes), answers,
                                      LIBRARY.get(instrument), BASE, "en")
    QuestionnaireResponse.model_validate(resource)
    return resource


def read(resource: dict[str, Any], instrument: str = "adverse_event") -> dict[str, Any]:
    return submission(resource, LIBRARY.get(instrument), BASE)[0]


def errors_of(resource: dict[str, Any], instrument: str = "adverse_event") -> dict[str, Any]:
    with pytest.raises(InvalidResource) as caught:
        submission(resource, LIBRARY.get(instrument), BASE)
    return caught.value.errors


def test_every_response_type_goes_out_and_comes_back_unchanged() -> None:
    resource = out("adverse_event", ADVERSE_EVENT)

    assert resource["questionnaire"] == f"{BASE}/Questionnaire/adverse_event|1"
    assert resource["status"] == "completed"
    assert resource["subject"] == {"reference": f"Patient/{PARTICIPANT_ID}"}
    assert resource["authored"] == "2026-11-20T09:30:00+01:00"
    assert resource["extension"] == [{"url": TIMEPOINT_EXTENSION, "valueString": "baseline"}]
    by_link = {i["linkId"]: i["answer"] for i in resource["item"]}
    assert by_link["occurred"] == [{"valueBoolean": True}]
    assert by_link["onset_date"] == [{"valueDate": "2026-11-01"}]
    assert by_link["description"] == [{"valueString": "Headache after the session"}]
    assert [a["valueCoding"]["code"] for a in by_link["seriousness"]] == \
        ["hospitalisation", "medically_important"]

    body = read(resource)
    assert body == {"id": RESPONSE_ID, "instrument": "adverse_event", "instrument_version": "1",
                    "collected_at": "2026-11-20T09:30:00+01:00", "language": "en",
                    "participant_id": PARTICIPANT_ID, "timepoint": "baseline",
                    "answers": ADVERSE_EVENT}


def test_integer_codes_come_back_as_integers_and_unanswered_items_stay_out() -> None:
    answers = {f"phq9_{n}": n % 4 for n in range(1, 10)} | {"difficulty": None}
    resource = out("phq9", answers)

    assert [i["linkId"] for i in resource["item"]] == [f"phq9_{n}" for n in range(1, 10)]
    assert read(resource, "phq9")["answers"] == {k: v for k, v in answers.items()
                                                 if v is not None}


def test_an_empty_selection_is_an_item_without_answers() -> None:
    answers = {**ADVERSE_EVENT, "seriousness": []}
    resource = out("adverse_event", answers)

    assert {"linkId": "seriousness"} in resource["item"]
    assert read(resource)["answers"]["seriousness"] == []


def test_an_amended_response_is_amended() -> None:
    assert out("adverse_event", ADVERSE_EVENT, version=2)["status"] == "amended"


@pytest.mark.parametrize(("reference", "expected"), [
    ("https://elsewhere.example/fhir/Questionnaire/phq9|1", ("phq9", "1")),
    ("phq9|1", ("phq9", "1")),
    ("urn:x:odi|2.1", ("urn:x:odi", "2.1")),
])
def test_any_canonical_ending_in_the_instrument_id_with_a_version_names_it(
        reference: str, expected: tuple[str, str]) -> None:
    resource = {"resourceType": "QuestionnaireResponse", "questionnaire": reference}
    assert instrument_of(resource) == expected


@pytest.mark.parametrize("reference", [None, "", "https://x/Questionnaire/phq9",
                                       "https://x/Questionnaire/phq9|", 7])
def test_a_questionnaire_without_a_version_is_refused(reference: Any) -> None:
    with pytest.raises(InvalidResource) as caught:
        instrument_of({"resourceType": "QuestionnaireResponse", "questionnaire": reference})
    assert set(caught.value.errors) == {"questionnaire"}


def test_another_resource_type_is_refused() -> None:
    with pytest.raises(InvalidResource) as caught:
        instrument_of({"resourceType": "Observation", "questionnaire": "phq9|1"})
    assert set(caught.value.errors) == {"resourceType"}


@pytest.mark.parametrize(("change", "path"), [
    (lambda r: r.update(status="in-progress"), "status"),
    (lambda r: r.pop("authored"), "authored"),
    (lambda r: r.pop("id"), "id"),
    (lambda r: r.update(subject={"reference": "Group/1"}), "subject"),
    (lambda r: r.update(encounter={"reference": "Encounter/1"}), "encounter"),
    (lambda r: r.update(meta=3), "meta"),
    (lambda r: r["extension"].append({"url": "https://x/other", "valueString": "x"}),
     "extension[1].url"),
    (lambda r: r["item"].append({"linkId": "nope", "answer": [{"valueString": "x"}]}),
     "item[7].linkId"),
    (lambda r: r["item"].append(copy.deepcopy(r["item"][0])), "item[7].linkId"),
    (lambda r: r["item"][0].update(answer=[{"valueString": "yes"}]), "item[0].answer[0]"),
    (lambda r: r["item"][0].update(answer=[{"valueBoolean": True}, {"valueBoolean": False}]),
     "item[0].answer"),
    (lambda r: r["item"][0].update(item=[{"linkId": "x"}]), "item[0].item"),
    (lambda r: r["item"][4]["answer"][0]["valueCoding"].update(code="awful"),
     "item[4].answer[0].valueCoding.code"),
    (lambda r: r["item"][4]["answer"][0]["valueCoding"].update(system="https://x/cs"),
     "item[4].answer[0].valueCoding.system"),
])
def test_a_resource_prom_cannot_read_is_refused_naming_the_fhir_path(change: Any,
                                                                     path: str) -> None:
    resource = out("adverse_event", ADVERSE_EVENT)
    change(resource)

    assert path in errors_of(resource)


def test_native_error_paths_become_the_fhir_paths_they_came_from() -> None:
    resource = out("adverse_event", {**ADVERSE_EVENT, "description": None})
    _, paths = submission(resource, LIBRARY.get("adverse_event"), BASE)

    assert paths.errors({"answers.severity": ["bad"], "answers.description": ["required"],
                         "answers.seriousness": ["x"], "collected_at": ["no offset"],
                         "participant_id": ["nobody"], "timepoint": ["long"], "id": ["uuid"],
                         "_schema": ["?"]}) == {
        "item[3].answer[0].valueCoding": ["bad"],
        "item.where(linkId = 'description')": ["required"],
        "item[4].answer": ["x"], "authored": ["no offset"], "subject": ["nobody"],
        "extension[0].valueString": ["long"], "id": ["uuid"], "_schema": ["?"]}


def test_scores_become_observations_derived_from_the_response() -> None:
    definition = LIBRARY.get("phq9")
    body = stored("phq9", version=2, scores={
        "phq9": {"value": 9.0, "status": "scored", "n_answered": 9, "band": "mild"}})
    [observation] = observations(body, definition, BASE)

    Observation.model_validate(observation)
    assert observation["status"] == "amended"
    assert observation["code"]["coding"][0]["code"] == "44261-6"
    assert observation["valueQuantity"]["value"] == 9.0
    assert observation["valueQuantity"]["code"] == "{score}"
    assert observation["interpretation"][0]["coding"][0]["code"] == "mild"
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{RESPONSE_ID}"}]
    assert observation["subject"] == {"reference": f"Patient/{PARTICIPANT_ID}"}
    assert observation["effectiveDateTime"] == body["collected_at"]
    assert observation["category"][0]["coding"][0]["code"] == "survey"


def test_an_insufficient_score_has_no_value_but_a_reason() -> None:
    body = stored("nrs_pain", scores={
        scale.id: {"value": None, "status": "insufficient", "n_answered": 0, "band": None}
        for scale in LIBRARY.get("nrs_pain").scales})
    for observation in observations(body, LIBRARY.get("nrs_pain"), BASE):
        Observation.model_validate(observation)
        assert "valueQuantity" not in observation
        assert observation["dataAbsentReason"]["coding"][0]["code"] == "unknown"
        assert observation["code"]["coding"][0]["system"] == \
            f"{BASE}/CodeSystem/nrs_pain-scales"


def test_a_response_contains_its_scores_and_a_bundle_lists_them_beside_it() -> None:
    definition = LIBRARY.get("phq9")
    body = stored("phq9", scores={
        "phq9": {"value": 9.0, "status": "scored", "n_answered": 9, "band": "mild"}})
    resource = questionnaire_response(body, {"phq9_1": 1}, definition, BASE)
    scores = observations(body, definition, BASE)

    single = with_scores(resource, scores)
    QuestionnaireResponse.model_validate(single)
    [contained] = single["contained"]
    Observation.model_validate(contained)
    assert contained["derivedFrom"] == [{"reference": "#"}]
    assert {k: v for k, v in contained.items() if k != "derivedFrom"} == \
        {k: v for k, v in scores[0].items() if k != "derivedFrom"}
    assert {k: v for k, v in single.items() if k != "contained"} == resource
    assert "contained" not in with_scores(resource, [])

    page = searchset([(resource, scores)], BASE, "https://x/self", "https://x/next")
    Bundle.model_validate(page)
    assert [e["search"]["mode"] for e in page["entry"]] == ["match", "include"]
    assert page["link"][1] == {"relation": "next", "url": "https://x/next"}
    Bundle.model_validate(searchset([], BASE, "https://x/self", None))
