"""Signing in and out: `/auth/login`, `/auth/activate`, `/auth/refresh`, `/auth/logout`.

Sign-in, activation and refresh are rate limited per client address and, for sign-in and
activation, per account, so guessing passwords is slow from one machine and from many.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_jwt_extended import get_jwt, jwt_required

from prom.api.parsing import Blueprint
from prom.auth import current_user, roles_required
from prom.errors import PROBLEM_RESPONSE
from prom.extensions import limiter
from prom.schemas.auth import ActivatedSchema, ActivateSchema, LoginSchema, TokensSchema
from prom.services import auth as service

blp = Blueprint("auth", __name__, url_prefix="/auth",
                description="Sign in (staff by email, participants by username), activate, "
                            "refresh and sign out")


def _per_address() -> str:
    return current_app.config["RATELIMIT_AUTH_PER_ADDRESS"]


def _per_account() -> str:
    return current_app.config["RATELIMIT_AUTH_PER_ACCOUNT"]


def _account_key() -> str:
    """The account a sign-in attempt names, so its limit holds whatever address tries it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return "account:?"
    name = body.get("email") or body.get("username") or body.get("activation_code") or "?"
    return f"account:{str(name).strip().lower()[:256]}"


TOO_MANY = "Too many attempts. Wait for the time in the Retry-After header, then try again."


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema())
@blp.response(200, TokensSchema)
@blp.alt_response(401, **PROBLEM_RESPONSE)
@blp.alt_response(429, **PROBLEM_RESPONSE)
@limiter.limit(_per_address, error_message=TOO_MANY)
@limiter.limit(_per_account, key_func=_account_key, error_message=TOO_MANY)
@blp.doc(security=[])  # public
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Sign in; returns an access token (15 minutes) and a refresh token"""
    return service.login(email=body.get("email"), username=body.get("username"),
                         password=body["password"])


@blp.route("/activate", methods=["POST"])
@blp.arguments(ActivateSchema())
@blp.response(200, ActivatedSchema)
@blp.alt_response(401, **PROBLEM_RESPONSE)
@blp.alt_response(429, **PROBLEM_RESPONSE)
@limiter.limit(_per_address, error_message=TOO_MANY)
@limiter.limit(_per_account, key_func=_account_key, error_message=TOO_MANY)
@blp.doc(security=[])  # public
def activate(body: dict[str, Any]) -> dict[str, Any]:
    """A participant's first sign-in with their one-time code; sets the password"""
    return service.activate(activation_code=body["activation_code"], password=body["password"])


@blp.route("/refresh", methods=["POST"])
@limiter.limit(_per_address, error_message=TOO_MANY)
@jwt_required(refresh=True)
@blp.response(200, TokensSchema)
@blp.alt_response(401, **PROBLEM_RESPONSE)
@blp.alt_response(429, **PROBLEM_RESPONSE)
def refresh() -> dict[str, Any]:
    """Exchange the refresh token (as Authorization: Bearer) for new tokens; it is single use"""
    return service.refresh(current_user(), get_jwt())


@blp.route("/logout", methods=["POST"])
@roles_required()
@blp.response(204)
@blp.alt_response(401, **PROBLEM_RESPONSE)
def logout() -> None:
    """End this sign-in: its access and refresh tokens stop working everywhere"""
    service.logout(current_user(), get_jwt())
