"""`prom demo` (run by `make run`): a usable demo study, loaded exactly once, whose synthetic
trial has data a new user can look at straight away.

The data are checked as stored (rows, scores, alerts), not by re-running the generator. Loading
takes a second or two, so it is done once for the module: `demo` loads it inside a transaction,
copies what the tests need into plain data, and rolls back before any test runs.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from prom.app import create_app
from prom.extensions import db
from prom.schedule import Occurrence, assign, expand
from tests.conftest import FAST_PASSWORD_HASHING


def test_demo_loads_once_and_its_participants_can_activate(runner, client, db_session):
    from prom.models.participants import Participant
    from prom.models.responses import Alert, Response
    from prom.models.studies import Study

    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo loaded" in first.output
    stored = [db_session.scalar(select(func.count()).select_from(table))
              for table in (Participant, Response, Alert)]
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "already loaded" in second.output
    assert [db_session.scalar(select(func.count()).select_from(table))
            for table in (Participant, Response, Alert)] == stored
    assert db_session.scalar(select(func.count()).select_from(Study)
                             .where(Study.code == "DEMO-ICBT")) == 1
    study = db_session.scalar(select(Study).where(Study.code == "DEMO-ICBT"))
    assert [arm.code for arm in study.arms] == ["icbt", "education", "usual_care"]
    occurrences = [o.code for o in expand(t.spec() for t in study.schedule)]
    assert occurrences == ["baseline", *(f"week{n}" for n in range(1, 8)), "post", "fu3m",
                           "fu6m", "fu12m"]
    assert db_session.scalar(select(func.count()).select_from(Participant)
                             .where(Participant.study_id == study.id)) == 36

    report = first.output.split("GET /api/v1/participants/")[1].split("/report")[0]
    assert db_session.get(Participant, uuid.UUID(report)) is not None
    code = first.output.split("activation code ")[1].split()[0]
    activated = client.post("/api/v1/auth/activate",
                            json={"activation_code": code, "password": "a-long-password"})
    assert activated.status_code == 200
    admin = client.post("/api/v1/auth/login", json={"email": "admin@demo.prom.local",
                                                    "password": "demo-admin-password"})
    assert admin.status_code == 200
    # The printed export command names the demo's admin and study, which may export.
    command = first.output.split("A research export")[1]
    assert "--email admin@demo.prom.local" in command and "--study DEMO-ICBT" in command
    exported = client.get(f"/api/v1/studies/{study.id}/export", query_string={"format": "csv"},
                          headers={"Authorization": f"Bearer {admin.json['access_token']}"},
                          buffered=True)
    assert exported.status_code == 200 and exported.mimetype == "application/zip"

    # The participant the output suggests for the app has questionnaires open and a pain trend.
    suggested = first.output.split("http://localhost:8000/app/")[1].split("such as ")[1][:12]
    number_open = int(first.output.split(f"such as {suggested}: ")[1].split()[0])
    signed_in = client.post("/api/v1/auth/activate",
                            json={"activation_code": suggested, "password": "a-long-password"})
    assert signed_in.status_code == 200
    bearer = {"Authorization": f"Bearer {signed_in.json['access_token']}"}
    due = client.get("/api/v1/me/due", headers=bearer).json["items"]
    assert sum(item["status"] == "open" for item in due) == number_open > 0
    pain = client.get("/api/v1/me/responses", query_string={"instrument": "nrs_pain"},
                      headers=bearer).json["items"]
    assert len(pain) >= 2


# ---------------------------------------------------------------------------------------------
# The synthetic trial, as stored


@dataclass(frozen=True)
class StoredResponse:
    id: uuid.UUID
    participant: uuid.UUID
    instrument: str
    declared: str | None
    collected_at: datetime
    timepoint: str | None  # where it counts, by the schedule's rules
    scores: dict[str, float | None]
    answers: dict[str, Any]
    alerts: tuple[str, ...]


@dataclass(frozen=True)
class StoredDemo:
    loaded: dict[str, Any]
    loaded_by: datetime  # a moment after loading finished
    schedule: list[Occurrence]
    arm: dict[uuid.UUID, str]
    today_day: dict[uuid.UUID, int]  # each participant's study day today
    enrolment: dict[uuid.UUID, tuple[date, date | None]]  # enrolled on, randomised on
    responses: list[StoredResponse]

    def of(self, instrument: str) -> list[StoredResponse]:
        return [r for r in self.responses if r.instrument == instrument]


@pytest.fixture(scope="module")
def demo(database_url: str) -> StoredDemo:
    from prom.models.participants import Participant
    from prom.models.responses import Response
    from prom.models.studies import Study
    from prom.services.demo import load_demo

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **FAST_PASSWORD_HASHING})
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        db.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            loaded = load_demo()
            loaded_by = datetime.now(UTC)
            session = db.session
            study = session.scalar(select(Study).where(Study.code == "DEMO-ICBT"))
            schedule = expand(t.spec() for t in study.schedule)
            people = {p.id: p for p in session.scalars(
                select(Participant).where(Participant.study_id == study.id))}
            responses = []
            for r in session.scalars(select(Response).where(
                    Response.participant_id.in_(people))):
                person = people[r.participant_id]
                placed = assign(schedule, instrument=r.instrument, collected_at=r.collected_at,
                                anchor=person.anchor, zone=ZoneInfo(person.timezone),
                                declared=r.timepoint)
                responses.append(StoredResponse(
                    r.id, r.participant_id, r.instrument, r.timepoint, r.collected_at,
                    placed.timepoint, {s.scale: s.value for s in r.current.scores},
                    dict(r.current.answers), tuple(a.rule for a in r.current_alerts)))
            today = loaded_by.astimezone(ZoneInfo("Europe/London")).date()
            stored = StoredDemo(
                loaded, loaded_by, schedule, {p.id: p.arm_code for p in people.values()},
                {p.id: (today - p.anchor).days for p in people.values()},
                {p.id: (p.enrolled_on, p.randomised_on) for p in people.values()}, responses)
        finally:
            db.session.close()
            transaction.rollback()
    with app.app_context():
        db.engine.dispose()  # or its pooled connections leak into later tests
    return stored


def test_36_participants_12_per_arm(demo):
    assert sorted(demo.arm.values()) == sorted(["icbt", "education", "usual_care"] * 12)
    assert len(demo.loaded["participants"]) == 36


def test_hundreds_of_responses_through_the_submission_service(demo):
    assert demo.loaded["responses"] == len(demo.responses) > 500
    assert {r.instrument for r in demo.responses} == {
        "nrs_pain", "peg", "bpi_sf", "phq9", "gad7", "eq5d5l", "pcs", "pseq", "pgic", "neq",
        "adverse_event"}


def test_nothing_is_collected_in_the_future(demo):
    assert max(r.collected_at for r in demo.responses) <= demo.loaded_by


def test_every_timepoint_with_data_has_opened(demo):
    first_day = {o.code: o.first_day for o in demo.schedule}
    for response in demo.responses:
        for timepoint in {response.declared, response.timepoint} - {None}:
            assert first_day[timepoint] <= demo.today_day[response.participant]


def test_participants_are_seen_at_every_stage(demo):
    latest: dict[uuid.UUID, StoredResponse] = {}
    for response in sorted(demo.responses, key=lambda r: r.collected_at):
        if response.timepoint is not None:
            latest[response.participant] = response
    stages = {response.timepoint for response in latest.values()}
    assert {"post", "fu3m", "fu6m", "fu12m"} <= stages
    assert any(stage.startswith("week") for stage in stages)


def test_the_data_have_the_flaws_of_real_data(demo):
    assert any(r.declared is None for r in demo.responses)  # placed by window
    assert any(r.timepoint is None for r in demo.responses)  # outside every window
    per_slot = defaultdict(int)
    for r in demo.responses:
        if r.timepoint is not None:
            per_slot[(r.participant, r.timepoint, r.instrument)] += 1
    assert max(per_slot.values()) >= 2  # sent twice in one window
    at_post = {r.participant for r in demo.of("nrs_pain") if r.timepoint == "post"}
    post = next(o for o in demo.schedule if o.code == "post")
    past_post = {p for p, day in demo.today_day.items() if day > post.last_day}
    assert past_post - at_post  # missed timepoints and drop-outs


def test_internet_cbt_reduces_pain_more_than_usual_care(demo):
    pain: dict[tuple[uuid.UUID, str], list[float]] = defaultdict(list)
    for response in demo.of("nrs_pain"):
        if response.timepoint in ("baseline", "post"):
            pain[(response.participant, response.timepoint)].append(
                response.scores["pain_intensity"])
    change: dict[str, list[float]] = defaultdict(list)
    for participant, arm in demo.arm.items():
        if (participant, "baseline") in pain and (participant, "post") in pain:
            change[arm].append(statistics.mean(pain[(participant, "post")])
                               - statistics.mean(pain[(participant, "baseline")]))
    assert all(len(changes) >= 5 for changes in change.values())
    assert statistics.mean(change["icbt"]) < statistics.mean(change["usual_care"])
    assert statistics.mean(change["icbt"]) < -1


def test_adverse_events_include_a_serious_one_that_raised_an_alert(demo):
    reports = demo.of("adverse_event")
    events = [r for r in reports if r.answers["occurred"]]
    assert 0 < len(events) < len(reports)
    assert demo.loaded["adverse_events"] == len(events)
    serious = [r for r in reports if r.scores["serious"] >= 1]
    assert serious
    assert all("serious_event" in r.alerts for r in serious)
    assert any(r.declared is None for r in events)  # reported between timepoints


def test_the_report_worth_opening_is_a_long_followed_icbt_participant(demo):
    participant = uuid.UUID(demo.loaded["report"])
    assert demo.arm[participant] == "icbt"
    assert any(r.participant == participant and r.timepoint == "fu6m"
               for r in demo.responses)


def test_randomisation_is_recorded_for_most_a_few_days_after_enrolment(demo):
    delays = [(randomised - enrolled).days for enrolled, randomised in demo.enrolment.values()
              if randomised is not None]
    assert len(demo.enrolment) - 5 <= len(delays) < len(demo.enrolment)
    assert all(1 <= delay <= 10 for delay in delays)
