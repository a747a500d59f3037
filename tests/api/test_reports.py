"""The clinic report: GET /api/v1/participants/{id}/report (JSON, and HTML with charts).

The numbers are checked against a hand-computed case. A participant is enrolled 70 days ago, in
UTC. Their average pain (nrs_pain, 0–10, MCID 2 points / 30%) is:

| day | timepoint | value | what it is |
|---|---|---|---|
| 1 | baseline (window 0..3) | 8 | the baseline |
| 28 | week4 (26..33) | 5 | −3, −37.5%: moderate improvement |
| 40 | none (out of window) | 10 | +2 from baseline: raises the worsening alert |
| 56 | post (49..63) | 4 | −4, −50%: substantial improvement |
| 58 | post | 7 | a second response at post: a duplicate, kept and flagged |

So the latest is day 56: change −4, −50%, `substantial_improvement`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy.orm import Session

from prom.schemas.reports import ReportSchema
from prom.services.instruments import library
from tests.api.studies_fixtures import (
    ADMIN,
    ANOTHER_PARTICIPANT,
    API,
    CLINICIAN_OF_SITE,
    READ_SCOPE,
    THE_PARTICIPANT,
    World,
    assert_problem,
    audit_rows,
    create_study,
    enrol,
    today_utc,
)

#: The clinic report is for staff: a participant reads their own data through /me.
PARTICIPANTS = (THE_PARTICIPANT, ANOTHER_PARTICIPANT)
SCHEDULE = [
    {"timepoint": "baseline", "day": 0, "window_before": 0, "window_after": 3,
     "instruments": ["nrs_pain", "phq9"]},
    {"timepoint": "week4", "day": 28, "window_before": 2, "window_after": 5,
     "instruments": ["nrs_pain"]},
    {"timepoint": "post", "day": 56, "window_before": 7, "window_after": 7,
     "instruments": ["nrs_pain", "neq", "adverse_event"]},
]
PAIN_BY_DAY = [(1, 8), (28, 5), (40, 10), (56, 4), (58, 7)]


def pain(average: int) -> dict[str, int]:
    return {"average": average, "worst": min(10, average + 1), "least": max(0, average - 2),
            "now": average}


def on_day(enrolled_on: str, day: int) -> str:
    anchor = datetime.fromisoformat(enrolled_on).date()
    return datetime.combine(anchor + timedelta(days=day), time(12), tzinfo=UTC).isoformat()


def submit(world: World, participant_id: str, instrument: str, answers: dict[str, Any],
           collected_at: str, **extra: Any) -> dict[str, Any]:
    body = {"id": str(uuid.uuid4()), "participant_id": participant_id, "instrument": instrument,
            "instrument_version": library().get(instrument).version,
            "collected_at": collected_at, "answers": answers, **extra}
    response = world.client.post(f"{API}/responses", json=body, headers=world.admin.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def no_negative_effects() -> dict[str, int]:
    return {item.id: 0 for item in library().get("neq").items
            if item.id.endswith("_occurred")}


@pytest.fixture
def trial(world: World) -> dict[str, Any]:
    """The hand-computed participant of the module docstring, with an adverse event and an NEQ
    at post."""
    study = create_study(world.client, world.admin.headers, schedule=SCHEDULE)
    enrolled = enrol(world.client, world.admin.headers, study["id"], world.site_a.id,
                     enrolled_on=(today_utc() - timedelta(days=70)).isoformat())
    pid, day0 = enrolled["id"], enrolled["enrolled_on"]
    bodies = [submit(world, pid, "nrs_pain", pain(value), on_day(day0, day))
              for day, value in PAIN_BY_DAY]
    event = submit(world, pid, "adverse_event", {
        "occurred": True, "description": "Headaches after the <b>exercise</b> module",
        "ongoing": False, "severity": "severe", "seriousness": ["none"], "attributed": "unsure",
    }, on_day(day0, 57))
    submit(world, pid, "neq", no_negative_effects(), on_day(day0, 57))
    return {"study": study, "participant": enrolled, "pain": bodies, "event": event}


def report_of(world: World, participant_id: str, who: str = ADMIN, **params: str) -> Any:
    return world.client.get(f"{API}/participants/{participant_id}/report",
                            headers=world.headers(who), query_string=params)


def outcome(report: dict[str, Any], instrument: str, scale: str) -> dict[str, Any]:
    (found,) = [o for o in report["outcomes"]
                if (o["instrument"], o["scale"]) == (instrument, scale)]
    return found


def test_each_response_stores_its_analysis_timepoint(trial: dict[str, Any]) -> None:
    analyses = [body["analysis"] for body in trial["pain"]]

    assert [(a["timepoint"], a["study_day"], a["in_window"]) for a in analyses] == [
        ("baseline", 1, True), ("week4", 28, True), (None, 40, False), ("post", 56, True),
        ("post", 58, True)]
    assert analyses[2]["flags"] == ["out_of_window"]


def test_worsening_beyond_the_mcid_from_baseline_raises_an_alert(
        trial: dict[str, Any]) -> None:
    rules = [[alert["rule"] for alert in body["alerts"]] for body in trial["pain"]]

    # Day 40 is 10 against a baseline of 8: +2 reaches the MCID of 2 points. Day 58's 7 does not
    # (−1), and the baseline itself never raises it. 8 and 10 also raise severe_pain (≥ 8).
    assert rules == [["severe_pain"], [], ["severe_pain", "pain_worse_than_baseline"], [], []]


def test_the_report_computes_change_and_responder_category_by_hand(
        world: World, trial: dict[str, Any]) -> None:
    response = report_of(world, trial["participant"]["id"])

    assert response.status_code == 200, response.get_data(as_text=True)
    pain_outcome = outcome(response.json, "nrs_pain", "pain_intensity")
    assert [(p["study_day"], p["value"], p["timepoint"]) for p in pain_outcome["series"]] == [
        (1, 8.0, "baseline"), (28, 5.0, "week4"), (40, 10.0, None), (56, 4.0, "post"),
        (58, 7.0, "post")]
    assert pain_outcome["series"][4]["flags"] == ["duplicate_in_window"]
    assert pain_outcome["baseline"]["value"] == 8.0
    assert pain_outcome["baseline"]["band"] == "severe"
    assert (pain_outcome["latest"]["study_day"], pain_outcome["latest"]["value"]) == (56, 4.0)
    assert pain_outcome["change"] == -4.0
    assert pain_outcome["percent_change"] == pytest.approx(-50.0)
    assert pain_outcome["responder"]["category"] == "substantial_improvement"
    assert pain_outcome["mcid"]["absolute"] == 2
    assert pain_outcome["higher_is"] == "worse"


def test_the_report_lists_open_alerts_most_severe_first(
        world: World, trial: dict[str, Any]) -> None:
    alerts = report_of(world, trial["participant"]["id"]).json["alerts"]

    assert [a["severity"] for a in alerts] == sorted(
        (a["severity"] for a in alerts), key=["critical", "high", "medium", "low"].index)
    assert {a["rule"] for a in alerts} == {"severe_pain", "pain_worse_than_baseline",
                                           "severe_event"}


def test_adverse_events_and_negative_effects_have_their_own_sections(
        world: World, trial: dict[str, Any]) -> None:
    report = report_of(world, trial["participant"]["id"]).json

    assert {o["instrument"] for o in report["outcomes"]} == {"nrs_pain"}
    (event,) = report["adverse_events"]
    assert event["response_id"] == trial["event"]["id"]
    assert event["status"] == "awaiting_review"
    assert event["reported"]["severity"] == "severe"
    (neq,) = report["negative_effects"]
    assert neq["timepoint"] == "post"


def test_adherence_counts_the_due_items(world: World, trial: dict[str, Any]) -> None:
    adherence = report_of(world, trial["participant"]["id"]).json["adherence"]

    # baseline: nrs_pain done, phq9 missed; week4 done; post: nrs_pain, neq, adverse_event done.
    assert adherence == {"completed": 5, "open": 0, "missed": 1, "due_so_far": 6,
                         "rate": pytest.approx(5 / 6)}


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1


def test_the_html_report_has_one_chart_per_outcome(world: World, trial: dict[str, Any]) -> None:
    json_report = report_of(world, trial["participant"]["id"]).json
    page = report_of(world, trial["participant"]["id"], format="html")

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    counter = _Counter()
    counter.feed(html)
    with_values = [o for o in json_report["outcomes"]
                   if any(p["value"] is not None for p in o["series"])]
    assert counter.tags["svg"] == len(with_values) == 2  # average pain and pain severity
    assert "<b>exercise</b>" not in html  # the patient's words are escaped
    assert "&lt;b&gt;exercise&lt;/b&gt;" in html


def test_a_browser_gets_html_and_a_script_gets_json(world: World,
                                                    trial: dict[str, Any]) -> None:
    url = f"{API}/participants/{trial['participant']['id']}/report"
    browser = world.client.get(url, headers={**world.admin.headers,
                                             "Accept": "text/html,application/xhtml+xml,*/*"})
    script = world.client.get(url, headers={**world.admin.headers, "Accept": "*/*"})

    assert browser.mimetype == "text/html"
    assert script.mimetype == "application/json"
    for response in (browser, script):
        assert "Accept" in [v.strip() for v in response.headers["Vary"].split(",")]


@pytest.mark.parametrize(("who", "status"), [
    (who, status) for who, status in READ_SCOPE if who not in PARTICIPANTS])
def test_who_may_read_a_report(world: World, who: str, status: int) -> None:
    response = report_of(world, world.participant_id, who)

    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_problem(response, status)


@pytest.mark.parametrize("who", PARTICIPANTS)
def test_participants_cannot_read_the_clinic_report(world: World, who: str) -> None:
    assert_problem(report_of(world, world.participant_id, who), 403)


def test_every_read_is_audited_with_its_format(world: World, trial: dict[str, Any],
                                               db_session: Session) -> None:
    pid = trial["participant"]["id"]
    report_of(world, pid, CLINICIAN_OF_SITE)
    report_of(world, pid, format="html")

    rows = audit_rows(db_session, "report.read")
    assert [(row.target_id, row.detail["format"]) for row in rows] == [(pid, "json"),
                                                                       (pid, "html")]


def test_the_json_report_is_exactly_what_the_openapi_schema_documents(
        world: World, trial: dict[str, Any]) -> None:
    report = report_of(world, trial["participant"]["id"]).json

    # Loading raises on a missing required field, a wrong type or an undocumented field.
    assert ReportSchema().validate(report) == {}
    assert ReportSchema().dump(ReportSchema().load(report)) == report
