"""The HTTP API: one flask-smorest Blueprint per resource, registered by ``register_blueprints``.

To add a resource, write ``prom/api/<resource>.py`` with a Blueprint ``blp`` whose ``url_prefix``
is the resource path (``Blueprint("responses", __name__, url_prefix="/responses")``), then add one
line to :data:`BLUEPRINTS`: ``(responses.blp, API_V1)``.

Give ``@blp.arguments`` a schema *instance* (``ResponseCreateSchema()``): given a class, webargs
builds a new instance on every request, which costs more than loading a small body.
"""

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
    for blueprint, base_path in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=base_path + (blueprint.url_prefix or ""))
