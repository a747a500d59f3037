"""The layouts' DataFrames, built from one chunk of participants at a time.

`prom.services.exports` reads the database a few hundred participants at a time into a `Chunk`
of plain frames; the builders here turn a chunk into the rows of each layout, with exactly the
columns that `prom.export.design` lists for the codebook:

- `scores_long`: one row per participant × timepoint × instrument × scale, of the responses
  `prom.export.selection` keeps;
- `items_long`: one row per answered item of those responses (free-text items only in
  identified exports; dates as days since the anchor);
- `wide`: one row per enrolled participant, whether or not they answered anything;
- `adverse_events`: one row per adverse event, with its current review.

Rows are ordered by participant (in the chunk's order), then by the schedule's timepoint order,
the instruments' order and the scales' order. A pseudonymised export holds no participant or
response id, no date (days since the anchor instead), no site and no free text.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from prom.export.design import Design
from prom.export.selection import Selected
from prom.instruments.spec import Definition
from prom.scoring.change import EPSILON, IMMPACT_MODERATE, IMMPACT_SUBSTANTIAL


@dataclass
class Chunk:
    """What the database holds for some participants, as plain frames."""

    #: participant_id, participant (the code written), arm, site, enrolled_on, randomised_on
    #: (dates), timezone; one row per participant, in export order.
    participants: pd.DataFrame
    #: response_id (a UUID, or its text in any of the usual forms), participant_id,
    #: instrument, instrument_version, collected_at, received_at (UTC), analysis_timepoint,
    #: study_day, in_window.
    responses: pd.DataFrame
    #: response_id, scale, position, value, status, band, n_answered, scoring_version: the
    #: scores of each response's current version.
    scores: pd.DataFrame
    #: response_id, answers ({item: value}) of each response's current version; only read
    #: for the items layout.
    answers: pd.DataFrame | None = None


def anchors(participants: pd.DataFrame) -> pd.Series:
    """Each participant's day 0: randomisation when recorded, else enrolment."""
    return participants["randomised_on"].where(participants["randomised_on"].notna(),
                                               participants["enrolled_on"])


def _who(chunk: Chunk, design: Design) -> pd.DataFrame:
    columns = ["participant_id", "participant", "arm"]
    if design.identified:
        columns += ["site", "enrolled_on", "randomised_on"]
    who = chunk.participants[columns].copy()
    if design.identified:
        for column in ("enrolled_on", "randomised_on"):
            who[column] = who[column].map(lambda day: None if _missing(day) else day.isoformat())
    return who


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def _with_when(frame: pd.DataFrame, design: Design) -> pd.DataFrame:
    frame["target_day"] = frame["analysis_timepoint"].map(design.target_days).astype("Int64")
    frame["timepoint"] = frame["analysis_timepoint"]
    frame["in_window"] = frame["in_window"].astype(bool)
    if design.identified:
        frame["response_id"] = frame["response_id"].map(lambda key: str(uuid.UUID(str(key))))
        frame["collected_at"] = frame["collected_at"].map(
            lambda moment: moment.astimezone(dt.UTC).isoformat())
    return frame


def _ordered(frame: pd.DataFrame, chunk: Chunk, design: Design, extra: list[str]) -> pd.DataFrame:
    participant_order = {p: k for k, p in enumerate(chunk.participants["participant_id"])}
    instrument_order = {i: k for k, i in enumerate(design.instruments())}
    frame["_p"] = frame["participant_id"].map(participant_order)
    frame["_t"] = frame["analysis_timepoint"].map(design.timepoint_order)
    frame["_i"] = frame["instrument"].map(instrument_order).fillna(len(instrument_order))
    frame = frame.sort_values(["_p", "_t", "_i", "instrument", *extra], kind="stable")
    return frame.drop(columns=["_p", "_t", "_i"])


# ---------------------------------------------------------------------------------------------
# scores_long


def scores_long(chunk: Chunk, selected: Selected, design: Design) -> pd.DataFrame:
    names = [v.name for v in design.variables("scores_long")["scores_long"]]
    kept = selected.responses[["response_id", "participant_id", "instrument",
                               "instrument_version", "collected_at", "analysis_timepoint",
                               "study_day", "in_window"]]
    frame = kept.merge(chunk.scores, on="response_id", how="inner")
    frame = frame.merge(_who(chunk, design), on="participant_id", how="inner")
    frame = _ordered(_with_when(frame, design), chunk, design, ["position"])
    frame["study_day"] = frame["study_day"].astype("Int64")
    frame["n_answered"] = frame["n_answered"].astype("Int64")
    frame["value"] = frame["value"].astype(float)
    frame["participant"] = frame["participant"].astype(str)
    return frame[names].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# wide


def wide(chunk: Chunk, selected: Selected, design: Design) -> pd.DataFrame:
    """One row per participant of the chunk; see `prom.export.design` for the columns."""
    columns = design.wide_columns()
    value_names = {(c.instrument, c.scale, c.timepoint): c.name
                   for c in columns if c.kind == "value"}
    frame = selected.responses[["response_id", "participant_id", "instrument",
                                "analysis_timepoint"]].merge(
        chunk.scores[["response_id", "scale", "value"]], on="response_id", how="inner")
    named = pd.DataFrame([(*key, name) for key, name in value_names.items()],
                         columns=["instrument", "scale", "analysis_timepoint", "column"])
    frame = frame.merge(named, on=["instrument", "scale", "analysis_timepoint"], how="inner")
    values = frame.pivot(index="participant_id", columns="column", values="value")
    ids = chunk.participants["participant_id"]
    values = values.reindex(index=ids, columns=list(value_names.values())).astype(float)

    data: dict[str, np.ndarray] = {}
    for column in columns:
        if column.kind == "value":
            data[column.name] = values[column.name].to_numpy()
            continue
        definition = design.definitions[column.instrument]
        value = values[value_names[column.instrument, column.scale, column.timepoint]].to_numpy()
        base = values[value_names[column.instrument, column.scale, column.baseline]].to_numpy()
        data[column.name] = derived(column.kind, definition, column.scale, base, value)
    who = _who(chunk, design).drop(columns="participant_id").reset_index(drop=True)
    who["participant"] = who["participant"].astype(str)
    return pd.concat([who, pd.DataFrame(data, index=who.index)], axis=1)


def derived(kind: str, definition: Definition, scale_id: str, base: np.ndarray,
            value: np.ndarray) -> np.ndarray:
    """A derived wide column from baseline and follow-up values (NaN where either is missing),
    by the rules of `prom.scoring.change`."""
    scale = definition.scale(scale_id)
    change = value - base
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        percent = np.where(base == 0, np.nan, change / np.abs(base) * 100)
    if kind == "change":
        return change
    if kind == "percent_change":
        return percent
    sign = -1.0 if scale.higher_is == "worse" else 1.0
    if kind in ("r30", "r50"):
        threshold = IMMPACT_MODERATE if kind == "r30" else IMMPACT_SUBSTANTIAL
        return _flag(sign * percent >= threshold - EPSILON, percent)
    assert kind == "rmcid" and scale.mcid is not None
    if scale.mcid.absolute is not None:
        return _flag(sign * change >= scale.mcid.absolute - EPSILON, change)
    return _flag(sign * percent >= scale.mcid.percent - EPSILON, percent)


def _flag(condition: np.ndarray, defined: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(defined), np.nan, condition.astype(float))


# ---------------------------------------------------------------------------------------------
# items_long


def items_long(chunk: Chunk, selected: Selected, design: Design,
               definitions: Mapping[tuple[str, str], Definition]) -> pd.DataFrame:
    """One row per answered item of the kept responses. `definitions` maps (instrument,
    version) to its definition, for the items' types."""
    assert chunk.answers is not None
    names = [v.name for v in design.variables("items_long")["items_long"]]
    kept = selected.responses.merge(chunk.answers, on="response_id", how="inner")
    participants = chunk.participants.set_index("participant_id")
    day_zero = anchors(participants)
    rows = []
    for response in kept.itertuples(index=False):
        definition = definitions[response.instrument, response.instrument_version]
        anchor = day_zero[response.participant_id]
        for item in definition.items:
            answer = response.answers.get(item.id)
            if answer is None:
                continue
            kind = item.response.type
            if kind == "text" and not design.identified:
                continue
            rows.append((response.response_id, item.id, *_item_value(kind, answer, anchor)))
    items = pd.DataFrame(rows, columns=["response_id", "item", "value", "code", "text"])
    items["_position"] = items.groupby("response_id").cumcount()
    frame = kept.drop(columns=["answers"]).merge(items, on="response_id", how="inner")
    frame = frame.merge(_who(chunk, design), on="participant_id", how="inner")
    frame = _ordered(_with_when(frame, design), chunk, design, ["_position"])
    frame["study_day"] = frame["study_day"].astype("Int64")
    frame["value"] = frame["value"].astype(float)
    frame["participant"] = frame["participant"].astype(str)
    return frame[names].reset_index(drop=True)


def _item_value(kind: str, answer: Any, anchor: dt.date) -> tuple[float | None, str | None,
                                                                   str | None]:
    """(value, code, text) of one answer (the column meanings are in the codebook)."""
    if kind == "boolean":
        return float(answer), None, None
    if kind == "date":
        return float((dt.date.fromisoformat(answer) - anchor).days), None, None
    if kind == "text":
        return None, None, answer
    if kind == "multiple_choice":
        return float(len(answer)), ";".join(str(code) for code in answer), None
    if isinstance(answer, (int, float)):
        return float(answer), None, None
    return None, str(answer), None


# ---------------------------------------------------------------------------------------------
# adverse_events


def adverse_events(events: pd.DataFrame, chunk: Chunk, design: Design) -> pd.DataFrame:
    """One row per event. `events`: event_id, response_id, participant_id, reported_at,
    analysis_timepoint, study_day, answers (the report's current version),
    reported_serious_score (its `serious` scale), review_count and
    the current review's columns (serious, seriousness_criteria, severity_grade,
    relatedness, expected, action_taken, outcome, reviewed_at, note), None when unreviewed."""
    names = [v.name for v in design.variables("adverse_events")["adverse_events"]]
    if events.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    participants = chunk.participants.set_index("participant_id")
    day_zero = anchors(participants)
    frame = events.merge(_who(chunk, design), on="participant_id", how="inner")
    order = {p: k for k, p in enumerate(chunk.participants["participant_id"])}
    frame["_p"] = frame["participant_id"].map(order)
    frame = frame.sort_values(["_p", "reported_at", "event_id"], kind="stable")
    frame["event"] = frame.groupby("participant_id").cumcount() + 1
    answers = frame["answers"]
    anchor = frame["participant_id"].map(day_zero)
    zone = frame["participant_id"].map(participants["timezone"])
    frame["timepoint"] = frame["analysis_timepoint"]
    frame["reported_day"] = frame["study_day"].astype("Int64")
    frame["onset_day"] = pd.array([
        None if not a.get("onset_date") else (dt.date.fromisoformat(a["onset_date"]) - d).days
        for a, d in zip(answers, anchor, strict=True)], dtype="Int64")
    frame["reported_severity"] = answers.map(lambda a: a.get("severity"))
    frame["reported_serious"] = frame["reported_serious_score"].fillna(0) >= 1
    frame["reported_attributed"] = answers.map(lambda a: a.get("attributed"))
    frame["reviewed"] = frame["review_count"] > 0
    frame["reviews"] = frame["review_count"].astype("Int64")
    frame["seriousness_criteria"] = frame["seriousness_criteria"].map(
        lambda c: None if _missing(c) else ";".join(c))
    frame["severity_grade"] = frame["severity_grade"].astype("Int64")
    frame["reviewed_day"] = pd.array([
        None if _missing(at) else (at.astimezone(ZoneInfo(z)).date() - d).days
        for at, z, d in zip(frame["reviewed_at"], zone, anchor, strict=True)], dtype="Int64")
    for column in ("serious", "expected"):
        frame[column] = frame[column].map(lambda v: None if _missing(v) else bool(v))
    if design.identified:
        frame["event_id"] = frame["event_id"].astype(str)
        frame["response_id"] = frame["response_id"].astype(str)
        frame["reported_at"] = frame["reported_at"].map(lambda m: m.astimezone(dt.UTC).isoformat())
        frame["description"] = answers.map(lambda a: a.get("description"))
        frame["review_note"] = frame["note"]
    frame["participant"] = frame["participant"].astype(str)
    return frame[names].reset_index(drop=True)
