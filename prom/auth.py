"""Who is calling: token wiring for flask-jwt-extended, and the checks views use.

Tokens carry the user id (`sub`), the role and the sign-in family (`fam`). Every authenticated
request loads the user (a deactivated account stops working at once) and checks that the family
has not been revoked; both live in the database, so they hold across workers and restarts.

Views declare access with `@roles_required("admin")`, or `@roles_required()` for any signed-in
user, and read the caller with `current_user()`. Checks on *which* record a caller may touch
belong to the services, which answer 404 for records outside the caller's scope.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g
from flask_jwt_extended import JWTManager, get_current_user, verify_jwt_in_request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from prom.errors import Forbidden
from prom.extensions import db
from prom.models.accounts import RevokedSession, User
from prom.models.participants import Participant

F = TypeVar("F", bound=Callable[..., Any])

#: A token's user (with a participant's enrolment, joined on a unique key) and whether its
#: sign-in family was revoked. Built once: every authenticated request runs it.
_TOKEN_QUERY = (
    select(User, RevokedSession.family)
    .outerjoin(RevokedSession, RevokedSession.family == bindparam("family"))
    .where(User.id == bindparam("user_id"))
    .options(joinedload(User.participant).lazyload(Participant.arm))
)


def configure_tokens(jwt: JWTManager) -> None:
    """Teach the JWT manager how to find a token's user and whether its session is revoked."""

    @jwt.token_in_blocklist_loader
    def session_revoked(_header: dict, payload: dict) -> bool:
        """One query answers both questions a request asks about its token: is its session
        revoked, and who is its user (kept for `load_user`, which flask-jwt-extended calls
        next). A participant's enrolment comes in the same query (a join on a unique key):
        their submissions need it, and it saves them a round trip."""
        family = payload.get("fam")
        try:
            user_id = uuid.UUID(payload["sub"])
        except (KeyError, ValueError, TypeError):
            return True  # not a token this server issued
        if family is None:
            return True
        row = db.session.execute(_TOKEN_QUERY, {"user_id": user_id, "family": family}).first()
        g.prom_token_user = row[0] if row is not None else None
        return row is not None and row[1] is not None

    @jwt.user_lookup_loader
    def load_user(_header: dict, payload: dict) -> User | None:
        user = g.pop("prom_token_user", None)
        if user is None:  # the blocklist check always runs first; be safe if it did not
            try:
                user = db.session.get(User, uuid.UUID(payload["sub"]))
            except (KeyError, ValueError, TypeError):
                return None
        return user if user is not None and user.active else None


def current_user() -> User:
    return get_current_user()


def roles_required(*roles: str) -> Callable[[F], F]:
    """A valid access token, from one of `roles` (any role when none are named)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request()
            if roles and current_user().role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        # Who may call the view, readable from the URL map (tests check every staff-only route).
        wrapper.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
