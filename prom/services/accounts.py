"""Sites and user accounts: created by admins (staff) or by enrolment (participants)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from prom.db import UNSTORABLE_TEXT, is_storable_text
from prom.errors import Conflict, ValidationFailed
from prom.extensions import db
from prom.models.accounts import STAFF_ROLES, ActivationCode, Site, User
from prom.services import audit
from prom.services.passwords import hash_password

ACTIVATION_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed
ACTIVATION_CODE_LENGTH = 12  # 31^12 ≈ 2^59 possibilities


def create_site(code: str, name: str, *, actor: uuid.UUID | None = None) -> Site:
    site = Site(id=uuid.uuid4(), code=code, name=name)
    db.session.add(site)
    audit.record("site.create", actor=actor, target=("site", site.id), detail={"code": code})
    _commit_or_conflict(f"A site with code {code!r} already exists.")
    return site


def list_sites(viewer: User) -> list[Site]:
    """Admins see every site; other staff the sites they belong to."""
    if viewer.role == "admin":
        return list(db.session.scalars(select(Site).order_by(Site.code)))
    return list(viewer.sites)


def create_user(email: str, password: str, role: str, site_ids: Iterable[uuid.UUID] = (),
                *, actor: uuid.UUID | None = None) -> User:
    """A staff account (admin, clinician or researcher)."""
    if role not in STAFF_ROLES:
        raise ValidationFailed(errors={"role": [f"must be one of {', '.join(STAFF_ROLES)}"]})
    _refuse_unstorable("password", password)
    sites = sites_by_id(site_ids)
    user = User(id=uuid.uuid4(), role=role, email=email.strip().lower(),
                password_hash=hash_password(password), sites=sites)
    db.session.add(user)
    audit.record("user.create", actor=actor, target=("user", user.id),
                 detail={"role": role, "site_ids": [str(s.id) for s in sites]})
    _commit_or_conflict(f"An account with email {user.email!r} already exists.")
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.created_at, User.id)))


def create_participant_user(site_id: uuid.UUID | None = None,
                            *, actor: uuid.UUID | None = None) -> tuple[User, str]:
    """A participant account with no password yet, and its one-time activation code."""
    user, code = new_participant_account(sites_by_id([site_id] if site_id else []), actor=actor)
    db.session.commit()
    return user, code


def new_participant_account(sites: list[Site], *,
                            actor: uuid.UUID | None = None) -> tuple[User, str]:
    """Add (without committing: enrolment commits it with the participant) a participant account
    and its activation code. Only the code's hash is stored; the plain code is shown once."""
    user = User(id=uuid.uuid4(), role="participant", sites=sites)
    code = "".join(secrets.choice(ACTIVATION_CODE_ALPHABET)
                   for _ in range(ACTIVATION_CODE_LENGTH))
    days = current_app.config["ACTIVATION_CODE_DAYS"] if has_app_context() else 30
    db.session.add(user)
    db.session.flush()  # the code's foreign key needs the user row first
    db.session.add(ActivationCode(code_hash=activation_code_hash(code), user_id=user.id,
                                  expires_at=datetime.now(UTC) + timedelta(days=days)))
    audit.record("user.create", actor=actor, target=("user", user.id),
                 detail={"role": "participant"})
    return user, code


def activation_code_hash(code: str) -> str:
    """Codes are compared case- and space-insensitively: people read them off paper."""
    normalised = "".join(code.split()).upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def sites_by_id(site_ids: Iterable[uuid.UUID]) -> list[Site]:
    """The sites with these ids; 422 naming `site_ids` when any does not exist."""
    wanted = list(dict.fromkeys(site_ids))
    if not wanted:
        return []
    found = list(db.session.scalars(select(Site).where(Site.id.in_(wanted))))
    missing = set(wanted) - {site.id for site in found}
    if missing:
        raise ValidationFailed(errors={"site_ids": [f"unknown site {site_id}"
                                                    for site_id in sorted(map(str, missing))]})
    return found


def _commit_or_conflict(message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(message) from error


def _refuse_unstorable(field: str, text: str) -> None:
    """422 for text with NUL or lone surrogates, which no column (or password hash) takes. The
    input schemas refuse it over HTTP; `prom create-admin` reads a terminal, whose undecodable
    bytes arrive as lone surrogates."""
    if not is_storable_text(text):
        raise ValidationFailed(errors={field: [UNSTORABLE_TEXT]})
