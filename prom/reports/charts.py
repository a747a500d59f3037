"""One chart per outcome of a clinic report: a matplotlib figure returned as inline SVG.

`outcome_chart` draws one entry of `report["outcomes"]` (see `prom.reports`) for the clinician
in the room and for paper:

- x is the study day (0 is the participant's anchor), the axis the schedule is written in;
- y is the scale's range, labelled with the scale and its direction (↑ better / ↑ worse);
- each severity band is shaded with a light tint (ColorBrewer YlOrBr, colour-blind safe and
  legible in greyscale), darker towards the worse end, and named on the right-hand axis;
- the responses are a line with filled markers; a response with flags (out of window, duplicate
  in the window…) gets a hollow marker, named in the legend;
- the baseline is a dashed line, and where the scale has an MCID the improvement threshold(s)
  are dotted lines: baseline ∓ the absolute MCID, and baseline ∓ percent of |baseline| (the
  percent change of `prom.scoring.change`; not drawn when the baseline is 0 or below, where a
  percent of baseline means nothing), clipped to the range.

The SVG has no prolog, scales to its container (`width="100%"` and a viewBox), carries
`role="img"` and a summary of baseline → latest as its accessible name, and is deterministic:
the same outcome gives the same bytes. Several charts can share one HTML page: matplotlib's
hashed ids are salted with the chart's id and its numbered ones are dropped. The parts drawn
carry ids for tests and styling, prefixed with `chart_id(outcome)`: `<chart id>-band-<code>`,
`-series`, `-responses`, `-flagged`, `-baseline`, `-mcid-absolute` and `-mcid-percent`.

matplotlib's rcParams are global, and `rc_context` swaps them for the whole process, so charts
are rendered one at a time under a lock (a chart takes tens of milliseconds). Figures are built
from `matplotlib.figure.Figure` directly, never through pyplot's registry.
"""

from __future__ import annotations

import io
import re
import textwrap
import threading
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

NO_VALUE = "—"
MINUS = "−"

_FIGSIZE = (5.4, 3.5)  # inches; small enough that its text stays legible on a phone
_RC = {
    "svg.fonttype": "none",  # text as <text>, not glyph outlines: smaller and selectable
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # one name, not the default list, in every <text>
    "font.size": 9,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "path.simplify": True,
}
_RENDER_LOCK = threading.Lock()

_SERIES_COLOUR = "#004488"  # Paul Tol's high-contrast blue
_BASELINE_COLOUR = "#333333"
_MCID_COLOUR = "#117733"  # Tol green; told apart from the baseline by line style as well
_BAND_TINTS = (0.0, 0.28)  # the pale end of YlOrBr: best band to worst band

_ID_ATTRIBUTE = re.compile(r'\sid="([^"]+)"')
_ID_REFERENCE = re.compile(r'(?:url\(#|href="#)([^")]+)')
_GEOMETRY = re.compile(r'\s(?:d|x|y|transform)="[^"]*"')
_DECIMAL = re.compile(r"-?\d+\.\d+")
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_SIZE_ATTRIBUTES = re.compile(r'\s(?:width|height)="[^"]*"')


def decimals(scale_range: Sequence[float]) -> int:
    """Decimals to show for a scale, from the width of its range: 3 for utility indexes (≤ 2:
    EQ-5D value sets run from −0.594 to 1, a width of 1.594), 1 up to a width of 20 (0–10
    ratings), 0 above (0–100 scores, T-scores)."""
    width = abs(scale_range[1] - scale_range[0])
    return 3 if width <= 2 else 1 if width <= 20 else 0


def format_value(value: float | None, scale_range: Sequence[float], *, signed: bool = False
                 ) -> str:
    """A score for people: the scale's decimals, a real minus sign, "—" for no value; `signed`
    adds "+" to positive values (for changes)."""
    if value is None:
        return NO_VALUE
    text = f"{value:{'+' if signed else ''}.{decimals(scale_range)}f}"
    if text.lstrip("+-").strip("0.") == "":  # -0.0 and +0.0 are 0.0
        text = text.lstrip("+-")
    return text.replace("-", MINUS)


def chart_id(outcome: dict[str, Any]) -> str:
    """The outcome's id on a page: `<instrument>-<scale>`, made safe for HTML ids."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{outcome['instrument']}-{outcome['scale']}")


def heading(outcome: dict[str, Any]) -> str:
    """"Instrument — scale", falling back to their ids where a definition has no English text."""
    return (f"{outcome.get('instrument_title') or outcome['instrument']} — "
            f"{outcome.get('label') or outcome['scale']}")


def plotted_points(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    """The series entries a chart shows: those with a value and a study day."""
    return [point for point in outcome["series"]
            if point.get("value") is not None and point.get("study_day") is not None]


def mcid_thresholds(outcome: dict[str, Any]) -> dict[str, float]:
    """The improvement thresholds to draw, clipped to the range: {"absolute": y, "percent": y},
    either or both, or none without an MCID or a baseline value."""
    mcid, baseline = outcome.get("mcid"), outcome.get("baseline")
    if not mcid or not baseline or baseline.get("value") is None:
        return {}
    base = baseline["value"]
    better = 1.0 if outcome["higher_is"] == "better" else -1.0
    low, high = outcome["range"]
    thresholds = {}
    if mcid.get("absolute") is not None:
        thresholds["absolute"] = base + better * mcid["absolute"]
    if mcid.get("percent") is not None and base > 0:
        thresholds["percent"] = base + better * abs(base) * mcid["percent"] / 100
    return {kind: min(max(y, low), high) for kind, y in thresholds.items()}


def summary(outcome: dict[str, Any]) -> str:
    """One sentence for screen readers and tooltips: baseline → latest, change, points shown."""
    scale_range = outcome["range"]

    def describe(point: dict[str, Any] | None, name: str) -> str:
        if not point or point.get("value") is None:
            return f"no {name}"
        band = band_label(outcome, point.get("band"))
        return (f"{name} {format_value(point['value'], scale_range)}{f' ({band})' if band else ''}"
                f" on {point.get('date') or 'an unknown date'}")

    points = plotted_points(outcome)
    flagged = sum(1 for point in points if point.get("flags"))
    parts = [f"{heading(outcome)}: "
             f"{describe(outcome.get('baseline'), 'baseline')} → "
             f"{describe(outcome.get('latest'), 'latest')}"]
    if outcome.get("change") is not None:
        parts.append(f"; change {format_value(outcome['change'], scale_range, signed=True)}")
    parts.append(f". {len(points)} response{'s' if len(points) != 1 else ''} plotted")
    if flagged:
        parts.append(f", {flagged} flagged")
    return "".join(parts) + "."


def outcome_chart(outcome: dict[str, Any]) -> str:
    """The outcome's chart as an inline `<svg>` element (see the module docstring)."""
    prefix = chart_id(outcome)
    # A fixed salt, not a random one, makes the clip-path and marker ids deterministic; one per
    # chart keeps them unique on a page.
    with _RENDER_LOCK, matplotlib.rc_context({**_RC, "svg.hashsalt": f"prom-{prefix}"}):
        figure = _draw(outcome, prefix)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        figure.clear()  # no pyplot, so nothing to close: drop the artists for the collector
    return _inline(buffer.getvalue(), prefix, summary(outcome))


def _draw(outcome: dict[str, Any], prefix: str) -> Figure:
    scale_range = outcome["range"]
    low, high = scale_range
    points = plotted_points(outcome)
    days = np.array([point["study_day"] for point in points], dtype=float)
    values = np.array([point["value"] for point in points], dtype=float)
    flagged = np.array([bool(point.get("flags")) for point in points], dtype=bool)

    figure = Figure(figsize=_FIGSIZE, layout="constrained")
    axes = figure.add_subplot()
    _shade_bands(axes, outcome, prefix)

    handles: list[Line2D] = []
    marker = {"linestyle": "none", "marker": "o", "color": _SERIES_COLOUR,
              "markersize": 4.0 if len(points) <= 60 else 2.5}
    axes.plot(days, values, color=_SERIES_COLOUR, linewidth=1.2, zorder=3, gid=f"{prefix}-series")
    if (~flagged).any():
        handles += axes.plot(days[~flagged], values[~flagged], **marker, zorder=4,
                             gid=f"{prefix}-responses", label="Response")
    if flagged.any():
        flags = sorted({flag for point in points for flag in point.get("flags") or ()})
        marker["markersize"] += 1.5
        handles += axes.plot(days[flagged], values[flagged], **marker, markerfacecolor="white",
                             markeredgewidth=1.1, zorder=5, gid=f"{prefix}-flagged",
                             label=textwrap.fill("Flagged: " + ", ".join(
                                 flag.replace("_", " ") for flag in flags), 32))

    baseline = outcome.get("baseline")
    if baseline and baseline.get("value") is not None:
        handles.append(axes.axhline(
            baseline["value"], color=_BASELINE_COLOUR, linestyle=(0, (5, 3)), linewidth=1,
            zorder=2, gid=f"{prefix}-baseline",
            label=f"baseline {format_value(baseline['value'], scale_range)}"))
    handles += _draw_thresholds(axes, outcome, prefix)

    pad = (high - low) * 0.03
    axes.set_ylim(min(low, values.min(initial=low)) - pad,
                  max(high, values.max(initial=high)) + pad)
    first, last = min(0.0, days.min(initial=0.0)), max(7.0, days.max(initial=0.0))
    day_pad = max(1.0, (last - first) * 0.02)
    axes.set_xlim(first - day_pad, last + day_pad)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    axes.set_xlabel("Study day (0 = anchor)")
    label = outcome.get("label") or outcome["scale"]
    axes.set_ylabel(f"{textwrap.fill(label, 30)}\n↑ {outcome['higher_is']}")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    axes.set_axisbelow(True)
    if handles:
        figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 2),
                      frameon=False, handlelength=2.5, columnspacing=1.5)
    return figure


def _draw_thresholds(axes: Axes, outcome: dict[str, Any], prefix: str) -> list[Line2D]:
    """The MCID improvement thresholds, labelled with the amount and the side that counts."""
    better = outcome["higher_is"] == "better"
    mcid = outcome["mcid"] or {}
    styles = {"absolute": (0, (1, 1.5)), "percent": (0, (4, 1.5, 1, 1.5))}
    lines = []
    for kind, y in mcid_thresholds(outcome).items():
        amount = (format_value(mcid["absolute"], outcome["range"]) if kind == "absolute"
                  else f"{mcid['percent']:g}%")
        label = (f"MCID {'+' if better else MINUS}{amount}: {'≥' if better else '≤'} "
                 f"{format_value(y, outcome['range'])}")
        lines.append(axes.axhline(y, color=_MCID_COLOUR, linestyle=styles[kind], linewidth=1.2,
                                  zorder=2, gid=f"{prefix}-mcid-{kind}", label=label))
    return lines


def _shade_bands(axes: Axes, outcome: dict[str, Any], prefix: str) -> None:
    """Shade and name the severity bands; a thin grey edge between bands keeps them apart when
    printed without backgrounds."""
    bands = outcome.get("bands") or []
    if not bands:
        return
    low, high = outcome["range"]
    ramp = matplotlib.colormaps["YlOrBr"](np.linspace(*_BAND_TINTS, len(bands)))
    if outcome["higher_is"] == "better":
        ramp = ramp[::-1]
    centres, labels = [], []
    for index, band in enumerate(bands):
        bottom = max(band["min"], low)
        top = min(bands[index + 1]["min"] if index + 1 < len(bands) else high, high)
        if top <= bottom:
            continue
        axes.axhspan(bottom, top, facecolor=ramp[index], edgecolor="none", zorder=0,
                     gid=f"{prefix}-band-{band['code']}")
        if bottom > low:
            axes.axhline(bottom, color="#c8c8c8", linewidth=0.5, zorder=1)
        centres.append((bottom + top) / 2)
        labels.append(band.get("label") or band["code"])
    names = axes.secondary_yaxis("right")
    names.set_yticks(centres, labels=labels)
    names.tick_params(length=0, labelsize=7.5, labelcolor="#444444")
    names.spines["right"].set_visible(False)


def band_label(outcome: dict[str, Any], code: str | None) -> str | None:
    """The label of the outcome's band `code` (the code itself if the scale has no such band)."""
    if code is None:
        return None
    return next((band.get("label") or code for band in outcome.get("bands") or ()
                 if band["code"] == code), code)


def _inline(svg: str, prefix: str, title: str) -> str:
    """matplotlib's SVG document as an element for an HTML page: no prolog or metadata, width
    from the container, an accessible name, and only the ids that matter (referenced ones and
    this chart's own `prefix-…`), since matplotlib numbers its groups from 1 in every chart.
    Coordinates keep 2 decimals (a hundredth of a point), which halves the size."""
    svg = _METADATA.sub("", svg[svg.index("<svg"):]).strip()
    referenced = set(_ID_REFERENCE.findall(svg))
    svg = _ID_ATTRIBUTE.sub(
        lambda m: m[0] if m[1] in referenced or m[1].startswith(f"{prefix}-") else "", svg)
    svg = _GEOMETRY.sub(lambda m: _DECIMAL.sub(_two_decimals, m[0]), svg)
    head_end = svg.index(">")
    head = _SIZE_ATTRIBUTES.sub("", svg[:head_end])
    return (f'{head} width="100%" role="img" aria-label="{escape(title, quote=True)}">'
            f"<title>{escape(title, quote=False)}</title>{svg[head_end + 1:]}")


def _two_decimals(number: re.Match[str]) -> str:
    return f"{float(number[0]):.2f}".rstrip("0").rstrip(".")
