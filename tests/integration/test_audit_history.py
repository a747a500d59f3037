"""The audit trail alone tells the whole history of a response.

DESIGN.md: "every change ... leaves an audit row (who, what, when, why)". For a response that is
every version -- version 1 as submitted, then each amendment -- with who wrote it, when, on which
instrument version, why (the amendment's reason) and what changed. These tests rebuild that
history from `audit_events` rows only and compare it with what the versions endpoint serves from
`response_versions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prom.models.audit import AuditEvent
from tests.api.studies_fixtures import (
    API,
    Caller,
    activate,
    bearer,
    build_world,
    sign_in_staff,
)
from tests.api.test_responses import phq9_answers, submission


def history_from_audit(session: Session, response_id: str) -> list[dict[str, Any]]:
    """Every version of the response as the audit trail records it, oldest first."""
    rows = session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "response", AuditEvent.target_id == response_id,
        AuditEvent.action.in_(("response.create", "response.amend"))).order_by(AuditEvent.id))
    return [{"version": row.detail["version"], "by": row.actor, "at": row.occurred_at,
             "reason": row.detail.get("reason"), "changed": row.detail.get("changed"),
             "action": row.action, "detail": row.detail} for row in rows]


def amend(client: FlaskClient, caller: Caller, response_id: str, answers: dict[str, Any],
          reason: str) -> Any:
    return client.post(f"{API}/responses/{response_id}/amendments",
                       json={"answers": answers, "reason": reason}, headers=caller.headers)


@dataclass
class Scene:
    """A study with one activated participant, its admin and a clinician of its site."""

    client: FlaskClient
    participant_id: str
    participant_headers: dict[str, str]
    clinician: Caller
    admin: Caller


@pytest.fixture
def world(client: FlaskClient, db_session: Session) -> Scene:
    world = build_world(client)
    return Scene(
        client=client, participant_id=world.participant_id,
        participant_headers=bearer(
            activate(client, world.participant["activation_code"])["access_token"]),
        clinician=sign_in_staff(client, "clinician", [world.site_a.id]), admin=world.admin)


@pytest.mark.parametrize("path", ["single", "batch"])
def test_audit_rows_alone_rebuild_every_version_who_when_and_why(
    world: Scene, db_session: Session, path: str
) -> None:
    client = world.client
    sent = submission(answers=phq9_answers(1, phq9_9=0))
    if path == "single":
        first = client.post(f"{API}/responses", json=sent, headers=world.participant_headers)
        assert first.status_code == 201, first.get_data(as_text=True)
    else:
        first = client.post(f"{API}/responses/batch", json={"responses": [sent]},
                            headers=world.participant_headers)
        assert first.json["results"][0]["status"] == 201, first.get_data(as_text=True)
    second = amend(client, world.clinician, sent["id"], phq9_answers(1, phq9_9=0, phq9_3=3),
                   "participant misread item 3")
    third = amend(client, world.admin, sent["id"],
                  phq9_answers(2, phq9_9=0, phq9_3=3), "answers 1 and 2 swapped")
    assert (second.status_code, third.status_code) == (201, 201), third.get_data(as_text=True)

    rebuilt = history_from_audit(db_session, sent["id"])

    versions = client.get(f"{API}/responses/{sent['id']}/versions",
                          headers=world.admin.headers).json["items"]
    assert [entry["version"] for entry in rebuilt] == [1, 2, 3]
    assert [entry["action"] for entry in rebuilt] == ["response.create", "response.amend",
                                                      "response.amend"]
    participant_user = versions[0]["created_by"]
    assert [entry["by"] for entry in rebuilt] == [
        participant_user, str(world.clinician.user_id), str(world.admin.user_id)]
    # The trail's time is the version's own timestamp, not a moment near it.
    assert [entry["at"] for entry in rebuilt] == [
        datetime.fromisoformat(version["created_at"]) for version in versions]
    assert [entry["reason"] for entry in rebuilt] == [
        None, "participant misread item 3", "answers 1 and 2 swapped"]
    assert [entry["reason"] for entry in rebuilt] == [version["reason"] for version in versions]
    assert rebuilt[1]["changed"] == ["phq9_3"]
    assert rebuilt[2]["changed"] == [f"phq9_{i}" for i in (1, 2, 4, 5, 6, 7, 8)]
    assert rebuilt[0]["detail"] == {
        "participant_id": world.participant_id, "instrument": "phq9",
        "instrument_version": "1", "version": 1}
    assert all(entry["at"].tzinfo is not None for entry in rebuilt)


def test_replays_and_refused_amendments_leave_no_audit_row(
    world: Scene, db_session: Session
) -> None:
    client = world.client
    sent = submission()
    assert client.post(f"{API}/responses", json=sent,
                       headers=world.participant_headers).status_code == 201
    replay = client.post(f"{API}/responses", json=sent, headers=world.participant_headers)
    conflict = client.post(f"{API}/responses", json={**sent, "answers": phq9_answers(3)},
                           headers=world.participant_headers)
    invalid = amend(client, world.clinician, sent["id"], {"phq9_1": 99}, "typo")
    by_participant = client.post(f"{API}/responses/{sent['id']}/amendments",
                                 json={"answers": phq9_answers(2), "reason": "mine"},
                                 headers=world.participant_headers)

    assert (replay.status_code, conflict.status_code, invalid.status_code,
            by_participant.status_code) == (200, 409, 422, 403)
    assert [entry["version"] for entry in history_from_audit(db_session, sent["id"])] == [1]
