"""GET /api/v1/instruments[/{id}[/{version}]]: localised, cacheable definitions."""

from __future__ import annotations

import pytest


def test_lists_every_instrument_with_its_latest_version(client):
    response = client.get("/api/v1/instruments")
    assert response.status_code == 200
    items = {entry["id"]: entry for entry in response.get_json()["items"]}
    assert {"nrs_pain", "phq9", "promis29", "eq5d5l", "neq", "adverse_event"} <= set(items)
    assert items["promis29"]["version"] == "2.1"
    assert items["bpi_sf"]["text_included"] is False
    assert items["phq9"]["text_included"] is True


def test_a_definition_resolves_response_sets_and_skip_conditions(client):
    body = client.get("/api/v1/instruments/phq9").get_json()
    assert body["id"] == "phq9" and body["version"] == "1" and body["language"] == "en"
    first = body["items"][0]
    assert first["text"] == "Little interest or pleasure in doing things"
    assert [o["code"] for o in first["response"]["options"]] == [0, 1, 2, 3]
    difficulty = next(i for i in body["items"] if i["id"] == "difficulty")
    assert difficulty["show_if"]["any"][0] == {"item": "phq9_1", "gte": 1}
    assert body["scales"][0]["bands"][0] == {
        "code": "minimal",
        "min": 0.0,
        "label": "None or minimal",
    }


def test_restricted_instruments_carry_labels_but_no_text(client):
    body = client.get("/api/v1/instruments/bpi_sf").get_json()
    assert body["text_source"] == "none"
    assert all(item["text"] is None and item["label"] for item in body["items"])


def test_a_pinned_version_is_served_and_cached_for_longer(client):
    response = client.get("/api/v1/instruments/nrs_pain/1")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    latest = client.get("/api/v1/instruments/nrs_pain")
    assert latest.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in latest.headers["Vary"]


def test_if_none_match_gives_304_without_a_body(client):
    first = client.get("/api/v1/instruments/phq9")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/instruments/phq9", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    other = client.get("/api/v1/instruments/gad7", headers={"If-None-Match": etag})
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("query", "headers"), [("?lang=de", {}), ("", {"Accept-Language": "de-DE"})]
)
def test_a_language_the_instrument_lacks_falls_back_to_english(client, query, headers):
    response = client.get(f"/api/v1/instruments/phq9{query}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["language"] == "en"
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize("path", ["/api/v1/instruments/nope", "/api/v1/instruments/phq9/99"])
def test_unknown_instruments_and_versions_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "no instrument" in response.get_json()["detail"].lower()


def test_a_malformed_language_is_rejected_naming_the_field(client):
    response = client.get("/api/v1/instruments/phq9?lang=<script>")
    assert response.status_code == 422
    assert "lang" in response.get_json()["errors"]


def test_unknown_query_parameters_are_rejected(client):
    response = client.get("/api/v1/instruments?colour=blue")
    assert response.status_code == 422
    assert "colour" in response.get_json()["errors"]
