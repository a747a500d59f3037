"""Which response is a participant's baseline for an instrument.

Change from baseline (in reports, in exports, and in the alert on worsening) needs a single
baseline response per participant and instrument. It is chosen like this:

1. The baseline timepoint of an instrument is the first occurrence of the schedule, by target
   day, that asks for it. For most studies this is `baseline`. For an instrument that is first
   asked for at `week1`, it is `week1`.
2. The baseline response is the analysis response at that timepoint: the first one collected
   inside its window, or else the first one collected there at all, as in
   `windows.mark_duplicates` (a tie in both times goes to the smaller response id, so the
   choice never depends on the order responses are read in). If the participant has no
   response there, there is no baseline; a later response never stands in for a missed one.
3. If the schedule never asks for the instrument (a clinic using prom without a protocol), the
   first response collected is the baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prom.schedule.windows import Occurrence, Placed


def baseline_timepoint(schedule: Sequence[Occurrence], instrument: str) -> str | None:
    """The code of the first occurrence (by target day) asking for `instrument`, if any."""
    listing = [o for o in schedule if instrument in o.instruments]
    return min(listing, key=lambda o: o.day).code if listing else None


def pick_baseline(schedule: Sequence[Occurrence], instrument: str,
                  placed: Iterable[Placed]) -> Placed | None:
    """The baseline among one participant's responses to `instrument` (see the module rules)."""
    code = baseline_timepoint(schedule, instrument)
    candidates = [p for p in placed if p.instrument == instrument
                  and (code is None or p.assignment.timepoint == code)]
    if not candidates:
        return None
    if code is None:
        return min(candidates, key=lambda p: (p.collected_at, p.received_at, str(p.key)))
    return min(candidates, key=lambda p: (not p.assignment.in_window, p.collected_at,
                                          p.received_at, str(p.key)))
