"""A response's scores as FHIR ``Observation`` resources.

One Observation per scale of the response's current version: ``derivedFrom`` the
QuestionnaireResponse, ``subject`` ``Patient/{participant id}``, ``effectiveDateTime`` the
collection time, ``issued`` the time prom received it, category ``survey``. ``code`` is the
verified LOINC code where there is one (`prom.fhir.LOINC_SCALES`), else the scale id in the
instrument's scale CodeSystem. The value is a ``valueQuantity`` in the UCUM unit ``{score}``,
never rounded; an insufficient score has no value but a ``dataAbsentReason`` of ``unknown``.
The severity band is the ``interpretation`` (a Coding in the scale's band CodeSystem); prom's
score status (scored, prorated, insufficient) and the number of items answered travel in
extensions. ``status`` is ``final`` for a response's first version and ``amended`` after a
correction. The id is a UUID derived from the response id and the scale id, so the same score
keeps the same id across reads.

`with_scores` puts them inside their QuestionnaireResponse as ``contained`` resources, which is
what ``GET /responses/{id}?format=fhir`` answers: the response and its scores in one resource, as
the issue asks ("a QuestionnaireResponse, and the scores as Observations"). A contained
Observation's ``derivedFrom`` is ``#``, the resource that contains it, which is how FHIR lets a
contained resource point at its container (invariant dom-3). In a participant's Bundle the
Observations stand on their own and point at ``QuestionnaireResponse/{id}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from prom.fhir import (
    DATA_ABSENT_REASON,
    ITEMS_ANSWERED_EXTENSION,
    OBSERVATION_CATEGORY,
    SCORE_STATUS_EXTENSION,
    UCUM,
    band_system,
)
from prom.fhir.questionnaire import scale_code
from prom.instruments.localise import pick
from prom.instruments.spec import Definition

_NAMESPACE = uuid.UUID("6f1b8f5e-7c1e-4b59-9a57-5e0b9bb0f0a1")  # prom's score ids


def observation_id(response_id: str, scale_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{response_id}/{scale_id}"))


def observations(response: Mapping[str, Any], definition: Definition, base: str,
                 language: str = "en") -> list[dict[str, Any]]:
    """The Observations of a stored response's scores (its native body), in scale order."""
    status = "final" if response["version"] == 1 else "amended"
    out = []
    for scale_id, score in response["scores"].items():
        scale = definition.scale(scale_id)
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": observation_id(response["id"], scale_id),
            "extension": [
                {"url": SCORE_STATUS_EXTENSION, "valueCode": score["status"]},
                {"url": ITEMS_ANSWERED_EXTENSION, "valueInteger": score["n_answered"]},
            ],
            "status": status,
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey",
                                      "display": "Survey"}]}],
            "code": {"coding": [scale_code(definition, scale, language, base)],
                     "text": pick(scale.label, language) or scale_id},
            "subject": {"reference": f"Patient/{response['participant_id']}"},
            "effectiveDateTime": response["collected_at"],
            "issued": response["received_at"],
        }
        if score["value"] is None:
            resource["dataAbsentReason"] = {"coding": [
                {"system": DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}],
                "text": "too few items answered to score"}
        else:
            resource["valueQuantity"] = {"value": score["value"], "unit": "{score}",
                                         "system": UCUM, "code": "{score}"}
        if score["band"] is not None:
            band = next((b for b in scale.bands if b.code == score["band"]), None)
            coding = {"system": band_system(base, definition.id, scale_id),
                      "code": score["band"]}
            if band is not None and (label := pick(band.label, language)):
                coding["display"] = label
            resource["interpretation"] = [{"coding": [coding]}]
        resource["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{response['id']}"}]
        out.append(resource)
    return out


def with_scores(questionnaire_response: Mapping[str, Any],
                scores: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The QuestionnaireResponse with its score Observations as ``contained`` resources."""
    resource = dict(questionnaire_response)
    if scores:
        contained = [{**observation, "derivedFrom": [{"reference": "#"}]}
                     for observation in scores]
        # `contained` comes straight after `meta`/`language`, where FHIR's JSON puts it.
        ordered = {key: resource.pop(key) for key in ("resourceType", "id", "meta", "language")
                   if key in resource}
        resource = {**ordered, "contained": contained, **resource}
    return resource
