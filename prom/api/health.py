"""``GET /healthz``: can this process serve requests? For load balancers and orchestrators.

It sits outside ``/api/v1`` because it is part of operating the service, not of the versioned API,
and it needs no token.
"""

from prom.api.parsing import Blueprint
from prom.errors import DATABASE_RETRY_AFTER_SECONDS, PROBLEM_RESPONSE, ServiceUnavailable
from prom.extensions import db
from prom.schemas.health import HealthSchema

blp = Blueprint("health", __name__, description="Service health")


@blp.route("/healthz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, **PROBLEM_RESPONSE)
@blp.doc(security=[])  # public
def healthz() -> dict[str, str]:
    """Check that the database answers"""
    if not db.ping():
        raise ServiceUnavailable(
            "The database is not reachable.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    return {"status": "ok", "database": "ok"}
