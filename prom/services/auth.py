"""Signing in, activating, refreshing and signing out.

Each sign-in starts a *family*: its refresh token, every rotation of it, and the access tokens they
issue all carry the family id. Signing out revokes the family; presenting an already-rotated
refresh token (a copy was stolen, or a client retried badly) revokes it too, so a thief and the
victim are both signed out. Both facts are rows in the database.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from prom.db import is_storable_text
from prom.errors import Unauthorized
from prom.extensions import db
from prom.models.accounts import ActivationCode, RefreshToken, RevokedSession, User
from prom.services import audit
from prom.services.accounts import activation_code_hash
from prom.services.passwords import hash_password, needs_rehash, verify_password

BAD_CREDENTIALS = "The sign-in details are not correct."  # the same for every failure
USERNAME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def login(*, email: str | None, username: str | None, password: str) -> dict[str, Any]:
    """Tokens for a staff member (email) or an activated participant (username)."""
    if email is not None:
        tried = {"email": email.strip().lower()}
    else:
        tried = {"username": (username or "").strip().lower()}
    if not (is_storable_text(next(iter(tried.values()))) and is_storable_text(password)):
        # No account has such a name or password, and neither the query nor the audit row
        # could carry it (NUL, lone surrogates): a failed sign-in like any other.
        tried = {key: _printable(value) for key, value in tried.items()}
        user = None
    elif email is not None:
        user = db.session.scalar(select(User).where(User.email == tried["email"]))
    else:
        user = db.session.scalar(select(User).where(User.username == tried["username"],
                                                    User.role == "participant"))
    stored = user.password_hash if user is not None and user.active else None
    if not verify_password(stored, password):
        audit.record("auth.login_failed", actor=user.id if user else None,
                     target=("user", user.id) if user else None, detail=tried)
        db.session.commit()
        raise Unauthorized(BAD_CREDENTIALS)
    assert user is not None and stored is not None
    if needs_rehash(stored):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    audit.record("auth.login", actor=user.id, target=("user", user.id))
    tokens = _start_family(user)
    db.session.commit()
    return tokens


def activate(*, activation_code: str, password: str) -> dict[str, Any]:
    """A participant's first sign-in: spend the one-time code, set the password."""
    now = datetime.now(UTC)
    code_hash = activation_code_hash(activation_code)
    # Spend the code in one statement, so two concurrent activations cannot both succeed.
    spent = db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.code_hash == code_hash, ActivationCode.used_at.is_(None),
               ActivationCode.expires_at > now)
        .values(used_at=now)
        .returning(ActivationCode.user_id)
    ).scalar_one_or_none()
    user = db.session.get(User, spent) if spent is not None else None
    if user is None or not user.active or user.role != "participant":
        db.session.rollback()
        audit.record("auth.activate_failed", detail={"reason": "unknown, used or expired code"})
        db.session.commit()
        raise Unauthorized("The activation code is not valid, has been used, or has expired.")
    user.password_hash = hash_password(password)
    user.username = _new_username()
    user.last_login_at = now
    audit.record("auth.activate", actor=user.id, target=("user", user.id))
    tokens = _start_family(user)
    db.session.commit()
    return {**tokens, "username": user.username}


def refresh(user: User, claims: dict[str, Any]) -> dict[str, Any]:
    """Rotate a refresh token: mark it used and issue its successor in the same family."""
    now = datetime.now(UTC)
    rotated = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == claims["jti"], RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if rotated != 1:
        _revoke(claims["fam"], "refresh_reuse")
        audit.record("auth.refresh_reused", actor=user.id, target=("user", user.id),
                     detail={"family": claims["fam"]})
        db.session.commit()
        raise Unauthorized("This refresh token was already used: the session has been ended.")
    tokens = _issue(user, claims["fam"])
    db.session.commit()
    return tokens


def logout(user: User, claims: dict[str, Any]) -> None:
    _revoke(claims["fam"], "logout")
    audit.record("auth.logout", actor=user.id, target=("user", user.id))
    db.session.commit()


def _start_family(user: User) -> dict[str, Any]:
    return _issue(user, uuid.uuid4().hex)


def _issue(user: User, family: str) -> dict[str, Any]:
    identity = str(user.id)
    access = create_access_token(identity=identity,
                                 additional_claims={"role": user.role, "fam": family})
    refresh_token = create_refresh_token(identity=identity, additional_claims={"fam": family})
    claims = decode_token(refresh_token)
    db.session.add(RefreshToken(
        jti=claims["jti"], user_id=user.id, family=family,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC)))
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {"access_token": access, "refresh_token": refresh_token, "token_type": "Bearer",
            "expires_in": int(expires.total_seconds())}


def _revoke(family: str, reason: str) -> None:
    if db.session.get(RevokedSession, family) is not None:
        return
    try:
        with db.session.begin_nested():  # a SAVEPOINT: a concurrent revocation is no failure
            db.session.add(RevokedSession(family=family, reason=reason))
    except IntegrityError:
        pass  # revoked by a concurrent request: the outcome is the same


def _new_username() -> str:
    while True:
        candidate = "p-" + "".join(secrets.choice(USERNAME_ALPHABET) for _ in range(8))
        if db.session.scalar(select(User.id).where(User.username == candidate)) is None:
            return candidate


def _printable(text: str) -> str:
    """`text` with NUL and lone surrogates written as escapes, fit for an audit row."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
