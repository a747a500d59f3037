"""Stored responses as FHIR ``QuestionnaireResponse``, and a ``QuestionnaireResponse`` as the body
of ``POST /responses``.

Out: ``id`` is the response id; ``questionnaire`` the canonical ``url|version`` of the pinned
instrument version; ``status`` ``completed`` for the first version and ``amended`` once staff
corrected it (``meta.versionId`` is the version number); ``subject`` ``Patient/{participant id}``;
``authored`` the collection time with the offset it was sent with; the declared timepoint in
prom's ``timepoint`` extension. One ``item`` per answered item, in the definition's order, with
the answer as ``valueInteger``, ``valueCoding`` (the option's code as text, in the format's
CodeSystem), ``valueBoolean``, ``valueDate`` or ``valueString``; a multiple-choice answer has an
``answer`` per selected option, and an empty selection is the item without any ``answer``.
Unanswered items are left out.

The scores travel with it as ``contained`` Observations (`prom.fhir.observation.with_scores`).

In: the reverse, checked strictly (unknown elements, extensions, linkIds, nested items and
answers of the wrong type are refused, as prom refuses unknown fields), giving prom's native
body and `Paths`, which turn the native field names of any later error (schema, answers,
participant) back into the FHIR paths the client sent. Only ``status: completed`` is accepted: a
POST creates the first version of a response; a correction is an amendment, with a reason, which
a QuestionnaireResponse cannot carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prom.fhir import TIMEPOINT_EXTENSION, questionnaire_url
from prom.fhir.questionnaire import option_system
from prom.instruments.localise import pick
from prom.instruments.spec import Definition, Item

_VALUE_KEYS = {"integer": "valueInteger", "single_choice": "valueCoding",
               "multiple_choice": "valueCoding", "boolean": "valueBoolean",
               "date": "valueDate", "text": "valueString"}

#: The elements of a QuestionnaireResponse prom reads; `meta`, `text` (narrative) and `contained`
#: Observations (the scores prom wrote, when a client sends back what it read) are accepted and
#: not kept: prom scores the answers itself. Anything else is refused.
_ACCEPTED = frozenset({"resourceType", "id", "meta", "text", "language", "extension",
                       "questionnaire", "status", "subject", "authored", "item", "contained"})

#: Where each native field came from in the QuestionnaireResponse.
_NATIVE_TO_FHIR = {"id": "id", "instrument": "questionnaire", "instrument_version": "questionnaire",
                   "collected_at": "authored", "language": "language",
                   "participant_id": "subject"}


class InvalidResource(ValueError):
    """The resource cannot be read; `errors` maps FHIR paths to messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


# ---------------------------------------------------------------------------------------------
# Out


def canonical(base: str, definition: Definition) -> str:
    return f"{questionnaire_url(base, definition.id)}|{definition.version}"


def questionnaire_response(response: Mapping[str, Any], answers: Mapping[str, Any],
                           definition: Definition, base: str,
                           language: str | None = None) -> dict[str, Any]:
    """A stored response (the native body of ``GET /responses/{id}``) with its current answers."""
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response["id"],
        "meta": {"versionId": str(response["version"])},
    }
    if language:
        resource["language"] = language
    if response.get("timepoint") is not None:
        resource["extension"] = [{"url": TIMEPOINT_EXTENSION,
                                  "valueString": response["timepoint"]}]
    resource.update({
        "questionnaire": canonical(base, definition),
        "status": "completed" if response["version"] == 1 else "amended",
        "subject": {"reference": f"Patient/{response['participant_id']}"},
        "authored": response["collected_at"],
    })
    items = [_answered(definition, item, answers[item.id], base, language or "en")
             for item in definition.items if answers.get(item.id) is not None]
    if items:
        resource["item"] = items
    return resource


def _answered(definition: Definition, item: Item, value: Any, base: str,
              language: str) -> dict[str, Any]:
    response = item.response
    out: dict[str, Any] = {"linkId": item.id}
    if response.type in ("single_choice", "multiple_choice"):
        system = option_system(definition, item, base)
        codes = value if response.type == "multiple_choice" else [value]
        answers = []
        for code in codes:
            option = response.option(code)
            coding = {"system": system, "code": str(code)}
            if option is not None and (display := pick(option.label, language)):
                coding["display"] = display
            answers.append({"valueCoding": coding})
        if answers:
            out["answer"] = answers
        return out
    out["answer"] = [{_VALUE_KEYS[response.type]: value}]
    return out


# ---------------------------------------------------------------------------------------------
# In


def instrument_of(resource: Any) -> tuple[str, str]:
    """(instrument id, version) named by ``questionnaire``: any canonical whose last path
    segment is the instrument id, with ``|version``. Raises InvalidResource."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != \
            "QuestionnaireResponse":
        raise InvalidResource({"resourceType": ["must be QuestionnaireResponse"]})
    reference = resource.get("questionnaire")
    if not isinstance(reference, str) or not reference:
        raise InvalidResource({"questionnaire": [
            "required: the canonical URL of the Questionnaire, with |version"]})
    url, bar, version = reference.partition("|")
    instrument = url.rstrip("/").rsplit("/", 1)[-1]
    if not bar or not version:
        raise InvalidResource({"questionnaire": [
            "must give the instrument version: {url}|{version}"]})
    if not instrument:
        raise InvalidResource({"questionnaire": ["must end with the instrument id"]})
    return instrument, version


class Paths:
    """Native field names → the FHIR paths they were read from."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}  # item id → path of its answer in the resource
        self.timepoint = "extension"

    def of(self, native: str) -> str:
        head, _, rest = native.partition(".")
        if head == "answers" and rest:
            item_id = rest.split(".", 1)[0]
            return self.items.get(item_id, f"item.where(linkId = '{item_id}')")
        if head == "answers":
            return "item"
        if head == "timepoint":
            return self.timepoint
        return _NATIVE_TO_FHIR.get(head, native)

    def errors(self, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, messages in errors.items():
            out.setdefault(self.of(key), []).extend(messages)
        return out


def submission(resource: Mapping[str, Any], definition: Definition,
               base: str) -> tuple[dict[str, Any], Paths]:
    """The native submission body a QuestionnaireResponse stands for, not yet validated by the
    submission schema, and the paths its fields came from. Raises InvalidResource."""
    errors: dict[str, list[str]] = {}
    paths = Paths()
    body: dict[str, Any] = {"instrument": definition.id,
                            "instrument_version": definition.version}
    for key in resource:
        if key not in _ACCEPTED:
            errors[str(key)] = ["not accepted by prom"]
    for key in ("meta", "text"):
        if key in resource and not isinstance(resource[key], Mapping):
            errors[key] = ["must be an object"]
    contained = resource.get("contained", [])
    if not isinstance(contained, list) or not all(
            isinstance(entry, Mapping) and entry.get("resourceType") == "Observation"
            for entry in contained):
        errors["contained"] = ["may hold only Observations (scores), which prom recomputes"]
    if "id" not in resource:
        errors["id"] = ["required: the response id, a UUID chosen by the client"]
    else:
        body["id"] = resource["id"]
    if resource.get("status") != "completed":
        errors["status"] = ["must be completed (corrections are amendments, with a reason)"]
    if "authored" not in resource:
        errors["authored"] = ["required: when the answers were given, with a UTC offset"]
    else:
        body["collected_at"] = resource["authored"]
    if "language" in resource:
        body["language"] = resource["language"]
    if "subject" in resource:
        body["participant_id"] = _patient_id(resource["subject"], errors)
    _extensions(resource.get("extension"), body, paths, errors)
    body["answers"] = _answers(resource.get("item"), definition, base, paths, errors)
    if errors:
        raise InvalidResource(errors)
    return body, paths


def _patient_id(subject: Any, errors: dict[str, list[str]]) -> Any:
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/") or \
            set(subject) - {"reference", "display"}:
        errors["subject"] = ["must be a reference Patient/{participant id}"]
        return None
    return reference.removeprefix("Patient/")


def _extensions(extensions: Any, body: dict[str, Any], paths: Paths,
                errors: dict[str, list[str]]) -> None:
    if extensions is None:
        return
    if not isinstance(extensions, list):
        errors["extension"] = ["must be a list"]
        return
    for index, extension in enumerate(extensions):
        path = f"extension[{index}]"
        if not isinstance(extension, Mapping) or extension.get("url") != TIMEPOINT_EXTENSION:
            errors[f"{path}.url"] = [f"unknown extension; prom reads only {TIMEPOINT_EXTENSION}"]
        elif set(extension) != {"url", "valueString"}:
            errors[path] = ["the timepoint is a valueString"]
        else:
            body["timepoint"] = extension["valueString"]
            paths.timepoint = f"{path}.valueString"


def _answers(items: Any, definition: Definition, base: str, paths: Paths,
             errors: dict[str, list[str]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if items is None:
        return answers
    if not isinstance(items, list):
        errors["item"] = ["must be a list"]
        return answers
    for index, entry in enumerate(items):
        path = f"item[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("linkId"), str):
            errors[f"{path}.linkId"] = ["required"]
            continue
        link_id = entry["linkId"]
        if not definition.has_item(link_id):
            errors[f"{path}.linkId"] = [f"no item {link_id!r} in {definition.id} "
                                        f"{definition.version}"]
            continue
        if link_id in answers:
            errors[f"{path}.linkId"] = ["answered twice"]
            continue
        if extra := set(entry) - {"linkId", "text", "answer", "definition"}:
            errors[f"{path}.{sorted(extra)[0]}"] = ["not accepted by prom (no nested items)"]
            continue
        if "text" in entry and not isinstance(entry["text"], str):
            errors[f"{path}.text"] = ["must be a string"]
            continue
        item = definition.item(link_id)
        value = _value(item, entry.get("answer"), path, definition, base, paths, errors)
        if value is not None:
            answers[link_id] = value
    return answers


def _value(item: Item, answers: Any, path: str, definition: Definition, base: str,
           paths: Paths, errors: dict[str, list[str]]) -> Any:
    response = item.response
    key = _VALUE_KEYS[response.type]
    repeats = response.type == "multiple_choice"
    if answers is None:
        paths.items[item.id] = path
        return [] if repeats else None
    if not isinstance(answers, list) or not answers:
        errors[f"{path}.answer"] = ["must be a non-empty list"]
        return None
    if not repeats and len(answers) > 1:
        errors[f"{path}.answer"] = ["takes one answer"]
        return None
    paths.items[item.id] = f"{path}.answer" if repeats else f"{path}.answer[0].{key}"
    values = []
    for position, answer in enumerate(answers):
        here = f"{path}.answer[{position}]"
        if not isinstance(answer, Mapping) or set(answer) != {key}:
            errors[here] = [f"must hold exactly one {key}"]
            return None
        raw = answer[key]
        if key == "valueCoding":
            raw = _code(item, raw, option_system(definition, item, base), f"{here}.{key}",
                        errors)
            if raw is None:
                return None
        values.append(raw)
    return values if repeats else values[0]


def _code(item: Item, coding: Any, system: str, path: str,
          errors: dict[str, list[str]]) -> Any:
    """The option code a Coding names (an integer code comes back as the integer)."""
    if not isinstance(coding, Mapping) or not isinstance(coding.get("code"), str) or \
            set(coding) - {"system", "code", "display", "version"}:
        errors[path] = ["must be a Coding with a code"]
        return None
    if "system" in coding and coding["system"] != system:
        errors[f"{path}.system"] = [f"must be {system}"]
        return None
    for option in item.response.options:
        if str(option.code) == coding["code"]:
            return option.code
    errors[f"{path}.code"] = [
        f"must be one of {', '.join(str(o.code) for o in item.response.options)}"]
    return None
