"""Application settings: typed defaults, overridden by ``PROM_*`` environment variables.

Every setting is a field of :class:`Config`, named exactly as the Flask config key the rest of
the code reads (``current_app.config["DATABASE_URL"]``), so one name is used everywhere.
:func:`configure` loads the environment once per app and then applies the overrides that
``create_app(config=...)`` was given; tests pass theirs that way instead of setting variables.

Environment variables, all optional:

==============================  ================================================================
``PROM_DATABASE_URL``           SQLAlchemy URL; default ``sqlite:///<instance folder>/prom.db``
``PROM_SECRET_KEY``             Flask session/signing key; a development key when unset
``PROM_JWT_SECRET_KEY``         key that signs access and refresh tokens; a development key
``PROM_MAX_CONTENT_LENGTH``     largest accepted request body in bytes (413 above it); 1 MiB
``PROM_RATELIMIT_STORAGE_URL``  rate-limit counters, e.g. ``redis://127.0.0.1:6379``; memory
``PROM_INSTRUMENTS_DIR``        instrument definitions; default the repository's instruments/
``PROM_INSTRUMENTS_PATH``       overlay directory of licensed instrument text; unset
``PROM_ACCESS_TOKEN_MINUTES``   access-token lifetime in minutes; 15
``PROM_REFRESH_TOKEN_DAYS``     refresh-token lifetime in days; 30
``PROM_LOG_LEVEL``              DEBUG, INFO, WARNING, ERROR or CRITICAL; INFO
``PROM_IDENTIFIED_EXPORT_ROLES`` roles that may export identified data, comma-separated; admin
``PROM_FHIR_BASE_URL``          base of the canonical URLs in FHIR resources; the API's
                                ``…/api/v1/fhir`` as the request reached it
==============================  ================================================================
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from prom import __version__

#: Signs sessions and tokens when no secret is configured. Long enough (>= 32 bytes) that PyJWT
#: accepts it for HS256 without an InsecureKeyLengthWarning; public, so never fit for production.
DEVELOPMENT_SECRET = "prom-development-secret-do-not-use-in-production-0000"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
    """Settings of one prom app. Field names are Flask config keys."""

    DATABASE_URL: str
    """SQLAlchemy URL of the database: SQLite (embedded default) or PostgreSQL (production)."""

    SECRET_KEY: str = DEVELOPMENT_SECRET
    """Flask's signing key."""

    JWT_SECRET_KEY: str = DEVELOPMENT_SECRET
    """Signs access and refresh tokens; rotating it logs everybody out."""

    MAX_CONTENT_LENGTH: int = MiB
    """Request bodies above this many bytes are refused with 413 before they are parsed."""

    RATELIMIT_STORAGE_URI: str = "memory://"
    """Where flask-limiter keeps counters. ``memory://`` is per process: with several workers
    or hosts use Redis so that a limit holds across all of them."""

    RATELIMIT_HEADERS_ENABLED: bool = True
    """Send Retry-After (and X-RateLimit-*) so a limited client knows when to try again."""

    RATELIMIT_AUTH_PER_ADDRESS: str = "10 per minute"
    """Sign-in, activation and refresh attempts allowed per client address."""

    RATELIMIT_AUTH_PER_ACCOUNT: str = "5 per minute"
    """Sign-in attempts allowed per account (email or username), from any address."""

    JWT_ACCESS_TOKEN_EXPIRES: timedelta = timedelta(minutes=15)
    """Lifetime of an access token; short, because a stolen one cannot be recalled sooner."""

    JWT_REFRESH_TOKEN_EXPIRES: timedelta = timedelta(days=30)
    """Lifetime of a refresh token; each use rotates it."""

    ACTIVATION_CODE_DAYS: int = 30
    """Days a participant's one-time activation code stays valid."""

    ARGON2_TIME_COST: int = 3
    ARGON2_MEMORY_KIB: int = 65536
    ARGON2_PARALLELISM: int = 4
    """Password-hashing cost (argon2id): argon2-cffi's RFC 9106 defaults. Tests lower it."""

    INSTRUMENTS_DIR: Path | None = None
    """Directory of instrument definitions; the repository's instruments/ when unset."""

    INSTRUMENTS_PATH: Path | None = None
    """Overlay directory whose definitions supply licensed item text (see instruments/README.md)."""

    IDENTIFIED_EXPORT_ROLES: tuple[str, ...] = ("admin",)
    """Roles allowed to ask for an identified research export (ids, dates, sites, free text)."""

    FHIR_BASE_URL: str | None = None
    """Base of the canonical URLs of prom's FHIR content (``{base}/Questionnaire/phq9``, the
    CodeSystems of answers and scores), without a trailing slash. Set it to the public address
    behind a proxy, so that canonicals stay the same whichever host name a request used; when
    unset, ``…/api/v1/fhir`` under the address the request reached."""

    LOG_LEVEL: str = "INFO"
    """Level of the ``prom`` logger, which every ``prom.*`` module logger inherits."""

    # Fixed settings of the OpenAPI document and its docs page (flask-smorest reads these keys).
    API_TITLE: str = "prom"
    API_VERSION: str = __version__
    OPENAPI_VERSION: str = "3.1.0"
    OPENAPI_URL_PREFIX: str = "/api"
    OPENAPI_JSON_PATH: str = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH: str = "docs"
    OPENAPI_SWAGGER_UI_URL: str = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
    API_SPEC_OPTIONS: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: {
            "info": {
                "description": "Patient-reported outcomes for chronic-pain care and research. "
                "Errors are RFC 9457 application/problem+json documents. Sign in with "
                "POST /api/v1/auth/login and send the access token as a bearer token."
            },
            "components": {"securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            # Every operation needs a token unless it says otherwise (security: []).
            "security": [{"bearerAuth": []}],
        }
    )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, instance_path: Path) -> Config:
        """Read ``PROM_*`` variables; an unset or empty variable keeps the default.

        ``instance_path`` is the Flask instance folder, home of the default SQLite database.
        Raises ValueError naming the variable when a value cannot be used.
        """

        def get(name: str) -> str | None:
            return environ.get(name) or None

        settings: dict[str, Any] = {
            "DATABASE_URL": get("PROM_DATABASE_URL") or f"sqlite:///{instance_path / 'prom.db'}"
        }
        if secret := get("PROM_SECRET_KEY"):
            settings["SECRET_KEY"] = secret
        if jwt_secret := get("PROM_JWT_SECRET_KEY"):
            settings["JWT_SECRET_KEY"] = jwt_secret
        if max_length := get("PROM_MAX_CONTENT_LENGTH"):
            settings["MAX_CONTENT_LENGTH"] = _positive_int("PROM_MAX_CONTENT_LENGTH", max_length)
        if storage := get("PROM_RATELIMIT_STORAGE_URL"):
            settings["RATELIMIT_STORAGE_URI"] = storage
        if directory := get("PROM_INSTRUMENTS_DIR"):
            settings["INSTRUMENTS_DIR"] = Path(directory)
        if overlay := get("PROM_INSTRUMENTS_PATH"):
            settings["INSTRUMENTS_PATH"] = Path(overlay)
        if minutes := get("PROM_ACCESS_TOKEN_MINUTES"):
            settings["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(
                minutes=_positive_int("PROM_ACCESS_TOKEN_MINUTES", minutes, unit="minutes"))
        if days := get("PROM_REFRESH_TOKEN_DAYS"):
            settings["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(
                days=_positive_int("PROM_REFRESH_TOKEN_DAYS", days, unit="days"))
        if roles := get("PROM_IDENTIFIED_EXPORT_ROLES"):
            settings["IDENTIFIED_EXPORT_ROLES"] = _roles("PROM_IDENTIFIED_EXPORT_ROLES", roles)
        if fhir_base := get("PROM_FHIR_BASE_URL"):
            settings["FHIR_BASE_URL"] = _url("PROM_FHIR_BASE_URL", fhir_base)
        if level := get("PROM_LOG_LEVEL"):
            settings["LOG_LEVEL"] = _log_level("PROM_LOG_LEVEL", level)
        return cls(**settings)

    def as_flask_config(self) -> dict[str, Any]:
        """The settings as a mapping for ``app.config``."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def configure(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Load settings into ``app.config`` (environment, then ``overrides``) and set up logging."""
    settings = Config.from_environ(os.environ, instance_path=Path(app.instance_path))
    app.config.from_mapping(settings.as_flask_config())
    if overrides:
        app.config.from_mapping(overrides)
    app.logger.setLevel(_log_level("LOG_LEVEL", app.config["LOG_LEVEL"]))
    warn_about_development_secrets(app)


def warn_about_development_secrets(app: Flask) -> None:
    """Log a warning for every secret left at its public development value, except in tests."""
    if app.testing:
        return
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        if app.config[key] == DEVELOPMENT_SECRET:
            app.logger.warning(
                "PROM_%s is not set: using the public development key, so tokens and sessions "
                "can be forged. Set it to a long random value before real use.",
                key,
            )


def _positive_int(name: str, raw: str, unit: str = "bytes") -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of {unit}, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _log_level(name: str, raw: str) -> str:
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return level


def _url(name: str, raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise ValueError(f"{name} must be an absolute http(s) URL, got {raw!r}")
    return url


def _roles(name: str, value: str) -> tuple[str, ...]:
    roles = tuple(role.strip() for role in value.split(",") if role.strip())
    staff = ("admin", "clinician", "researcher")
    if not roles or any(role not in staff for role in roles):
        raise ValueError(f"{name} must list staff roles ({', '.join(staff)}), comma-separated; "
                         f"got {value!r}")
    return roles
