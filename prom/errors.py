"""The one error shape: RFC 9457 ``application/problem+json``.

Every failure the API reports -- a domain error raised by a service, Flask's own 404/405/413,
a webargs validation error, a token error, or a bug -- leaves as::

    {"type": "https://prom.dev/problems/not-found", "title": "Not Found", "status": 404,
     "detail": "No response with id 0b4f…", "errors": {"answers.phq9_1": ["Not a valid integer."]}}

- ``type`` is always ``PROBLEM_TYPE_BASE`` + the title in kebab case, so a client can switch on
  it; the same kind of problem has the same type whoever raised it (a service's ``NotFound`` and
  Flask's unknown-URL 404 are both ``.../not-found``).
- ``title`` is fixed per type; ``detail`` explains this occurrence and never carries the text of
  an unexpected exception.
- ``errors`` is present only when individual fields are wrong. Keys are field paths: the field
  names marshmallow reports, joined with dots, *without* webargs' location prefix (``json``,
  ``query``...), because a client fixes the field, not the transport; list positions are
  numbers (``answers.3``), and errors about a whole object keep marshmallow's ``_schema`` key
  (a body that is not JSON at all is ``_schema`` too).

Services raise the :class:`ProblemError` subclasses below; views never build error responses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import marshmallow as ma
from flask import Flask, Response, current_app, g, has_request_context, json, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://prom.dev/problems/"

log = logging.getLogger(__name__)

FieldErrors = dict[str, list[str]]


class ProblemError(Exception):
    """A failure the client should see, with the status and title of its kind.

    Subclasses fix ``status`` and ``title``; an instance adds ``detail`` (this occurrence),
    optional field ``errors`` and optional response ``headers``.
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    default_detail: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Mapping[str, Iterable[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail or self.title
        self.errors: FieldErrors = {path: list(msgs) for path, msgs in (errors or {}).items()}
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class BadRequest(ProblemError):
    status = 400
    title = "Bad Request"


class Unauthorized(ProblemError):
    """Missing, expired or invalid credentials (the client should authenticate again)."""

    status = 401
    title = "Unauthorized"


class Forbidden(ProblemError):
    """Authenticated, but this role or site may not do this."""

    status = 403
    title = "Forbidden"


class NotFound(ProblemError):
    status = 404
    title = "Not Found"


class Conflict(ProblemError):
    """The request contradicts stored state, e.g. a response id replayed with another payload."""

    status = 409
    title = "Conflict"


class ValidationFailed(ProblemError):
    """The body was well-formed but its content is wrong; ``errors`` says where."""

    status = 422
    title = "Validation Failed"
    default_detail = "The request has invalid fields; see errors."


class ServiceUnavailable(ProblemError):
    """A dependency (the database) is down; pass ``headers={"Retry-After": ...}``."""

    status = 503
    title = "Service Unavailable"


#: Seconds a client should wait before retrying while the database cannot be reached. The pool
#: checks each connection before use (``pool_pre_ping``), so the first request after the
#: database is back succeeds: no restart, no stale connections.
DATABASE_RETRY_AFTER_SECONDS = 5


class ProblemSchema(ma.Schema):
    """The problem+json document, for the OpenAPI description (responses are built by hand)."""

    type = ma.fields.String(
        metadata={"format": "uri", "description": "identifies the kind of problem"}
    )
    title = ma.fields.String(metadata={"description": "short summary, fixed per type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "what went wrong this time"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "field path (e.g. answers.phq9_1) to messages"},
    )


def problem_type(title: str) -> str:
    """The ``type`` URI for a title: ``Not Found`` -> ``https://prom.dev/problems/not-found``."""
    return PROBLEM_TYPE_BASE + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    errors: FieldErrors | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build the problem+json response. Use it where an exception cannot be raised."""
    body: dict[str, Any] = {
        "type": problem_type(title),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = _as_sent(errors)
    response = current_app.response_class(
        json.dumps(body, sort_keys=False), status=status, mimetype=PROBLEM_JSON
    )
    response.headers.extend(headers or {})
    return response


def _as_sent(errors: FieldErrors) -> FieldErrors:
    """`errors` keyed by the paths of the body the client sent. A body read from another form
    (a FHIR QuestionnaireResponse, `prom.api.parsing.reads_fhir`) leaves in ``g.error_paths``
    how its native field paths map back to that form's; every error, from the schema or from a
    service, then names what the client wrote."""
    paths = g.get("error_paths") if has_request_context() else None
    return errors if paths is None else paths.errors(errors)


def flatten_messages(messages: Any, path: tuple[str, ...] = ()) -> FieldErrors:
    """Turn marshmallow's nested error messages into ``{"a.b.0.c": [messages]}``.

    An empty path (an error about the whole document) becomes ``_schema``, marshmallow's own
    name for errors that belong to no single field.
    """
    flat: FieldErrors = {}

    def add(key_path: tuple[str, ...], message: str) -> None:
        flat.setdefault(".".join(key_path) or ma.exceptions.SCHEMA, []).append(message)

    def walk(node: Any, key_path: tuple[str, ...]) -> None:
        if isinstance(node, Mapping):
            for key, child in node.items():
                walk(child, (*key_path, str(key)))
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child, key_path)
        else:
            add(key_path, str(node))

    walk(messages, path)
    return flat


def register_error_handlers(app: Flask) -> None:
    """Make every error the app can produce a problem+json response.

    Registered after the extensions on purpose: flask-smorest installs its own HTTPException
    handler in ``Api.init_app`` and this one must replace it.
    """
    app.register_error_handler(ProblemError, _handle_problem_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(DBAPIError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected_exception)
    jwt_manager = app.extensions.get("flask-jwt-extended")
    if jwt_manager is not None:
        _use_problems_for_token_errors(jwt_manager)


def _handle_problem_error(error: ProblemError) -> Response:
    return problem_response(
        error.status, error.title, error.detail, errors=error.errors, headers=error.headers
    )


def _handle_http_exception(error: HTTPException) -> Response:
    """Flask's and werkzeug's errors (404, 405, 413...), and webargs' ``abort`` with messages."""
    status = error.code or 500
    if status < 400:
        # e.g. flask-smorest's 304 Not Modified, which is an HTTPException but not an error.
        return current_app.response_class(status=status)
    # Keep what the exception says about itself (Allow on 405, WWW-Authenticate, Retry-After).
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    title = error.name or HTTPStatus(status).phrase
    detail = error.description or title
    errors: FieldErrors = {}
    # webargs/flask-smorest ``abort(status, messages=..., message=..., headers=...)`` puts
    # keyword arguments on ``error.data``.
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        errors = _strip_locations(data["messages"])
        if status == ValidationFailed.status:
            title = ValidationFailed.title
            detail = ValidationFailed.default_detail
    if "message" in data:
        detail = str(data["message"])
    headers.update(data.get("headers") or {})
    return problem_response(status, title, detail, errors=errors, headers=headers)


def _strip_locations(messages: Any) -> FieldErrors:
    """webargs nests messages under their location (``{"json": {...}}``); drop that level."""
    if not isinstance(messages, Mapping):
        return flatten_messages(messages)
    flat: FieldErrors = {}
    for location_messages in messages.values():
        for path, field_messages in flatten_messages(location_messages).items():
            flat.setdefault(path, []).extend(field_messages)
    return flat


def _handle_database_error(error: DBAPIError) -> Response:
    """The database did not answer (down, restarting, a dropped connection, SQLite locked for
    longer than its busy timeout): 503 with Retry-After, so that clients send the same request
    again later; nothing was committed. Any other database error is a bug (500)."""
    if not (isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated):
        return _handle_unexpected_exception(error)
    log.warning("Database unavailable on %s %s: %s", request.method, request.path,
                error.orig if error.orig is not None else error)
    return problem_response(
        ServiceUnavailable.status, ServiceUnavailable.title,
        "The database cannot be reached just now. Nothing was stored; send the same request "
        "again after the Retry-After delay.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def _handle_unexpected_exception(error: Exception) -> Response:
    """A bug: log it with its traceback, tell the client nothing about it."""
    log.error("Unhandled exception on %s %s", request.method, request.path, exc_info=error)
    return problem_response(
        500,
        "Internal Server Error",
        "The server failed to complete the request. The error has been logged.",
    )


def _use_problems_for_token_errors(jwt_manager: Any) -> None:
    """flask-jwt-extended answers token errors with ``{"msg": ...}``; make them problems.

    An invalid token is a 401 (RFC 6750 ``invalid_token``), not the library's default 422.
    """
    bearer = {"WWW-Authenticate": "Bearer"}

    def unauthorized(detail: str) -> Response:
        return problem_response(401, Unauthorized.title, detail, headers=bearer)

    jwt_manager.unauthorized_loader(unauthorized)
    jwt_manager.invalid_token_loader(unauthorized)
    jwt_manager.expired_token_loader(lambda _header, _payload: unauthorized("Token has expired."))
    jwt_manager.revoked_token_loader(
        lambda _header, _payload: unauthorized("Token has been revoked.")
    )
    jwt_manager.needs_fresh_token_loader(
        lambda _header, _payload: unauthorized("A fresh token is required; log in again.")
    )
    jwt_manager.user_lookup_error_loader(
        lambda _header, _payload: unauthorized("The token's user no longer exists.")
    )
    jwt_manager.token_verification_failed_loader(
        lambda _header, _payload: problem_response(
            400, BadRequest.title, "The token's claims were refused."
        )
    )


#: Keyword arguments for flask-smorest's ``alt_response`` documenting a problem+json error.
PROBLEM_RESPONSE = {"schema": ProblemSchema, "content_type": PROBLEM_JSON}
