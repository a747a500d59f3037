"""Load, check and index the instrument library.

`load_library()` reads every `<id>-<version>.yaml` in the instruments directory, validates it
against `definition.schema.json`, applies the cross-field checks that JSON Schema cannot express,
merges licensed text from the overlay directory, and returns an immutable `Library`. It reports
**every** problem it finds, each as `file: path: reason`, so one run of `prom instruments check`
shows all of them; any problem stops start-up.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from prom.instruments.spec import (
    CHOICE_TYPES,
    ORDERING_OPERATORS,
    Alert,
    Anchor,
    Band,
    Comparison,
    Condition,
    Definition,
    Item,
    License,
    LookupTable,
    Mcid,
    Option,
    RecallPeriod,
    Recode,
    Response,
    Scale,
)

SCHEMA_PATH = Path(__file__).with_name("definition.schema.json")
DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "instruments"
FILE_NAME = re.compile(r"^(?P<id>[A-Za-z][A-Za-z0-9_]*)-(?P<version>[0-9]+(\.[0-9]+){0,2})\.ya?ml$")
RANGE_TOLERANCE = 1e-9
# libyaml parses the library several times faster; the pure-Python loader where it is absent.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DefinitionError(Exception):
    """One problem in one file, located by a JSON path inside the document."""

    def __init__(self, file: Path | str, path: str, reason: str) -> None:
        super().__init__(f"{file}: {path}: {reason}")
        self.file = str(file)
        self.path = path
        self.reason = reason


class LibraryError(Exception):
    """Every problem found while loading a library."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {error}" for error in errors)
        super().__init__(f"{len(errors)} problem(s) in the instrument library:\n{lines}")


class UnknownInstrument(LookupError):
    def __init__(self, instrument_id: str, version: str | None = None) -> None:
        self.instrument_id = instrument_id
        self.version = version
        what = instrument_id if version is None else f"{instrument_id} version {version}"
        super().__init__(f"no instrument {what}")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class Library:
    """Every loaded definition, by (id, version). Immutable once built."""

    definitions: Mapping[tuple[str, str], Definition]
    directory: Path
    overlay_directory: Path | None = None
    _latest: Mapping[str, Definition] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        latest: dict[str, Definition] = {}
        for definition in self.definitions.values():
            current = latest.get(definition.id)
            if current is None or version_key(definition.version) > version_key(current.version):
                latest[definition.id] = definition
        object.__setattr__(self, "_latest", dict(sorted(latest.items())))

    def get(self, instrument_id: str, version: str | None = None) -> Definition:
        """The named version, or the latest when `version` is None."""
        if version is None:
            definition = self._latest.get(instrument_id)
        else:
            definition = self.definitions.get((instrument_id, version))
        if definition is None:
            raise UnknownInstrument(instrument_id, version)
        return definition

    def latest(self) -> list[Definition]:
        return list(self._latest.values())

    def versions(self, instrument_id: str) -> list[str]:
        found = [v for (i, v) in self.definitions if i == instrument_id]
        return sorted(found, key=version_key)

    def __iter__(self) -> Iterator[Definition]:
        return iter(sorted(self.definitions.values(), key=lambda d: (d.id, version_key(d.version))))

    def __len__(self) -> int:
        return len(self.definitions)


def load_library(
    directory: Path | str | None = None, overlay_directory: Path | str | None = None
) -> Library:
    """Load and check every definition; raise `LibraryError` listing all problems."""
    directory = Path(directory) if directory else DEFAULT_DIRECTORY
    overlay_dir = Path(overlay_directory) if overlay_directory else None
    errors: list[DefinitionError] = []
    if not directory.is_dir():
        raise LibraryError([DefinitionError(directory, "$", "instrument directory not found")])

    overlays = _load_overlays(overlay_dir, errors) if overlay_dir else {}
    tables = _TableCache(directory / "tables")
    definitions: dict[tuple[str, str], Definition] = {}
    declared: set[tuple[Any, Any]] = set()
    for path in sorted(directory.glob("*.y*ml")):
        document = _read_yaml(path, errors)
        if document is None:
            continue
        declared.add((document.get("id"), document.get("version")))
        definition = build_definition(path, document, tables, overlays, errors)
        if definition is None:
            continue
        if definition.key in definitions:
            errors.append(DefinitionError(path, "$.id", f"{definition.id} version "
                                          f"{definition.version} is defined twice"))
            continue
        definitions[definition.key] = definition
    for key, (overlay_path, _) in overlays.items():
        if key not in declared:
            errors.append(DefinitionError(overlay_path, "$.id", f"overlay for unknown instrument "
                                          f"{key[0]} version {key[1]}"))
    if errors:
        raise LibraryError(errors)
    return Library(definitions=definitions, directory=directory, overlay_directory=overlay_dir)


def _read_yaml(path: Path, errors: list[DefinitionError]) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "$"
        errors.append(DefinitionError(path, where, f"not valid YAML: {exc}"))
        return None
    if not isinstance(document, dict):
        errors.append(DefinitionError(path, "$", "the document must be a mapping"))
        return None
    return document


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def schema_errors(path: Path, document: Mapping[str, Any]) -> list[DefinitionError]:
    found = []
    for error in sorted(_validator().iter_errors(document), key=lambda e: e.json_path):
        # oneOf/anyOf failures are clearer from their most specific sub-error.
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        found.append(DefinitionError(path, best.json_path, best.message))
    return found


# --------------------------------------------------------------------------------------- building


class _Problems:
    """Collects cross-field problems for one file."""

    def __init__(self, path: Path, errors: list[DefinitionError]) -> None:
        self.path = path
        self.errors = errors
        self.count = 0

    def add(self, where: str, reason: str) -> None:
        self.count += 1
        self.errors.append(DefinitionError(self.path, where, reason))


def build_definition(
    path: Path,
    document: dict[str, Any],
    tables: _TableCache,
    overlays: Mapping[tuple[str, str], tuple[Path, dict[str, Any]]],
    errors: list[DefinitionError],
) -> Definition | None:
    found = schema_errors(path, document)
    if found:
        errors.extend(found)
        return None
    problems = _Problems(path, errors)
    match = FILE_NAME.match(path.name)
    if not match or match["id"] != document["id"] or match["version"] != document["version"]:
        problems.add("$.id", f"file name must be {document['id']}-{document['version']}.yaml")

    text_included = document["license"]["text_included"]
    _check_base_text(document, text_included, problems)
    text_source = "bundled" if text_included else "none"
    overlay = overlays.get((document["id"], document["version"]))
    if overlay is not None:
        document = _merge_overlay(document, overlay[1], _Problems(overlay[0], errors))
        text_source = "overlay"
    languages = tuple(document["languages"])
    _check_languages(document, languages, problems)

    response_sets = {
        name: _build_response(spec, f"$.response_sets.{name}", problems)
        for name, spec in document.get("response_sets", {}).items()
    }
    items: list[Item] = []
    for index, raw in enumerate(document["items"]):
        item = _build_item(raw, f"$.items[{index}]", response_sets, items, problems)
        if item is not None:
            items.append(item)
    _check_unique([i["id"] for i in document["items"]], "$.items", "item", problems)
    items_by_id = {item.id: item for item in items}

    scales: list[Scale] = []
    for index, raw in enumerate(document.get("scales", [])):
        scale = _build_scale(raw, f"$.scales[{index}]", items_by_id, tables, problems)
        if scale is not None:
            scales.append(scale)
    _check_unique([s["id"] for s in document.get("scales", [])], "$.scales", "scale", problems)

    scale_ids = {raw["id"] for raw in document.get("scales", [])}
    alerts = []
    for index, raw in enumerate(document.get("alerts", [])):
        where = f"$.alerts[{index}]"
        if "worsening" in raw:
            scale = next((s for s in scales if s.id == raw["worsening"]["scale"]), None)
            if scale is None:
                problems.add(f"{where}.worsening.scale",
                             f"no scale {raw['worsening']['scale']!r} in this definition")
            elif scale.mcid is None:
                problems.add(f"{where}.worsening.scale",
                             f"scale {scale.id!r} declares no mcid to measure worsening by")
            else:
                alerts.append(Alert(id=raw["id"], when=None, severity=raw["severity"],
                                    message=raw["message"], worsening=scale.id))
            continue
        when = _build_condition(raw["when"], f"{where}.when", items_by_id, scale_ids, problems)
        if when is not None:
            alerts.append(Alert(id=raw["id"], when=when, severity=raw["severity"],
                                message=raw["message"]))
    _check_unique([a["id"] for a in document.get("alerts", [])], "$.alerts", "alert", problems)

    if problems.count:
        return None
    license_ = document["license"]
    recall = document["recall_period"]
    return Definition(
        id=document["id"],
        version=document["version"],
        title=document["title"],
        description=document.get("description", {}),
        instructions=document.get("instructions", {}),
        domains=tuple(document["domains"]),
        recall_period=RecallPeriod(days=recall["days"], text=recall.get("text", {})),
        license=License(
            holder=license_["holder"], terms=license_["terms"], citation=license_["citation"],
            text_included=license_["text_included"], url=license_.get("url"),
            attribution=license_.get("attribution"),
        ),
        languages=languages,
        items=tuple(items),
        scales=tuple(scales),
        alerts=tuple(alerts),
        notes=document.get("notes"),
        source=path,
        document=document,
        text_source=text_source,
    )


def _check_unique(ids: list[str], where: str, what: str, problems: _Problems) -> None:
    seen: set[str] = set()
    for index, identifier in enumerate(ids):
        if identifier in seen:
            problems.add(f"{where}[{index}].id", f"duplicate {what} id {identifier!r}")
        seen.add(identifier)


def _check_base_text(document: Mapping[str, Any], included: bool, problems: _Problems) -> None:
    for index, item in enumerate(document["items"]):
        has_text = "text" in item
        if included and (not has_text or "en" not in item["text"]):
            problems.add(f"$.items[{index}].text",
                         "text_included is true: English text is required")
        if not included and has_text:
            problems.add(f"$.items[{index}].text", "text_included is false: the file must not "
                         "carry item text (a licensed site supplies it through an overlay)")


def _check_languages(document: Mapping[str, Any], languages: tuple[str, ...],
                     problems: _Problems) -> None:
    if "en" not in languages:
        problems.add("$.languages", "English (en) is required")
    for index, item in enumerate(document["items"]):
        for language in item.get("text", {}):
            if language not in languages:
                problems.add(f"$.items[{index}].text.{language}",
                             f"language {language!r} is not listed in languages")


def _build_response(spec: Mapping[str, Any], where: str, problems: _Problems) -> Response:
    kind = spec["type"]
    if kind == "integer":
        low, high = spec["min"], spec["max"]
        if low >= high:
            problems.add(f"{where}.max", "max must be greater than min")
        anchors = tuple(Anchor(value=a["value"], label=a["label"]) for a in spec.get("anchors", []))
        for index, anchor in enumerate(anchors):
            if not low <= anchor.value <= high:
                problems.add(f"{where}.anchors[{index}].value", "anchor outside min..max")
        return Response(type="integer", min=low, max=high, anchors=anchors,
                        widget=spec.get("widget"))
    if kind in CHOICE_TYPES:
        options = []
        codes: list[Any] = []
        for index, option in enumerate(spec["options"]):
            code = option["code"]
            if code in codes:
                problems.add(f"{where}.options[{index}].code", f"duplicate code {code!r}")
            codes.append(code)
            if "value" in option:
                value = float(option["value"])
            elif isinstance(code, int):
                value = float(code)
            else:
                value = float(index)
            options.append(Option(code=code, label=option["label"], value=value))
        if len({type(c) for c in codes}) > 1:
            problems.add(f"{where}.options", "codes must be all integers or all text")
        exclusive = spec.get("exclusive", [])
        if exclusive and kind != "multiple_choice":
            problems.add(f"{where}.exclusive", "exclusive codes apply to multiple_choice only")
        for code in exclusive:
            if code not in codes:
                problems.add(f"{where}.exclusive", f"exclusive code {code!r} is not an option")
        return Response(type=kind, options=tuple(options), exclusive=frozenset(exclusive))
    if kind == "boolean":
        return Response(type="boolean", labels=spec.get("labels", {}))
    if kind == "text":
        return Response(type="text", max_length=spec["max_length"])
    return Response(type="date")


def _build_item(raw: Mapping[str, Any], where: str, response_sets: Mapping[str, Response],
                earlier: list[Item], problems: _Problems) -> Item | None:
    reference = raw["response"]
    response_set = None
    if isinstance(reference, str):
        response_set = reference
        response = response_sets.get(reference)
        if response is None:
            problems.add(f"{where}.response", f"unknown response set {reference!r}")
            return None
    else:
        response = _build_response(reference, f"{where}.response", problems)
    earlier_by_id = {item.id: item for item in earlier}
    show_if = None
    if "show_if" in raw:
        show_if = _build_condition(raw["show_if"], f"{where}.show_if", earlier_by_id, set(),
                                   problems, earlier_only=True)
    hidden_value = raw.get("hidden_value")
    if hidden_value is not None:
        if show_if is None:
            problems.add(f"{where}.hidden_value", "hidden_value needs a show_if condition")
        elif response.type == "multiple_choice":
            if hidden_value != 0:
                problems.add(f"{where}.hidden_value", "for multiple_choice, hidden_value must be "
                             "0 (no option selected)")
        elif float(hidden_value) not in response.numeric_values():
            problems.add(f"{where}.hidden_value", "hidden_value must be a value the item can take")
        if show_if is not None:
            for source in show_if.references("item"):
                if earlier_by_id[source].hidden_value is not None:
                    problems.add(f"{where}.show_if", f"{source!r} has a hidden_value itself: an "
                                 "item that scores when hidden cannot depend on another such item")
    return Item(id=raw["id"], label=raw["label"], text=raw.get("text", {}), response=response,
                response_set=response_set, required=raw.get("required", False), show_if=show_if,
                hidden_value=None if hidden_value is None else float(hidden_value))


def answer_is_valid(response: Response, value: Any) -> bool:
    """Whether a single scalar is a valid answer code for a response (used for operands)."""
    if response.type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)
                and response.min <= value <= response.max)  # type: ignore[operator]
    if response.type in CHOICE_TYPES:
        return response.option(value) is not None
    if response.type == "boolean":
        return isinstance(value, bool)
    return False


def _build_condition(raw: Mapping[str, Any], where: str, items: Mapping[str, Item],
                     scale_ids: set[str], problems: _Problems,
                     earlier_only: bool = False) -> Condition | None:
    if "any" in raw or "all" in raw:
        mode = "any" if "any" in raw else "all"
        raws = raw[mode]
    else:
        mode, raws = "single", [raw]
    comparisons = []
    ok = True
    for index, comparison in enumerate(raws):
        at = where if mode == "single" else f"{where}.{mode}[{index}]"
        source = "item" if "item" in comparison else "scale"
        ref = comparison[source]
        operator = next(k for k in comparison if k not in ("item", "scale"))
        operand = comparison[operator]
        if source == "scale":
            if ref not in scale_ids:
                problems.add(f"{at}.scale", f"unknown scale {ref!r}")
                ok = False
            elif operator not in ORDERING_OPERATORS:
                problems.add(at, "scale conditions compare with gte, gt, lte or lt")
                ok = False
        else:
            item = items.get(ref)
            if item is None:
                reason = "must refer to an earlier item" if earlier_only else "unknown item"
                problems.add(f"{at}.item", f"{reason}: {ref!r}")
                ok = False
            elif not item.response.scorable:
                problems.add(f"{at}.item",
                             f"item {ref!r} ({item.response.type}) cannot be compared")
                ok = False
            elif not _operand_fits(item.response, operator, operand):
                problems.add(f"{at}.{operator}",
                             f"{operand!r} is not a value item {ref!r} can take for {operator}")
                ok = False
        comparisons.append(Comparison(source=source, ref=ref, operator=operator, operand=operand))
    return Condition(mode=mode, comparisons=tuple(comparisons)) if ok else None


def _operand_fits(response: Response, operator: str, operand: Any) -> bool:
    if operator in ORDERING_OPERATORS:
        if response.type == "integer":
            return True
        if response.type == "single_choice":
            return all(isinstance(o.code, int) and o.value == o.code for o in response.options)
        return False
    operands = operand if operator == "in" else [operand]
    if response.type == "multiple_choice" and operator == "not_equals":
        return answer_is_valid(response, operand)
    return all(answer_is_valid(response, value) for value in operands)


def _build_scale(raw: Mapping[str, Any], where: str, items: Mapping[str, Item],
                 tables: _TableCache, problems: _Problems) -> Scale | None:
    before = problems.count
    method = raw["method"]
    scale_items = [items.get(item_id) for item_id in raw["items"]]
    for index, (item_id, item) in enumerate(zip(raw["items"], scale_items, strict=True)):
        if item is None:
            problems.add(f"{where}.items[{index}]", f"unknown item {item_id!r}")
        elif not item.response.scorable:
            problems.add(f"{where}.items[{index}]",
                         f"item {item_id!r} ({item.response.type}) cannot be scored")
        elif item.response.type == "multiple_choice" and method != "count":
            problems.add(f"{where}.items[{index}]", "multiple_choice items can only be counted")
        elif item.show_if is not None and item.hidden_value is None:
            problems.add(f"{where}.items[{index}]", f"item {item_id!r} can be hidden by its "
                         "show_if: give it a hidden_value so the scale knows what hidden means")
    if problems.count > before:
        return None
    resolved = [item for item in scale_items if item is not None]

    recodes = []
    for index, recode in enumerate(raw.get("recode", [])):
        mapping = {int(k): float(v) for k, v in recode["map"].items()}
        for item_id in recode["items"]:
            item = items.get(item_id)
            at = f"{where}.recode[{index}]"
            if item_id not in raw["items"] or item is None:
                problems.add(f"{at}.items", f"{item_id!r} is not an item of this scale")
                continue
            missing = [v for v in item.response.numeric_values() if int(v) not in mapping]
            if item.response.type == "multiple_choice":
                problems.add(f"{at}.items", "multiple_choice items cannot be recoded")
            elif missing or any(float(int(v)) != v for v in item.response.numeric_values()):
                problems.add(f"{at}.map", f"map does not cover {item_id!r}: missing "
                             f"{[int(v) for v in missing]}")
        recodes.append(Recode(items=tuple(recode["items"]), mapping=mapping))
    recoded_items = [i for r in recodes for i in r.items]
    if len(recoded_items) != len(set(recoded_items)):
        problems.add(f"{where}.recode", "an item is recoded more than once")
    reverse = raw.get("reverse", [])
    for item_id in reverse:
        item = items.get(item_id)
        if item_id not in raw["items"] or item is None:
            problems.add(f"{where}.reverse", f"{item_id!r} is not an item of this scale")
        elif item.response.type not in ("integer", "single_choice"):
            problems.add(f"{where}.reverse",
                         f"{item_id!r} ({item.response.type}) cannot be reversed")

    n_items = len(resolved)
    min_answered = raw.get("min_answered", n_items)
    if min_answered > n_items:
        problems.add(f"{where}.min_answered", f"more than the scale's {n_items} items")
    if method in ("sum", "lookup", "named") and min_answered != n_items:
        problems.add(f"{where}.min_answered", f"method {method} needs every item; use "
                     "prorated_sum, mean or percent_of_max to allow missing items")

    codes = tuple(raw.get("codes", []))
    if method == "count":
        for code in codes:
            if not any(answer_is_valid(item.response, code) for item in resolved):
                problems.add(f"{where}.codes", f"code {code!r} is not an answer of any item")
    elif codes:
        problems.add(f"{where}.codes", "codes apply to method count only")

    if problems.count > before:
        return None
    table = None
    if method == "lookup":
        table = tables.get(raw["table"]["file"], raw["table"]["key"], f"{where}.table", problems)
    scorer = raw.get("scorer", {})
    scale = Scale(
        id=raw["id"], label=raw["label"], description=raw.get("description"), method=method,
        items=tuple(raw["items"]), reverse=frozenset(reverse), recode=tuple(recodes),
        codes=codes, min_answered=min_answered, table=table, scorer=scorer.get("name"),
        scorer_params=scorer.get("params", {}), range=(raw["range"][0], raw["range"][1]),
        bands=tuple(Band(code=b["code"], min=b["min"], label=b["label"])
                    for b in raw.get("bands", [])),
        higher_is=raw["higher_is"],
        mcid=Mcid(absolute=raw["mcid"].get("absolute"), percent=raw["mcid"].get("percent"),
                  source=raw["mcid"]["source"]) if "mcid" in raw else None,
    )
    if problems.count > before:
        return None
    _check_scale_range(scale, resolved, tables, where, problems)
    return scale if problems.count == before else None


def transformed_values(scale: Scale, item: Item) -> list[float]:
    """The values an item contributes to a scale after recode and reverse (single-valued items)."""
    values = list(item.response.numeric_values())
    for recode in scale.recode:
        if item.id in recode.items:
            values = [recode.mapping[int(v)] for v in values]
    if item.id in scale.reverse:
        low, high = min(values), max(values)
        values = [low + high - v for v in values]
    return values


def _check_scale_range(scale: Scale, items: list[Item], tables: _TableCache, where: str,
                       problems: _Problems) -> None:
    if scale.method == "count":
        counted = sum(
            len([c for c in scale.codes if answer_is_valid(item.response, c)])
            if item.response.type == "multiple_choice" else 1
            for item in items
        )
        possible = (0.0, float(counted))
    elif scale.method == "percent_of_max":
        possible = (0.0, 100.0)
    elif scale.method == "named":
        from prom.scoring.named import named_scorer_range  # lazy: scoring builds on instruments

        try:
            possible = named_scorer_range(scale, items, tables.directory)
        except ValueError as exc:
            problems.add(f"{where}.scorer", str(exc))
            return
    else:
        lows = [min(transformed_values(scale, item)) for item in items]
        highs = [max(transformed_values(scale, item)) for item in items]
        possible = (min(lows), max(highs)) if scale.method == "mean" else (sum(lows), sum(highs))
        if scale.method == "lookup" and scale.table is not None:
            raw_low, raw_high = possible
            table = scale.table
            if any(not float(v).is_integer() for item in items
                   for v in transformed_values(scale, item)):
                problems.add(f"{where}.table", "lookup needs integer item values")
                return
            if (table.raw_min, table.raw_max) != (int(raw_low), int(raw_high)):
                problems.add(f"{where}.table", f"table {table.file} key {table.key!r} covers raw "
                             f"{table.raw_min}..{table.raw_max}; the items give "
                             f"{int(raw_low)}..{int(raw_high)}")
                return
            possible = (min(table.scores), max(table.scores))
    low, high = scale.range
    if not (math.isclose(low, possible[0], abs_tol=RANGE_TOLERANCE)
            and math.isclose(high, possible[1], abs_tol=RANGE_TOLERANCE)):
        problems.add(f"{where}.range", f"declared {[low, high]}, but method {scale.method} over "
                     f"these items gives {[possible[0], possible[1]]}")
    if scale.bands:
        if not math.isclose(scale.bands[0].min, low, abs_tol=RANGE_TOLERANCE):
            problems.add(f"{where}.bands[0].min", f"the first band must start at the range "
                         f"minimum {low}")
        for index in range(1, len(scale.bands)):
            if scale.bands[index].min <= scale.bands[index - 1].min:
                problems.add(f"{where}.bands[{index}].min", "band minimums must increase")
        if scale.bands[-1].min > high:
            problems.add(f"{where}.bands[{len(scale.bands) - 1}].min", "band starts above the "
                         "range maximum")
        _check_unique([b.code for b in scale.bands], f"{where}.bands", "band", problems)


# ---------------------------------------------------------------------------------------- tables


class _TableCache:
    """Reads each table file once per library load; checks keys for gaps and duplicates."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._rows: dict[str, dict[str, list[tuple[int, float, float | None]]] | None] = {}

    def get(self, file: str, key: str, where: str, problems: _Problems) -> LookupTable | None:
        rows = self._read(file, where, problems)
        if rows is None:
            return None
        if key not in rows:
            problems.add(f"{where}.key", f"table {file} has no rows for key {key!r}")
            return None
        entries = sorted(rows[key])
        raws = [raw for raw, _, _ in entries]
        if len(set(raws)) != len(raws):
            problems.add(f"{where}.key", f"table {file} key {key!r} has duplicate raw scores")
            return None
        if raws != list(range(raws[0], raws[0] + len(raws))):
            gaps = sorted(set(range(raws[0], raws[-1] + 1)) - set(raws))
            problems.add(f"{where}.key", f"table {file} key {key!r} has gaps at raw {gaps}")
            return None
        return LookupTable(file=file, key=key, raw_min=raws[0],
                           scores=tuple(score for _, score, _ in entries),
                           standard_errors=tuple(se for _, _, se in entries))

    def _read(self, file: str, where: str, problems: _Problems):
        if file not in self._rows:
            path = self.directory / file
            if not path.is_file():
                problems.add(f"{where}.file", f"table file {file} not found in {self.directory}")
                self._rows[file] = None
            else:
                self._rows[file] = self._parse(path, where, problems)
        return self._rows[file]

    @staticmethod
    def _parse(path: Path, where: str, problems: _Problems):
        rows: dict[str, list[tuple[int, float, float | None]]] = {}
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"key", "raw", "score"} <= set(reader.fieldnames or []):
                problems.add(f"{where}.file", f"{path.name} needs columns key, raw, score")
                return None
            for line, row in enumerate(reader, start=2):
                try:
                    se = row.get("se") or None
                    rows.setdefault(row["key"], []).append(
                        (int(row["raw"]), float(row["score"]), float(se) if se else None))
                except ValueError:
                    problems.add(f"{where}.file", f"{path.name} line {line}: raw must be an "
                                 "integer and score a number")
                    return None
        return rows


# -------------------------------------------------------------------------------------- overlays

_OVERLAY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["overlay", "id", "version"],
    "properties": {
        "overlay": {"const": True},
        "id": {"type": "string"},
        "version": {"type": "string"},
        "languages": {"type": "array", "items": {"$ref": "#/$defs/language"}},
        "title": {"$ref": "#/$defs/localised"},
        "description": {"$ref": "#/$defs/localised"},
        "instructions": {"$ref": "#/$defs/localised"},
        "items": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {"text": {"$ref": "#/$defs/localised"},
                           "options": {"$ref": "#/$defs/labels"},
                           "anchors": {"$ref": "#/$defs/labels"}}}},
        "response_sets": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {"options": {"$ref": "#/$defs/labels"},
                           "anchors": {"$ref": "#/$defs/labels"}}}},
    },
    "$defs": {
        "language": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Z]{2})?$"},
        "localised": {"type": "object", "propertyNames": {"$ref": "#/$defs/language"},
                      "additionalProperties": {"type": "string", "minLength": 1}},
        "labels": {"type": "object", "additionalProperties": {"$ref": "#/$defs/localised"}},
    },
}


def _load_overlays(directory: Path, errors: list[DefinitionError]):
    overlays: dict[tuple[str, str], tuple[Path, dict[str, Any]]] = {}
    if not directory.is_dir():
        errors.append(DefinitionError(directory, "$", "overlay directory not found"))
        return overlays
    validator = jsonschema.Draft202012Validator(_OVERLAY_SCHEMA)
    for path in sorted(directory.glob("*.y*ml")):
        document = _read_yaml(path, errors)
        if document is None:
            continue
        found = list(validator.iter_errors(document))
        for error in found:
            errors.append(DefinitionError(path, error.json_path, f"{error.message} (an overlay "
                                          "may only supply text)"))
        key = (document.get("id"), document.get("version"))
        if not found and key in overlays:
            errors.append(DefinitionError(path, "$.id", f"a second overlay for {key[0]} version "
                                          f"{key[1]} (the first is {overlays[key][0].name})"))
        elif not found:
            overlays[key] = (path, document)
    return overlays


def _merge_overlay(document: dict[str, Any], overlay: Mapping[str, Any],
                   problems: _Problems) -> dict[str, Any]:
    merged = copy.deepcopy(document)
    for key in ("title", "description", "instructions"):
        if key in overlay:
            merged[key] = {**merged.get(key, {}), **overlay[key]}
    merged["languages"] = list(dict.fromkeys([*merged["languages"], *overlay.get("languages", [])]))
    items = {item["id"]: item for item in merged["items"]}
    for item_id, text in overlay.get("items", {}).items():
        item = items.get(item_id)
        if item is None:
            problems.add(f"$.items.{item_id}", "no such item in the definition")
            continue
        if "text" in text:
            for language in text["text"]:
                if language not in merged["languages"]:
                    problems.add(f"$.items.{item_id}.text.{language}",
                                 f"language {language!r} is not listed in languages")
            item["text"] = {**item.get("text", {}),
                            **{k: v for k, v in text["text"].items() if k in merged["languages"]}}
        if "options" in text or "anchors" in text:
            if isinstance(item["response"], str):
                problems.add(f"$.items.{item_id}", "this item uses a response set: overlay the "
                             "labels under response_sets")
                continue
            _merge_labels(item["response"], text, f"$.items.{item_id}", problems)
    for name, labels in overlay.get("response_sets", {}).items():
        response = merged.get("response_sets", {}).get(name)
        if response is None:
            problems.add(f"$.response_sets.{name}", "no such response set in the definition")
            continue
        _merge_labels(response, labels, f"$.response_sets.{name}", problems)
    return merged


def _merge_labels(response: dict[str, Any], labels: Mapping[str, Any], where: str,
                  problems: _Problems) -> None:
    for part, key in (("options", "code"), ("anchors", "value")):
        entries = {str(entry[key]): entry for entry in response.get(part, [])}
        for key_, label in labels.get(part, {}).items():
            code = str(key_)
            if code not in entries:
                problems.add(f"{where}.{part}.{code}", f"no {key} {code} in the definition")
                continue
            entries[code]["label"] = {**entries[code]["label"], **label}
