"""Instrument definitions for frontends: what to ask, how to render it, how it is scored.

Localised by `?lang=` or `Accept-Language`; cacheable: every answer has an `ETag` (a repeat request
with `If-None-Match` gets `304 Not Modified` and no body), `Cache-Control` and
`Vary: Accept-Language`. A released version never changes, so `/{id}/{version}` may be cached for a
day; the list and "latest" can change when a new version is released, so for five minutes.

`?format=fhir` answers a definition as a FHIR R4 Questionnaire (`application/fhir+json`), with
the same ETag handling and caching.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import RAISE

from prom.api.parsing import Blueprint, fhir_response
from prom.errors import PROBLEM_RESPONSE
from prom.schemas.fhir import FHIR_JSON, QUESTIONNAIRE, DefinitionArgsSchema
from prom.schemas.instruments import InstrumentListSchema, InstrumentSchema, LanguageArgsSchema
from prom.services import fhir
from prom.services import instruments as service

blp = Blueprint(
    "instruments",
    __name__,
    url_prefix="/instruments",
    description="Instrument definitions, localised and cacheable",
)

LATEST_MAX_AGE = 300
VERSION_MAX_AGE = 86400


@blp.after_request
def cache_headers(response: Response) -> Response:
    if response.status_code in (200, 304):
        pinned = request.view_args is not None and "version" in request.view_args
        max_age = VERSION_MAX_AGE if pinned else LATEST_MAX_AGE
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        response.vary.add("Accept-Language")
    return response


@blp.route("")
@blp.etag
@blp.arguments(LanguageArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, InstrumentListSchema)
@blp.doc(security=[])  # public
def list_instruments(lang: str | None = None) -> dict[str, Any]:
    """List the instruments, latest version of each"""
    return {"items": service.list_instruments(lang)}


#: The FHIR form of a definition, documented beside the JSON one.
FHIR_DEFINITION_DOC = {"responses": {200: {"content": {FHIR_JSON: {"schema": QUESTIONNAIRE}}}}}


@blp.route("/<instrument_id>")
@blp.etag
@blp.arguments(DefinitionArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, InstrumentSchema)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.doc(security=[], **FHIR_DEFINITION_DOC)  # public
def get_latest(instrument_id: str, lang: str | None = None,
               representation: str = "json") -> Any:
    """Get the latest version of an instrument (`format=fhir`: a FHIR Questionnaire)"""
    return _definition(instrument_id, None, lang, representation)


@blp.route("/<instrument_id>/<version>")
@blp.etag
@blp.arguments(DefinitionArgsSchema(), location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, InstrumentSchema)
@blp.alt_response(404, **PROBLEM_RESPONSE)
@blp.doc(security=[], **FHIR_DEFINITION_DOC)  # public
def get_version(instrument_id: str, version: str, lang: str | None = None,
                representation: str = "json") -> Any:
    """Get one released version of an instrument (`format=fhir`: a FHIR Questionnaire)"""
    return _definition(instrument_id, version, lang, representation)


def _definition(instrument_id: str, version: str | None, lang: str | None,
                representation: str) -> Any:
    if representation == "fhir":
        resource = fhir.questionnaire(instrument_id, version, lang)
        blp.set_etag(resource)  # 304 here when If-None-Match matches
        return fhir_response(resource, headers={"Content-Language": resource["language"]})
    definition = service.get_instrument(instrument_id, version, lang)
    return definition, 200, {"Content-Language": definition["language"]}

