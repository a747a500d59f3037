"""Clinical alerts: GET /api/v1/alerts and POST /api/v1/alerts/{id}/acknowledge.

Contract: a stored response raises its instrument's alerts (PHQ-9 item 9 ≥ 1 is critical, a
PHQ-9 total ≥ 20 is high, an average pain of 8 or more on the NRS is medium). Clinicians list
the alerts of their sites' participants and admins all of them: open ones by default, the most
severe first and the newest first within a severity, with cursor pagination. A clinician or admin
acknowledges an alert once, with an optional note; a second acknowledgement is 409. Researchers
and participants have no access (403); an alert outside the caller's sites is 404. Lists and
acknowledgements are audited.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.api.studies_fixtures import (
    ADMIN,
    ANOTHER_PARTICIPANT,
    API,
    CLINICIAN_OF_SITE,
    CLINICIAN_OTHER_SITE,
    NO_TOKEN,
    RESEARCHER_MEMBER,
    RESEARCHER_NON_MEMBER,
    STAFF_ACTION_SCOPE,
    THE_PARTICIPANT,
    World,
    assert_field_error,
    assert_problem,
    audit_rows,
    enrol,
)
from tests.api.test_responses import created, phq9_answers, submission

SEVERE_PAIN = {"instrument": "nrs_pain", "answers": {"average": 9}}  # medium


def alerts(world: World, who: str = CLINICIAN_OF_SITE, **query: Any) -> Any:
    return world.client.get(f"{API}/alerts", query_string=query, headers=world.headers(who))


def acknowledge(world: World, alert_id: str, who: str = CLINICIAN_OF_SITE,
                note: str | None = "Called the patient; safety plan reviewed.") -> Any:
    return world.client.post(f"{API}/alerts/{alert_id}/acknowledge", json={"note": note},
                             headers=world.headers(who))


def raise_alerts(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """A severe-pain response first, then a self-harm one: newest is not the most severe."""
    pain = created(world, THE_PARTICIPANT, submission(**SEVERE_PAIN))
    phq9 = created(world, THE_PARTICIPANT, submission(answers=phq9_answers(1)))
    return pain, phq9


def test_alerts_list_the_most_severe_first(world: World) -> None:
    pain, phq9 = raise_alerts(world)

    response = alerts(world)

    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.json["items"]
    assert [(a["rule"], a["severity"]) for a in items] == [
        ("self_harm_thoughts", "critical"), ("severe_pain", "medium")]
    assert items[0]["response_id"] == phq9["id"] and items[1]["response_id"] == pain["id"]
    assert all(a["status"] == "open" and a["acknowledged_at"] is None for a in items)
    assert items[0]["participant_id"] == world.participant_id
    assert items[0]["message"] == phq9["alerts"][0]["message"]


def test_within_a_severity_the_newest_comes_first(world: World) -> None:
    first = created(world, THE_PARTICIPANT, submission(**SEVERE_PAIN))
    second = created(world, THE_PARTICIPANT, submission(**SEVERE_PAIN))

    items = alerts(world).json["items"]

    assert [a["response_id"] for a in items] == [second["id"], first["id"]]


def test_pages_follow_the_same_order(world: World) -> None:
    raise_alerts(world)
    created(world, THE_PARTICIPANT, submission(**SEVERE_PAIN))
    everything = alerts(world).json["items"]

    seen, cursor = [], None
    while True:
        query = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = alerts(world, **query)
        assert page.status_code == 200, page.get_data(as_text=True)
        seen += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break

    assert [a["id"] for a in seen] == [a["id"] for a in everything]
    assert len(seen) == 3


def test_acknowledging_records_who_when_and_the_note(world: World, db_session: Session) -> None:
    _, phq9 = raise_alerts(world)
    alert = alerts(world).json["items"][0]

    response = acknowledge(world, alert["id"])

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == str(world.caller(CLINICIAN_OF_SITE).user_id)
    assert body["acknowledged_at"] and body["note"].startswith("Called the patient")
    assert alert["id"] not in [a["id"] for a in alerts(world).json["items"]]
    assert [a["id"] for a in alerts(world, status="acknowledged").json["items"]] == [alert["id"]]
    assert len(alerts(world, status="all").json["items"]) == 2
    (row,) = [r for r in audit_rows(db_session, "alert.acknowledge") if r.target_id == alert["id"]]
    assert row.detail == {"response_id": phq9["id"],
                          "note": "Called the patient; safety plan reviewed."}


def test_an_alert_is_acknowledged_once(world: World) -> None:
    raise_alerts(world)
    alert = alerts(world).json["items"][0]
    assert acknowledge(world, alert["id"]).status_code == 200

    again = acknowledge(world, alert["id"], who=ADMIN, note="me too")

    assert_problem(again, 409)
    kept = alerts(world, status="acknowledged").json["items"][0]
    assert kept["note"].startswith("Called the patient")
    assert kept["acknowledged_by"] == str(world.caller(CLINICIAN_OF_SITE).user_id)


def test_a_note_is_optional_and_capped(world: World) -> None:
    raise_alerts(world)
    first, second = alerts(world).json["items"]
    assert acknowledge(world, first["id"], note=None).json["note"] is None
    assert_field_error(acknowledge(world, second["id"], note="x" * 2001), "note")


def test_a_clinician_sees_only_alerts_of_their_sites(world: World) -> None:
    raise_alerts(world)
    alert = alerts(world).json["items"][0]

    assert alerts(world, CLINICIAN_OTHER_SITE).json["items"] == []
    assert_problem(acknowledge(world, alert["id"], who=CLINICIAN_OTHER_SITE), 404)
    assert alerts(world, status="open").json["items"][0]["status"] == "open"


def test_alerts_can_be_narrowed_to_one_participant(world: World) -> None:
    raise_alerts(world)
    other = enrol(world.client, world.admin.headers, world.study_id, world.site_a.id)

    mine = alerts(world, participant_id=world.participant_id).json["items"]
    theirs = alerts(world, participant_id=other["id"]).json["items"]

    assert len(mine) == 2 and theirs == []
    elsewhere = enrol(world.client, world.admin.headers, world.study_id, world.site_b.id)
    assert_problem(alerts(world, participant_id=elsewhere["id"]), 404)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ADMIN, 200),
        (CLINICIAN_OF_SITE, 200),
        (CLINICIAN_OTHER_SITE, 200),  # an empty list: none of their sites' participants
        (RESEARCHER_MEMBER, 403),
        (RESEARCHER_NON_MEMBER, 403),
        (THE_PARTICIPANT, 403),
        (ANOTHER_PARTICIPANT, 403),
        (NO_TOKEN, 401),
    ],
)
def test_list_alerts_by_caller(world: World, db_session: Session, who: str, status: int) -> None:
    raise_alerts(world)
    # An admin sees every site's alerts, including those of tests that commit for real on a
    # shared PostgreSQL database: so the admin's list is narrowed to this world's participant.
    query = {"participant_id": world.participant_id} if who == ADMIN else {}

    response = alerts(world, who, **query)

    if status != 200:
        assert_problem(response, status)
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.json["items"]) == (0 if who == CLINICIAN_OTHER_SITE else 2)
    assert audit_rows(db_session, "alert.list")


@pytest.mark.parametrize(
    ("who", "status"),
    STAFF_ACTION_SCOPE,
)
def test_acknowledge_by_caller(world: World, who: str, status: int) -> None:
    raise_alerts(world)
    alert = alerts(world).json["items"][0]

    response = acknowledge(world, alert["id"], who=who)

    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_problem(response, status)
        assert alerts(world).json["items"][0]["status"] == "open"


@pytest.mark.parametrize("query", [{"status": "closed"}, {"limit": 0}, {"cursor": "nonsense"},
                                   {"participant_id": "not-a-uuid"}, {"unknown": "1"}])
def test_bad_list_queries_are_422(world: World, query: dict[str, Any]) -> None:
    response = alerts(world, **query)
    assert_problem(response, 422)


def test_an_unknown_alert_is_404(world: World) -> None:
    assert_problem(acknowledge(world, "00000000-0000-0000-0000-000000000000"), 404)
