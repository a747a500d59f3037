"""The accounts aggregate: `/me`, `/sites` and `/users` (one blueprint per resource).

Sites and staff accounts are created by admins; participant accounts come from enrolment.
"""

from __future__ import annotations

from typing import Any

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.models.accounts import Site, User
from prom.schemas.accounts import (
    MeSchema,
    SiteListSchema,
    SiteSchema,
    UserCreateSchema,
    UserListSchema,
    UserSchema,
)
from prom.services import accounts as service

me_blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in account")
sites_blp = Blueprint("sites", __name__, url_prefix="/sites", description="Clinics and sites")
users_blp = Blueprint("users", __name__, url_prefix="/users", description="Staff accounts")


@me_blp.route("")
@roles_required()
@me_blp.response(200, MeSchema)
@me_blp.alt_response(401, **PROBLEM_RESPONSE)
def me() -> User:
    """The account the token belongs to"""
    return current_user()


@sites_blp.route("", methods=["POST"])
@roles_required("admin")
@sites_blp.arguments(SiteSchema())
@sites_blp.response(201, SiteSchema)
@sites_blp.alt_response(403, **PROBLEM_RESPONSE)
@sites_blp.alt_response(409, **PROBLEM_RESPONSE)
def create_site(body: dict[str, Any]) -> Site:
    """Create a site (admin)"""
    return service.create_site(body["code"], body["name"], actor=current_user().id)


@sites_blp.route("")
@roles_required("admin", "clinician", "researcher")
@sites_blp.response(200, SiteListSchema)
@sites_blp.alt_response(403, **PROBLEM_RESPONSE)
def list_sites() -> dict[str, Any]:
    """List sites: all for admins, one's own for other staff"""
    return {"items": service.list_sites(current_user())}


@users_blp.route("", methods=["POST"])
@roles_required("admin")
@users_blp.arguments(UserCreateSchema())
@users_blp.response(201, UserSchema)
@users_blp.alt_response(403, **PROBLEM_RESPONSE)
@users_blp.alt_response(409, **PROBLEM_RESPONSE)
def create_user(body: dict[str, Any]) -> User:
    """Create a staff account (admin)"""
    return service.create_user(body["email"], body["password"], body["role"], body["site_ids"],
                               actor=current_user().id)


@users_blp.route("")
@roles_required("admin")
@users_blp.response(200, UserListSchema)
@users_blp.alt_response(403, **PROBLEM_RESPONSE)
def list_users() -> dict[str, Any]:
    """List every account (admin)"""
    return {"items": service.list_users()}
