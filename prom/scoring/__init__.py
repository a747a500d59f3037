"""Scoring: definitions compiled into vectorised scorers; one code path for one row or millions.

Pure domain code: numpy only — no Flask, no SQLAlchemy, no pandas in the request path.

- `score_response(definition, answers)` → scores and raised alerts for one valid answer set;
- `score_answers` / `raised_alerts` → the two halves of that;
- `compiled(definition).score_matrix(matrix)` → arrays for a batch (exports, `prom score`,
  benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from prom.instruments.spec import Alert, Definition
from prom.scoring.compiled import ENGINE_VERSION, STATUS_NAMES, CompiledScorer, ScoreArrays

__all__ = [
    "ENGINE_VERSION",
    "STATUS_NAMES",
    "CompiledScorer",
    "Score",
    "ScoreArrays",
    "ScoredResponse",
    "compiled",
    "raised_alerts",
    "score_answers",
    "score_response",
]


@dataclass(frozen=True, slots=True)
class Score:
    """One scale's score for one answer set, with its provenance."""

    scale: str
    value: float | None
    status: str  # scored | prorated | insufficient
    n_answered: int
    band: str | None
    instrument_version: str
    scoring_version: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScoredResponse:
    scores: Mapping[str, Score]
    alerts: tuple[Alert, ...]


@lru_cache(maxsize=512)
def compiled(definition: Definition) -> CompiledScorer:
    """The compiled scorer of a loaded definition, built once."""
    return CompiledScorer(definition)


def score_response(definition: Definition, answers: Mapping[str, Any]) -> ScoredResponse:
    """Score one answer set that `validate_answers` has accepted."""
    scorer = compiled(definition)
    row = scorer.layout.encode(answers)[np.newaxis, :]
    arrays = scorer.score_matrix(row)
    values, status = arrays.values[0].tolist(), arrays.status[0].tolist()
    answered, bands = arrays.n_answered[0].tolist(), arrays.band[0].tolist()
    scores = {}
    for k, scale in enumerate(definition.scales):
        value = values[k]
        scores[scale.id] = Score(
            scale=scale.id,
            value=None if value != value else value,  # NaN → None
            status=STATUS_NAMES[status[k]],
            n_answered=answered[k],
            band=scale.bands[bands[k]].code if bands[k] >= 0 else None,
            instrument_version=definition.version,
            scoring_version=scorer.scoring_version,
        )
    raised = arrays.alerts[0]
    alerts = tuple(alert for alert, on in zip(definition.alerts, raised, strict=True) if on)
    return ScoredResponse(scores=scores, alerts=alerts)


def score_answers(definition: Definition, answers: Mapping[str, Any]) -> dict[str, Score]:
    return dict(score_response(definition, answers).scores)


def raised_alerts(definition: Definition, answers: Mapping[str, Any]) -> list[str]:
    return [alert.id for alert in score_response(definition, answers).alerts]
