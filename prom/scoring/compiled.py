"""Definitions compiled into vectorised scorers over answer matrices.

`CompiledScorer(definition)` turns every scale of a definition into a handful of array operations
that score all scales of all rows at once. The steps, each one numpy call or a few:

1. fill items hidden by their skip condition with their `hidden_value` (only where the controlling
   item is answered; an unknown stays missing);
2. gather one *entry* per (scale, item) — a multiple-choice item gives one entry per counted code —
   and map each through its transform table: recode, reverse, or the 0/1 "is a counted code";
3. per-scale sums, answered counts and, for percent_of_max, the bounds of the answered items, as
   matrix products with (entries × scales) weight matrices;
4. finish per method (mean, prorate, percent, table lookup, named scorer), then status and bands.

So one answer set and a million go through the same code; only the row count differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from prom.instruments.conditions import ConditionSet
from prom.instruments.layout import layout_for
from prom.instruments.loader import answer_is_valid
from prom.instruments.spec import Definition, Scale
from prom.scoring.named import prepare_named_scorer

ENGINE_VERSION = "1"
SCORED, PRORATED, INSUFFICIENT = 0, 1, 2
STATUS_NAMES = ("scored", "prorated", "insufficient")


@dataclass(frozen=True)
class ScoreArrays:
    """Scores of n rows × s scales, in the definition's scale order."""

    values: np.ndarray  # float64 (n, s); NaN where insufficient
    status: np.ndarray  # int8 (n, s): SCORED, PRORATED or INSUFFICIENT
    n_answered: np.ndarray  # int32 (n, s)
    band: np.ndarray  # int16 (n, s): index into scale.bands, -1 for none
    alerts: np.ndarray  # bool (n, a): alert raised, in the definition's alert order


class CompiledScorer:
    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.layout = layout = layout_for(definition)
        self.scales = definition.scales
        self._compile_hidden_fill()
        self._compile_entries()
        self._compile_finishers()
        self._alerts = ConditionSet([a.when for a in definition.alerts], layout,
                                    [s.id for s in self.scales])
        self.scoring_version = self._digest()

    # ------------------------------------------------------------------ compile: skip conditions

    def _compile_hidden_fill(self) -> None:
        """Group the items that score a value when hidden into dependency levels."""
        definition = self.definition
        fillable = {i.id: i for i in definition.items if i.hidden_value is not None}
        level: dict[str, int] = {}
        for item in definition.items:  # conditions refer to earlier items only
            if item.id in fillable:
                sources = item.show_if.references("item")  # type: ignore[union-attr]
                level[item.id] = 1 + max((level.get(s, -1) for s in sources), default=-1)
        self._fill_levels = []
        for depth in sorted(set(level.values())):
            items = [fillable[i] for i, d in level.items() if d == depth]
            conditions = ConditionSet([item.show_if for item in items], self.layout)
            columns, owner, values = [], [], []
            for k, item in enumerate(items):
                for column in self.layout.item_columns[item.id]:
                    columns.append(column)
                    owner.append(k)
                    values.append(item.hidden_value)
            self._fill_levels.append((conditions, np.asarray(columns, dtype=np.intp),
                                      np.asarray(owner, dtype=np.intp),
                                      np.asarray(values, dtype=float)))

    def fill_hidden(self, answers: np.ndarray) -> np.ndarray:
        if not self._fill_levels:
            return answers
        answers = answers.copy()
        for conditions, columns, owner, values in self._fill_levels:
            _, hidden = conditions.evaluate(answers)
            current = answers[:, columns]
            answers[:, columns] = np.where(hidden[:, owner] & np.isnan(current), values, current)
        return answers

    # ------------------------------------------------------------------------ compile: entries

    def _compile_entries(self) -> None:
        layout = self.layout
        columns: list[int] = []
        tables: list[tuple[int, list[float]]] = []  # (offset, transformed value per offset)
        sum_weight: list[tuple[int, int]] = []  # (entry, scale)
        answered_weight: list[tuple[int, int]] = []
        entry_low: list[float] = []
        entry_span: list[float] = []
        self._entry_slices: list[slice] = []
        for s, scale in enumerate(self.scales):
            first = len(columns)
            for item_id in scale.items:
                item = self.definition.item(item_id)
                if item.response.type == "multiple_choice":
                    counted = [c for c in scale.codes if item.response.option(c) is not None]
                    anchor = len(columns)
                    for code in counted or [item.response.options[0].code]:
                        columns.append(layout.option_column[(item.id, code)])
                        tables.append((0, [0.0, 1.0 if counted else 0.0]))
                        sum_weight.append((len(columns) - 1, s))
                        entry_low.append(0.0)
                        entry_span.append(1.0)
                    answered_weight.append((anchor, s))
                    continue
                raw = [int(v) for v in item.response.numeric_values()]
                low = min(raw)
                by_offset = [np.nan] * (max(raw) - low + 1)
                transformed = _transform(scale, item_id, raw, layout, item)
                for value, result in zip(raw, transformed, strict=True):
                    by_offset[value - low] = result
                columns.append(layout.item_columns[item.id][0])
                tables.append((low, by_offset))
                sum_weight.append((len(columns) - 1, s))
                answered_weight.append((len(columns) - 1, s))
                entry_low.append(min(transformed))
                entry_span.append(max(transformed) - min(transformed))
            self._entry_slices.append(slice(first, len(columns)))

        self._entry_columns = np.asarray(columns, dtype=np.intp)
        self._entry_offset = np.asarray([o for o, _ in tables], dtype=float)
        # One flat table of transformed values: entry e's values start at _entry_base[e]; the slot
        # before each block is "missing" (0.0), reached as offset -1 because fmax(NaN, -1) = -1.
        flat: list[float] = []
        bases = []
        for _, values in tables:
            flat.append(0.0)
            bases.append(len(flat))
            flat.extend(values)
        self._flat_values = np.asarray(flat, dtype=float)
        self._entry_base = np.asarray(bases, dtype=np.intp)
        self._entry_low = np.asarray(entry_low, dtype=float)
        self._entry_span = np.asarray(entry_span, dtype=float)
        self._sum_pairs, self._answered_pairs = sum_weight, answered_weight

    # ---------------------------------------------------------------------- compile: finishing

    def _compile_finishers(self) -> None:
        """One (2·entries × 3·scales) matrix turns [values | answered] into, per scale,
        numerator, denominator and number answered:

        - sum, count, lookup, named: value = Σ values / 1
        - mean: Σ values / n answered;  prorated_sum: n_items · Σ values / n answered
        - percent_of_max: 100 · (Σ values − Σ low) / Σ span
        """
        scales = self.scales
        q, s = len(self._entry_columns), len(scales)
        self._n_items = np.asarray([len(x.items) for x in scales], dtype=float)
        self._min_answered = np.asarray([x.min_answered for x in scales], dtype=float)
        value_weights = np.zeros((q, 3 * s))
        answered_weights = np.zeros((q, 3 * s))  # per-entry constants (low, span) live here
        floor = np.ones(s)  # the denominator of methods that do not divide; tiny for those that do
        for e, k in self._sum_pairs:
            method = scales[k].method
            factor = {"prorated_sum": self._n_items[k], "percent_of_max": 100.0}.get(method, 1.0)
            value_weights[e, k] = factor
            if method == "percent_of_max":
                answered_weights[e, k] = -100.0 * self._entry_low[e]
                answered_weights[e, s + k] = self._entry_span[e]
            elif method in ("mean", "prorated_sum"):
                answered_weights[e, s + k] = 1.0
        for e, k in self._answered_pairs:
            answered_weights[e, 2 * s + k] = 1.0
        for k, scale in enumerate(scales):
            if scale.method in ("mean", "prorated_sum", "percent_of_max"):
                floor[k] = np.finfo(float).tiny  # n answered = 0 gives 0 / tiny = 0, no warning
        self._weights = np.vstack([value_weights, answered_weights])
        self._floor = floor

        def columns(*methods: str) -> np.ndarray:
            return np.asarray([k for k, x in enumerate(scales) if x.method in methods],
                              dtype=np.intp)

        self._lookup_columns = columns("lookup")
        flat, offsets, minimum, last = [], [], [], []
        for k in self._lookup_columns:
            table = scales[k].table
            assert table is not None
            offsets.append(len(flat))
            minimum.append(table.raw_min)
            last.append(len(table.scores) - 1)
            flat.extend(table.scores)
        self._lookup_flat = np.asarray(flat, dtype=float)
        self._lookup_offset = np.asarray(offsets, dtype=np.intp)
        self._lookup_min = np.asarray(minimum, dtype=float)
        self._lookup_last = np.asarray(last, dtype=float)
        self._named = []
        for k, scale in enumerate(scales):
            if scale.method == "named":
                items = [self.definition.item(i) for i in scale.items]
                prepared = prepare_named_scorer(scale, items,
                                                self.definition.source.parent / "tables")
                self._named.append((k, self._entry_slices[k], prepared))
        # Bands: the band index is the number of band minimums ≤ value, minus one.
        owners, minimums = [], []
        for k, scale in enumerate(scales):
            for band in scale.bands[1:]:
                owners.append(k)
                minimums.append(band.min)
        self._band_owner = np.asarray(owners, dtype=np.intp)
        self._band_min = np.asarray(minimums, dtype=float)
        self._band_count = np.zeros((len(owners), s))
        self._band_count[np.arange(len(owners)), owners] = 1.0
        self._band_base = np.asarray([0 if x.bands else -1 for x in scales], dtype=float)

    # ------------------------------------------------------------------------------- scoring

    def score_matrix(self, answers: np.ndarray) -> ScoreArrays:
        """Score an (n × columns) answer matrix of valid answers (NaN = not answered).

        Written for few numpy calls rather than elegance: each call costs microseconds, and this
        runs once per submission as well as once per million-row export.
        """
        answers = self.fill_hidden(np.asarray(answers, dtype=float))
        offsets = np.fmax(answers[:, self._entry_columns] - self._entry_offset, -1.0)
        offsets = offsets.astype(np.intp)
        entries = self._flat_values[self._entry_base + offsets]  # (n, entries), 0 where missing
        answered = offsets >= 0
        totals = np.concatenate([entries, answered], axis=1) @ self._weights
        s = len(self.scales)
        n_answered = totals[:, 2 * s:]
        values = totals[:, :s] / np.fmax(totals[:, s:2 * s], self._floor)
        if self._lookup_columns.size:
            k = self._lookup_columns
            position = np.clip(np.rint(values[:, k]) - self._lookup_min, 0, self._lookup_last)
            values[:, k] = self._lookup_flat[self._lookup_offset + position.astype(np.intp)]
        for k, entry_slice, prepared in self._named:
            values[:, k] = prepared(np.where(answered[:, entry_slice], entries[:, entry_slice],
                                             np.nan))
        status = np.add(n_answered < self._n_items, n_answered < self._min_answered,
                        dtype=np.int8)  # 0 scored, 1 prorated, 2 insufficient
        values = np.where(status == INSUFFICIENT, np.nan, values)
        if self._band_owner.size:
            above = values[:, self._band_owner] >= self._band_min
            bands = (above @ self._band_count + self._band_base).astype(np.int16)
            bands[np.isnan(values)] = -1
        else:
            bands = np.full(values.shape, -1, dtype=np.int16)
        raised, _ = self._alerts.evaluate(answers, values)
        return ScoreArrays(values=values, status=status,
                           n_answered=n_answered.astype(np.int32), band=bands, alerts=raised)

    def _digest(self) -> str:
        """A short digest of everything that decides a score: rules, tables, engine version."""
        material = {
            "engine": ENGINE_VERSION,
            "scales": self.definition.document.get("scales", []),
            "items": [[i.id, i.response.type, i.response.numeric_values(), i.hidden_value]
                      for i in self.definition.items],
            "tables": [list(self._lookup_flat)],
            "named": [prepared.signature for _, _, prepared in self._named],
        }
        encoded = json.dumps(material, sort_keys=True, default=str).encode()
        return f"{ENGINE_VERSION}.{hashlib.sha256(encoded).hexdigest()[:12]}"


def _transform(scale: Scale, item_id: str, raw: list[int], layout, item) -> list[float]:
    """What each raw value of an item contributes to this scale."""
    if scale.method == "count":
        counted = {layout.numeric(item, code) for code in scale.codes
                   if answer_is_valid(item.response, code)}
        return [1.0 if float(v) in counted else 0.0 for v in raw]
    values = [float(v) for v in raw]
    for recode in scale.recode:
        if item_id in recode.items:
            values = [recode.mapping[v] for v in raw]
    if item_id in scale.reverse:
        low, high = min(values), max(values)
        values = [low + high - v for v in values]
    return values
