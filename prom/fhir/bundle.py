"""A participant's responses and their scores as a FHIR ``searchset`` ``Bundle``
(``GET /participants/{id}/fhir``).

Each QuestionnaireResponse (``search.mode`` ``match``) is followed by its Observations
(``include``). Pages follow prom's cursor pagination with a capped size: ``link`` ``self`` and,
when there is more, ``next``. ``total`` is left out, as counting every response would cost a
query the page does not need.

``fullUrl`` is ``{base}/{type}/{id}``, so the relative references inside the Bundle
(``derivedFrom: QuestionnaireResponse/{id}``) resolve to the entries next to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def _entry(resource: dict[str, Any], base: str, mode: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                             "resource": resource}
    if mode is not None:
        entry["search"] = {"mode": mode}
    return entry


def searchset(pages: Iterable[tuple[dict[str, Any], Sequence[dict[str, Any]]]], base: str,
              self_url: str, next_url: str | None) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for questionnaire_response, observations in pages:
        entries.append(_entry(questionnaire_response, base, "match"))
        entries += [_entry(observation, base, "include") for observation in observations]
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle
