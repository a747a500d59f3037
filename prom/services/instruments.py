"""Reading the instrument library for the API: which definition, in which language."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from prom.errors import NotFound
from prom.instruments import Library, UnknownInstrument
from prom.instruments.localise import localised_definition, negotiate_language, summary

EXTENSION_KEY = "prom.instruments"


def library() -> Library:
    """The library the app loaded and checked at start-up."""
    return current_app.extensions[EXTENSION_KEY]


def wanted_languages(lang: str | None) -> list[str]:
    """?lang= first, then Accept-Language in the client's order of preference."""
    wanted = [lang] if lang else []
    wanted += [value for value, _ in request.accept_languages]
    return wanted


def list_instruments(lang: str | None) -> list[dict[str, Any]]:
    catalogue = library()
    return [summary(d, negotiate_language(d, wanted_languages(lang)), catalogue.versions(d.id))
            for d in catalogue.latest()]


def get_instrument(instrument_id: str, version: str | None, lang: str | None) -> dict[str, Any]:
    try:
        definition = library().get(instrument_id, version)
    except UnknownInstrument as exc:
        raise NotFound(str(exc).capitalize() + ".") from exc
    return localised_definition(definition, negotiate_language(definition,
                                                               wanted_languages(lang)))
