"""Definitions compiled into vectorised scorers over answer matrices.

`CompiledScorer(definition)` turns every scale of a definition into a fixed, short sequence of
array operations that score all scales of all rows at once:

1. gather one *entry* per (scale, item) — a multiple-choice item gives one entry per counted code —
   and look up what its answer contributes (recoded, reversed, or 0/1 for "is a counted code") in
   one flat table, and whether it was answered; an item hidden by its skip condition reads its
   `hidden_value` there (only where the controlling item is answered: an unknown stays missing);
2. one matrix product turns contributions and answered flags into, per scale, a numerator, a
   denominator and the number of items answered — sum, mean, prorated_sum, percent_of_max, count;
3. `lookup` and `named` scales read a table at a key that step 2 computed as a weighted sum;
   then status, bands and alerts.

The same code scores one answer set (per submission) and a million (exports, benchmarks); only the
row count differs. It is written for *few numpy calls* rather than elegance, because on small inputs
each call costs about a microsecond whatever it does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from prom.instruments.conditions import ConditionSet, distinct
from prom.instruments.layout import AnswerLayout, layout_for
from prom.instruments.loader import answer_is_valid
from prom.instruments.spec import Definition, Item, Scale
from prom.scoring.named import prepare_named_scorer

ENGINE_VERSION = "1"
SCORED, PRORATED, INSUFFICIENT = 0, 1, 2
STATUS_NAMES = ("scored", "prorated", "insufficient")
_DIVIDING = ("mean", "prorated_sum", "percent_of_max")
#: Cells (rows × columns) scored at a time: small enough that a block's temporaries stay in the
#: CPU cache, large enough that the per-block Python overhead is noise. Measured in
#: benchmarks/bench_scoring.py; see BENCHMARKS.md.
BLOCK_CELLS = 65536


class ScoreArrays(NamedTuple):
    """Scores of n rows × s scales, in the definition's scale order."""

    values: np.ndarray  # float64 (n, s); NaN where insufficient
    status: np.ndarray  # int8 (n, s): SCORED, PRORATED or INSUFFICIENT
    n_answered: np.ndarray  # int32 (n, s)
    band: np.ndarray  # int16 (n, s): index into scale.bands, -1 for none
    alerts: np.ndarray  # bool (n, a): alert raised, in the definition's alert order


@dataclass(frozen=True)
class _Entry:
    """One item's contribution to one scale."""

    scale: int
    column: int  # answer-matrix column
    low: int  # smallest raw value; raw value v is at position v - low of `contributions`
    contributions: list[float]  # NaN where the raw value is impossible
    counts_as_answered: bool  # False for the 2nd… codes of one multiple-choice item

    @property
    def possible(self) -> list[float]:
        return [c for c in self.contributions if c == c]


class CompiledScorer:
    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.layout = layout_for(definition)
        self.scales = definition.scales
        self.scale_ids = tuple(scale.id for scale in self.scales)
        # band index → code, with None last so that index -1 (no band) reads None
        self.band_codes = tuple((*(b.code for b in scale.bands), None) for scale in self.scales)
        entries = self._entries()
        self._compile_gather(entries)
        self._compile_tables(entries)
        self._compile_totals(entries)
        self._compile_bands()
        self._alerts = ConditionSet([a.when for a in definition.answer_alerts], self.layout,
                                    [s.id for s in self.scales])
        self.block_rows = max(256, BLOCK_CELLS // max(self.layout.width, len(entries), 1))
        self.scoring_version = self._digest()

    # ------------------------------------------------------------------------ compile: entries

    def _entries(self) -> list[_Entry]:
        entries: list[_Entry] = []
        for k, scale in enumerate(self.scales):
            for item_id in scale.items:
                item = self.definition.item(item_id)
                if item.response.type == "multiple_choice":
                    counted = [c for c in scale.codes if item.response.option(c) is not None]
                    for n, code in enumerate(counted or [item.response.options[0].code]):
                        entries.append(_Entry(
                            scale=k, column=self.layout.option_column[(item.id, code)], low=0,
                            contributions=[0.0, 1.0 if counted else 0.0],
                            counts_as_answered=n == 0))
                    continue
                raw = [int(v) for v in item.response.numeric_values()]
                contributions = [np.nan] * (max(raw) - min(raw) + 1)
                for value, result in zip(raw, _transform(scale, item, raw, self.layout),
                                         strict=True):
                    contributions[value - min(raw)] = result
                entries.append(_Entry(scale=k, column=self.layout.item_columns[item.id][0],
                                      low=min(raw), contributions=contributions,
                                      counts_as_answered=True))
        return entries

    def _compile_gather(self, entries: list[_Entry]) -> None:
        """A flat table of contributions, three kinds of row per entry:

            missing (0) | hidden (the hidden value's contribution) | one row per raw value

        answer + shift is the row of an answer; NaN + shift is NaN, and fmax(NaN, floor) = floor,
        where floor = missing row + 1 if the item's skip condition is known to fail (the item is
        hidden and scores its `hidden_value`), else + 0 (unanswered: missing). An unknown
        condition leaves the item missing. The loader forbids a fillable item controlled by
        another fillable one, so one evaluation on the raw answers suffices."""
        fillable = [item for item in self.definition.items if item.hidden_value is not None]
        unique, position = distinct([item.show_if for item in fillable])
        condition_of = {item.id: int(position[k]) for k, item in enumerate(fillable)}
        item_of_column = {column: item_id for item_id, columns in self.layout.item_columns.items()
                          for column in columns}
        table: list[float] = []
        shifts, missing, conditions, fills = [], [], [], []
        for entry in entries:
            missing.append(len(table))
            table.append(0.0)
            item_id = item_of_column[entry.column]
            fills.append(item_id in condition_of)
            if item_id in condition_of:
                item = self.definition.item(item_id)
                # a multiple-choice indicator's hidden value 0 is "not selected"
                hidden = 0 if item.response.type == "multiple_choice" else int(item.hidden_value)
                table.append(entry.contributions[hidden - entry.low])
                conditions.append(condition_of[item_id])
            else:
                table.append(0.0)  # never read: `fills` masks this entry in _unanswered_rows
                conditions.append(0)
            shifts.append(len(table) - entry.low)
            # an impossible value (a gap between codes) reads NaN: it poisons, never scores
            table.extend(entry.contributions)
        # column vectors: the block is scored column-major, (entries × rows)
        self._entry_columns = np.asarray([e.column for e in entries], dtype=np.intp)
        self._entry_shift = np.asarray(shifts, dtype=float)[:, np.newaxis]
        self._entry_missing = np.asarray(missing, dtype=float)[:, np.newaxis]
        # (contribution, answered) per row: answered is 0 only on the missing rows
        answered = np.ones(len(table))
        answered[missing] = 0.0
        self._pairs = np.column_stack([np.asarray(table, dtype=float), answered])
        self._fill = None
        if fillable:
            self._fill = (ConditionSet(unique, self.layout),
                          np.asarray(conditions, dtype=np.intp),
                          np.asarray(fills, dtype=bool)[:, np.newaxis])

    def _unanswered_rows(self, answers: np.ndarray) -> np.ndarray:
        """Per entry, the gather row of an unanswered item: hidden (missing + 1) or missing."""
        if self._fill is None:
            return self._entry_missing
        conditions, entry_condition, fills = self._fill
        hidden = conditions.fails(answers).take(entry_condition, axis=0) & fills
        return self._entry_missing + hidden

    def _compile_totals(self, entries: list[_Entry]) -> None:
        """One (3·scales × 2·entries) matrix turns the gathered (contribution, answered) pairs
        into, per scale, numerator, denominator and number answered:

        - sum, count, lookup, named: Σ contributions / 1
        - mean: Σ / n answered;  prorated_sum: n_items · Σ / n answered
        - percent_of_max: 100 · (Σ − Σ lowest possible) / Σ (highest − lowest), over answered items
        """
        scales = self.scales
        s = len(scales)
        self._n_items = np.asarray([len(x.items) for x in scales], dtype=float)[:, np.newaxis]
        self._min_answered = np.asarray([x.min_answered for x in scales],
                                        dtype=float)[:, np.newaxis]
        self._can_prorate = any(x.min_answered < len(x.items) for x in scales)
        weights = np.zeros((len(entries), 2, 3 * s))  # [entry, contribution | answered, output]
        position_in_scale = [0] * s
        for e, entry in enumerate(entries):
            k, method = entry.scale, scales[entry.scale].method
            if k in self._item_weights:  # a keyed table: the key is a weighted sum
                weights[e, 0, k] = self._item_weights[k][position_in_scale[k]]
            else:
                weights[e, 0, k] = {"prorated_sum": len(scales[k].items),
                                    "percent_of_max": 100.0}.get(method, 1.0)
            position_in_scale[k] += 1
            if method == "percent_of_max":
                weights[e, 1, k] = -100.0 * min(entry.possible)
                weights[e, 1, s + k] = max(entry.possible) - min(entry.possible)
            elif method in ("mean", "prorated_sum"):
                weights[e, 1, s + k] = 1.0
            if entry.counts_as_answered:
                weights[e, 1, 2 * s + k] = 1.0
        # (3·scales × 2·entries): rows are outputs; columns interleave each entry's
        # contribution and answered flag, matching the gathered pairs
        self._weights = np.ascontiguousarray(weights.reshape(2 * len(entries), 3 * s).T)
        # Methods that do not divide get denominator 1. Those that do get a tiny floor: with no
        # item answered the numerator is 0 too, so 0 / tiny = 0 — no warning; status masks it.
        self._floor = np.asarray([np.finfo(float).tiny if x.method in _DIVIDING else 1.0
                                  for x in scales])[:, np.newaxis]

    def _compile_tables(self, entries: list[_Entry]) -> None:
        """`lookup` and `named` scales are keyed tables: key = Σ weight · value + offset. All their
        tables are concatenated, so every such scale is one gather. Each table is padded with NaN
        to cover every key that missing items (contributing 0) can produce, so no key ever needs
        clamping; those rows are insufficient and masked anyway."""
        flat: list[float] = []
        self._item_weights: dict[int, tuple[float, ...]] = {}
        columns, offsets, signatures = [], [], []
        for k, scale in enumerate(self.scales):
            if scale.method == "lookup":
                assert scale.table is not None
                table, key_offset = list(scale.table.scores), -scale.table.raw_min
                weights = (1.0,) * len(scale.items)
            elif scale.method == "named":
                items = [self.definition.item(i) for i in scale.items]
                prepared = prepare_named_scorer(scale, items,
                                                self.definition.source.parent / "tables")
                table, key_offset = prepared.table.tolist(), prepared.key_offset
                weights = prepared.item_weights
                signatures.append(prepared.signature)
            else:
                continue
            own = [entry for entry in entries if entry.scale == k]
            reachable = [[w * c for c in (*entry.possible, 0.0)]
                         for w, entry in zip(weights, own, strict=True)]
            lowest = key_offset + round(sum(min(r) for r in reachable))
            highest = key_offset + round(sum(max(r) for r in reachable))
            below, above = max(0, -lowest), max(0, highest - (len(table) - 1))
            self._item_weights[k] = weights
            columns.append(k)
            offsets.append(len(flat) + below + key_offset)
            flat.extend([np.nan] * below + table + [np.nan] * above)
        self._table_columns = np.asarray(columns, dtype=np.intp)
        self._table_flat = np.asarray(flat, dtype=float)
        self._table_offset = np.asarray(offsets, dtype=float)[:, np.newaxis]
        self._table_signatures = signatures

    def _compile_bands(self) -> None:
        """The band index is the number of band minimums ≤ value, minus one: -1 for NaN and for
        scales without bands, in one comparison and one matrix product."""
        owners = [k for k, scale in enumerate(self.scales) for _ in scale.bands]
        self._band_owner = np.asarray(owners, dtype=np.intp)
        self._band_min = np.asarray([b.min for s in self.scales for b in s.bands],
                                    dtype=float)[:, np.newaxis]
        self._band_count = np.zeros((len(self.scales), len(owners)))
        self._band_count[owners, np.arange(len(owners))] = 1.0

    # ------------------------------------------------------------------------------- scoring

    def score_matrix(self, answers: np.ndarray) -> ScoreArrays:
        """Score an (n × columns) answer matrix of valid answers (NaN = not answered).

        Answers must have passed `validate_answers` (the API and `prom score` do that): a value
        outside its item's range is not detected here.

        Internally a block is scored column-major, (entries × rows): each numpy call then loops
        along the rows rather than along a handful of entries, which for narrow instruments is
        several times faster. The arrays returned are (rows × scales) views of that.

        Large inputs are scored in blocks of `block_rows` rows: each step then works on data still
        in the CPU cache, and the temporaries stay small whatever n is. One answer set is one
        block.
        """
        answers = np.asarray(answers, dtype=float)
        if len(answers) <= self.block_rows:
            return self._score_block(answers)
        blocks = [self._score_block(answers[start:start + self.block_rows])
                  for start in range(0, len(answers), self.block_rows)]
        return ScoreArrays(*(np.concatenate(parts) for parts in zip(*blocks, strict=True)))

    def _score_block(self, answers: np.ndarray) -> ScoreArrays:
        columns = answers.T  # column-major from here on: every array is (things × rows)
        rows = np.fmax(columns.take(self._entry_columns, axis=0) + self._entry_shift,
                       self._unanswered_rows(columns)).astype(np.intp)
        # (entries × rows × 2) pairs → (2·entries × rows), interleaved: a view for one row
        pairs = self._pairs.take(rows, axis=0)
        totals = self._weights @ pairs.transpose(0, 2, 1).reshape(-1, rows.shape[1])
        s = len(self.scales)
        n_answered = totals[2 * s:]
        values = totals[:s] / np.fmax(totals[s:2 * s], self._floor)
        if self._table_columns.size:
            k = self._table_columns
            # keys are sums of whole numbers, exact in float64: no rounding needed
            key = (values.take(k, axis=0) + self._table_offset).astype(np.intp)
            values[k] = self._table_flat[key]
        insufficient = n_answered < self._min_answered
        # bool → int8 views are free; 0 scored, 1 prorated, 2 insufficient (which implies 1)
        if self._can_prorate:
            status = (n_answered < self._n_items).view(np.int8) + insufficient.view(np.int8)
        else:
            status = insufficient.view(np.int8) * np.int8(INSUFFICIENT)
        values[insufficient] = np.nan
        if self._band_owner.size:
            above = values.take(self._band_owner, axis=0) >= self._band_min
            bands = np.subtract(self._band_count @ above, 1.0, casting="unsafe",
                                dtype=np.int16)  # counts are whole numbers
        else:
            bands = np.full(values.shape, -1, dtype=np.int16)
        if self._alerts.size:
            raised = self._alerts.holds(columns, values)
        else:
            raised = np.zeros((0, values.shape[1]), dtype=bool)
        return ScoreArrays(values=values.T, status=status.T,
                           n_answered=n_answered.astype(np.int32).T, band=bands.T,
                           alerts=raised.T)

    def _digest(self) -> str:
        """A short digest of everything that decides a score: rules, tables, engine version."""
        material = {
            "engine": ENGINE_VERSION,
            "scales": self.definition.document.get("scales", []),
            "items": [[i.id, i.response.type, i.response.numeric_values(), i.hidden_value]
                      for i in self.definition.items],
            "tables": hashlib.sha256(np.nan_to_num(self._table_flat).tobytes()).hexdigest(),
            "named": self._table_signatures,
        }
        encoded = json.dumps(material, sort_keys=True, default=str).encode()
        return f"{ENGINE_VERSION}.{hashlib.sha256(encoded).hexdigest()[:12]}"


def _transform(scale: Scale, item: Item, raw: list[int], layout: AnswerLayout) -> list[float]:
    """What each raw value of an item contributes to this scale."""
    if scale.method == "count":
        counted = {layout.numeric(item, code) for code in scale.codes
                   if answer_is_valid(item.response, code)}
        return [1.0 if float(v) in counted else 0.0 for v in raw]
    values = [float(v) for v in raw]
    for recode in scale.recode:
        if item.id in recode.items:
            values = [recode.mapping[v] for v in raw]
    if item.id in scale.reverse:
        low, high = min(values), max(values)
        values = [low + high - v for v in values]
    return values
