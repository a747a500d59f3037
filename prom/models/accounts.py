"""Accounts: sites, users (staff and participants), and the state of their sign-ins.

Roles are `admin`, `clinician`, `researcher` (staff, who sign in with an email) and `participant`
(who sign in with a server-generated username after activating with a one-time code). Staff belong
to sites through `user_sites`. Tokens are JWTs; what must survive a restart — which refresh tokens
were used, which sessions were revoked — lives here, in the database, never in process memory.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prom.db import Base, utcnow

if TYPE_CHECKING:
    from prom.models.participants import Participant

ROLES = ("admin", "clinician", "researcher", "participant")
STAFF_ROLES = ("admin", "clinician", "researcher")



class Site(Base):
    """A clinic or trial site. Clinicians see the participants of their sites only."""

    __tablename__ = "sites"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSite(Base):
    """A staff member's membership of a site."""

    __tablename__ = "user_sites"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        # staff sign in by email, participants by username: each has exactly its own
        CheckConstraint("(role = 'participant') = (email IS NULL)", name="email_for_staff_only"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(20))
    # Stored lower-case, so that sign-in is case-insensitive and unique regardless of case.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # Server-generated for participants at activation; never chosen by the user (it carries
    # nothing identifying).
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    # argon2id PHC string; NULL until a participant activates.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    # Loaded when used (scope checks, /me), not on every authenticated request.
    sites: Mapped[list[Site]] = relationship(secondary="user_sites", order_by=Site.code)

    # A participant's enrolment (None for staff): joined into the query that authenticates each
    # request, so a participant's own submissions need no lookup of their own.
    participant: Mapped[Participant | None] = relationship(
        viewonly=True, uselist=False, foreign_keys="Participant.user_id")

    @property
    def site_ids(self) -> list[uuid.UUID]:
        return [site.id for site in self.sites]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ActivationCode(Base):
    """A participant's one-time code for the first sign-in. Only its hash is stored."""

    __tablename__ = "activation_codes"

    # SHA-256 of the code: codes are random and high-entropy, so a fast hash is enough, and it
    # lets the code be looked up directly.
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RefreshToken(Base):
    """One issued refresh token. Rotation marks it used and issues its successor in the same
    family; presenting a used token again is theft or a bug, and revokes the whole family."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    # One family per sign-in; every rotation stays in it. Access tokens carry it too, so that
    # logging out revokes the whole session.
    family: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RevokedSession(Base):
    """A sign-in family that was logged out or caught reusing a refresh token: every access and
    refresh token of that family is refused from then on, by every worker and after restarts."""

    __tablename__ = "revoked_sessions"

    family: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "logout" or "refresh_reuse"
    reason: Mapped[str] = mapped_column(String(40))
