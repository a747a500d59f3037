"""Helpers for test_fuzz.py: the callers each generated request is sent as, and a check that
every error is a problem document."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import schemathesis
from flask.testing import FlaskClient
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection

from prom.errors import PROBLEM_JSON
from tests.api.studies_fixtures import (
    ADMIN,
    CLINICIAN_OF_SITE,
    NO_TOKEN,
    RESEARCHER_MEMBER,
    THE_PARTICIPANT,
    World,
    build_world,
)

#: One caller per role, and none: every generated request is sent as each of them.
CALLERS = (ADMIN, CLINICIAN_OF_SITE, RESEARCHER_MEMBER, THE_PARTICIPANT, NO_TOKEN)

#: Path parameters that name something the world has; generated ids point at it half the time,
#: so the fuzzer gets past "404 Not Found" into the operations themselves.
_WORLD_IDS = {"study_id": "study_id", "participant_id": "participant_id"}


@dataclass
class FuzzWorld:
    world: World

    @classmethod
    def build(cls, client: FlaskClient) -> FuzzWorld:
        world = build_world(client)
        for caller in CALLERS:
            world.headers(caller)  # sign everyone in before the first request
        return cls(world)

    def headers(self, caller: str) -> dict[str, str]:
        # Uncompressed: schemathesis reads the WSGI body as it is (flask-compress has its tests).
        return {**self.world.headers(caller), "Accept-Encoding": "identity"}


#: Operations that still fail on the world's study, with the bug (outside the web layer) that
#: makes them fail; they are fuzzed with generated ids only until it is fixed. test_fuzz.py holds
#: a strict xfail for each, which starts passing, and so fails, once the bug is fixed.
#: Operations the fuzzer must not aim at the world's records, with the reason (none now: the
#: export of a study without responses, once a 500, is fixed and has its regression test).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def aim_at_world(case: Any, fuzz_world: FuzzWorld) -> None:
    """Point a generated study or participant id at the world's, for about half the cases.

    The choice depends only on the generated value, so Hypothesis replays and shrinks it."""
    if (case.method.upper(), case.path) in KNOWN_BUGS or _is_negative_at(case, "path"):
        return  # a deliberately invalid id stays invalid
    for name, attribute in _WORLD_IDS.items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, str) and value[:1] in "01234567":
            case.path_parameters[name] = getattr(fuzz_world.world, attribute)


def _is_negative_at(case: Any, location: str) -> bool:
    return case.meta is not None and case.meta.is_negative_at(ParameterLocation(location))


def checks_for(case: Any, caller: str, checks: list[Any]) -> list[Any]:
    """The checks that apply to ``case`` sent as ``caller``: a case made invalid by leaving out
    the Authorization header is valid again once a caller's token is added to it."""
    if caller != NO_TOKEN and _is_negative_at(case, "header"):
        return [check for check in checks if check is not negative_data_rejection]
    return checks


@schemathesis.check
def problem_errors_only(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx is an RFC 9457 problem document whose status is the response's."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
        f"{response.status_code} with content type {content_type!r}")
    body = json.loads(response.content)
    assert body.get("status") == response.status_code, body
    assert str(body.get("type", "")).startswith("https://prom.dev/problems/"), body
    assert body.get("title") and body.get("detail"), body
    return True


