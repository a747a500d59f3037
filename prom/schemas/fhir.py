"""Schemas of the FHIR forms: the ``format`` and page arguments, and the FHIR resources as
OpenAPI documents them.

The resources are FHIR's, not prom's: the OpenAPI document describes their outline (what prom
reads of a submitted QuestionnaireResponse, and which resource each answer is) and refers to
the FHIR R4 specification for the rest, rather than copying FHIR's own schemas.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from prom.schemas.fields import InputSchema
from prom.schemas.instruments import LanguageArgsSchema

FHIR_JSON = "application/fhir+json"
FORMATS = ("json", "fhir")

# Named `representation` in Python (``format`` is a builtin), `format` in the query string.
_FORMAT = ma.fields.String(load_default="json", data_key="format",
                           validate=ma.validate.OneOf(FORMATS), metadata={
    "description": "json (prom's own form, the default) or fhir (FHIR R4, answered as "
                   "application/fhir+json)"})


class DefinitionArgsSchema(LanguageArgsSchema):
    representation = _FORMAT


class FormatArgsSchema(InputSchema):
    class Meta:
        unknown = ma.RAISE

    representation = _FORMAT


class BundlePageArgsSchema(InputSchema):
    class Meta:
        unknown = ma.RAISE

    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100),
                              metadata={"description": "responses per page (each with its "
                                                       "scores), at most 100"})
    cursor = ma.fields.String(validate=ma.validate.Length(min=1, max=500))


def _resource(resource_type: str, description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "enum": [resource_type]}}}


QUESTIONNAIRE = _resource(
    "Questionnaire",
    "A FHIR R4 Questionnaire (https://hl7.org/fhir/R4/questionnaire.html): the items with their "
    "answer options and enableWhen skip conditions, the scoring in prom's scale extension.")

BUNDLE = _resource(
    "Bundle",
    "A FHIR R4 Bundle (https://hl7.org/fhir/R4/bundle.html) of QuestionnaireResponses and the "
    "Observations of their scores (derivedFrom the QuestionnaireResponse).")

#: A stored response as prom answers it.
STORED_QUESTIONNAIRE_RESPONSE = _resource(
    "QuestionnaireResponse",
    "A FHIR R4 QuestionnaireResponse (https://hl7.org/fhir/R4/questionnaireresponse.html): the "
    "current answers (status completed, or amended after a correction), with the scores as "
    "contained Observations whose derivedFrom is the response (#).")

_OBJECT = {"type": "object"}

#: What prom reads of a submitted QuestionnaireResponse; any other element is refused.
QUESTIONNAIRE_RESPONSE = {
    "type": "object",
    "description": "A FHIR R4 QuestionnaireResponse (https://hl7.org/fhir/R4/"
                   "questionnaireresponse.html) for a prom instrument. id: the response id, a "
                   "UUID chosen by the client (resending is safe). questionnaire: a canonical "
                   "URL ending in the instrument id, with |version. status: completed. authored: "
                   "collection time with a UTC offset. subject: Patient/{participant id}, left "
                   "out by a participant, required from staff. item: one per answered item "
                   "(linkId = item id). The timepoint goes in the extension "
                   "https://prom.dev/fhir/StructureDefinition/timepoint (valueString). "
                   "Contained Observations (the scores prom wrote) are accepted and ignored: "
                   "prom scores the answers itself.",
    "required": ["resourceType", "id", "questionnaire", "status", "authored"],
    "additionalProperties": False,
    "properties": {
        "resourceType": {"type": "string", "enum": ["QuestionnaireResponse"]},
        "id": {"type": "string", "format": "uuid"},
        "meta": _OBJECT,
        "text": _OBJECT,
        "contained": {"type": "array", "items": {
            "type": "object", "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "enum": ["Observation"]}}}},
        "language": {"type": "string"},
        "questionnaire": {"type": "string", "pattern": r"^[^|]*[^|/]\|.+$"},
        "status": {"type": "string", "enum": ["completed"]},
        "subject": {"type": "object", "required": ["reference"],
                    "properties": {"reference": {"type": "string"}}},
        "authored": {"type": "string", "format": "date-time"},
        "extension": {"type": "array", "items": {
            "type": "object", "required": ["url", "valueString"], "additionalProperties": False,
            "properties": {"url": {"type": "string",
                                   "enum": ["https://prom.dev/fhir/StructureDefinition/"
                                            "timepoint"]},
                           "valueString": {"type": "string"}}}},
        "item": {"type": "array", "items": {
            "type": "object", "required": ["linkId"],
            "properties": {"linkId": {"type": "string"}, "text": {"type": "string"},
                           "answer": {"type": "array", "minItems": 1,
                                      "items": {"type": "object"}}}}},
    },
}
