"""Alerts on worsening from baseline: the `worsening` rules of instrument definitions.

Scoring decides the other alerts from the response alone. These need the participant's baseline
response to the same instrument (`prom.schedule.baseline`), which may be stored already, or may
arrive in the same batch. They are checked when a response, or a new version of one, is stored,
and they are raised in that transaction like every alert. The comparison is
`prom.scoring.change.worse_beyond_mcid`.

When a baseline arrives after its follow-ups (collected offline, synchronised late), it does
not raise alerts on the follow-ups stored before it. Alerts are raised by the response being
stored, and the clinic report shows the change either way.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select

from prom.extensions import db
from prom.instruments.spec import Alert, Definition
from prom.models.responses import Response, Score
from prom.schedule import Placed, baseline_timepoint, pick_baseline
from prom.scoring import ScoredResponse
from prom.scoring.change import Change, worse_beyond_mcid
from prom.services.placement import occurrences, placed


@dataclass(frozen=True)
class Candidate:
    """A response version being stored, as the worsening rules see it."""

    placed: Placed  # key: the response id
    participant_id: uuid.UUID
    study_id: uuid.UUID
    definition: Definition
    values: Mapping[str, float | None]  # {scale: value} of the version being stored

    @classmethod
    def of(cls, placed: Placed, participant_id: uuid.UUID, study_id: uuid.UUID,
           definition: Definition, scored: ScoredResponse) -> Candidate:
        return cls(placed, participant_id, study_id, definition,
                   {scale: score.value for scale, score in scored.scores.items()})


def raised(candidates: Sequence[Candidate]) -> dict[uuid.UUID, list[Alert]]:
    """{response id: the worsening alerts it raises}, for the candidates that raise any."""
    relevant = [c for c in candidates if c.definition.worsening_alerts]
    if not relevant:
        return {}
    study_of = {c.participant_id: c.study_id for c in relevant}
    codes = {(c.participant_id, c.definition.id):
             baseline_timepoint(occurrences(c.study_id), c.definition.id) for c in relevant}
    own = {c.placed.key for c in candidates}
    pool: dict[tuple[uuid.UUID, str], list[Placed]] = defaultdict(list)
    values: dict[uuid.UUID, dict[str, float | None]] = defaultdict(dict)
    for row in _stored_candidates(codes):
        if row.id not in own:
            values[row.id][row.scale] = row.value
            if len(values[row.id]) == 1:  # one row per scale: place the response once
                pool[(row.participant_id, row.instrument)].append(placed(row))
    for candidate in candidates:
        pool[(candidate.participant_id, candidate.definition.id)].append(candidate.placed)
        values[candidate.placed.key] = dict(candidate.values)
    baselines = {pair: pick_baseline(occurrences(study_of[pair[0]]), pair[1], pool[pair])
                 for pair in codes}

    result: dict[uuid.UUID, list[Alert]] = {}
    for candidate in relevant:
        baseline = baselines[(candidate.participant_id, candidate.definition.id)]
        if baseline is None or baseline.key == candidate.placed.key:
            continue
        alerts = []
        for alert in candidate.definition.worsening_alerts:
            before = values.get(baseline.key, {}).get(alert.worsening)
            after = candidate.values.get(alert.worsening)
            if before is not None and after is not None and worse_beyond_mcid(
                    candidate.definition.scale(alert.worsening), Change(before, after)):
                alerts.append(alert)
        if alerts:
            result[candidate.placed.key] = alerts
    return result


def _stored_candidates(codes: Mapping[tuple[uuid.UUID, str], str | None]) -> Any:
    """The stored responses that could be each (participant, instrument)'s baseline: those at
    its baseline timepoint, or the first collected when the schedule never asks for the
    instrument. One row per response and scale, with the current version's value. Either way
    the rows are bounded, however long the participant's history."""
    table = Response.__table__
    where = []
    for (participant, instrument), code in codes.items():
        pair = and_(table.c.participant_id == participant, table.c.instrument == instrument)
        if code is None:
            first = (select(table.c.id).where(pair)
                     .order_by(table.c.collected_at, table.c.received_at, table.c.id)
                     .limit(1).scalar_subquery())
            where.append(table.c.id == first)
        else:
            where.append(and_(pair, table.c.analysis_timepoint == code))
    return db.session.execute(
        select(table.c.id, table.c.participant_id, table.c.instrument, table.c.collected_at,
               table.c.received_at, table.c.analysis_timepoint, table.c.study_day,
               table.c.in_window, table.c.window_flags, Score.scale, Score.value)
        .join(Score, (Score.response_id == table.c.id)
              & (Score.version == table.c.current_version))
        .where(or_(*where)))
