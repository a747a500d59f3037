"""The FHIR forms of the API: instruments as Questionnaires (`?format=fhir`), responses as
QuestionnaireResponses with Observations of their scores, a participant's Bundle, and
QuestionnaireResponses submitted to `POST /responses` (`application/fhir+json`).

Every resource produced is validated with the fhir.resources R4B models (R4B's Questionnaire,
QuestionnaireResponse, Observation and Bundle are R4's). A QuestionnaireResponse is submitted
through the same validation, scoring and idempotency as a native body, so a response survives a
trip through FHIR and back with identical answers and scores.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prom.models.responses import Response
from tests.api.studies_fixtures import (
    ANOTHER_PARTICIPANT,
    API,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    RESEARCHER_MEMBER,
    THE_PARTICIPANT,
    World,
    assert_field_error,
    assert_problem,
)

FHIR_JSON = "application/fhir+json"
CET = timezone(timedelta(hours=1))
PHQ9 = {f"phq9_{n}": n % 4 for n in range(1, 10)} | {"difficulty": 2}
ADVERSE_EVENT = {"occurred": True, "description": "Dizzy after the exercises",
                 "onset_date": "2026-11-01", "ongoing": True, "severity": "moderate",
                 "seriousness": ["medically_important"], "attributed": "unsure"}


def collected() -> str:
    return (datetime.now(UTC) - timedelta(hours=2)).astimezone(CET).isoformat(timespec="seconds")


def native(instrument: str, version: str, answers: dict[str, Any], **changes: Any) -> dict:
    return {"id": str(uuid.uuid4()), "instrument": instrument, "instrument_version": version,
            "collected_at": collected(), "answers": answers, **changes}


def post_native(world: World, who: str, body: dict[str, Any]) -> dict[str, Any]:
    response = world.client.post(f"{API}/responses", json=body, headers=world.headers(who))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def post_fhir(world: World, who: str, resource: Any, **headers: str) -> Any:
    return world.client.post(f"{API}/responses", json=resource, content_type=FHIR_JSON,
                             headers={**world.headers(who), **headers})


def fhir_response(world: World, who: str, response_id: str) -> dict[str, Any]:
    response = world.client.get(f"{API}/responses/{response_id}",
                                query_string={"format": "fhir"}, headers=world.headers(who))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    return valid_response(response.json)


def valid_response(resource: dict[str, Any]) -> dict[str, Any]:
    """A QuestionnaireResponse that the R4B model accepts, and so do its contained scores."""
    QuestionnaireResponse.model_validate(resource)
    for contained in resource.get("contained", []):
        Observation.model_validate(contained)
    return resource


def valid_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    Bundle.model_validate(bundle)
    for entry in bundle.get("entry", []):
        model = {"QuestionnaireResponse": QuestionnaireResponse,
                 "Observation": Observation}[entry["resource"]["resourceType"]]
        model.model_validate(entry["resource"])
    return bundle


def current(world: World, response_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(answers, scores) of a response's current version, read natively as an admin."""
    response = world.client.get(f"{API}/responses/{response_id}/versions",
                                headers=world.admin.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    latest = response.json["items"][-1]
    return latest["answers"], latest["scores"]


def stored_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Response))


def questionnaire_response(world: World, instrument: str, version: str,
                           answers: dict[str, Any]) -> dict[str, Any]:
    """A QuestionnaireResponse as prom writes it, for a response stored natively first."""
    body = post_native(world, THE_PARTICIPANT, native(instrument, version, answers))
    return fhir_response(world, THE_PARTICIPANT, body["id"])


# ---------------------------------------------------------------------------------------------
# Instruments as Questionnaires


def test_an_instrument_is_a_cacheable_questionnaire(client: Any) -> None:
    response = client.get(f"{API}/instruments/phq9", query_string={"format": "fhir"})

    assert response.status_code == 200
    assert response.mimetype == FHIR_JSON
    resource = response.json
    Questionnaire.model_validate(resource)
    assert resource["url"] == "http://localhost/api/v1/fhir/Questionnaire/phq9"
    assert resource["version"] == "1"
    assert resource["language"] == response.headers["Content-Language"] == "en"
    assert resource["extension"][0]["valueUri"] == "http://localhost/api/v1/instruments/phq9/1"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.get_etag()[0]
    again = client.get(f"{API}/instruments/phq9", query_string={"format": "fhir"},
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    native_form = client.get(f"{API}/instruments/phq9")
    assert native_form.mimetype == "application/json"
    assert native_form.headers["ETag"] != response.headers["ETag"]


def test_a_pinned_version_is_a_questionnaire_cached_for_a_day(client: Any) -> None:
    response = client.get(f"{API}/instruments/odi/2.1", query_string={"format": "fhir"})

    assert response.status_code == 200
    Questionnaire.model_validate(response.json)
    assert response.json["version"] == "2.1"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    missing = client.get(f"{API}/instruments/odi/9", query_string={"format": "fhir"})
    assert_problem(missing, 404)


@pytest.mark.parametrize("path", ["/instruments/phq9", "/instruments/phq9/1"])
def test_an_unknown_format_is_a_422_naming_format(client: Any, path: str) -> None:
    assert_field_error(client.get(f"{API}{path}", query_string={"format": "xml"}), "format")


def test_canonical_urls_follow_the_configured_base(app: Flask, client: Any) -> None:
    app.config["FHIR_BASE_URL"] = "https://fhir.example.org/prom"

    resource = client.get(f"{API}/instruments/gad7", query_string={"format": "fhir"}).json

    assert resource["url"] == "https://fhir.example.org/prom/Questionnaire/gad7"


# ---------------------------------------------------------------------------------------------
# Responses out, and round trips


def test_a_response_is_a_questionnaire_response_containing_the_observations_of_its_scores(
        world: World) -> None:
    body = post_native(world, THE_PARTICIPANT, native("phq9", "1", PHQ9, timepoint="baseline"))

    resource = fhir_response(world, THE_PARTICIPANT, body["id"])
    text = world.client.get(f"{API}/responses/{body['id']}", query_string={"format": "fhir"},
                            headers=world.headers(THE_PARTICIPANT)).get_data(as_text=True)

    assert text.startswith('{"resourceType": "QuestionnaireResponse", "id": ')  # FHIR's order
    assert resource["resourceType"] == "QuestionnaireResponse"
    [observation] = resource["contained"]
    assert resource["id"] == body["id"]
    assert resource["questionnaire"] == "http://localhost/api/v1/fhir/Questionnaire/phq9|1"
    assert resource["subject"] == {"reference": f"Patient/{world.participant_id}"}
    assert resource["authored"] == body["collected_at"]
    assert observation["valueQuantity"]["value"] == body["scores"]["phq9"]["value"]
    assert observation["interpretation"][0]["coding"][0]["code"] == body["scores"]["phq9"]["band"]
    assert observation["derivedFrom"] == [{"reference": "#"}]  # the containing response
    assert observation["subject"] == resource["subject"]
    assert observation["code"]["coding"][0]["code"] == "44261-6"
    assert_field_error(world.client.get(f"{API}/responses/{body['id']}",
                                        query_string={"format": "yaml"},
                                        headers=world.headers(THE_PARTICIPANT)), "format")
    assert_problem(world.client.get(f"{API}/responses/{body['id']}",
                                    query_string={"format": "fhir"},
                                    headers=world.headers(ANOTHER_PARTICIPANT)), 404)


@pytest.mark.parametrize(("instrument", "version", "answers"), [
    ("phq9", "1", PHQ9),
    ("adverse_event", "1", ADVERSE_EVENT),
    ("nrs_pain", "1", {"average": 6, "worst": 8, "least": 2}),
])
def test_a_response_survives_a_trip_through_fhir_with_identical_answers_and_scores(
        world: World, instrument: str, version: str, answers: dict[str, Any]) -> None:
    original = post_native(world, THE_PARTICIPANT, native(instrument, version, answers))
    resource = fhir_response(world, THE_PARTICIPANT, original["id"])

    resource["id"] = str(uuid.uuid4())
    response = post_fhir(world, THE_PARTICIPANT, resource)

    assert response.status_code == 201, response.get_data(as_text=True)
    copy = response.json
    assert copy["id"] == resource["id"]
    assert copy["scores"] == original["scores"]
    assert copy["collected_at"] == original["collected_at"]
    assert current(world, copy["id"])[0] == current(world, original["id"])[0]


def test_a_fhir_submission_reads_back_natively_as_the_same_answers(world: World) -> None:
    resource = questionnaire_response(world, "phq9", "1", PHQ9)
    resource["id"] = str(uuid.uuid4())
    resource["extension"] = [{"url": "https://prom.dev/fhir/StructureDefinition/timepoint",
                              "valueString": "baseline"}]
    del resource["subject"]  # a participant may leave it out

    created = post_fhir(world, THE_PARTICIPANT, resource)
    assert created.status_code == 201, created.get_data(as_text=True)

    read = world.client.get(f"{API}/responses/{resource['id']}",
                            headers=world.headers(THE_PARTICIPANT)).json
    assert read == created.json
    assert read["timepoint"] == "baseline"
    assert read["participant_id"] == world.participant_id
    answers, scores = current(world, resource["id"])
    assert answers == PHQ9
    assert scores["phq9"]["value"] == sum(PHQ9[f"phq9_{n}"] for n in range(1, 10))


def test_resending_a_questionnaire_response_is_a_replay_and_changing_it_a_conflict(
        world: World, db_session: Session) -> None:
    resource = questionnaire_response(world, "phq9", "1", PHQ9)
    resource["id"] = str(uuid.uuid4())

    first = post_fhir(world, THE_PARTICIPANT, resource)
    replay = post_fhir(world, THE_PARTICIPANT, resource)
    rows = stored_rows(db_session)
    resource["item"][0]["answer"][0]["valueCoding"]["code"] = "3"
    conflict = post_fhir(world, THE_PARTICIPANT, resource)

    assert first.status_code == 201
    assert replay.status_code == 200
    assert replay.json == first.json
    assert_problem(conflict, 409)
    assert stored_rows(db_session) == rows


def test_accepting_fhir_answers_with_the_stored_response_and_its_scores(world: World) -> None:
    resource = questionnaire_response(world, "phq9", "1", PHQ9)
    resource["id"] = str(uuid.uuid4())
    del resource["contained"]  # what a client sends: answers only

    response = post_fhir(world, THE_PARTICIPANT, resource, Accept=FHIR_JSON)
    replay = post_fhir(world, THE_PARTICIPANT, resource, Accept=FHIR_JSON)

    assert response.status_code == 201
    assert response.mimetype == FHIR_JSON
    stored = valid_response(response.json)
    assert stored["id"] == resource["id"]
    assert stored["item"] == resource["item"]
    assert [o["resourceType"] for o in stored["contained"]] == ["Observation"]
    assert replay.status_code == 200
    assert replay.json == stored


def test_staff_name_the_patient_as_subject(world: World) -> None:
    resource = questionnaire_response(world, "phq9", "1", PHQ9)
    resource["id"] = str(uuid.uuid4())

    response = post_fhir(world, CLINICIAN_OF_SITE, resource)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["participant_id"] == world.participant_id

    del resource["subject"]
    resource["id"] = str(uuid.uuid4())
    assert_field_error(post_fhir(world, CLINICIAN_OF_SITE, resource), "subject")
    resource["subject"] = {"reference": f"Patient/{world.participant_id}"}
    assert_problem(post_fhir(world, CLINICIAN_OTHER_SITE, resource), 404)


def _set_answer(link_id: str, answer: list[dict[str, Any]]) -> Any:
    def change(resource: dict[str, Any]) -> None:
        for item in resource["item"]:
            if item["linkId"] == link_id:
                item["answer"] = answer
                return
        resource["item"].append({"linkId": link_id, "answer": answer})
    return change


BAD_RESOURCES = [
    ("not a questionnaire response", lambda r: r.update(resourceType="Patient"), "resourceType"),
    ("unknown instrument", lambda r: r.update(questionnaire="https://x/Questionnaire/nope|1"),
     "questionnaire"),
    ("unknown version", lambda r: r.update(questionnaire="https://x/Questionnaire/phq9|7"),
     "questionnaire"),
    ("no version", lambda r: r.update(questionnaire="https://x/Questionnaire/phq9"),
     "questionnaire"),
    ("integer for a choice", _set_answer("phq9_1", [{"valueInteger": 1}]), "item[0].answer[0]"),
    ("code out of range", _set_answer("phq9_2", [{"valueCoding": {"code": "7"}}]),
     "item[1].answer[0].valueCoding.code"),
    ("required item left out", lambda r: r["item"].pop(2), "item.where(linkId = 'phq9_3')"),
    ("not a uuid", lambda r: r.update(id="response-1"), "id"),
    ("in progress", lambda r: r.update(status="in-progress"), "status"),
    ("amended", lambda r: r.update(status="amended"), "status"),
    ("authored without offset", lambda r: r.update(authored="2026-11-20T09:30:00"), "authored"),
    ("unknown element", lambda r: r.update(encounter={"reference": "Encounter/1"}), "encounter"),
    ("contained other than scores", lambda r: r["contained"].append(
        {"resourceType": "Patient", "id": "p"}), "contained"),
]


@pytest.mark.parametrize(("change", "path"), [(c, p) for _, c, p in BAD_RESOURCES],
                         ids=[name for name, _, _ in BAD_RESOURCES])
def test_a_resource_that_cannot_be_stored_is_a_422_naming_the_fhir_path(
        world: World, db_session: Session, change: Any, path: str) -> None:
    resource = questionnaire_response(world, "phq9", "1", PHQ9)
    resource["id"] = str(uuid.uuid4())
    change(resource)
    rows = stored_rows(db_session)

    assert_field_error(post_fhir(world, THE_PARTICIPANT, resource), path)
    assert stored_rows(db_session) == rows


def test_a_hidden_item_answered_is_a_422_naming_its_answer(world: World,
                                                           db_session: Session) -> None:
    resource = questionnaire_response(world, "adverse_event", "1", ADVERSE_EVENT)
    resource["id"] = str(uuid.uuid4())
    resource["item"] = [{"linkId": "occurred", "answer": [{"valueBoolean": False}]},
                        {"linkId": "description", "answer": [{"valueString": "nothing"}]}]
    rows = stored_rows(db_session)

    body = assert_field_error(post_fhir(world, THE_PARTICIPANT, resource),
                              "item[1].answer[0].valueString")
    assert "hides" in body["errors"]["item[1].answer[0].valueString"][0]
    assert stored_rows(db_session) == rows


def test_a_participant_cannot_name_another_patient(world: World, db_session: Session) -> None:
    resource = questionnaire_response(world, "phq9", "1", PHQ9)
    resource["id"] = str(uuid.uuid4())
    rows = stored_rows(db_session)

    assert_field_error(post_fhir(world, ANOTHER_PARTICIPANT, resource), "subject")
    resource["subject"] = {"reference": f"Patient/{uuid.uuid4()}"}
    assert_field_error(post_fhir(world, THE_PARTICIPANT, resource), "subject")
    assert stored_rows(db_session) == rows


def test_a_body_that_is_not_json_is_a_400(world: World) -> None:
    response = world.client.post(f"{API}/responses", data=b"{", content_type=FHIR_JSON,
                                 headers=world.headers(THE_PARTICIPANT))
    assert_problem(response, 400)


# ---------------------------------------------------------------------------------------------
# A participant's Bundle


def test_a_participants_bundle_holds_their_responses_and_scores_a_page_at_a_time(
        world: World) -> None:
    first = post_native(world, THE_PARTICIPANT, native("phq9", "1", PHQ9))
    second = post_native(world, THE_PARTICIPANT, native("adverse_event", "1", ADVERSE_EVENT))
    url = f"{API}/participants/{world.participant_id}/fhir"

    response = world.client.get(url, headers=world.headers(THE_PARTICIPANT))

    assert response.status_code == 200
    assert response.mimetype == FHIR_JSON
    bundle = valid_bundle(response.json)
    assert bundle["type"] == "searchset"
    matches = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert matches == [first["id"], second["id"]]
    derived = {e["resource"]["derivedFrom"][0]["reference"] for e in bundle["entry"]
               if e["search"]["mode"] == "include"}
    assert derived == {f"QuestionnaireResponse/{first['id']}",
                       f"QuestionnaireResponse/{second['id']}"}
    assert [link["relation"] for link in bundle["link"]] == ["self"]

    page = world.client.get(url, query_string={"limit": 1},
                            headers=world.headers(RESEARCHER_MEMBER)).json
    assert [e["resource"]["id"] for e in page["entry"]
            if e["search"]["mode"] == "match"] == [first["id"]]
    next_url = next(link["url"] for link in page["link"] if link["relation"] == "next")
    rest = world.client.get(next_url, headers=world.headers(RESEARCHER_MEMBER)).json
    assert [e["resource"]["id"] for e in rest["entry"]
            if e["search"]["mode"] == "match"] == [second["id"]]


@pytest.mark.parametrize("who", [ANOTHER_PARTICIPANT, CLINICIAN_OTHER_SITE])
def test_a_participants_bundle_does_not_exist_outside_their_scope(world: World,
                                                                   who: str) -> None:
    response = world.client.get(f"{API}/participants/{world.participant_id}/fhir",
                                headers=world.headers(who))
    assert_problem(response, 404)
