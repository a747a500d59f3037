"""The HTTP API: one flask-smorest Blueprint per resource, registered by ``register_blueprints``.

To add a resource, write ``prom/api/<resource>.py`` with a Blueprint ``blp`` whose ``url_prefix``
is the resource path (``Blueprint("responses", __name__, url_prefix="/responses")``), then add one
line to :data:`BLUEPRINTS`: ``(responses.blp, API_V1)``.

Give ``@blp.arguments`` a schema *instance* (``ResponseCreateSchema()``): given a class, webargs
builds a new instance on every request, which costs more than loading a small body.
"""

from typing import Any

from apispec import BasePlugin
from flask_smorest import Api, Blueprint

from prom.api import (
    accounts,
    adverse_events,
    alerts,
    auth,
    exports,
    health,
    instruments,
    participants,
    reports,
    responses,
    schedule,
    studies,
)

#: Base path of the versioned resources.
API_V1 = "/api/v1"

#: Each blueprint with the base path its own ``url_prefix`` is appended to.
BLUEPRINTS: list[tuple[Blueprint, str]] = [
    (health.blp, ""),  # /healthz stays outside the versioned API
    (instruments.blp, API_V1),
    (auth.blp, API_V1),
    (accounts.me_blp, API_V1),
    (accounts.sites_blp, API_V1),
    (accounts.users_blp, API_V1),
    (studies.blp, API_V1),
    (participants.blp, API_V1),
    (responses.blp, API_V1),
    (responses.lists_blp, API_V1),
    (schedule.blp, API_V1),
    (alerts.blp, API_V1),
    (adverse_events.blp, API_V1),
    (reports.blp, API_V1),
    (exports.blp, API_V1),
]


def register_blueprints(api: Api) -> None:
    """Register every blueprint on the app and in the OpenAPI document."""
    api.spec.plugins = (*api.spec.plugins, ExactResponses())
    # Operations no longer refer to the catch-all error response (see ExactResponses); keep it
    # in the components as the one shape of every problem, for clients that want a single type.
    api.spec.components.get_ref("response", api.DEFAULT_ERROR_RESPONSE_NAME)
    for blueprint, base_path in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=base_path + (blueprint.url_prefix or ""))


class ExactResponses(BasePlugin):
    """Document every status an operation can answer, and only those.

    The statuses that come from the framework rather than from a view are added here, once: 401
    wherever a token is required (missing, expired, revoked); 400 (not JSON at all) and 413
    (over ``MAX_CONTENT_LENGTH``) wherever a body is accepted; 503 (the database cannot be
    reached, with ``Retry-After``) wherever the database is read. flask-smorest's catch-all
    ``default`` response is dropped, so that a client generator (and the fuzz test) sees
    exactly which problems to expect; all of them are ``application/problem+json``.
    """

    def operation_helper(self, path: str | None = None, operations: dict | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("default", None)
            if operation.get("security") != []:
                responses.setdefault("401", "UNAUTHORIZED")
            if "requestBody" in operation:
                responses.setdefault("400", "BAD_REQUEST")
                responses.setdefault("413", "REQUEST_ENTITY_TOO_LARGE")
            if operation.get("security") != [] or "requestBody" in operation:
                # it reads the database (the token's session, or the body's subject)
                responses.setdefault("503", "SERVICE_UNAVAILABLE")
