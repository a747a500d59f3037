"""Storing a synthetic trial (`prom.synthetic_trial`) through the services the API uses.

Everything goes in the way an API client's data would: the site, study and enrolment bodies are
loaded by the API's own schemas, then `accounts.create_site`, `studies.create_study`,
`participants.enrol` (randomisation recorded at enrolment) and `submissions.submit_batch` store
them, so responses are validated, scored, placed and alerted on like real ones. Participants are
generated and enrolled one at a time and their responses sent in batches of at most 500, so
memory stays bounded however large the trial.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from prom.errors import Forbidden
from prom.extensions import db
from prom.models.accounts import Site, User
from prom.schemas.accounts import SiteSchema
from prom.schemas.participants import ParticipantCreateSchema
from prom.schemas.responses import MAX_BATCH
from prom.schemas.studies import StudyCreateSchema
from prom.services import accounts, participants, studies, submissions
from prom.services.instruments import library
from prom.synthetic_trial import TrialSpec, generate

_site_schema = SiteSchema()
_study_schema = StudyCreateSchema()
_enrolment_schema = ParticipantCreateSchema()


@dataclass
class StoredTrial:
    """What `store_trial` stored."""

    study_id: uuid.UUID
    participants: Counter[str] = field(default_factory=Counter)  # per arm
    responses: int = 0
    adverse_events: int = 0  # adverse-event reports in which something happened
    seconds: float = 0.0


class Refused(RuntimeError):
    """A generated response the server refused: a bug in the generator or the server."""


def store_trial(spec: TrialSpec, *, actor: User, batch_size: int = MAX_BATCH,
                progress: Callable[[StoredTrial], None] | None = None) -> StoredTrial:
    """Create the spec's sites (those missing), its study and participants, and store every
    response, acting as `actor` (an admin: the API lets only admins create sites and studies).
    `progress` is called after each batch. Raises `Refused` if any response is not stored,
    `Conflict` (409) when the study code is taken."""
    if actor.role != "admin":
        raise Forbidden("Only an admin can create a study and its sites.")
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be from 1 to {MAX_BATCH}")
    started = time.perf_counter()
    site_ids = {site.code: ensure_site(site.code, site.name, actor=actor).id
                for site in spec.sites}
    study = studies.create_study(_study_schema.load(spec.study_body()), actor=actor.id)
    stored = StoredTrial(study.id)
    pending: list[dict[str, Any]] = []
    for person in generate(spec, library()):
        enrolment = person.enrolment
        data = _enrolment_schema.load(enrolment.body(site_ids[enrolment.site]))
        participant_id = participants.enrol(study.id, data, actor=actor).participant.id
        stored.participants[enrolment.arm] += 1
        pending += person.entries(participant_id)
        while len(pending) >= batch_size:
            _submit(pending[:batch_size], actor, stored, progress)
            del pending[:batch_size]
    if pending:
        _submit(pending, actor, stored, progress)
    stored.seconds = time.perf_counter() - started
    return stored


def _submit(entries: list[dict[str, Any]], actor: User, stored: StoredTrial,
            progress: Callable[[StoredTrial], None] | None) -> None:
    results = submissions.submit_batch(entries, actor=actor)
    for entry, result in zip(entries, results, strict=True):
        if result["status"] != 201:
            raise Refused(f"response {entry['id']} ({entry['instrument']}) was refused: "
                          f"{result}")
    stored.responses += len(entries)
    stored.adverse_events += sum(1 for entry in entries if entry["instrument"] == "adverse_event"
                                 and entry["answers"]["occurred"])
    if progress is not None:
        progress(stored)


def ensure_site(code: str, name: str, *, actor: User) -> Site:
    """The site with `code`, created (as the API would) when there is none."""
    site = db.session.scalar(select(Site).where(Site.code == code))
    if site is not None:
        return site
    body = _site_schema.load({"code": code, "name": name})
    return accounts.create_site(body["code"], body["name"], actor=actor.id)


def staff_actor(email: str, password: str | None = None) -> tuple[User, bool]:
    """The account with `email`, or a new admin with `password` (random when None: the account
    can then not sign in). Returns the account and whether it was created."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is not None:
        return user, False
    user = accounts.create_user(email, password or secrets.token_urlsafe(24), "admin")
    return user, True
