"""An instrument definition as a FHIR R4 ``Questionnaire``.

Mapping decisions:

- One ``Questionnaire`` per released version: ``url`` is ``{base}/Questionnaire/{instrument id}``,
  ``version`` the instrument version, ``id`` the two joined (``phq9-1``). ``language`` is the
  negotiated language of the text.
- ``item.linkId`` is prom's item id, so answers need no translation table. ``item.text`` is the
  wording in the negotiated language; where the licence keeps the wording out of prom
  (``text_included: false``) it is the neutral ``label``, never invented text.
- Response formats: ``integer`` → ``integer`` with the ``minValue``/``maxValue`` extensions, the
  anchors in ``entryFormat`` and, for ``widget: slider``, the ``itemControl`` ``slider`` with a
  ``sliderStepValue`` of 1; ``single_choice`` → ``choice`` whose ``answerOption.valueCoding`` has
  the response format's CodeSystem (see `prom.fhir.answer_system`), the code as text and the label
  as display, and the number scoring sees as ``ordinalValue``; ``multiple_choice`` → the same
  with ``repeats``; ``boolean``, ``date``; ``text`` → ``text`` with ``maxLength``.
- ``show_if`` → ``enableWhen``. A comparison becomes one or more ``enableWhen`` whose disjunction
  is exactly the comparison: ``in`` one ``=`` per value; an ordering (``gte``…) on a choice item
  one ``=`` per option whose scored value satisfies it (prom compares the scored value, FHIR
  cannot order codings); ``not_equals`` on a choice or boolean item the ``=`` of every other
  value, and on an integer item ``<`` or ``>`` (FHIR's ``!=`` is true for an unanswered
  question, where prom hides the item). A single comparison or ``any`` then uses
  ``enableBehavior: any``; ``all`` uses ``enableBehavior: all`` when every comparison is one
  ``enableWhen``. What enableWhen cannot say (an ``all`` of disjunctions, "option not selected"
  on a multiple-choice item) is the SDC ``enableWhenExpression`` in FHIRPath instead.
- ``hidden_value`` (the value scored for a hidden item) is prom's ``hidden-value`` extension.
- Scoring is prom's ``scale`` extension on the Questionnaire, one per scale (method, items,
  reversed items, minimum answered, range, direction, bands, MCID with its source, and the code
  of the Observation the score becomes), and the ``definition`` extension links to the JSON
  definition that is the source of truth.
- ``code`` is the LOINC panel where it is verified (`prom.fhir.LOINC_PANELS`).
"""

from __future__ import annotations

from typing import Any

from prom.fhir import (
    DEFINITION_EXTENSION,
    ENABLE_WHEN_EXPRESSION,
    ENTRY_FORMAT,
    HIDDEN_VALUE_EXTENSION,
    ITEM_CONTROL,
    ITEM_CONTROL_SYSTEM,
    LOINC,
    LOINC_PANELS,
    LOINC_SCALES,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    SCALE_EXTENSION,
    SLIDER_STEP,
    answer_system,
    band_system,
    fhir_id,
    questionnaire_url,
    scale_system,
)
from prom.instruments.localise import pick
from prom.instruments.spec import Comparison, Condition, Definition, Item, Scale

#: prom's operators as FHIR's, where they mean the same.
_OPERATORS = {"equals": "=", "gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}
_ORDERING = {"gte": lambda v, x: v >= x, "gt": lambda v, x: v > x,
             "lte": lambda v, x: v <= x, "lt": lambda v, x: v < x}


def questionnaire(definition: Definition, language: str, base: str,
                  definition_url: str | None = None) -> dict[str, Any]:
    """The Questionnaire of one instrument version, its text in `language`."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fhir_id(f"{definition.id}-{definition.version}"),
        "language": language,
        "url": questionnaire_url(base, definition.id),
        "version": definition.version,
        "name": _computable_name(definition.id),
        "title": pick(definition.title, language),
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": copyright_text(definition),
    }
    if description := pick(definition.description, language):
        resource["description"] = description
    if definition.id in LOINC_PANELS:
        code, display = LOINC_PANELS[definition.id]
        resource["code"] = [{"system": LOINC, "code": code, "display": display}]
    extensions = []
    if definition_url:
        extensions.append({"url": DEFINITION_EXTENSION, "valueUri": definition_url})
    extensions += [scale_extension(definition, scale, language, base)
                   for scale in definition.scales]
    if extensions:
        resource["extension"] = extensions
    items = [question(definition, item, language, base) for item in definition.items]
    if instructions := pick(definition.instructions, language):
        items.insert(0, {"linkId": instructions_link_id(definition), "type": "display",
                         "text": instructions})
    resource["item"] = items
    return resource


def instructions_link_id(definition: Definition) -> str:
    """The linkId of the display item carrying the instructions (never an item id: those
    match ``^[A-Za-z]…`` without a hyphen)."""
    return f"{definition.id}-instructions"


def copyright_text(definition: Definition) -> str:
    license_ = definition.license
    holder = license_.holder.strip()
    parts = [f"© {holder}" + ("" if holder.endswith(".") else "."), license_.terms.strip(),
             f"Cite: {license_.citation}"]
    if license_.attribution:
        parts.append(license_.attribution.strip())
    if license_.url:
        parts.append(license_.url)
    if not license_.text_included and definition.text_source == "none":
        parts.append("The item wording is licensed and not included; items show neutral "
                     "labels.")
    return " ".join(parts)


def format_name(item: Item) -> str:
    """The response set an item uses, or the item's own id for an inline response."""
    return item.response_set or item.id


def option_system(definition: Definition, item: Item, base: str) -> str:
    return answer_system(base, definition.id, format_name(item))


# ---------------------------------------------------------------------------------------------
# Items


def question(definition: Definition, item: Item, language: str, base: str) -> dict[str, Any]:
    response = item.response
    out: dict[str, Any] = {
        "linkId": item.id,
        "text": pick(item.text, language) or item.label,
        "type": {"integer": "integer", "single_choice": "choice", "multiple_choice": "choice",
                 "boolean": "boolean", "date": "date", "text": "text"}[response.type],
        "required": item.required,
    }
    extensions: list[dict[str, Any]] = []
    if response.type == "integer":
        extensions += [{"url": MIN_VALUE, "valueInteger": response.min},
                       {"url": MAX_VALUE, "valueInteger": response.max}]
        if response.widget == "slider":
            extensions += [
                {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
                    {"system": ITEM_CONTROL_SYSTEM, "code": "slider", "display": "Slider"}]}},
                {"url": SLIDER_STEP, "valueInteger": 1}]
        extensions.append({"url": ENTRY_FORMAT, "valueString": _entry_format(item, language)})
    elif response.type in ("single_choice", "multiple_choice"):
        system = option_system(definition, item, base)
        scored = response.type == "single_choice"
        out["answerOption"] = [_option(system, option, language, scored)
                               for option in response.options]
        if response.type == "multiple_choice":
            out["repeats"] = True
    elif response.type == "text":
        out["maxLength"] = response.max_length
    if item.hidden_value is not None:
        extensions.append({"url": HIDDEN_VALUE_EXTENSION, "valueDecimal": item.hidden_value})
    if item.show_if is not None:
        enable_when, behaviour = enable_when_of(definition, item.show_if, base)
        if enable_when is None:
            extensions.append({"url": ENABLE_WHEN_EXPRESSION, "valueExpression": {
                "language": "text/fhirpath",
                "expression": fhirpath_of(definition, item.show_if)}})
        else:
            out["enableWhen"] = enable_when
            if len(enable_when) > 1:
                out["enableBehavior"] = behaviour
    if extensions:
        out["extension"] = extensions
    return out


def _option(system: str, option: Any, language: str, scored: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"valueCoding": {"system": system, "code": str(option.code),
                                           "display": pick(option.label, language)}}
    if scored:
        out["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": option.value}]
    return out


def _entry_format(item: Item, language: str) -> str:
    response = item.response
    text = f"{response.min}–{response.max}"
    anchors = "; ".join(_anchor(a.value, pick(a.label, language)) for a in response.anchors)
    return f"{text} ({anchors})" if anchors else text


def _anchor(value: int, label: str) -> str:
    """"0 = No pain"; a label that starts with its number ("0 (worst)") stands alone."""
    return label if label.split(" ", 1)[0] == str(value) else f"{value} = {label}"


# ---------------------------------------------------------------------------------------------
# Skip conditions


def enable_when_of(definition: Definition, condition: Condition,
                   base: str) -> tuple[list[dict[str, Any]] | None, str]:
    """The enableWhen list and enableBehavior that say exactly `condition`, or (None, …) when
    enableWhen cannot say it."""
    parts = [_disjunction(definition, comparison, base) for comparison in condition.comparisons]
    if any(part is None for part in parts):
        return None, "any"
    if condition.mode == "all":
        if all(len(part) == 1 for part in parts):  # type: ignore[arg-type]
            return [part[0] for part in parts], "all"  # type: ignore[index]
        return None, "all"
    return [atom for part in parts for atom in part], "any"  # type: ignore[union-attr]


def _disjunction(definition: Definition, comparison: Comparison,
                 base: str) -> list[dict[str, Any]] | None:
    """enableWhen entries any one of which holds exactly when `comparison` does."""
    item = definition.item(comparison.ref)
    response = item.response
    operator, operand = comparison.operator, comparison.operand

    def when(fhir_operator: str, key: str, value: Any) -> dict[str, Any]:
        return {"question": item.id, "operator": fhir_operator, key: value}

    if response.type in ("single_choice", "multiple_choice"):
        if operator in _ORDERING and response.type == "multiple_choice":
            return None
        codes = _matching_codes(item, operator, operand)
        if codes is None:
            return None  # "not selected" has no enableWhen
        system = option_system(definition, item, base)
        return [when("=", "answerCoding", {"system": system, "code": str(code)})
                for code in codes]
    key = {"integer": "answerInteger", "boolean": "answerBoolean", "date": "answerDate",
           "text": "answerString"}[response.type]
    if operator == "in":
        return [when("=", key, value) for value in operand]
    if operator == "not_equals":
        if response.type == "boolean":
            return [when("=", key, not operand)]
        if response.type == "integer":
            return [when("<", key, operand), when(">", key, operand)]
        return None
    return [when(_OPERATORS[operator], key, operand)]


def fhirpath_of(definition: Definition, condition: Condition) -> str:
    """`condition` as a FHIRPath boolean over the QuestionnaireResponse being filled in; an
    unanswered controlling item makes a comparison false, as prom hides the item."""
    parts = [_comparison_path(definition, c) for c in condition.comparisons]
    return (" and " if condition.mode == "all" else " or ").join(f"({p})" for p in parts)


def _matching_codes(item: Item, operator: str, operand: Any) -> list[Any] | None:
    """The options of a choice item any one of which, selected, makes the comparison hold; an
    ordering compares the scored value, as prom does. None for ``not_equals`` on a multiple
    choice item, which no selection makes true ("that option is not selected")."""
    options = item.response.options
    if operator in _ORDERING:
        return [o.code for o in options if _ORDERING[operator](o.value, float(operand))]
    if operator == "in":
        return list(operand)
    if operator == "equals":
        return [operand]
    if item.response.type == "single_choice":  # not_equals: any other option
        return [o.code for o in options if o.code != operand]
    return None


def _comparison_path(definition: Definition, comparison: Comparison) -> str:
    item = definition.item(comparison.ref)
    response = item.response
    value = f"%resource.repeat(item).where(linkId = '{item.id}').answer.value"
    operator, operand = comparison.operator, comparison.operand
    if response.type in ("single_choice", "multiple_choice"):
        codes = _matching_codes(item, operator, operand)
        if codes is None:  # not_equals on a multiple choice: answered, that option not selected
            question = f"%resource.repeat(item).where(linkId = '{item.id}')"
            return (f"{question}.exists() and "
                    f"{value}.where(code = '{operand}').empty()")
        listed = " | ".join(f"'{code}'" for code in codes) or "{}"
        return f"{value}.where(code in ({listed})).exists()"
    literal = {"boolean": lambda v: "true" if v else "false",
               "integer": str, "date": lambda v: f"@{v}", "text": lambda v: f"'{v}'"}
    render = literal[response.type]
    if operator == "in":
        return " or ".join(f"{value} = {render(v)}" for v in operand)
    symbol = {**_OPERATORS, "not_equals": "!="}[operator]
    return f"{value} {symbol} {render(operand)}"


# ---------------------------------------------------------------------------------------------
# Scoring


def scale_code(definition: Definition, scale: Scale, language: str, base: str) -> dict[str, Any]:
    """The Coding of the Observation a scale's score becomes: LOINC where verified, else the
    instrument's scale CodeSystem."""
    if (definition.id, scale.id) in LOINC_SCALES:
        code, display = LOINC_SCALES[(definition.id, scale.id)]
        return {"system": LOINC, "code": code, "display": display}
    return {"system": scale_system(base, definition.id), "code": scale.id,
            "display": pick(scale.label, language) or scale.id}


def scale_extension(definition: Definition, scale: Scale, language: str,
                    base: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "id", "valueString": scale.id},
        {"url": "code", "valueCoding": scale_code(definition, scale, language, base)},
        {"url": "method", "valueCode": scale.method},
    ]
    if label := pick(scale.label, language):
        parts.append({"url": "label", "valueString": label})
    if scale.description:
        parts.append({"url": "description", "valueString": scale.description.strip()})
    parts += [{"url": "item", "valueString": item_id} for item_id in scale.items]
    parts += [{"url": "reverse", "valueString": item_id} for item_id in sorted(scale.reverse)]
    parts += [
        {"url": "minAnswered", "valueInteger": scale.min_answered},
        {"url": "range", "valueRange": {"low": {"value": scale.range[0]},
                                        "high": {"value": scale.range[1]}}},
        {"url": "higherIs", "valueCode": scale.higher_is},
    ]
    for band in scale.bands:
        band_parts: list[dict[str, Any]] = [
            {"url": "code", "valueCoding": {
                "system": band_system(base, definition.id, scale.id), "code": band.code}},
            {"url": "min", "valueDecimal": band.min}]
        if label := pick(band.label, language):
            band_parts.append({"url": "label", "valueString": label})
        parts.append({"url": "band", "extension": band_parts})
    if scale.mcid is not None:
        mcid: list[dict[str, Any]] = []
        if scale.mcid.absolute is not None:
            mcid.append({"url": "absolute", "valueDecimal": scale.mcid.absolute})
        if scale.mcid.percent is not None:
            mcid.append({"url": "percent", "valueDecimal": scale.mcid.percent})
        mcid.append({"url": "source", "valueString": scale.mcid.source})
        parts.append({"url": "mcid", "extension": mcid})
    return {"url": SCALE_EXTENSION, "extension": parts}


def _computable_name(instrument_id: str) -> str:
    """A name for machines (``^[A-Z]([A-Za-z0-9_]){0,254}$``): ``phq9`` → ``Phq9``."""
    return instrument_id[:1].upper() + instrument_id[1:]
