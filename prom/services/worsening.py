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

from sqlalchemy import select, tuple_

from prom.extensions import db
from prom.instruments.spec import Alert, Definition
from prom.models.responses import Response, Score
from prom.schedule import Placed, pick_baseline
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


def raised(candidates: Sequence[Candidate]) -> dict[uuid.UUID, list[Alert]]:
    """{response id: the worsening alerts it raises}, for the candidates that raise any."""
    relevant = [c for c in candidates if c.definition.worsening_alerts]
    if not relevant:
        return {}
    pairs = {(c.participant_id, c.definition.id) for c in relevant}
    own = {c.placed.key for c in candidates}
    table = Response.__table__
    rows = db.session.execute(
        select(table).where(tuple_(table.c.participant_id, table.c.instrument).in_(list(pairs)))
    ).all()
    pool: dict[tuple[uuid.UUID, str], list[Placed]] = defaultdict(list)
    for row in rows:
        if row.id not in own:
            pool[(row.participant_id, row.instrument)].append(placed(row))
    versions = {row.id: row.current_version for row in rows}
    for candidate in candidates:
        pool[(candidate.participant_id, candidate.definition.id)].append(
            candidate.placed)

    study_of = {c.participant_id: c.study_id for c in relevant}
    baselines = {
        pair: pick_baseline(occurrences(study_of[pair[0]]), pair[1], pool[pair])
        for pair in pairs}
    values = _values({b.key: versions[b.key] for b in baselines.values()
                      if b is not None and b.key not in own})
    values.update({c.placed.key: dict(c.values) for c in candidates})

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


def _values(current: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, dict[str, float | None]]:
    """{response id: {scale: value}} of the given versions of stored responses."""
    if not current:
        return {}
    rows = db.session.execute(select(Score.response_id, Score.scale, Score.value).where(
        tuple_(Score.response_id, Score.version).in_(list(current.items()))))
    values: dict[uuid.UUID, dict[str, float | None]] = defaultdict(dict)
    for response_id, scale, value in rows:
        values[response_id][scale] = value
    return values
