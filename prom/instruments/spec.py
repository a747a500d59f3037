"""The in-memory form of an instrument definition: frozen dataclasses built by the loader.

Everything here is plain data. The loader (`loader.py`) has already checked the document against the
JSON Schema and the cross-field rules, so these classes trust their contents. Nothing in this module
knows about Flask, SQL or numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Localised = Mapping[str, str]
Code = int | str

SCORABLE_TYPES = frozenset({"integer", "single_choice", "multiple_choice", "boolean"})
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})
ORDERING_OPERATORS = frozenset({"gte", "gt", "lte", "lt"})


@dataclass(frozen=True)
class Option:
    code: Code
    label: Localised
    value: float
    """The number scoring sees: the declared `value`, else an integer code, else the position."""


@dataclass(frozen=True)
class Anchor:
    value: int
    label: Localised


@dataclass(frozen=True)
class Response:
    type: Literal["integer", "single_choice", "multiple_choice", "boolean", "date", "text"]
    min: int | None = None
    max: int | None = None
    anchors: tuple[Anchor, ...] = ()
    widget: str | None = None
    options: tuple[Option, ...] = ()
    exclusive: frozenset[Code] = frozenset()
    labels: Mapping[str, Localised] = field(default_factory=dict)
    max_length: int | None = None

    @property
    def scorable(self) -> bool:
        return self.type in SCORABLE_TYPES

    @property
    def codes(self) -> tuple[Code, ...]:
        return tuple(option.code for option in self.options)

    def option(self, code: Code) -> Option | None:
        for option in self.options:
            if option.code == code and type(option.code) is type(code):
                return option
        return None

    def numeric_values(self) -> tuple[float, ...]:
        """Every number a single-valued answer to this response can become."""
        if self.type == "integer":
            assert self.min is not None
            assert self.max is not None
            return tuple(float(v) for v in range(self.min, self.max + 1))
        if self.type == "single_choice":
            return tuple(option.value for option in self.options)
        if self.type == "boolean":
            return (0.0, 1.0)
        if self.type == "multiple_choice":
            return (0.0, 1.0)  # one indicator per option
        return ()


@dataclass(frozen=True)
class Comparison:
    source: Literal["item", "scale"]
    ref: str
    operator: Literal["equals", "not_equals", "in", "gte", "gt", "lte", "lt"]
    operand: Any


@dataclass(frozen=True)
class Condition:
    """One comparison (`mode="single"`) or any/all of several."""

    mode: Literal["single", "any", "all"]
    comparisons: tuple[Comparison, ...]

    def references(self, source: str) -> tuple[str, ...]:
        return tuple(c.ref for c in self.comparisons if c.source == source)


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    text: Localised
    response: Response
    response_set: str | None
    required: bool
    show_if: Condition | None
    hidden_value: float | None


@dataclass(frozen=True)
class Band:
    code: str
    min: float
    label: Localised


@dataclass(frozen=True)
class Mcid:
    absolute: float | None
    percent: float | None
    source: str


@dataclass(frozen=True)
class LookupTable:
    """Raw sum → score (and its standard error, where published) for one `table.key`."""

    file: str
    key: str
    raw_min: int
    scores: tuple[float, ...]
    standard_errors: tuple[float | None, ...]

    @property
    def raw_max(self) -> int:
        return self.raw_min + len(self.scores) - 1


@dataclass(frozen=True)
class Recode:
    items: tuple[str, ...]
    mapping: Mapping[int, float]


@dataclass(frozen=True)
class Scale:
    id: str
    label: Localised
    description: str | None
    method: Literal["sum", "mean", "prorated_sum", "percent_of_max", "count", "lookup", "named"]
    items: tuple[str, ...]
    reverse: frozenset[str]
    recode: tuple[Recode, ...]
    codes: tuple[Code, ...]
    min_answered: int
    table: LookupTable | None
    scorer: str | None
    scorer_params: Mapping[str, Any]
    range: tuple[float, float]
    bands: tuple[Band, ...]
    higher_is: Literal["better", "worse"]
    mcid: Mcid | None

    def band_for(self, value: float | None) -> Band | None:
        if value is None or not self.bands:
            return None
        chosen = None
        for band in self.bands:
            if band.min <= value:
                chosen = band
        return chosen


#: Alert severities, least to most severe; lists put the most severe first.
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True)
class Alert:
    """A rule that raises a clinical alert when a response is stored. Either `when` a condition
    on the response's answers and scores holds (scoring checks it), or when the scale named by
    `worsening` is worse than the participant's baseline by at least its MCID (the storing
    service checks it, as only it knows the baseline; see `prom.scoring.change`)."""

    id: str
    when: Condition | None
    severity: Literal["low", "medium", "high", "critical"]
    message: Localised
    worsening: str | None = None


@dataclass(frozen=True)
class License:
    holder: str
    terms: str
    citation: str
    text_included: bool
    url: str | None = None
    attribution: str | None = None


@dataclass(frozen=True)
class RecallPeriod:
    days: int | None
    text: Localised


@dataclass(frozen=True, eq=False)
class Definition:
    """One released version of one instrument.

    `eq=False` keeps identity hashing, so compiled scorers can be cached per loaded definition.
    `document` is the validated YAML document (with any overlay text merged in): the API and
    `prom instruments show --json` serve it in the same structure as the file.
    """

    id: str
    version: str
    title: Localised
    description: Localised
    instructions: Localised
    domains: tuple[str, ...]
    recall_period: RecallPeriod
    license: License
    languages: tuple[str, ...]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    alerts: tuple[Alert, ...]
    notes: str | None
    source: Path
    document: Mapping[str, Any]
    text_source: Literal["bundled", "overlay", "none"]

    def item(self, item_id: str) -> Item:
        return self._items_by_id[item_id]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items_by_id

    def scale(self, scale_id: str) -> Scale:
        return next(scale for scale in self.scales if scale.id == scale_id)

    @property
    def answer_alerts(self) -> tuple[Alert, ...]:
        """The alerts decided by the response alone (`when`), which scoring raises."""
        return tuple(alert for alert in self.alerts if alert.when is not None)

    @property
    def worsening_alerts(self) -> tuple[Alert, ...]:
        """The alerts on worsening from baseline, which the storing service raises."""
        return tuple(alert for alert in self.alerts if alert.worsening is not None)

    @property
    def _items_by_id(self) -> Mapping[str, Item]:
        cached = self.__dict__.get("_items_cache")
        if cached is None:
            cached = {item.id: item for item in self.items}
            object.__setattr__(self, "_items_cache", cached)
        return cached

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)
