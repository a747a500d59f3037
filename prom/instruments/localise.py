"""A definition as a client sees it: one language, response sets resolved, no internals.

Frontends render questionnaires from this (`GET /api/v1/instruments/{id}`). Every localised text is
collapsed to the negotiated language, falling back to English; restricted instruments carry
`text: null` and clients show the neutral `label`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prom.instruments.spec import Condition, Definition, Item, Response, Scale

FALLBACK = "en"


def negotiate_language(definition: Definition, wanted: Iterable[str]) -> str:
    """The first wanted language the definition has (exact, then by primary subtag), else en."""
    available = definition.languages
    for language in wanted:
        if language in available:
            return language
        primary = language.split("-")[0].lower()
        for candidate in available:
            if candidate.split("-")[0] == primary:
                return candidate
    return FALLBACK


def pick(text: Mapping[str, str] | None, language: str) -> str | None:
    if not text:
        return None
    return text.get(language) or text.get(FALLBACK) or next(iter(text.values()))


def summary(definition: Definition, language: str, versions: list[str]) -> dict[str, Any]:
    return {
        "id": definition.id,
        "version": definition.version,
        "versions": versions,
        "title": pick(definition.title, language),
        "domains": list(definition.domains),
        "languages": list(definition.languages),
        "text_included": definition.text_source != "none",
        "n_items": len(definition.items),
        "scales": [scale.id for scale in definition.scales],
    }


def localised_definition(definition: Definition, language: str) -> dict[str, Any]:
    license_ = definition.license
    return {
        "id": definition.id,
        "version": definition.version,
        "language": language,
        "languages": list(definition.languages),
        "title": pick(definition.title, language),
        "description": pick(definition.description, language),
        "instructions": pick(definition.instructions, language),
        "domains": list(definition.domains),
        "recall_period": {"days": definition.recall_period.days,
                          "text": pick(definition.recall_period.text, language)},
        "license": {"holder": license_.holder, "terms": license_.terms,
                    "citation": license_.citation, "url": license_.url,
                    "attribution": license_.attribution},
        "text_source": definition.text_source,
        "items": [_item(item, language) for item in definition.items],
        "scales": [_scale(scale, language) for scale in definition.scales],
        "alerts": [{"id": alert.id, "severity": alert.severity,
                    "message": pick(alert.message, language),
                    "when": None if alert.when is None else condition(alert.when),
                    "worsening": None if alert.worsening is None else {"scale": alert.worsening}}
                   for alert in definition.alerts],
    }


def _item(item: Item, language: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "label": item.label,
        "text": pick(item.text, language),
        "required": item.required,
        "response": _response(item.response, language),
        "show_if": condition(item.show_if) if item.show_if else None,
    }


def _response(response: Response, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": response.type}
    if response.type == "integer":
        out.update(min=response.min, max=response.max, widget=response.widget,
                   anchors=[{"value": a.value, "label": pick(a.label, language)}
                            for a in response.anchors])
    elif response.options:
        out["options"] = [{"code": o.code, "label": pick(o.label, language)}
                          for o in response.options]
        if response.type == "multiple_choice":
            out["exclusive"] = sorted(response.exclusive, key=str)
    elif response.type == "boolean":
        out["labels"] = {key: pick(label, language) for key, label in response.labels.items()}
    elif response.type == "text":
        out["max_length"] = response.max_length
    return out


def condition(condition: Condition) -> dict[str, Any]:
    """A condition in the definition format (`{item: x, gte: 1}` or `{any: [...]}`)."""
    parts = [{c.source: c.ref, c.operator: c.operand} for c in condition.comparisons]
    return parts[0] if condition.mode == "single" else {condition.mode: parts}


def _scale(scale: Scale, language: str) -> dict[str, Any]:
    return {
        "id": scale.id,
        "label": pick(scale.label, language),
        "description": scale.description,
        "method": scale.method,
        "items": list(scale.items),
        "range": list(scale.range),
        "higher_is": scale.higher_is,
        "bands": [{"code": b.code, "min": b.min, "label": pick(b.label, language)}
                  for b in scale.bands],
        "mcid": ({"absolute": scale.mcid.absolute, "percent": scale.mcid.percent,
                  "source": scale.mcid.source} if scale.mcid else None),
    }
