"""A participant's clinic report as data: every outcome over time, change from baseline,
responder category, open alerts, adverse events, negative effects and adherence.

The rules:

- **Outcomes.** Every scale of every instrument the participant answered is an outcome. The
  exceptions are the adverse-event form and the NEQ, which have their own sections. Outcomes
  come in the order the schedule first asks for their instrument, then alphabetically, and
  each instrument's scales keep the definition's order. A scale's label, range, bands and MCID
  come from the version of the participant's latest response to the instrument.
- **Series.** The series holds every stored response, oldest first. Each point carries its
  analysis timepoint, its local date and study day (in the participant's time zone), the
  stored value and band, and its flags, including `duplicate_in_window`.
- **Baseline** is chosen as `prom.schedule.baseline` describes.
- **Latest** is the most recently collected response that has a value for the scale and is
  not a duplicate in its window.
- **Change and percent change** are latest − baseline, computed when both exist and are
  different responses.
- **Responder category** follows `prom.scoring.change.responder`: IMMPACT categories for
  pain-intensity scales, the scale's own MCID otherwise. For a global impression of change
  (PGIC), the rating already is a change, so it has no baseline, change or category.
- **Alerts** are the open ones, most severe first. **Adverse events** are all of the
  participant's, with their current review. **Adherence** is that of the due list now.

`build` reads; the caller audits the read. Its result is ready for `json.dumps` (ids, dates and
instants are strings), as `prom.schemas.reports.ReportSchema` documents it. A five-year weekly
series has thousands of points, and this spares the API a schema dump of each one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from prom.extensions import db
from prom.instruments.localise import pick
from prom.instruments.spec import Definition, Scale
from prom.models.participants import Participant
from prom.models.responses import Alert, Response, Score
from prom.models.studies import Study
from prom.schedule import DUPLICATE, Placed, adherence, mark_duplicates, pick_baseline
from prom.schemas.adverse_events import AdverseEventSchema
from prom.scoring.change import Change, responder
from prom.services import adverse_events, schedule
from prom.services.instruments import library
from prom.services.placement import occurrences, placed

_ADVERSE_EVENTS = AdverseEventSchema(many=True)

#: Instruments with a section of their own rather than outcome charts.
AE_FORM, NEGATIVE_EFFECTS = adverse_events.AE_INSTRUMENT, "neq"
_OWN_SECTIONS = {AE_FORM, NEGATIVE_EFFECTS}
LANGUAGE = "en"  # the clinic's reading language; item text is not shown, only labels


def build(participant: Participant, now: dt.datetime) -> dict[str, Any]:
    """The report of `participant` as it stands at `now` (see the module's rules)."""
    study = db.session.get(Study, participant.study_id)
    zone = ZoneInfo(participant.timezone)
    schedule_ = occurrences(participant.study_id)
    table = Response.__table__
    responses = db.session.execute(
        select(table.c.id, table.c.instrument, table.c.instrument_version,
               table.c.collected_at, table.c.received_at, table.c.analysis_timepoint,
               table.c.study_day, table.c.in_window, table.c.window_flags)
        .where(table.c.participant_id == participant.id)
        .order_by(table.c.collected_at, table.c.received_at)).all()
    scores = _current_scores(participant)
    marked = mark_duplicates(placed(r) for r in responses)
    by_instrument: dict[str, list[tuple[Any, Placed]]] = defaultdict(list)
    for row, mark in zip(responses, marked, strict=True):
        by_instrument[row.instrument].append((row, mark))

    order = {instrument: k for k, instrument in enumerate(
        dict.fromkeys(i for o in schedule_ for i in o.instruments))}
    outcomes = []
    for instrument in sorted(set(by_instrument) - _OWN_SECTIONS,
                             key=lambda i: (order.get(i, len(order)), i)):
        rows = by_instrument[instrument]
        definition = library().get(instrument, rows[-1][0].instrument_version)
        baseline = pick_baseline(schedule_, instrument, [mark for _, mark in rows])
        common = [(row, str(row.id), row.collected_at.astimezone(zone).date().isoformat(),
                   list(mark.flags or ()), scores.get(row.id, {})) for row, mark in rows]
        for scale in definition.scales:
            points = [_point(row, key, day, flags, values.get(scale.id))
                      for row, key, day, flags, values in common]
            outcomes.append(_outcome(definition, scale, points,
                                     None if baseline is None else str(baseline.key)))
    due = schedule.items(participant, now)
    rate = adherence(due)
    return {
        "participant": {
            "id": str(participant.id),
            "study": {"id": str(study.id), "code": study.code, "name": study.name},
            "arm": {"code": participant.arm.code, "name": participant.arm.name},
            "enrolled_on": participant.enrolled_on.isoformat(),
            "randomised_on": _iso(participant.randomised_on),
            "anchor": participant.anchor.isoformat(), "timezone": participant.timezone},
        "generated_at": now.astimezone(dt.UTC).isoformat(),
        "adherence": {"completed": rate.completed, "open": rate.open, "missed": rate.missed,
                      "due_so_far": rate.due_so_far, "rate": rate.rate},
        "outcomes": outcomes,
        "alerts": _open_alerts(participant),
        "adverse_events": _ADVERSE_EVENTS.dump(adverse_events.for_participant(participant.id)),
        "negative_effects": _negative_effects(
            [row for row, _ in by_instrument.get(NEGATIVE_EFFECTS, [])], scores, zone),
    }


def _outcome(definition: Definition, scale: Scale, points: list[dict[str, Any]],
             baseline_id: Any) -> dict[str, Any]:
    is_change_rating = "global_impression" in definition.domains
    baseline = None if is_change_rating else next(
        (p for p in points if p["response_id"] == baseline_id and p["value"] is not None), None)
    latest = next((p for p in reversed(points)
                   if p["value"] is not None and DUPLICATE not in p["flags"]), None)
    change = (Change(baseline["value"], latest["value"])
              if baseline is not None and latest is not None and latest is not baseline else None)
    category = None if change is None else responder(definition, scale, change)
    mcid = scale.mcid
    return {
        "instrument": definition.id, "instrument_title": pick(definition.title, LANGUAGE),
        "scale": scale.id, "label": pick(scale.label, LANGUAGE), "range": list(scale.range),
        "higher_is": scale.higher_is,
        "bands": [{"code": b.code, "min": b.min, "label": pick(b.label, LANGUAGE)}
                  for b in scale.bands],
        "mcid": None if mcid is None else {"absolute": mcid.absolute, "percent": mcid.percent,
                                           "source": mcid.source},
        "series": points,
        "baseline": None if baseline is None else _summary(baseline),
        "latest": None if latest is None else _summary(latest),
        "change": None if change is None else change.change,
        "percent_change": None if change is None else change.percent_change,
        "responder": None if category is None else {
            "category": category.category, "label": category.label, "rule": category.rule},
    }


def _point(row: Any, key: str, day: str, flags: list[str],
           score: Mapping[str, Any] | None) -> dict[str, Any]:
    score = score or _NO_SCORE
    return {"response_id": key, "timepoint": row.analysis_timepoint, "date": day,
            "study_day": row.study_day, "value": score["value"], "band": score["band"],
            "status": score["status"], "flags": flags}


_NO_SCORE = {"value": None, "band": None, "status": None}


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _summary(point: Mapping[str, Any]) -> dict[str, Any]:
    return {key: point[key] for key in ("response_id", "timepoint", "date", "study_day",
                                        "value", "band")}


def _current_scores(participant: Participant) -> dict[Any, dict[str, dict[str, Any]]]:
    """{response id: {scale: {value, band, status}}} of each response's current version."""
    rows = db.session.execute(
        select(Score.response_id, Score.scale, Score.value, Score.band, Score.status)
        .join(Response, (Response.id == Score.response_id)
              & (Response.current_version == Score.version))
        .where(Response.participant_id == participant.id))
    scores: dict[Any, dict[str, dict[str, Any]]] = defaultdict(dict)
    for response_id, scale, value, band, status in rows:
        scores[response_id][scale] = {"value": value, "band": band, "status": status}
    return scores


def _open_alerts(participant: Participant) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Alert.id, Alert.rule, Alert.severity, Alert.message, Alert.created_at,
               Alert.response_id, Response.instrument)
        .join(Response, Response.id == Alert.response_id)
        .where(Alert.participant_id == participant.id, Alert.acknowledged_at.is_(None))
        .order_by(Alert.severity_rank.desc(), Alert.created_at.desc(), Alert.id))
    return [{**row._mapping, "id": str(row.id), "response_id": str(row.response_id),
             "created_at": row.created_at.astimezone(dt.UTC).isoformat()} for row in rows]


def _negative_effects(rows: list[Any], scores: Mapping[Any, Mapping[str, Mapping[str, Any]]],
                      zone: ZoneInfo) -> list[dict[str, Any]]:
    effects = []
    for row in rows:
        definition = library().get(row.instrument, row.instrument_version)
        effects.append({
            "response_id": str(row.id), "timepoint": row.analysis_timepoint,
            "date": row.collected_at.astimezone(zone).date().isoformat(),
            "scores": {scale.id: {"label": pick(scale.label, LANGUAGE),
                                  "value": scores.get(row.id, {}).get(scale.id, {}).get("value"),
                                  "band": scores.get(row.id, {}).get(scale.id, {}).get("band")}
                       for scale in definition.scales}})
    return effects
