"""Which columns an export has, and what each means, decided from the study before any data.

The design is made from the study's schedule (its occurrences, in target-day order), the
instrument definitions the study's responses were answered on, and the (instrument, timepoint)
pairs that occur in the data. Every layout's columns, and their codebook entries, come from here,
so the builders in `datasets` and the writers never invent a column.

**Names.** Wide columns are `<instrument>_<scale>_<timepoint>`, and derived ones add a suffix:

| suffix | holds |
|---|---|
| (none) | the scale's value at the timepoint |
| `_chg` | change from baseline: value − baseline value, in scale units |
| `_pctchg` | percent change: change / abs(baseline) × 100 (missing when the baseline is 0) |
| `_r30`, `_r50` | pain-intensity scales: reduced by ≥ 30% / ≥ 50% (IMMPACT), 1 or 0 |
| `_rmcid` | scales with an MCID: improved by at least it (`prom.scoring.change`), 1 or 0 |

Derived columns exist for each follow-up timepoint, that is each occurrence after the
instrument's baseline timepoint (`prom.schedule.baseline_timepoint`), and not for a global
impression of change (PGIC), which already is a change, nor when the export leaves the baseline
timepoint out. Names keep only letters, digits and `_`.
Stata allows 32 characters (31 here, see `STATA_NAME_LIMIT`): a longer name is cut and ends with
`_` and four hex digits of a hash of the full name (the codebook says what it is). SPSS
allows 64, and the other formats use the same names as SPSS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prom.export.codebook import YES_NO, Codebook, Variable
from prom.instruments.localise import pick
from prom.instruments.spec import Definition, Scale
from prom.schedule import Occurrence, baseline_timepoint
from prom.scoring.change import IMMPACT_MODERATE, IMMPACT_SUBSTANTIAL, is_pain_intensity

LANGUAGE = "en"
#: Stata allows 32 characters, but pyreadstat names a variable's value-label set after it and
#: refuses a 32-character one: 31 fits both.
STATA_NAME_LIMIT = 31
NAME_LIMIT = 64  # SPSS's, used for every format but Stata

#: Suffix → (kind, label) of the derived wide columns, in column order.
DERIVED = {
    "_chg": ("change", "change from baseline"),
    "_pctchg": ("percent_change", "percent change from baseline"),
    "_r30": ("r30", f"responder: reduced by ≥{IMMPACT_MODERATE:g}% from baseline"),
    "_r50": ("r50", f"responder: reduced by ≥{IMMPACT_SUBSTANTIAL:g}% from baseline"),
    "_rmcid": ("rmcid", "responder: improved by at least the MCID from baseline"),
}


@dataclass(frozen=True)
class WideColumn:
    name: str
    kind: str  # value | change | percent_change | r30 | r50 | rmcid
    instrument: str
    scale: str
    timepoint: str
    baseline: str | None  # the baseline timepoint of a derived column


@dataclass(frozen=True)
class Design:
    occurrences: tuple[Occurrence, ...]
    definitions: Mapping[str, Definition]  # instrument → the version whose scales are columns
    pairs: frozenset[tuple[str, str]]  # (instrument, timepoint) present in the data
    identified: bool
    name_limit: int = NAME_LIMIT

    @property
    def timepoint_order(self) -> dict[str, int]:
        ordered = sorted(enumerate(self.occurrences), key=lambda item: (item[1].day, item[0]))
        return {occurrence.code: k for k, (_, occurrence) in enumerate(ordered)}

    @property
    def target_days(self) -> dict[str, int]:
        return {o.code: o.day for o in self.occurrences}

    def instruments(self) -> list[str]:
        """Instruments in the order the schedule first asks for them, then alphabetically."""
        order = {instrument: k for k, instrument in enumerate(
            dict.fromkeys(i for o in sorted(self.occurrences, key=lambda o: o.day)
                          for i in o.instruments))}
        return sorted(self.definitions, key=lambda i: (order.get(i, len(order)), i))

    def wide_columns(self) -> list[WideColumn]:
        order = self.timepoint_order
        columns = []
        for instrument in self.instruments():
            definition = self.definitions[instrument]
            timepoints = sorted({t for i, t in self.pairs if i == instrument}, key=order.get)
            base = baseline_timepoint(self.occurrences, instrument)
            changes = (base in timepoints  # not when filtered out of the export
                       and "global_impression" not in definition.domains)
            for scale in definition.scales:
                for timepoint in timepoints:
                    stem = f"{instrument}_{scale.id}_{timepoint}"
                    columns.append(WideColumn(self.name(stem), "value", instrument, scale.id,
                                              timepoint, None))
                    if not changes or order[timepoint] <= order.get(base, -1):
                        continue
                    for suffix in _suffixes(definition, scale):
                        columns.append(WideColumn(self.name(stem + suffix), DERIVED[suffix][0],
                                                  instrument, scale.id, timepoint, base))
        return columns

    def name(self, stem: str) -> str:
        """`stem` as a column name within this design's length limit (module docstring)."""
        clean = re.sub(r"[^A-Za-z0-9_]", "_", stem)
        if len(clean) <= self.name_limit:
            return clean
        digest = hashlib.sha256(clean.encode()).hexdigest()[:4]
        return f"{clean[:self.name_limit - 5]}_{digest}"

    # -----------------------------------------------------------------------------------------
    # Codebook

    def codebook(self, layouts: Iterable[str]) -> Codebook:
        book = Codebook(instruments=[instrument_entry(self.definitions[i])
                                     for i in self.instruments()])
        for layout in layouts:
            for dataset, variables in self.variables(layout).items():
                book.add(dataset, variables)
        return book

    def variables(self, layout: str) -> dict[str, list[Variable]]:
        """{dataset name: its variables} for a layout (the summary layout has three)."""
        if layout == "scores_long":
            return {layout: self._scores_long()}
        if layout == "items_long":
            return {layout: self._items_long()}
        if layout == "wide":
            return {layout: self._wide()}
        if layout == "adverse_events":
            return {layout: self._adverse_events()}
        if layout == "summary":
            from prom.export import summary  # it imports this module

            return summary.variables()
        raise ValueError(f"unknown layout {layout!r}")

    def _who(self) -> list[Variable]:
        who = [Variable("participant", "Participant code: a keyed hash, stable within the study"
                        if not self.identified else "Participant id", "string"),
               Variable("arm", "Arm code", "string",
                        value_labels=None)]
        if self.identified:
            who += [Variable("site", "Site code", "string"),
                    Variable("enrolled_on", "Date of enrolment", "string"),
                    Variable("randomised_on", "Date of randomisation", "string")]
        return who

    def _when(self) -> list[Variable]:
        when = [Variable("timepoint", "Analysis timepoint (the schedule's code)", "string",
                         value_labels=self._timepoint_labels()),
                Variable("target_day", "Target day of the timepoint, counted from the anchor",
                         "integer"),
                Variable("study_day", "Day the form was filled in, counted from the anchor "
                         "(randomisation when recorded, else enrolment), in local time",
                         "integer"),
                Variable("in_window", "Collected inside the timepoint's window", "boolean",
                         value_labels=YES_NO)]
        if self.identified:
            when += [Variable("response_id", "Response id (the client's UUID)", "string"),
                     Variable("collected_at", "When the form was filled in (UTC, ISO 8601)",
                              "string")]
        return when

    def _timepoint_labels(self) -> dict[str, str]:
        return {o.code: f"day {o.day} (window {o.first_day} to {o.last_day})"
                for o in sorted(self.occurrences, key=lambda o: o.day)}

    def _scores_long(self) -> list[Variable]:
        return [*self._who(), *self._when(),
                Variable("instrument", "Instrument id", "string",
                         value_labels={i: pick(d.title, LANGUAGE)
                                       for i, d in self.definitions.items()}),
                Variable("instrument_version", "Instrument version answered", "string"),
                Variable("scale", "Scale id within the instrument (see the instruments in "
                         "codebook.json)", "string"),
                Variable("value", "Score; missing when too few items were answered", "number"),
                Variable("status", "Scoring status", "string", value_labels={
                    "scored": "every item answered", "prorated": "scored from the answered "
                    "items (missing items allowed by the scale's rule)",
                    "insufficient": "too few items answered: no score"}),
                Variable("band", "Severity band code of the value", "string"),
                Variable("n_answered", "Items of the scale answered", "integer"),
                Variable("scoring_version", "Digest of the compiled scoring rules", "string")]

    def _items_long(self) -> list[Variable]:
        variables = [*self._who(), *self._when(),
                     Variable("instrument", "Instrument id", "string"),
                     Variable("instrument_version", "Instrument version answered", "string"),
                     Variable("item", "Item id (codes and labels in codebook.json)", "string"),
                     Variable("value", "Numeric answer: the code, 1/0 for yes/no, the days "
                              "since the anchor for a date, the number of options chosen for "
                              "a multiple choice", "number"),
                     Variable("code", "The answer as given, for choices with text codes and "
                              "multiple choices (codes joined by ';')", "string")]
        if self.identified:
            variables.append(Variable("text", "Free-text answer (identified exports only)",
                                      "string"))
        return variables

    def _wide(self) -> list[Variable]:
        variables = self._who()
        for column in self.wide_columns():
            definition = self.definitions[column.instrument]
            scale = definition.scale(column.scale)
            what = f"{pick(definition.title, LANGUAGE)}: {pick(scale.label, LANGUAGE)}"
            common = {"instrument": column.instrument, "scale": column.scale,
                      "timepoint": column.timepoint, "scoring_rule": scoring_rule(scale),
                      "licence": definition.license.citation}
            if column.kind == "value":
                label = f"{what} at {column.timepoint}"
                if column.timepoint == baseline_timepoint(self.occurrences, column.instrument):
                    label += " (baseline)"
                variables.append(Variable(column.name, label, "number", **common))
                continue
            suffix = next(s for s, (kind, _) in DERIVED.items() if kind == column.kind)
            flag = column.kind in ("r30", "r50", "rmcid")
            variables.append(Variable(
                column.name, f"{what} at {column.timepoint}, {DERIVED[suffix][1]} "
                f"({column.baseline})", "integer" if flag else "number",
                value_labels=YES_NO if flag else None, derivation=_derivation(column, scale),
                **common))
        return variables

    def _adverse_events(self) -> list[Variable]:
        variables = [*self._who()]
        if self.identified:
            variables += [Variable("event_id", "Adverse-event id", "string"),
                          Variable("response_id", "Id of the report (response)", "string"),
                          Variable("reported_at", "When the report was filled in (UTC)",
                                   "string")]
        variables += [
            Variable("event", "Event number within the participant, in report order",
                     "integer"),
            Variable("timepoint", "Analysis timepoint of the report, if any", "string"),
            Variable("reported_day", "Day of the report, counted from the anchor", "integer"),
            Variable("onset_day", "Reported onset, in days from the anchor", "integer"),
            Variable("reported_severity", "Severity as the participant reported it", "string"),
            Variable("reported_serious", "The participant reported a seriousness criterion",
                     "boolean", value_labels=YES_NO),
            Variable("reported_attributed", "Whether the participant attributes it to the "
                     "programme", "string"),
            Variable("reviewed", "Reviewed by a clinician", "boolean", value_labels=YES_NO),
            Variable("reviews", "Number of reviews (the latest is the current one)", "integer"),
            Variable("serious", "Serious (ICH E2A), by the current review", "boolean",
                     value_labels=YES_NO),
            Variable("seriousness_criteria", "ICH E2A criteria met, joined by ';'", "string"),
            Variable("severity_grade", "CTCAE grade 1–5, by the current review", "integer"),
            Variable("relatedness", "Causality, by the current review", "string"),
            Variable("expected", "Expected, by the current review", "boolean",
                     value_labels=YES_NO),
            Variable("action_taken", "Action taken with the programme", "string"),
            Variable("outcome", "Outcome of the event", "string"),
            Variable("reviewed_day", "Day of the current review, counted from the anchor",
                     "integer")]
        if self.identified:
            variables += [Variable("description", "The participant's description (free text)",
                                   "string"),
                          Variable("review_note", "The current review's note (free text)",
                                   "string")]
        return variables


def _suffixes(definition: Definition, scale: Scale) -> list[str]:
    suffixes = ["_chg", "_pctchg"]
    if is_pain_intensity(definition, scale):
        suffixes += ["_r30", "_r50"]
    if scale.mcid is not None:
        suffixes.append("_rmcid")
    return suffixes


def _derivation(column: WideColumn, scale: Scale) -> str:
    base = f"baseline = the value at {column.baseline}"
    if column.kind == "change":
        return f"value − baseline; {base}"
    if column.kind == "percent_change":
        return f"(value − baseline) / abs(baseline) × 100, missing when baseline is 0; {base}"
    if column.kind in ("r30", "r50"):
        threshold = IMMPACT_MODERATE if column.kind == "r30" else IMMPACT_SUBSTANTIAL
        return (f"1 when the pain is reduced by at least {threshold:g}% of baseline, else 0; "
                f"missing without both values; {base}")
    assert scale.mcid is not None
    threshold = (f"{scale.mcid.absolute:g} points" if scale.mcid.absolute is not None
                 else f"{scale.mcid.percent:g}% of baseline")
    return (f"1 when improved (higher is {scale.higher_is}) by at least the MCID, {threshold} "
            f"({scale.mcid.source}), else 0; missing without both values; {base}")


_METHODS = {
    "sum": "sum of the items; every item must be answered",
    "mean": "mean of the answered items",
    "prorated_sum": "sum of the answered items × items / answered",
    "percent_of_max": "(sum − lowest possible) / (highest − lowest possible) × 100 over the "
                      "answered items",
    "count": "number of answers among the scale's codes",
    "lookup": "raw sum looked up in a published table",
    "named": "a named scorer",
}


def scoring_rule(scale: Scale) -> str:
    """One line saying how the scale is scored, for the codebook."""
    if scale.method == "named":
        rule = f"named scorer {scale.scorer}"
        if scale.scorer_params:
            rule += " (" + ", ".join(f"{k}={v}" for k, v in scale.scorer_params.items()) + ")"
    elif scale.method == "lookup" and scale.table is not None:
        rule = f"raw sum looked up in {scale.table.file} ({scale.table.key})"
    else:
        rule = _METHODS[scale.method]
    parts = [f"{rule} of {len(scale.items)} item(s): {', '.join(scale.items)}"]
    if scale.reverse:
        parts.append(f"reversed: {', '.join(sorted(scale.reverse))}")
    if scale.min_answered:
        parts.append(f"needs ≥ {scale.min_answered} answered")
    parts.append(f"range {scale.range[0]:g}–{scale.range[1]:g}, higher is {scale.higher_is}")
    if scale.mcid is not None:
        mcid = [f"{scale.mcid.absolute:g} points" if scale.mcid.absolute is not None else None,
                f"{scale.mcid.percent:g}%" if scale.mcid.percent is not None else None]
        parts.append(f"MCID {' or '.join(m for m in mcid if m)} ({scale.mcid.source})")
    return "; ".join(parts)


def instrument_entry(definition: Definition) -> dict[str, Any]:
    """An instrument as codebook.json describes it: no item text, only codes and labels where
    the licence allows the text to be shipped."""
    shipped = definition.license.text_included
    return {
        "id": definition.id, "version": definition.version,
        "title": pick(definition.title, LANGUAGE), "domains": list(definition.domains),
        "licence": {"holder": definition.license.holder,
                    "citation": definition.license.citation,
                    "text_included": shipped},
        "scales": [{"id": s.id, "label": pick(s.label, LANGUAGE), "scoring_rule": scoring_rule(s),
                    "range": list(s.range), "higher_is": s.higher_is,
                    "mcid": None if s.mcid is None else {
                        "absolute": s.mcid.absolute, "percent": s.mcid.percent,
                        "source": s.mcid.source},
                    "bands": [{"code": b.code, "min": b.min, "label": pick(b.label, LANGUAGE)}
                              for b in s.bands]}
                   for s in definition.scales],
        "items": [{"id": item.id, "type": item.response.type,
                   "required": item.required,
                   "min": item.response.min, "max": item.response.max,
                   "codes": [{"code": option.code,
                              "label": pick(option.label, LANGUAGE) if shipped else None}
                             for option in item.response.options]}
                  for item in definition.items],
    }


def make_design(occurrences: Sequence[Occurrence], definitions: Mapping[str, Definition],
                pairs: Iterable[tuple[str, str]], *, identified: bool,
                name_limit: int = NAME_LIMIT) -> Design:
    return Design(tuple(occurrences), dict(definitions), frozenset(pairs), identified,
                  name_limit)
