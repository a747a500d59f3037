"""Bulk storage of submissions, and amendments under concurrency.

Contract (prom/services/submissions.py, prom/services/responses.py):

- The new responses of a request are stored together, in one transaction. A repeated id within
  one batch is a replay of its first occurrence: the same payload answers 200 with the identical
  body, another payload 409; only the first occurrence is stored (and audited once).
- Should the database refuse a batch's transaction for a reason validation did not foresee, each
  entry is retried in a transaction of its own: only the faulty entry fails (status 500 with a
  ``detail``, not stored), the others are stored once each. A single submission the database
  refuses answers a 500 problem and stores nothing.
- Overlapping batches sent at the same time store every id exactly once: one request gets 201
  for it, the others 200 with the identical body.
- Simultaneous amendments of one response: each gets 201 (the next version) or 409, and the
  versions stay consecutive: no gap, no duplicate, the response pointing at the last.
- A batch's entries are received in the order they were sent, and listed in that order.

The refusal is a real trigger in the database (no mocks), installed by a fixture that drops it
even when the test fails. Tests that need several connections (threads) or that must see the
app's own commits and rollbacks do without ``db_session``: their data is committed for real, with
unique codes and emails, and every check is restricted to the test's own ids.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from prom.errors import PROBLEM_JSON
from prom.extensions import create_database_engine, db
from prom.models.audit import AuditEvent
from prom.models.responses import Response, ResponseVersion
from tests.api.studies_fixtures import (
    ADMIN,
    API,
    CLINICIAN_OF_SITE,
    THE_PARTICIPANT,
    World,
    activate,
    assert_problem,
    bearer,
    build_world,
)
from tests.api.test_responses import (
    BODY_FIELDS,
    creations,
    get,
    phq9_answers,
    post,
    post_batch,
    stored_count,
    submission,
)

REFUSED = "refused-by-db"


# ---------------------------------------------------------------------------------------------
# Helpers


def canonical(value: Any) -> str:
    """JSON text that tells 9 from 9.0 and ignores key order: bodies must be *identical*."""
    return json.dumps(value, sort_keys=True)


@dataclass
class Committed:
    """A world whose data is committed for real (no ``db_session``), with the participant's
    headers."""

    world: World
    participant: dict[str, str]


def committed_world(app: Flask) -> Committed:
    with app.app_context():
        world = build_world(app.test_client())
        tokens = activate(world.client, world.participant["activation_code"])
        world.caller(CLINICIAN_OF_SITE)  # signed in now, while the app context is open
    return Committed(world=world, participant=bearer(tokens["access_token"]))


def counts(app: Flask, response_ids: list[str]) -> dict[str, tuple[int, int]]:
    """{id: (rows in responses, response.create audit rows)} read through a fresh session."""
    with app.app_context():
        wanted = [uuid.UUID(i) for i in response_ids]
        rows = dict.fromkeys(response_ids, 0)
        for found, n in db.session.execute(
            select(Response.id, func.count()).where(Response.id.in_(wanted))
            .group_by(Response.id)
        ):
            rows[str(found)] = n
        audits = dict.fromkeys(response_ids, 0)
        for target, n in db.session.execute(
            select(AuditEvent.target_id, func.count())
            .where(AuditEvent.action == "response.create",
                   AuditEvent.target_id.in_(response_ids))
            .group_by(AuditEvent.target_id)
        ):
            audits[target] = n
    return {i: (rows[i], audits[i]) for i in response_ids}


def no_warnings(caught: list[warnings.WarningMessage]) -> None:
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []


# ---------------------------------------------------------------------------------------------
# (a) One batch repeating an id with another payload


def test_a_batch_repeating_an_id_with_another_payload_stores_the_first(
    world: World, db_session: Session
) -> None:
    first = submission(timepoint="baseline", answers=phq9_answers(1, phq9_9=0))
    changed = {**first, "answers": phq9_answers(3)}
    headers = world.headers(THE_PARTICIPANT)

    response = post_batch(world.client, headers, [first, changed])

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["id"] for r in results] == [first["id"], first["id"]]
    assert [r["status"] for r in results] == [201, 409], results
    assert "body" not in results[1], results[1]
    assert results[1]["detail"]
    body = results[0]["body"]
    assert body["scores"]["phq9"]["value"] == 8  # the first entry's answers, not the second's
    assert body["timepoint"] == "baseline"
    assert canonical(get(world.client, headers, first["id"]).json) == canonical(body)
    assert stored_count(db_session, first["id"]) == 1
    assert len(creations(db_session, first["id"])) == 1


def test_a_batch_repeating_an_id_after_a_conflict_still_replays_the_first(
    world: World, db_session: Session
) -> None:
    first = submission()
    changed = {**first, "timepoint": "week4"}

    response = post_batch(world.client, world.headers(THE_PARTICIPANT), [first, changed, first])

    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 409, 200], results
    assert canonical(results[2]["body"]) == canonical(results[0]["body"])
    assert results[0]["body"]["timepoint"] is None
    assert stored_count(db_session, first["id"]) == 1
    assert len(creations(db_session, first["id"])) == 1


# ---------------------------------------------------------------------------------------------
# (b) The database refuses an entry that validation accepted


@pytest.fixture
def refusing_database(database_url: str) -> Iterator[None]:
    """A trigger that makes the database refuse a `responses` row with timepoint REFUSED.

    Created and dropped through a connection of its own (committed, so every connection of the
    app sees it); dropped in ``finally``, so a failing test does not leave it behind. The name is
    unique, so that two runs sharing a database do not drop each other's trigger."""
    name = f"prom_test_refuse_{uuid.uuid4().hex[:12]}"
    engine = create_database_engine(database_url)
    if engine.dialect.name == "postgresql":
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION 'refused by the test trigger'; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT ON responses FOR EACH ROW "
            f"WHEN (NEW.timepoint = '{REFUSED}') EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name} ON responses",
                f"DROP FUNCTION IF EXISTS {name}()"]
    else:
        create = [
            f"CREATE TRIGGER {name} BEFORE INSERT ON responses "
            f"WHEN NEW.timepoint = '{REFUSED}' "
            f"BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END",
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name}"]
    try:
        try:
            with engine.begin() as connection:
                for statement in create:
                    connection.exec_driver_sql(statement)
            yield
        finally:
            with engine.begin() as connection:
                for statement in drop:
                    connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_the_trigger_really_refuses_the_row(app: Flask, refusing_database: None) -> None:
    """The premise of the refusal tests: the database itself refuses such a row."""
    world = committed_world(app)
    sent = submission(timepoint=REFUSED)
    with app.app_context():
        row = {"id": uuid.UUID(sent["id"]), "participant_id": uuid.UUID(world.world.participant_id),
               "instrument": "phq9", "instrument_version": "1", "timepoint": REFUSED,
               "collected_at": datetime.fromisoformat(sent["collected_at"]),
               "collected_offset_minutes": 60,
               "received_at": datetime.fromisoformat(sent["collected_at"]),
               "submitted_by": world.world.admin.user_id, "payload_hash": "0" * 64,
               "current_version": 1}
        with pytest.raises(SQLAlchemyError, match="refused by the test trigger"):
            db.session.execute(Response.__table__.insert(), row)
        db.session.rollback()
    assert counts(app, [sent["id"]]) == {sent["id"]: (0, 0)}


def test_an_entry_the_database_refuses_fails_alone(
    app: Flask, refusing_database: None, caplog: pytest.LogCaptureFixture
) -> None:
    world = committed_world(app)
    client = app.test_client()
    valid_1 = submission(timepoint="baseline")
    refused = submission(timepoint=REFUSED, answers=phq9_answers(2))
    valid_2 = submission(answers=phq9_answers(3))

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        response = post_batch(client, world.participant, [valid_1, refused, valid_2])

    no_warnings(caught)
    # The database's error is logged (with its traceback) naming the entry, not swallowed.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert refused["id"] in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], SQLAlchemyError), errors[0].exc_info
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["id"] for r in results] == [valid_1["id"], refused["id"], valid_2["id"]]
    assert [r["status"] for r in results] == [201, 500, 201], results
    assert "body" not in results[1], results[1]
    assert results[1]["detail"]
    assert "refused by the test trigger" not in results[1]["detail"]  # no database text leaks
    for result in (results[0], results[2]):
        assert result["body"].keys() >= BODY_FIELDS, result
        assert result["body"]["version"] == 1
        assert canonical(get(client, world.participant, result["id"]).json) == \
            canonical(result["body"])
    assert results[2]["body"]["scores"]["phq9"]["value"] == 27
    assert counts(app, [valid_1["id"], refused["id"], valid_2["id"]]) == {
        valid_1["id"]: (1, 1), refused["id"]: (0, 0), valid_2["id"]: (1, 1)}
    assert_problem(get(client, world.world.admin.headers, refused["id"]), 404)
    with app.app_context():
        orphans = db.session.scalar(select(func.count()).select_from(ResponseVersion).where(
            ResponseVersion.response_id == uuid.UUID(refused["id"])))
    assert orphans == 0


def test_replaying_the_batch_after_a_refusal(app: Flask, refusing_database: None) -> None:
    """The stored entries replay with 200 and their first body; the refused one fails again."""
    world = committed_world(app)
    client = app.test_client()
    entries = [submission(), submission(timepoint=REFUSED), submission()]
    first = post_batch(client, world.participant, entries).json["results"]
    assert [r["status"] for r in first] == [201, 500, 201], first

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = post_batch(client, world.participant, entries)

    no_warnings(caught)
    assert again.status_code == 200, again.get_data(as_text=True)
    results = again.json["results"]
    assert [r["status"] for r in results] == [200, 500, 200], results
    assert canonical(results[0]["body"]) == canonical(first[0]["body"])
    assert canonical(results[2]["body"]) == canonical(first[2]["body"])
    assert counts(app, [e["id"] for e in entries]) == {
        entries[0]["id"]: (1, 1), entries[1]["id"]: (0, 0), entries[2]["id"]: (1, 1)}


@pytest.mark.parametrize("batch", ["after an invalid entry", "repeated"])
def test_a_batch_with_one_storable_entry_the_database_refuses_answers_per_entry(
    app: Flask, refusing_database: None, batch: str
) -> None:
    world = committed_world(app)
    refused = submission(timepoint=REFUSED)
    if batch == "repeated":
        entries, expected = [refused, refused], [500, 500]
    else:
        entries, expected = [submission(answers=phq9_answers(1, phq9_1=7)), refused], [422, 500]

    response = post_batch(app.test_client(), world.participant, entries)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert [r["status"] for r in response.json["results"]] == expected
    assert counts(app, [refused["id"]]) == {refused["id"]: (0, 0)}


def test_a_single_submission_the_database_refuses_is_a_500_problem(
    app: Flask, refusing_database: None, caplog: pytest.LogCaptureFixture
) -> None:
    world = committed_world(app)
    client = app.test_client()
    sent = submission(timepoint=REFUSED)

    with warnings.catch_warnings(record=True) as caught, \
            caplog.at_level(logging.ERROR, logger="prom.errors"):
        warnings.simplefilter("always")
        response = post(client, world.participant, sent)

    no_warnings(caught)
    assert response.headers["Content-Type"] == PROBLEM_JSON
    body = assert_problem(response, 500)
    assert "refused by the test trigger" not in response.get_data(as_text=True)
    assert body.keys() <= {"type", "title", "status", "detail", "instance"}, body
    logged = [r for r in caplog.records if r.name == "prom.errors"]
    assert len(logged) == 1, logged
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], SQLAlchemyError), logged[0].exc_info
    assert counts(app, [sent["id"]]) == {sent["id"]: (0, 0)}
    assert_problem(get(client, world.world.admin.headers, sent["id"]), 404)
    # The connection is usable afterwards: the next submission is stored.
    after = post(client, world.participant, submission())
    assert after.status_code == 201, after.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# (c) Overlapping batches at the same time


def test_parallel_overlapping_batches_store_each_id_once(app: Flask) -> None:
    """4 threads send the same 25 entries (plus one of their own) at once, as one participant."""
    world = committed_world(app)
    shared = [submission(answers=phq9_answers(n % 4), timepoint=f"t{n}") for n in range(25)]
    threads = 4
    own = [submission(answers=phq9_answers(t)) for t in range(threads)]
    barrier = threading.Barrier(threads)

    def send(thread: int) -> list[dict[str, Any]]:
        entries = list(shared)
        entries.insert(thread * 8, own[thread])  # the own entry at a different place each time
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(f"{API}/responses/batch", json={"responses": entries},
                               headers=world.participant)
        assert response.status_code == 200, response.get_data(as_text=True)
        results = response.get_json()["results"]
        assert [r["id"] for r in results] == [e["id"] for e in entries]
        return results

    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = list(pool.map(send, range(threads)))

    by_id: dict[str, list[dict[str, Any]]] = {}
    for results in answers:
        for result in results:
            by_id.setdefault(result["id"], []).append(result)
    for thread, entry in enumerate(own):
        [result] = by_id[entry["id"]]
        assert result["status"] == 201, (thread, result)
    for entry in shared:
        results = by_id[entry["id"]]
        statuses = sorted(r["status"] for r in results)
        assert statuses == [200] * (threads - 1) + [201], (entry["id"], results)
        bodies = {canonical(r["body"]) for r in results}
        assert len(bodies) == 1, (entry["id"], bodies)
        assert results[0]["body"]["timepoint"] == entry["timepoint"]
    all_ids = [e["id"] for e in shared + own]
    assert counts(app, all_ids) == dict.fromkeys(all_ids, (1, 1))
    some = shared[7]["id"]
    stored = get(app.test_client(), world.participant, some)
    assert canonical(stored.json) == canonical(by_id[some][0]["body"])


# ---------------------------------------------------------------------------------------------
# (d) Simultaneous amendments of one response


@dataclass
class Amendments:
    """8 amendments of one response sent at once: what each thread sent and got back."""

    world: Committed
    response_id: str
    sent: list[dict[str, Any]]
    results: list[tuple[int, str, Any]]  # (status, mimetype, JSON body) per thread

    @property
    def amended(self) -> dict[int, dict[str, Any]]:
        """{thread: 201 body} of the amendments that were accepted."""
        return {t: body for t, (status, _, body) in enumerate(self.results) if status == 201}


def amend_at_once(app: Flask, threads: int = 8) -> Amendments:
    world = committed_world(app)
    first = post(app.test_client(), world.participant, submission(answers=phq9_answers(1)))
    assert first.status_code == 201, first.get_data(as_text=True)
    response_id = first.json["id"]
    # Distinct valid answer sets (value of every item, value of item 2), one reason each.
    sent = [{"answers": phq9_answers(t % 4, phq9_2=t // 4), "reason": f"correction {t}"}
            for t in range(threads)]
    callers = [world.world.headers(ADMIN if t % 2 else CLINICIAN_OF_SITE)
               for t in range(threads)]
    barrier = threading.Barrier(threads)

    def amend(thread: int) -> tuple[int, str, Any]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(f"{API}/responses/{response_id}/amendments",
                               json=sent[thread], headers=callers[thread])
        return response.status_code, response.mimetype, response.get_json()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(amend, range(threads)))
    return Amendments(world=world, response_id=response_id, sent=sent, results=results)


def test_simultaneous_amendments_keep_versions_consecutive(app: Flask) -> None:
    run = amend_at_once(app)
    admin = run.world.world.admin.headers
    client = app.test_client()

    assert {status for status, _, _ in run.results} <= {201, 409}, run.results
    amended = run.amended
    assert amended, run.results
    for status, mimetype, body in run.results:
        if status == 409:
            assert mimetype == PROBLEM_JSON, body
            assert body["status"] == 409 and body["detail"], body
    n = len(amended) + 1

    listed = client.get(f"{API}/responses/{run.response_id}/versions", headers=admin)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    items = listed.json["items"]
    assert [item["version"] for item in items] == list(range(1, n + 1)), items
    assert [item["current"] for item in items] == [False] * (n - 1) + [True]
    # Versions 2..n are exactly the accepted amendments, each with what its thread sent.
    by_reason = {run.sent[t]["reason"]: run.sent[t] for t in amended}
    assert sorted(item["reason"] for item in items[1:]) == sorted(by_reason)
    for item in items[1:]:
        assert item["answers"] == by_reason[item["reason"]]["answers"], item
        assert item["scores"]["phq9"]["value"] == sum(item["answers"].values()), item
    current = get(client, admin, run.response_id)
    assert current.status_code == 200, current.get_data(as_text=True)
    assert current.json["version"] == n
    assert current.json["scores"] == items[-1]["scores"]
    with app.app_context():
        audited = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "response.amend", AuditEvent.target_id == run.response_id))
    assert audited == n - 1


def test_each_simultaneous_amendment_answers_with_the_version_it_created(app: Flask) -> None:
    run = amend_at_once(app)

    amended = run.amended
    assert amended, run.results
    versions = sorted(body["version"] for body in amended.values())
    assert versions == list(range(2, len(amended) + 2)), versions
    for thread, body in amended.items():
        expected = sum(run.sent[thread]["answers"].values())
        assert body["scores"]["phq9"]["value"] == expected, (thread, body)


# ---------------------------------------------------------------------------------------------
# (e) A batch is received, and listed, in the order it was sent


def test_a_batch_is_listed_in_the_order_it_was_sent(world: World) -> None:
    entries = [submission() for _ in range(30)]
    # Ids in descending order, so that a tie on received_at (broken by id) would show.
    entries = sorted(entries, key=lambda e: e["id"], reverse=True)
    response = post_batch(world.client, world.headers(THE_PARTICIPANT), entries)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [r["status"] for r in response.json["results"]] == [201] * 30

    listed = world.client.get(f"{API}/participants/{world.participant_id}/responses",
                              query_string={"limit": 200}, headers=world.admin.headers)

    assert listed.status_code == 200, listed.get_data(as_text=True)
    items = listed.json["items"]
    assert listed.json["next_cursor"] is None
    assert [item["id"] for item in items] == [e["id"] for e in entries]
    received = [datetime.fromisoformat(item["received_at"]) for item in items]
    # Each entry's received_at is taken when it is checked, one after the other.
    assert all(a < b for a, b in itertools.pairwise(received)), received
    bodies = {r["id"]: r["body"] for r in response.json["results"]}
    assert [item["received_at"] for item in items] == [bodies[e["id"]]["received_at"]
                                                       for e in entries]
