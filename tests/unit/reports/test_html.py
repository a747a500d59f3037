"""The clinic report's HTML page and its charts, from report dicts built by hand."""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any

import pytest

from prom.reports.charts import chart_id, decimals, format_value, mcid_thresholds, outcome_chart
from prom.reports.html import render_html
from prom.schemas.reports import ReportSchema

SVG = "{http://www.w3.org/2000/svg}"
ANCHOR = dt.date(2026, 1, 5)
NRS_BANDS = [{"code": "none", "min": 0, "label": "No pain"},
             {"code": "mild", "min": 1, "label": "Mild"},
             {"code": "moderate", "min": 4, "label": "Moderate"},
             {"code": "severe", "min": 7, "label": "Severe"}]
SCRIPT = "<script>alert(1)</script>"


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"prom-test/{name}"))


def point(day: int, timepoint: str, value: float | None, band: str | None = None,
          flags: tuple[str, ...] = (), status: str = "scored") -> dict[str, Any]:
    """A series entry on study day `day` (day 0 is 2026-01-05)."""
    date = (ANCHOR + dt.timedelta(days=day)).isoformat()
    return {"response_id": uid(f"{timepoint}-{day}"), "timepoint": timepoint, "date": date,
            "study_day": day, "value": value, "band": band,
            "status": "insufficient" if value is None else status, "flags": list(flags)}


def summary_point(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("response_id", "timepoint", "date", "study_day", "value", "band")
    return {key: entry[key] for key in keys}


def outcome(instrument: str, title: str, scale: str, label: str, scale_range: list[float],
            higher_is: str, bands: list[dict[str, Any]], mcid: dict[str, Any] | None,
            series: list[dict[str, Any]], baseline: dict[str, Any] | None,
            change: float | None = None, percent_change: float | None = None,
            responder: dict[str, Any] | None = None) -> dict[str, Any]:
    scored = [entry for entry in series if entry["value"] is not None]
    return {"instrument": instrument, "instrument_title": title, "scale": scale, "label": label,
            "range": scale_range, "higher_is": higher_is, "bands": bands, "mcid": mcid,
            "series": series, "baseline": summary_point(baseline) if baseline else None,
            "latest": summary_point(scored[-1]) if scored else None, "change": change,
            "percent_change": percent_change, "responder": responder}


def pain_outcome() -> dict[str, Any]:
    """Average pain 7 → 3.5 with an out-of-window and a duplicate response, and one without a
    score."""
    series = [point(-2, "baseline", 7.0, "severe"),
              point(30, "week4", 6.0, "moderate", ("out_of_window",)),
              point(31, "week4", 5.5, "moderate", ("duplicate_in_window",)),
              point(56, "week8", None),
              point(84, "post", 3.5, "moderate")]
    return outcome(
        "nrs_pain", "Pain intensity (NRS)", "pain_intensity", "Average pain intensity", [0, 10],
        "worse", NRS_BANDS,
        {"absolute": 2, "percent": 30, "source": "Farrar JT et al. Pain 2001;94:149–158"},
        series, series[0], change=-3.5, percent_change=-50.0,
        responder={"category": "substantial_improvement",
                   "label": "Substantial improvement (pain reduced by 50% or more)",
                   "rule": "IMMPACT: pain reduced by ≥50% substantial, ≥30% moderate"})


def eq5d_outcome() -> dict[str, Any]:
    series = [point(0, "baseline", 0.412), point(84, "post", 0.6)]
    return outcome(
        "eq5d5l", "EQ-5D-5L", "index_us", "EQ-5D-5L index (US value set)", [-0.573, 1], "better",
        [], {"absolute": 0.078, "percent": None,
             "source": "McClure NS et al. Value Health 2017. https://doi.org/10.1016/j.jval.2016"},
        series, series[0], change=0.188, percent_change=45.631,
        responder={"category": "improved", "label": "Improved by at least the MCID",
                   "rule": "improved or worse by the MCID, 0.078 points"})


def unscored_outcome() -> dict[str, Any]:
    """PCS answered once, too incompletely to score."""
    return outcome(
        "pcs", "Pain Catastrophizing Scale", "total", "Pain catastrophizing", [0, 52], "worse",
        [{"code": "low", "min": 0, "label": "Low"}, {"code": "high", "min": 30, "label": "High"}],
        {"absolute": 6, "percent": None, "source": "Suzuki 2020"},
        [point(0, "baseline", None)], None)


def single_point_outcome() -> dict[str, Any]:
    """PHQ-9 first answered at week 2: a latest value but no baseline."""
    return outcome(
        "phq9", "PHQ-9", "total", "Depression severity", [0, 27], "worse",
        [{"code": "minimal", "min": 0, "label": "Minimal"}, {"code": "mild", "min": 5,
          "label": "Mild"}, {"code": "moderate", "min": 10, "label": "Moderate"}],
        {"absolute": 5, "percent": None, "source": "Löwe 2004"},
        [point(14, "week2", 12, "moderate")], None)


def adverse_event(name: str, reported_at: str, timepoint: str | None,
                  reported: dict[str, Any], review: dict[str, Any] | None) -> dict[str, Any]:
    """An event as the adverse-event API (and so the report endpoint) returns it."""
    reviews = [] if review is None else [
        {"number": 1, "reviewed_at": "2026-02-12T10:00:00+00:00", "reviewed_by": uid("dr"),
         "seriousness_criteria": [], "expected": False, "action_taken": "none",
         "outcome": "recovered", "note": None, **review}]
    return {"id": uid(name), "participant_id": uid("participant"), "study_id": uid("study"),
            "arm": "icbt", "site_id": uid("site"), "response_id": uid(f"{name}-response"),
            "timepoint": timepoint, "reported_at": reported_at, "opened_at": reported_at,
            "reported": {"description": None, "onset_date": None, "ongoing": None,
                         "severity": None, "seriousness": None, "attributed": None,
                         "serious": False, **reported},
            "status": "reviewed" if reviews else "awaiting_review",
            "review": reviews[-1] if reviews else None, "reviews": reviews}


def make_report() -> dict[str, Any]:
    """A report as the endpoint hands it to `render_html` (`ReportSchema().dump(...)`)."""
    return {
        "participant": {"id": uid("participant"), "study": {"id": uid("study"), "code": "ICBT-1",
                                                  "name": "Internet CBT for chronic pain"},
                        "arm": {"code": "icbt", "name": "Internet CBT"},
                        "enrolled_on": "2026-01-02", "randomised_on": "2026-01-05",
                        "anchor": "2026-01-05", "timezone": "Europe/Berlin"},
        "generated_at": "2026-04-01T08:30:00+00:00",
        "adherence": {"completed": 8, "open": 1, "missed": 1, "due_so_far": 10, "rate": 0.8},
        "outcomes": [pain_outcome(), eq5d_outcome(), unscored_outcome(), single_point_outcome()],
        "alerts": [{"id": uid("alert"), "rule": "severe_pain", "severity": "medium",
                    "message": "Average pain 8 or more", "created_at": "2026-02-04T09:15:00Z",
                    "instrument": "nrs_pain", "response_id": uid("week4-30")}],
        "adverse_events": [
            # 23:30 UTC is already the next day in Berlin, the participant's zone
            adverse_event("ae1", "2026-02-10T23:30:00+00:00", "week5",
                          {"description": f"Headache after the module {SCRIPT}",
                           "onset_date": "2026-02-08", "ongoing": False, "severity": "moderate",
                           "attributed": "unsure"},
                          {"serious": False, "severity_grade": 2, "relatedness": "possible"}),
            adverse_event("ae2", "2026-03-01T10:00:00+00:00", None,
                          {"description": "Felt low for a week", "severity": "mild"}, None)],
        "negative_effects": [
            {"response_id": uid("neq"), "date": "2026-03-30", "timepoint": "post",
             "scores": {"n_effects": {"label": "Number of negative effects", "value": 3,
                                      "band": None},
                        "impact": {"label": "Total negative impact", "value": 7, "band": None}}}],
    }


class Page(HTMLParser):
    """What the tests look at: elements and table rows, each with the ids of the sections
    around it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.rows: list[tuple[tuple[str, ...], list[str]]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []
        self._cell: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), tuple(self.sections)))
        if tag == "section":
            self.sections.append(dict(attrs).get("id") or "")
        elif tag == "tr":
            self.rows.append((tuple(self.sections), []))
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), tuple(self.sections)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.sections.pop()
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        self.texts.append((tuple(self.sections), data))

    def count(self, tag: str, section: str) -> int:
        return sum(1 for name, _, within in self.elements if name == tag and section in within)

    def text(self, section: str) -> str:
        return " ".join("".join(data for within, data in self.texts if section in within).split())

    def table(self, section: str) -> dict[str, list[str]]:
        """The rows of the tables in `section`, by their first cell."""
        return {cells[0]: cells[1:] for within, cells in self.rows
                if section in within and cells}


def section_id(entry: dict[str, Any]) -> str:
    return f"outcome-{chart_id(entry)}"


def group(root: ET.Element, gid: str) -> ET.Element | None:
    return next((g for g in root.iter(f"{SVG}g") if g.get("id") == gid), None)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return make_report()


@pytest.fixture(scope="module")
def html(report: dict[str, Any]) -> str:
    return render_html(report)


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


def test_each_outcome_with_a_value_has_exactly_one_chart(report: dict[str, Any],
                                                         page: Page) -> None:
    scored = [o for o in report["outcomes"] if any(p["value"] is not None for p in o["series"])]
    assert len(scored) == 3
    for entry in report["outcomes"]:
        expected = 1 if entry in scored else 0
        assert page.count("svg", section_id(entry)) == expected, entry["instrument"]
    assert page.count("svg", "outcomes") == len(scored)


def test_an_outcome_without_values_says_so_in_place_of_a_chart(page: Page) -> None:
    assert "No scored responses yet" in page.text(section_id(unscored_outcome()))
    for entry in (pain_outcome(), eq5d_outcome(), single_point_outcome()):
        assert "No scored responses yet" not in page.text(section_id(entry))


def test_participant_text_is_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert "Headache after the module &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_baseline_latest_and_change_use_the_scales_decimals(page: Page) -> None:
    pain = page.table(section_id(pain_outcome()))
    assert pain["Baseline"] == ["7.0", "Severe", "2026-01-03", "baseline"]
    assert pain["Latest"] == ["3.5", "Moderate", "2026-03-30", "post"]
    assert pain["Change"][0] == "−3.5"
    assert pain["% change"][0] == "−50.0%"
    assert pain["Responder"][0].startswith("Substantial improvement")
    assert pain["MCID"][0] == "2.0 points or 30% of baseline Farrar JT et al. Pain 2001;94:149–158"

    eq5d = page.table(section_id(eq5d_outcome()))
    assert eq5d["Baseline"][0] == "0.412" and eq5d["Latest"][0] == "0.600"
    assert eq5d["Change"][0] == "+0.188"
    assert eq5d["% change"][0] == "+45.6%"
    assert eq5d["MCID"][0].startswith("0.078 points McClure")


def test_missing_values_show_a_dash(page: Page) -> None:
    unscored = page.table(section_id(unscored_outcome()))
    assert unscored["Baseline"] == ["—"] * 4
    assert unscored["Latest"] == ["—"] * 4
    assert unscored["Change"][0] == unscored["% change"][0] == unscored["Responder"][0] == "—"
    single = page.table(section_id(single_point_outcome()))
    assert single["Baseline"][0] == "—" and single["Latest"][0] == "12"


def test_open_alerts_come_before_the_first_outcome(page: Page) -> None:
    order = [attrs.get("id") for tag, attrs, _ in page.elements if tag == "section"]
    assert order.index("alerts") < order.index(section_id(pain_outcome()))
    assert page.table("alerts")["medium"] == ["Average pain 8 or more", "nrs_pain",
                                               "2026-02-04 09:15 UTC"]


def test_header_and_adherence(page: Page) -> None:
    header = " ".join(data for within, data in page.texts if not within)
    for fact in (uid("participant"), "Internet CBT for chronic pain (ICBT-1)", "Internet CBT",
                 "2026-01-05", "2026-04-01 08:30 UTC"):
        assert fact in header
    adherence = " ".join(page.text("adherence").split())
    assert "80%: 8 of 10 questionnaires due so far completed (1 open, 1 missed)" in adherence


def test_adverse_events_show_the_current_review(page: Page) -> None:
    rows = page.table("adverse-events")
    assert rows["2026-02-11"] == [
        "week5", f"Headache after the module {SCRIPT} began 2026-02-08; over; caused by the "
        "programme (patient): unsure", "Moderate", "No", "Reviewed", "Grade 2", "Possible", "No"]
    assert rows["2026-03-01"] == ["—", "Felt low for a week", "Mild", "No", "Awaiting review",
                                  "—", "—", "—"]


def test_the_report_built_here_is_what_the_endpoint_passes(report: dict[str, Any]) -> None:
    assert ReportSchema().validate(report) == {}


def test_negative_effects_have_a_column_per_scale(page: Page) -> None:
    rows = page.table("negative-effects")
    assert rows["Date"] == ["Timepoint", "Number of negative effects", "Total negative impact"]
    assert rows["2026-03-30"] == ["post", "3", "7"]


def test_page_is_accessible(html: str, page: Page) -> None:
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert [tag for tag, _, _ in page.elements].count("h1") == 1
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs, _ in page.elements
               if tag == "th")
    assert 'name="viewport"' in html
    charts = [attrs for tag, attrs, _ in page.elements if tag == "svg"]
    assert charts and all(svg["role"] == "img" for svg in charts)
    pain = next(svg for svg in charts if "Average pain" in (svg["aria-label"] or ""))
    assert "baseline 7.0 (Severe) on 2026-01-03 → latest 3.5 (Moderate) on 2026-03-30" in (
        pain["aria-label"] or "")


def test_page_prints_and_reads_on_a_phone(html: str) -> None:
    style = html[html.index("<style>"):html.index("</style>")]
    print_rules = style[style.index("@media print"):]
    assert re.search(r"\.outcome \{[^}]*break-inside: avoid", print_rules)
    assert "@page { size: A4" in style
    assert ".table-wrap { overflow-x: auto" in style
    assert ".chart svg { display: block; width: 100%; height: auto" in style


def test_page_needs_nothing_from_outside(html: str, report: dict[str, Any]) -> None:
    for external in ("<script", "<link", "<img", "<iframe", "@import", " src="):
        assert external not in html
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))
    assert set(re.findall(r"url\((.)", html)) == {"#"}
    text = re.sub(r'xmlns(:\w+)?="[^"]*"', "", html)
    for entry in report["outcomes"]:
        text = text.replace(entry["mcid"]["source"], "")
    assert "http" not in text


def test_ids_are_unique_on_the_page(page: Page) -> None:
    ids = Counter(attrs["id"] for _, attrs, _ in page.elements if attrs.get("id"))
    assert ids and ids.most_common(1)[0][1] == 1


def test_rendering_is_deterministic(report: dict[str, Any], html: str) -> None:
    assert render_html(copy.deepcopy(report)) == html
    assert outcome_chart(pain_outcome()) == outcome_chart(pain_outcome())


def test_chart_is_an_inline_svg_that_scales() -> None:
    svg = outcome_chart(pain_outcome())
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    root = ET.fromstring(svg)
    assert root.get("width") == "100%" and root.get("height") is None
    assert root.get("viewBox")
    assert "<metadata" not in svg


def test_chart_shades_each_band() -> None:
    root = ET.fromstring(outcome_chart(pain_outcome()))
    prefix = chart_id(pain_outcome())
    for band in NRS_BANDS:
        shaded = group(root, f"{prefix}-band-{band['code']}")
        assert shaded is not None and len(shaded.findall(f"{SVG}path")) == 1
    labels = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    assert {"No pain", "Mild", "Moderate", "Severe"} <= labels
    assert not any("-band-" in (g.get("id") or "")
                   for g in ET.fromstring(outcome_chart(eq5d_outcome())).iter(f"{SVG}g"))


def test_flagged_responses_get_the_hollow_marker() -> None:
    entry = pain_outcome()
    root = ET.fromstring(outcome_chart(entry))
    prefix = chart_id(entry)
    responses, flagged = group(root, f"{prefix}-responses"), group(root, f"{prefix}-flagged")
    assert responses is not None and flagged is not None
    assert len(responses.findall(f".//{SVG}use")) == 2  # baseline and post; week8 has no value
    hollow = flagged.findall(f".//{SVG}use")
    assert len(hollow) == 2
    assert all("fill: #ffffff" in (use.get("style") or "") for use in hollow)
    legend = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Flagged: duplicate in window, out of window" in legend
    unflagged = pain_outcome()
    for entry_point in unflagged["series"]:
        entry_point["flags"] = []
    assert group(ET.fromstring(outcome_chart(unflagged)), f"{prefix}-flagged") is None


def gids(entry: dict[str, Any]) -> set[str]:
    prefix = chart_id(entry)
    return {g.get("id", "").removeprefix(f"{prefix}-")
            for g in ET.fromstring(outcome_chart(entry)).iter(f"{SVG}g")}


def test_baseline_and_mcid_lines_need_a_baseline() -> None:
    assert {"baseline", "mcid-absolute", "mcid-percent"} <= gids(pain_outcome())
    eq5d = gids(eq5d_outcome())
    assert {"baseline", "mcid-absolute"} <= eq5d and "mcid-percent" not in eq5d
    single = gids(single_point_outcome())
    assert "series" in single
    assert not {"baseline", "mcid-absolute", "mcid-percent"} & single
    no_mcid = pain_outcome() | {"mcid": None}
    lines = gids(no_mcid)
    assert "baseline" in lines and not {"mcid-absolute", "mcid-percent"} & lines


@pytest.mark.parametrize(("higher_is", "baseline", "expected"), [
    ("worse", 7.0, {"absolute": 5.0, "percent": 4.9}),
    ("worse", 1.0, {"absolute": 0.0, "percent": 0.7}),  # 1 − 2 is clipped to the range
    ("better", 9.0, {"absolute": 10.0, "percent": 10.0}),
    ("worse", 0.0, {"absolute": 0.0}),  # no percent of a zero baseline
])
def test_mcid_thresholds_point_towards_improvement(higher_is: str, baseline: float,
                                                   expected: dict[str, float]) -> None:
    entry = pain_outcome() | {"higher_is": higher_is}
    entry["baseline"] = entry["baseline"] | {"value": baseline}
    assert mcid_thresholds(entry) == pytest.approx(expected)


@pytest.mark.parametrize(("scale_range", "value", "signed", "text"), [
    ([0, 10], 3.45, False, "3.5"),
    ([0, 10], -3.5, True, "−3.5"),
    ([0, 10], 0.0, True, "0.0"),
    ([-0.594, 1], -0.1204, False, "−0.120"),
    ([-0.573, 1], 0.188, True, "+0.188"),
    ([0, 100], 41.6, False, "42"),
    ([0, 10], None, False, "—"),
])
def test_values_are_formatted_for_their_scale(scale_range: list[float], value: float | None,
                                              signed: bool, text: str) -> None:
    assert format_value(value, scale_range, signed=signed) == text


def test_decimals_follow_the_width_of_the_range() -> None:
    assert [decimals(r) for r in ([-0.285, 1], [-0.594, 1], [0, 10], [0, 20], [16.2, 67.7])] == [
        3, 3, 1, 1, 0]


def test_a_year_of_daily_ratings_stays_small() -> None:
    series = [point(day, f"d{day}", (day * 7 % 11) / 1.1, "moderate",
                    ("out_of_window",) if day % 13 == 0 else ())
              for day in range(260)]
    entry = pain_outcome() | {"series": series}
    svg = outcome_chart(entry)
    assert len(svg.encode()) < 60_000
    root = ET.fromstring(svg)
    prefix = chart_id(entry)
    drawn = [group(root, f"{prefix}-{name}") for name in ("responses", "flagged")]
    assert sum(len(g.findall(f".//{SVG}use")) for g in drawn if g is not None) == 260


def test_charts_drawn_in_parallel_threads_match_one_drawn_alone() -> None:
    """gunicorn's threads share matplotlib's global rcParams (the SVG salt, the font type)."""
    entries = [pain_outcome(), eq5d_outcome(), single_point_outcome()] * 4
    alone = [outcome_chart(entry) for entry in entries]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(outcome_chart, entries)) == alone


def test_a_definition_without_english_labels_falls_back_to_ids() -> None:
    entry = pain_outcome() | {"instrument_title": None, "label": None,
                              "bands": [band | {"label": None} for band in NRS_BANDS]}
    page = Page(render_html(make_report() | {"outcomes": [entry]}))
    section = section_id(entry)
    assert page.count("svg", section) == 1
    assert "nrs_pain — pain_intensity" in page.text(section)
    assert page.table(section)["Baseline"][1] == "severe"
