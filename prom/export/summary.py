"""The review-ready summary: what a systematic reviewer extracts from a trial, per arm.

Built from the `wide` dataset (one row per participant), so it uses exactly the values,
baselines and responder flags an analyst would get from the export. Three tables:

- **`summary_arms`**, per arm × instrument × scale × timepoint: N, mean, SD, median and
  quartiles of the values; N, mean and SD of the change from baseline (participants with both);
  and responders: n, the denominator (participants with both values) and %. The responder rule
  is IMMPACT's ≥ 30% reduction for pain-intensity scales (with ≥ 50% in `responders50_*`), and
  improvement by at least the MCID for other scales with one.
- **`summary_comparisons`**, each arm against the comparator (usual care, by default the last
  arm; chosen per export), per instrument × scale × timepoint:
  - the mean difference of the values (arm − comparator) with its 95% CI, and of the change
    from baseline;
  - the standardised mean difference of the values, Hedges' adjusted g, with its 95% CI;
  - the risk ratio of responders with its 95% CI.

  Formulas and their sources are in `prom.export.statistics`. Signs are arm − comparator on
  the scale as scored, so on a `higher_is: worse` scale a negative difference favours the
  arm; `higher_is` is in every row.
- **`summary_adverse_events`**, per arm: participants, participants with ≥ 1 event and with
  ≥ 1 serious event (by the current review), events, serious events, and the percentages.

Analyses are of the available data at each timepoint, as the export holds it; nothing is
imputed. A statistic that cannot be computed (fewer than two values, say) is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from prom.export import statistics
from prom.export.codebook import Variable
from prom.export.design import Design, WideColumn

ARMS, COMPARISONS, ADVERSE_EVENTS = ("summary_arms", "summary_comparisons",
                                     "summary_adverse_events")


def variables() -> dict[str, list[Variable]]:
    outcome = [Variable("instrument", "Instrument id", "string"),
               Variable("scale", "Scale id", "string"),
               Variable("timepoint", "Timepoint", "string"),
               Variable("higher_is", "Direction of the scale: better or worse", "string")]

    def stats(prefix: str, what: str) -> list[Variable]:
        return [Variable(f"{prefix}n", f"N with {what}", "integer"),
                Variable(f"{prefix}mean", f"Mean {what}", "number"),
                Variable(f"{prefix}sd", f"SD of {what} (n − 1)", "number")]

    def estimate(name: str, what: str) -> list[Variable]:
        return [Variable(name, what, "number"),
                Variable(f"{name}_low", f"{what}: lower 95% confidence limit", "number"),
                Variable(f"{name}_high", f"{what}: upper 95% confidence limit", "number")]

    return {
        ARMS: [Variable("arm", "Arm code", "string"), *outcome,
               *stats("", "a value"),
               Variable("median", "Median value", "number"),
               Variable("q1", "First quartile (linear interpolation)", "number"),
               Variable("q3", "Third quartile (linear interpolation)", "number"),
               *stats("change_", "change from baseline"),
               Variable("responder_rule", "Responder definition", "string"),
               Variable("responders_n", "Responders", "integer"),
               Variable("responders_denominator", "Participants with baseline and value",
                        "integer"),
               Variable("responders_pct", "Responders, % of the denominator", "number"),
               Variable("responders50_n", "Pain reduced by ≥ 50% (pain scales)", "integer"),
               Variable("responders50_pct", "Pain reduced by ≥ 50%, % of the denominator",
                        "number")],
        COMPARISONS: [Variable("arm", "Arm code", "string"),
                      Variable("comparator", "Comparator arm code", "string"), *outcome,
                      Variable("n_arm", "N with a value in the arm", "integer"),
                      Variable("n_comparator", "N with a value in the comparator", "integer"),
                      *estimate("md", "Mean difference of values, arm − comparator"),
                      *estimate("md_change", "Mean difference of change from baseline"),
                      *estimate("smd", "Standardised mean difference (Hedges' g)"),
                      Variable("responder_rule", "Responder definition", "string"),
                      *estimate("rr", "Risk ratio of responders, arm / comparator")],
        ADVERSE_EVENTS: [
            Variable("arm", "Arm code", "string"),
            Variable("participants", "Participants enrolled", "integer"),
            Variable("with_event", "Participants with ≥ 1 adverse event",
                     "integer"),
            Variable("with_event_pct", "% of participants with ≥ 1 event",
                     "number"),
            Variable("with_serious_event",
                     "Participants with ≥ 1 serious adverse event (current review)", "integer"),
            Variable("with_serious_event_pct",
                     "% of participants with ≥ 1 serious event", "number"),
            Variable("events", "Adverse events", "integer"),
            Variable("serious_events", "Serious adverse events (current review)", "integer")],
    }


def build(wide: pd.DataFrame, events: pd.DataFrame, design: Design, arms: Sequence[str],
          comparator: str | None) -> dict[str, pd.DataFrame]:
    """The three tables from the whole study's `wide` and `adverse_events` datasets. `arms`
    are all the study's arm codes, in order; `comparator` one of them, or None for no
    comparisons."""
    columns = design.wide_columns()
    derived = {(c.instrument, c.scale, c.timepoint, c.kind): c.name
               for c in columns if c.kind != "value"}
    groups = {arm: wide[wide["arm"] == arm] for arm in arms}
    arm_rows, comparison_rows = [], []
    for column in columns:
        if column.kind != "value":
            continue
        key = (column.instrument, column.scale, column.timepoint)
        scale = design.definitions[column.instrument].scale(column.scale)
        outcome = {"instrument": column.instrument, "scale": column.scale,
                   "timepoint": column.timepoint, "higher_is": scale.higher_is}
        rule, flag, flag50 = _responder_columns(derived, key)
        per_arm = {arm: _arm_row(groups[arm], column, derived.get((*key, "change")), flag,
                                 flag50) for arm in arms}
        for arm in arms:
            arm_rows.append({"arm": arm, **outcome, **per_arm[arm], "responder_rule": rule})
        if comparator is None:
            continue
        for arm in arms:
            if arm != comparator:
                comparison_rows.append({
                    "arm": arm, "comparator": comparator, **outcome,
                    **_comparison(per_arm[arm], per_arm[comparator]), "responder_rule": rule})
    tables = variables()
    return {ARMS: _frame(arm_rows, tables[ARMS]),
            COMPARISONS: _frame(comparison_rows, tables[COMPARISONS]),
            ADVERSE_EVENTS: _frame(_adverse_events(wide, events, arms),
                                   tables[ADVERSE_EVENTS])}


RULES = {"r30": "pain reduced by ≥ 30% (IMMPACT)",
         "rmcid": "improved by at least the MCID"}


def _responder_columns(derived: dict[tuple[str, str, str, str], str],
                       key: tuple[str, str, str]) -> tuple[str | None, str | None, str | None]:
    for kind in ("r30", "rmcid"):
        if (*key, kind) in derived:
            return RULES[kind], derived[(*key, kind)], derived.get((*key, "r50"))
    return None, None, None


def _arm_row(group: pd.DataFrame, column: WideColumn, change: str | None, flag: str | None,
             flag50: str | None) -> dict[str, Any]:
    values = group[column.name].to_numpy(dtype=float)
    described = statistics.describe(values)
    row: dict[str, Any] = {"n": described.n, "mean": described.mean, "sd": described.sd,
                           "median": described.median, "q1": described.q1, "q3": described.q3}
    if change is not None:
        changed = statistics.describe(group[change].to_numpy(dtype=float))
        row |= {"change_n": changed.n, "change_mean": changed.mean, "change_sd": changed.sd}
    if flag is not None:
        flags = group[flag].to_numpy(dtype=float)
        denominator = int(np.sum(~np.isnan(flags)))
        responders = int(np.nansum(flags))
        row |= {"responders_n": responders, "responders_denominator": denominator,
                "responders_pct": _percent(responders, denominator)}
        if flag50 is not None:
            responders50 = int(np.nansum(group[flag50].to_numpy(dtype=float)))
            row |= {"responders50_n": responders50,
                    "responders50_pct": _percent(responders50, denominator)}
    return row


def _comparison(arm: dict[str, Any], comparator: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"n_arm": arm["n"], "n_comparator": comparator["n"]}
    pair = (arm["n"], arm["mean"], arm["sd"], comparator["n"], comparator["mean"],
            comparator["sd"])
    if None not in pair:
        row |= _estimate("md", statistics.mean_difference(*pair))
        row |= _estimate("smd", statistics.hedges_g(*pair))
    change = (arm.get("change_n"), arm.get("change_mean"), arm.get("change_sd"),
              comparator.get("change_n"), comparator.get("change_mean"),
              comparator.get("change_sd"))
    if None not in change:
        row |= _estimate("md_change", statistics.mean_difference(*change))
    if arm.get("responders_denominator") and comparator.get("responders_denominator"):
        row |= _estimate("rr", statistics.risk_ratio(
            arm["responders_n"], arm["responders_denominator"],
            comparator["responders_n"], comparator["responders_denominator"]))
    return row


def _estimate(name: str, estimate: statistics.Estimate) -> dict[str, Any]:
    return {name: estimate.estimate, f"{name}_low": estimate.low, f"{name}_high": estimate.high}


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole * 100


def _adverse_events(wide: pd.DataFrame, events: pd.DataFrame,
                    arms: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for arm in arms:
        enrolled = int((wide["arm"] == arm).sum())
        mine = events[events["arm"] == arm] if not events.empty else events
        serious = mine[mine["serious"].fillna(False).astype(bool)] if not mine.empty else mine
        with_event = int(mine["participant"].nunique()) if not mine.empty else 0
        with_serious = int(serious["participant"].nunique()) if not serious.empty else 0
        rows.append({"arm": arm, "participants": enrolled,
                     "with_event": with_event,
                     "with_event_pct": _percent(with_event, enrolled),
                     "with_serious_event": with_serious,
                     "with_serious_event_pct": _percent(with_serious, enrolled),
                     "events": len(mine), "serious_events": len(serious)})
    return rows


def _frame(rows: list[dict[str, Any]], variables: list[Variable]) -> pd.DataFrame:
    names = [v.name for v in variables]
    return pd.DataFrame([{name: row.get(name) for name in names} for row in rows],
                        columns=names)
