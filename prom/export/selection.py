"""Which stored responses an analysis dataset holds: one per participant, timepoint and
instrument.

prom keeps every response it is sent: late ones, repeated ones, forms sent twice from two
devices. An analysis dataset needs one value per participant × timepoint × instrument, so:

- **Responses without an analysis timepoint** (collected outside every window, or of an
  instrument the schedule never asks for, like an unscheduled adverse-event report) are left
  out of the score and item datasets. They are counted in the manifest (`unplaced`). The
  adverse-event dataset has every event.
- **Repeated responses** at one timepoint are resolved by a rule, chosen per export, and the
  manifest records the rule and how many responses it dropped. A response is *complete* when
  none of its scales is `insufficient` (too few items answered to score).

  - `first_complete` (default): the first complete response collected inside the window;
    else the first inside the window; else the first complete one; else the first.
  - `first_in_window`: the first collected inside the window, else the first collected (the
    clinic report's rule, `prom.schedule.mark_duplicates`).
  - `last_complete`: the last complete response collected inside the window; else the last
    inside the window; else the last complete one; else the last.

  "First" and "last" are by collection time, then by the time received, then by response id,
  so the choice never depends on the order rows are read in.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

DEFAULT_RULE = "first_complete"
RULES = {
    "first_complete": "the first complete response collected inside the window; else the "
                      "first inside the window; else the first complete one; else the first",
    "first_in_window": "the first response collected inside the window, else the first "
                       "collected (as the clinic report)",
    "last_complete": "the last complete response collected inside the window; else the last "
                     "inside the window; else the last complete one; else the last",
}
KEY = ["participant_id", "analysis_timepoint", "instrument"]


@dataclass
class Selected:
    responses: pd.DataFrame  # the kept responses, with a `complete` column
    unplaced: int
    duplicates: int


def select_responses(responses: pd.DataFrame, scores: pd.DataFrame, rule: str) -> Selected:
    """The analysis responses among `responses` (columns: response_id, participant_id,
    instrument, analysis_timepoint, in_window, collected_at, received_at), by `rule`; `scores`
    (response_id, status) says which are complete."""
    if rule not in RULES:
        raise ValueError(f"unknown duplicate rule {rule!r}")
    placed = responses[responses["analysis_timepoint"].notna()].copy()
    insufficient = set(scores.loc[scores["status"] == "insufficient", "response_id"])
    placed["complete"] = ~placed["response_id"].isin(insufficient)
    placed["_key"] = placed["response_id"].astype(str)
    placed["_outside"] = ~placed["in_window"].astype(bool)
    placed["_incomplete"] = ~placed["complete"]
    preferences = ["_outside"] if rule == "first_in_window" else ["_outside", "_incomplete"]
    forward = rule != "last_complete"
    ordered = placed.sort_values(
        [*preferences, "collected_at", "received_at", "_key"],
        ascending=[True] * len(preferences) + [forward] * 3, kind="stable")
    kept = ordered.drop_duplicates(KEY, keep="first")
    kept = kept.drop(columns=["_key", "_outside", "_incomplete"])
    return Selected(kept, unplaced=len(responses) - len(placed),
                    duplicates=len(placed) - len(kept))
