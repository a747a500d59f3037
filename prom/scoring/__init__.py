"""Scoring: definitions compiled into vectorised scorers; one code path for one row or millions.

Pure domain code: numpy only — no Flask, no SQLAlchemy, no pandas in the request path.

- `score_response(definition, answers)` → scores and raised alerts for one valid answer set;
- `score_responses(definition, answer_sets)` → the same for many, in one pass of the engine
  (a batch of submissions);
- `score_answers` / `raised_alerts` → the two halves of that;
- `compiled(definition).score_matrix(matrix)` → arrays for a batch (exports, `prom score`,
  benchmarks).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

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
    "score_responses",
]


class Score(NamedTuple):
    """One scale's score for one answer set, with its provenance.

    A NamedTuple rather than a frozen dataclass: equally immutable, and built several times faster,
    which counts when a submission's whole scoring budget is tens of microseconds."""

    scale: str
    value: float | None
    status: str  # scored | prorated | insufficient
    n_answered: int
    band: str | None
    instrument_version: str
    scoring_version: str


# Builds a Score from a tuple in field order, skipping NamedTuple's keyword-handling __new__:
# half the cost, and scoring one submission runs it once per scale.
_new_score = functools.partial(tuple.__new__, Score)


class ScoredResponse(NamedTuple):
    scores: Mapping[str, Score]
    alerts: tuple[Alert, ...]


@lru_cache(maxsize=512)
def compiled(definition: Definition) -> CompiledScorer:
    """The compiled scorer of a loaded definition, built once."""
    return CompiledScorer(definition)


def score_response(definition: Definition, answers: Mapping[str, Any]) -> ScoredResponse:
    """Score one answer set that `validate_answers` has accepted."""
    scorer = compiled(definition)
    return _scored_rows(definition, scorer,
                        scorer.score_matrix(scorer.layout.encode(answers)[np.newaxis, :]))[0]


def score_responses(definition: Definition,
                    answer_sets: Sequence[Mapping[str, Any]]) -> list[ScoredResponse]:
    """Score many valid answer sets of one definition in one engine call; results in order."""
    if not answer_sets:
        return []
    scorer = compiled(definition)
    return _scored_rows(definition, scorer,
                        scorer.score_matrix(scorer.layout.encode_many(answer_sets)))


def _scored_rows(definition: Definition, scorer: CompiledScorer,
                 arrays: ScoreArrays) -> list[ScoredResponse]:
    version, scoring_version = definition.version, scorer.scoring_version
    answer_alerts = definition.answer_alerts
    rows = []
    for values, statuses, answered_counts, bands, raised in zip(
            arrays.values.tolist(), arrays.status.tolist(), arrays.n_answered.tolist(),
            arrays.band.tolist(), arrays.alerts.tolist(), strict=True):
        scores = {
            scale_id: _new_score((scale_id, None if value != value else value,  # NaN → None
                                  STATUS_NAMES[status], answered, codes[band], version,
                                  scoring_version))
            for scale_id, codes, value, status, answered, band in zip(
                scorer.scale_ids, scorer.band_codes, values, statuses, answered_counts, bands,
                strict=True)
        }
        rows.append(ScoredResponse(scores=scores,
                                   alerts=tuple(itertools.compress(answer_alerts, raised))))
    return rows


def score_answers(definition: Definition, answers: Mapping[str, Any]) -> dict[str, Score]:
    return dict(score_response(definition, answers).scores)


def raised_alerts(definition: Definition, answers: Mapping[str, Any]) -> list[str]:
    return [alert.id for alert in score_response(definition, answers).alerts]
