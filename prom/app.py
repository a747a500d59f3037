"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from prom.api import register_blueprints
from prom.auth import configure_tokens
from prom.cli import register_commands
from prom.config import configure
from prom.errors import register_error_handlers
from prom.extensions import api, compress, db, instruments, jwt, limiter
from prom.webapp import bp as webapp


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a prom app. ``config`` overrides settings by Flask key, e.g. in tests
    ``{"TESTING": True, "DATABASE_URL": "sqlite:///..."}``; see :mod:`prom.config`."""
    # "prom", not __name__: the app's logger is then the parent of every prom.* module logger,
    # and the instance folder (default SQLite database) is <repo>/instance in a source checkout.
    app = Flask("prom")

    configure(app, config)

    db.init_app(app)
    instruments.init_app(app)
    api.init_app(app)
    jwt.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)

    configure_tokens(jwt)
    register_blueprints(api)
    app.register_blueprint(webapp)  # the participant client at /app/, outside the API

    register_error_handlers(app)

    register_commands(app)

    return app
