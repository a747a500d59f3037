"""The minimal comparison app of `bench_submit.py`: validate a PHQ-9-shaped body, insert a row.

One endpoint, ``POST /responses``: the body is loaded with a marshmallow schema (id UUID,
instrument, instrument_version, collected_at AwareDateTime, answers Dict), one row goes into
``baseline_responses`` (the id is the primary key) with SQLAlchemy Core, and the answer is 201
``{"id": ...}``. No authentication, no scoring, no audit row, no ORM: the floor that a Flask +
marshmallow + PostgreSQL submission endpoint costs on this machine. A bad body gets 422, a
duplicate id 409.

Run:  BASELINE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/prom_bench \\
      .venv/bin/gunicorn --workers 2 --bind 127.0.0.1:8001 benchmarks.baseline_app:app
"""

from __future__ import annotations

import os

import marshmallow as ma
from flask import Flask, jsonify, request
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Uuid,
    create_engine,
    func,
)
from sqlalchemy.exc import IntegrityError, ProgrammingError

metadata = MetaData()

baseline_responses = Table(
    "baseline_responses", metadata,
    Column("id", Uuid, primary_key=True),
    Column("instrument", String(64), nullable=False),
    Column("instrument_version", String(16), nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


class SubmissionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    instrument = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    instrument_version = ma.fields.String(required=True,
                                          validate=ma.validate.Length(min=1, max=16))
    collected_at = ma.fields.AwareDateTime(required=True)
    answers = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=64)),
                             values=ma.fields.Raw(allow_none=True), required=True)


def create_schema(engine: Engine) -> None:
    """Create the table if it is missing (two workers starting together may race: one wins)."""
    try:
        metadata.create_all(engine)
    except (IntegrityError, ProgrammingError):
        metadata.create_all(engine)  # the other worker created it meanwhile; now a no-op


def create_app(database_url: str | None = None) -> Flask:
    url = database_url or os.environ["BASELINE_DATABASE_URL"]
    engine = create_engine(url)
    create_schema(engine)
    schema = SubmissionSchema()
    app = Flask("baseline")

    @app.post("/responses")
    def submit():
        try:
            data = schema.load(request.get_json())
        except ma.ValidationError as error:
            return jsonify(errors=error.messages), 422
        try:
            with engine.begin() as connection:
                connection.execute(baseline_responses.insert().values(**data))
        except IntegrityError:
            return jsonify(detail="duplicate id"), 409
        return jsonify(id=str(data["id"])), 201

    return app


app = create_app() if "BASELINE_DATABASE_URL" in os.environ else None
