"""The Blueprint every resource uses: flask-smorest's, with a JSON parser that refuses any body
it cannot read as a 400 problem, and reads FHIR bodies where a view accepts them.

webargs answers 400 only for ``json.JSONDecodeError``; ``json.loads`` raises ``RecursionError``
for deep nesting (``[[[[...`` a hundred thousand deep) and ``ValueError`` for an integer of more
than 4,300 digits (Python's int-from-string limit), and both escaped as 500s.

A view that also takes a FHIR resource (``Content-Type: application/fhir+json``) is decorated
with :func:`reads_fhir`, naming a reader that turns the resource into the view's native body and
returns the :class:`FieldPaths` it came from. The native body then goes through the view's own
schema, as any JSON body does. The paths are left in ``g.error_paths``, so that every error of
the request, the schema's or a service's, names the FHIR paths the client sent
(`prom.errors.problem_response`). A body of another media type is read as before (webargs
takes ``application/*+json`` for JSON), so a FHIR body sent to a view without a reader meets the
native schema and its 422.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol, TypeVar

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser

FHIR_JSON = "application/fhir+json"

F = TypeVar("F", bound=Callable[..., Any])


class FieldPaths(Protocol):
    """Where the fields of a native body came from in the FHIR resource it was read from."""

    def errors(self, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
        """`errors` keyed by native field paths, keyed by FHIR paths instead."""


#: Reads a FHIR resource (parsed JSON) into a native body; raises a ProblemError when it cannot.
FhirReader = Callable[[Any], tuple[dict[str, Any], FieldPaths]]


def reads_fhir(reader: FhirReader) -> Callable[[F], F]:
    """Let the decorated view take ``application/fhir+json`` bodies, read by `reader`. Put it
    directly above the view function, under ``@blp.arguments``."""

    def decorate(view: F) -> F:
        view.fhir_reader = reader  # type: ignore[attr-defined]  # copied up by functools.wraps
        return view

    return decorate


def fhir_response(resource: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> flask.Response:
    """A FHIR resource as ``application/fhir+json``; returned by a view, it passes its JSON
    response schema by. Keys keep the mapping's order (``resourceType`` first, as FHIR's own
    examples write it) rather than Flask's sorted order."""
    return flask.current_app.response_class(json.dumps(resource, ensure_ascii=False),
                                            status=status, mimetype=FHIR_JSON,
                                            headers=dict(headers or {}))


def wants_fhir() -> bool:
    """The client's Accept prefers application/fhir+json to application/json."""
    best = flask.request.accept_mimetypes.best_match(["application/json", FHIR_JSON])
    return best == FHIR_JSON


class Parser(FlaskParser):
    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own 400
        except (RecursionError, ValueError) as error:
            self._refuse(error)
        reader = self._fhir_reader(req)
        if reader is None or data is core.missing:
            return data
        body, paths = reader(data)
        flask.g.error_paths = paths
        return body

    @staticmethod
    def _fhir_reader(req: flask.Request) -> FhirReader | None:
        if req.mimetype != FHIR_JSON or req.endpoint is None:
            return None
        view = flask.current_app.view_functions.get(req.endpoint)
        return getattr(view, "fhir_reader", None)

    @staticmethod
    def _refuse(error: Exception) -> NoReturn:
        # The same answer webargs gives for any other body that is not JSON.
        flask_smorest.abort(400, exc=error, messages={"json": ["Invalid JSON body."]})


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()
