"""prom's data as FHIR R4 resources, and QuestionnaireResponses taken in as submissions.

The mappings are pure (`prom.fhir`); this module adds what they need from the app: the canonical
base URL, the instrument library, the stored responses (read with the same scope checks and
audit rows as their native forms) and the translation of errors into FHIR paths.

A submitted QuestionnaireResponse is read into the native body of ``POST /responses`` and then
goes through the same schema and `prom.services.submissions.submit` as a native one, so
validation, scoring, alerts and idempotency are the same: its ``id`` is the response id, and
sending the same resource again is a replay (200), the same id with other answers a conflict
(409).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request, url_for

from prom.errors import NotFound, ValidationFailed
from prom.fhir import bundle as bundles
from prom.fhir.observation import observations, with_scores
from prom.fhir.questionnaire import questionnaire as questionnaire_resource
from prom.fhir.response import (
    InvalidResource,
    Paths,
    instrument_of,
    questionnaire_response,
    submission,
)
from prom.instruments import Definition, UnknownInstrument
from prom.instruments.localise import negotiate_language
from prom.models.accounts import User
from prom.services import responses
from prom.services.instruments import library, wanted_languages


def base_url() -> str:
    """The base of canonical URLs: ``FHIR_BASE_URL``, else ``…/api/v1/fhir`` on this host."""
    configured = current_app.config.get("FHIR_BASE_URL")
    return configured or request.url_root.rstrip("/") + "/api/v1/fhir"


def questionnaire(instrument_id: str, version: str | None, lang: str | None) -> dict[str, Any]:
    try:
        definition = library().get(instrument_id, version)
    except UnknownInstrument as exc:
        raise NotFound(str(exc).capitalize() + ".") from exc
    language = negotiate_language(definition, wanted_languages(lang))
    json_url = url_for("instruments.get_version", instrument_id=definition.id,
                       version=definition.version, _external=True)
    return questionnaire_resource(definition, language, base_url(), json_url)


def response_resource(response_id: uuid.UUID, viewer: User) -> dict[str, Any]:
    """A response as a QuestionnaireResponse, its scores as contained Observations."""
    return _with_scores(responses.get_with_answers(response_id, viewer))


def submitted_resource(stored: Mapping[str, Any], submitted: Mapping[str, Any]) -> dict[str, Any]:
    """The QuestionnaireResponse of a response `submissions.submit` has just stored (or found
    stored with the same content, a replay), from its answer and the body that was submitted:
    no second read of what was just written."""
    return _with_scores(responses.Answered(dict(stored), dict(submitted["answers"]),
                                           submitted.get("language")))


def _with_scores(stored: responses.Answered) -> dict[str, Any]:
    resource, scores = _resources(stored, base_url())
    return with_scores(resource, scores)


def _resources(stored: responses.Answered,
               base: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    definition = _pinned(stored.body)
    language = stored.language or "en"
    return (questionnaire_response(stored.body, stored.answers, definition, base,
                                   stored.language),
            observations(stored.body, definition, base, language))


def participant_bundle(participant_id: uuid.UUID, viewer: User, *, limit: int,
                       cursor: str | None) -> dict[str, Any]:
    """A page of a participant's responses and scores as a ``searchset`` Bundle."""
    page, next_cursor = responses.list_with_answers(participant_id, viewer, limit=limit,
                                                   cursor=cursor)
    base = base_url()
    here = url_for("participants.participant_fhir", participant_id=participant_id,
                   _external=True)
    self_url = _with_query(here, limit=limit, cursor=cursor)
    next_url = None if next_cursor is None else _with_query(here, limit=limit,
                                                            cursor=next_cursor)
    return bundles.searchset((_resources(stored, base) for stored in page), base,
                             self_url, next_url)


def _with_query(url: str, **query: Any) -> str:
    present = {key: value for key, value in query.items() if value is not None}
    return f"{url}?{urlencode(present)}" if present else url


def _pinned(body: Mapping[str, Any]) -> Definition:
    return library().get(body["instrument"], body["instrument_version"])


# ---------------------------------------------------------------------------------------------
# Taking in a QuestionnaireResponse


def read_submission(resource: Any, actor: User) -> tuple[dict[str, Any], Paths]:
    """The native body of a submitted QuestionnaireResponse and the paths it came from;
    422 naming FHIR paths when the resource cannot be read.

    ``subject`` is the participant: a participant may leave it out or name themself (it is then
    dropped, as a participant's native body has no ``participant_id``); staff name the
    participant they enter answers for."""
    try:
        instrument, version = instrument_of(resource)
        try:
            definition = library().get(instrument, version)
        except UnknownInstrument as exc:
            raise InvalidResource({"questionnaire": [
                f"no instrument {instrument!r} version {version!r}"]}) from exc
        body, paths = submission(resource, definition, base_url())
    except InvalidResource as error:
        raise ValidationFailed(errors=error.errors) from error
    if actor.role == "participant" and "participant_id" in body:
        own = actor.participant
        if own is None or body["participant_id"] != str(own.id):
            raise ValidationFailed(errors={"subject": [
                "must be left out or name the signed-in participant"]})
        del body["participant_id"]
    return body, paths

