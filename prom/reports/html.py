"""A participant's clinic report as one printable HTML page.

`render_html` takes the report that `clinic.py` builds (its shape is in `prom.reports`) and fills
`templates/report.html`: the header, open alerts first (clinicians act on them), adherence, one
section per outcome, then adverse events beside the negative-effects questionnaires. The page is
self-contained: inline CSS and SVG, no scripts, fonts or images to fetch, so it can be saved,
mailed or printed as it is.

Each outcome with at least one plotted value (a value and a study day) gets exactly one chart
(`charts.outcome_chart`); an outcome with none says "No scored responses yet" in its place and
keeps its table. Scores show the decimals that suit their scale (`charts.decimals`); a missing
value shows "—".

Templates autoescape, so what participants typed (an adverse event's description) is text,
never markup; only the charts, which `charts` builds and escapes, are inserted as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from prom.reports.charts import (
    MINUS,
    NO_VALUE,
    band_label,
    chart_id,
    format_value,
    heading,
    outcome_chart,
    plotted_points,
)

NO_SCORES = "No scored responses yet"


@dataclass(frozen=True)
class PointView:
    """A baseline or latest score, ready to print."""

    value: str
    band: str
    date: str
    timepoint: str


@dataclass(frozen=True)
class OutcomeView:
    id: str
    heading: str
    chart: Markup | None
    baseline: PointView
    latest: PointView
    change: str
    percent_change: str
    responder: str
    responder_rule: str | None
    mcid: str
    mcid_source: str | None


@dataclass(frozen=True)
class AdverseEventView:
    date: str
    timepoint: str
    description: str
    details: str | None
    patient_severity: str
    serious_reported: str
    status: str
    grade: str
    relatedness: str
    serious: str


@dataclass(frozen=True)
class NegativeEffectsView:
    columns: list[tuple[str, str]]  # (scale id, label), in the order first seen
    rows: list[dict[str, Any]]  # date, timepoint, cells: {scale id: text}


def render_html(report: dict[str, Any]) -> str:
    """The report as a complete HTML document (see the module docstring)."""
    return _TEMPLATE.render(
        participant=report["participant"],
        generated_at=format_datetime(report["generated_at"]),
        adherence=report["adherence"],
        alerts=report["alerts"],
        outcomes=[outcome_view(outcome) for outcome in report["outcomes"]],
        adverse_events=[adverse_event_view(event, report["participant"].get("timezone"))
                        for event in report["adverse_events"]],
        negative_effects=negative_effects_view(report["negative_effects"]),
        no_value=NO_VALUE,
        no_scores=NO_SCORES,
    )


def outcome_view(outcome: dict[str, Any]) -> OutcomeView:
    scale_range = outcome["range"]
    mcid = outcome.get("mcid")
    responder = outcome.get("responder")
    return OutcomeView(
        id=f"outcome-{chart_id(outcome)}",
        heading=heading(outcome),
        chart=Markup(outcome_chart(outcome)) if plotted_points(outcome) else None,
        baseline=_point_view(outcome, outcome.get("baseline")),
        latest=_point_view(outcome, outcome.get("latest")),
        change=format_value(outcome.get("change"), scale_range, signed=True),
        percent_change=format_percent_change(outcome.get("percent_change")),
        responder=responder["label"] if responder else NO_VALUE,
        responder_rule=responder.get("rule") if responder else None,
        mcid=format_mcid(mcid, scale_range),
        mcid_source=mcid.get("source") if mcid else None,
    )


def adverse_event_view(event: dict[str, Any], timezone: str | None) -> AdverseEventView:
    """One adverse event, as the adverse-event API shows it: the patient's answers under
    `reported`, the current review under `review`."""
    reported = event["reported"]
    review = event.get("review") or {}
    grade = review.get("severity_grade")
    return AdverseEventView(
        date=local_date(event.get("reported_at"), timezone),
        timepoint=event.get("timepoint") or NO_VALUE,
        description=reported.get("description") or NO_VALUE,
        details=_reported_details(reported),
        patient_severity=humanise(reported.get("severity")),
        serious_reported=yes_no(reported.get("serious")),
        status=humanise(event.get("status")),
        grade=NO_VALUE if grade is None else f"Grade {grade}",
        relatedness=humanise(review.get("relatedness")),
        serious=yes_no(review.get("serious")),
    )


def _reported_details(reported: dict[str, Any]) -> str | None:
    """Onset, whether it is still going on, and whether the patient blames the programme."""
    parts = []
    if reported.get("onset_date"):
        parts.append(f"began {reported['onset_date']}")
    if reported.get("ongoing") is not None:
        parts.append("still going on" if reported["ongoing"] else "over")
    if reported.get("attributed"):
        parts.append(f"caused by the programme (patient): {reported['attributed']}")
    return "; ".join(parts) or None


def negative_effects_view(reports: Sequence[dict[str, Any]]) -> NegativeEffectsView:
    columns: dict[str, str] = {}
    for entry in reports:
        for scale, score in entry["scores"].items():
            columns.setdefault(scale, score.get("label") or scale)
    rows = [{"date": entry.get("date") or NO_VALUE,
             "timepoint": entry.get("timepoint") or NO_VALUE,
             "cells": {scale: format_count(score.get("value"))
                        for scale, score in entry["scores"].items()}}
            for entry in reports]
    return NegativeEffectsView(columns=list(columns.items()), rows=rows)


def format_percent_change(percent: float | None) -> str:
    """A percent change with its sign and one decimal, so that 29.6% never reads as 30%."""
    if percent is None:
        return NO_VALUE
    text = f"{percent:+.1f}"
    return ("0.0" if text in ("+0.0", "-0.0") else text.replace("-", MINUS)) + "%"


def format_mcid(mcid: dict[str, Any] | None, scale_range: Sequence[float]) -> str:
    if not mcid:
        return NO_VALUE
    parts = []
    if mcid.get("absolute") is not None:
        parts.append(f"{format_value(mcid['absolute'], scale_range)} points")
    if mcid.get("percent") is not None:
        parts.append(f"{mcid['percent']:g}% of baseline")
    return " or ".join(parts) or NO_VALUE


def format_count(value: float | None) -> str:
    """A score without a declared range (the NEQ's counts and sums): whole numbers as such."""
    if value is None:
        return NO_VALUE
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return text.replace("-", MINUS)


def format_datetime(value: str | dt.datetime | None) -> str:
    """An instant as "YYYY-MM-DD HH:MM UTC" (as given when it cannot be read)."""
    moment = _parse_datetime(value)
    if moment is None:
        return str(value) if value else NO_VALUE
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _parse_datetime(value: str | dt.datetime | None) -> dt.datetime | None:
    """The JSON report's ISO strings, or the datetimes that `clinic.build` returns."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def local_date(value: str | dt.datetime | None, timezone: str | None) -> str:
    """The participant's calendar date of an instant (UTC when the zone is unknown)."""
    moment = _parse_datetime(value)
    if moment is None:
        return NO_VALUE
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(ZoneInfo(timezone) if timezone else dt.UTC)
        except (ZoneInfoNotFoundError, ValueError):
            moment = moment.astimezone(dt.UTC)
    return moment.date().isoformat()


def format_rate(rate: float | None) -> str:
    return NO_VALUE if rate is None else f"{rate * 100:.0f}%"


def humanise(code: str | None) -> str:
    """`awaiting_review` → "Awaiting review"."""
    return NO_VALUE if not code else code.replace("_", " ").capitalize()


def yes_no(value: bool | None) -> str:
    return NO_VALUE if value is None else "Yes" if value else "No"


def _point_view(outcome: dict[str, Any], point: dict[str, Any] | None) -> PointView:
    if not point:
        return PointView(NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE)
    return PointView(value=format_value(point.get("value"), outcome["range"]),
                     band=band_label(outcome, point.get("band")) or NO_VALUE,
                     date=point.get("date") or NO_VALUE,
                     timepoint=point.get("timepoint") or NO_VALUE)


_ENVIRONMENT = Environment(
    loader=PackageLoader("prom.reports"),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,  # a key the report lacks fails here, not as a blank cell
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters.update(datetime=format_datetime, rate=format_rate, humanise=humanise)
_TEMPLATE = _ENVIRONMENT.get_template("report.html")
