"""Research exports and summaries: GET /api/v1/studies/{id}/export and /summary.

The trial below is small enough to compute by hand. Two arms, four participants enrolled 70
days ago (UTC); baseline is day 0 (window 0..3), post-treatment day 56 (window 49..63). Average
pain (nrs_pain `pain_intensity`, 0–10, higher worse, MCID 2 points, IMMPACT 30%/50%):

| participant | arm | baseline | post | notes |
|---|---|---|---|---|
| P1 | icbt | 8 (day 1) | 4 (day 56), 7 (day 58) | sent twice at post: both complete |
| P2 | icbt | 6 (day 0) | 3 (day 55) | |
| P3 | usual_care | 7 (day 1) | 6 (day 56) | |
| P4 | usual_care | 5 (day 1) | 5 (day 55, incomplete), 4 (day 57) | see below |

P4's day-55 form answers only `average`, so its `pain_severity` scale (a mean needing 3 items)
is insufficient: the form is incomplete.

So with the default rule (`first_complete`) post is 4, 3 | 6, 4 and two duplicates are dropped;
`first_in_window` keeps P4's incomplete day-55 form (5) instead. P1 also reports an adverse
event at post, with a free-text description.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from scipy import stats
from sqlalchemy.orm import Session

from prom.export.package import verify
from tests.api.studies_fixtures import (
    ADMIN,
    API,
    CLINICIAN_OF_SITE,
    NO_TOKEN,
    RESEARCHER_NON_MEMBER,
    THE_PARTICIPANT,
    World,
    assert_field_error,
    assert_problem,
    audit_rows,
    create_study,
    enrol,
    grant,
    sign_in_staff,
    today_utc,
)
from tests.api.test_reports import on_day, pain, submit

SCHEDULE = [
    {"timepoint": "baseline", "day": 0, "window_before": 0, "window_after": 3,
     "instruments": ["nrs_pain"]},
    {"timepoint": "post", "day": 56, "window_before": 7, "window_after": 7,
     "instruments": ["nrs_pain", "adverse_event"]},
]
ARMS = [{"code": "icbt", "name": "Internet CBT"}, {"code": "usual_care", "name": "Usual care"}]
#: (arm, [(day, average pain, complete form?)]) per participant, as in the module docstring.
PEOPLE = [
    ("icbt", [(1, 8, True), (56, 4, True), (58, 7, True)]),
    ("icbt", [(0, 6, True), (55, 3, True)]),
    ("usual_care", [(1, 7, True), (56, 6, True)]),
    ("usual_care", [(1, 5, True), (55, 5, False), (57, 4, True)]),
]
DESCRIPTION = "Headaches after the relaxation module, told Dr Example"
FORMATS = ["csv", "parquet", "dta", "sav", "xlsx"]
ALL_LAYOUTS = ["scores_long", "items_long", "wide", "adverse_events", "summary"]
RESEARCHER = "researcher of the trial"


class Trial:
    def __init__(self, world: World) -> None:
        self.world = world
        self.study = create_study(world.client, world.admin.headers, arms=ARMS,
                                  schedule=SCHEDULE)
        self.participants, self.responses = [], []
        enrolled_on = (today_utc() - timedelta(days=70)).isoformat()
        for arm, forms in PEOPLE:
            person = enrol(world.client, world.admin.headers, self.study["id"],
                           world.site_a.id, arm=arm, enrolled_on=enrolled_on)
            self.participants.append(person)
            for day, average, complete in forms:
                answers = pain(average) if complete else {"average": average}
                body = submit(world, person["id"], "nrs_pain", answers,
                              on_day(person["enrolled_on"], day))
                self.responses.append(body["id"])
        self.event = submit(world, self.participants[0]["id"], "adverse_event", {
            "occurred": True, "description": DESCRIPTION, "ongoing": True,
            "severity": "moderate", "seriousness": ["none"], "attributed": "unsure",
            "onset_date": (today_utc() - timedelta(days=20)).isoformat()},
            on_day(self.participants[0]["enrolled_on"], 57))
        self.responses.append(self.event["id"])
        researcher = sign_in_staff(world.client, "researcher", [world.site_a.id])
        assert grant(world.client, world.admin.headers, self.study["id"],
                     researcher.user_id).status_code == 201
        world.callers[RESEARCHER] = researcher

    def export(self, who: str = RESEARCHER, **params: Any) -> Any:
        # buffered: the zip is a temporary file that the response closes once read
        return self.world.client.get(f"{API}/studies/{self.study['id']}/export",
                                     headers=self.world.headers(who), query_string=params,
                                     buffered=True)

    def unpacked(self, tmp_path, **params: Any) -> tuple[Any, dict[str, Any]]:
        response = self.export(**params)
        assert response.status_code == 200, response.get_data(as_text=True)
        target = tmp_path / uuid.uuid4().hex
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            archive.extractall(target)
        return target, verify(target)


@pytest.fixture
def trial(world: World) -> Trial:
    return Trial(world)


def read(path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".dta":
        return pyreadstat.read_dta(str(path))[0]
    return pyreadstat.read_sav(str(path))[0]


def text(column: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) or v == "" else str(v) for v in column]


def datasets(directory, fmt: str) -> dict[str, pd.DataFrame]:
    if fmt == "xlsx":
        (workbook,) = (directory / "data").iterdir()
        return pd.read_excel(workbook, sheet_name=None)
    return {path.stem: read(path) for path in sorted((directory / "data").iterdir())}


# ---------------------------------------------------------------------------------------------
# The file


def test_an_export_is_a_zip_with_length_name_and_no_caching(trial: Trial) -> None:
    response = trial.export(format="csv")

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert re.fullmatch(r'attachment; filename=STUDY-\w+-export-\d{8}T\d{6}Z\.zip',
                        response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert {"manifest.json", "codebook.csv", "codebook.json", "README.txt",
                "data/scores_long.csv", "data/wide.csv", "data/adverse_events.csv",
                "data/summary_arms.csv", "data/summary_comparisons.csv",
                "data/summary_adverse_events.csv"} == set(archive.namelist())


def test_the_manifest_says_what_was_exported_and_checks_every_file(trial: Trial,
                                                                   tmp_path) -> None:
    directory, manifest = trial.unpacked(tmp_path, format="parquet", arm=["icbt", "usual_care"])

    assert manifest["study"]["id"] == trial.study["id"]
    assert manifest["created_by"]["role"] == "researcher"
    assert manifest["request"]["filters"]["arm"] == ["icbt", "usual_care"]
    assert manifest["prom_version"] and manifest["participants"] == 4
    assert manifest["selection"] | {"description": None, "unplaced_means": None} == {
        "duplicates_rule": "first_complete", "description": None, "responses_read": 11,
        "duplicates_dropped": 2, "unplaced_left_out": 0, "unplaced_means": None}
    (nrs,) = [i for i in manifest["instruments"] if i["id"] == "nrs_pain"]
    assert nrs["version"] == "1" and len(nrs["scoring_versions"]) == 1
    assert manifest["row_counts"]["wide"] == 4
    # people × timepoints × NRS scales, and the adverse-event form's one scale at post
    assert manifest["row_counts"]["scores_long"] == 4 * 2 * 2 + 1
    for entry in manifest["files"]:  # verify() recomputed each one already; spot-check one
        assert len(entry["sha256"]) == 64
    (directory / "data" / "wide.parquet").write_bytes(b"changed")
    with pytest.raises(ValueError, match="checksum mismatch"):
        verify(directory)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_layout_reads_back_with_the_same_values_and_a_documented_column(
        trial: Trial, tmp_path, fmt: str) -> None:
    reference_dir, _ = trial.unpacked(tmp_path, format="parquet", layout=ALL_LAYOUTS)
    directory, manifest = trial.unpacked(tmp_path, format=fmt, layout=ALL_LAYOUTS)
    reference = datasets(reference_dir, "parquet")
    codebook = pd.read_csv(directory / "codebook.csv")
    found = datasets(directory, fmt)

    assert set(found) == set(reference) == set(manifest["row_counts"])
    for name, frame in found.items():
        documented = codebook.loc[codebook["dataset"] == name, "name"].tolist()
        assert list(frame.columns) == documented, name
        assert len(frame) == manifest["row_counts"][name], name
        expected = reference[name]
        assert len(expected.columns) == len(frame.columns)
        # Stata names may be shortened (the codebook has them): compare column by position.
        for column, reference_column in zip(frame.columns, expected.columns, strict=True):
            got, want = frame[column], expected[reference_column]
            if pd.api.types.is_numeric_dtype(want):
                assert np.allclose(pd.to_numeric(got, errors="raise").astype(float),
                                   want.astype(float), equal_nan=True, rtol=1e-14), (name, column)
            else:  # text: a CSV or Excel reader may have taken "1" for a number
                assert text(got) == text(want), (name, column)
    if fmt in ("dta", "sav"):
        reader = pyreadstat.read_dta if fmt == "dta" else pyreadstat.read_sav
        _, meta = reader(str(directory / "data" / f"wide.{fmt}"))
        labels = codebook[codebook["dataset"] == "wide"].set_index("name")["label"]
        limit = 80 if fmt == "dta" else 10_000
        assert meta.column_names_to_labels == {k: v[:limit] for k, v in labels.items()}
        flags = labels.index[labels.str.contains("reduced by ≥30%")]
        assert len(flags) and all(meta.variable_value_labels[name] == {0: "no", 1: "yes"}
                                  for name in flags)


def test_the_codebook_documents_every_column_with_its_origin(trial: Trial, tmp_path) -> None:
    directory, _ = trial.unpacked(tmp_path, format="csv", layout=ALL_LAYOUTS)
    codebook = json.loads((directory / "codebook.json").read_text())
    wide = {v["name"]: v for v in codebook["variables"] if v["dataset"] == "wide"}
    change = wide["nrs_pain_pain_intensity_post_chg"]

    assert (change["instrument"], change["scale"], change["timepoint"]) == (
        "nrs_pain", "pain_intensity", "post")
    assert "Farrar" in change["scoring_rule"] and "IMMPACT" in change["licence"]
    assert all(v["label"] and v["type"] for v in codebook["variables"])
    (nrs,) = [i for i in codebook["instruments"] if i["id"] == "nrs_pain"]
    assert [s["id"] for s in nrs["scales"]] == ["pain_intensity", "pain_severity"]


# ---------------------------------------------------------------------------------------------
# Values


def test_wide_rows_hold_baseline_change_and_responders(trial: Trial, tmp_path) -> None:
    directory, _ = trial.unpacked(tmp_path, format="parquet", layout="wide")
    wide = read(directory / "data" / "wide.parquet")
    stem = "nrs_pain_pain_intensity"

    assert wide["arm"].tolist() == ["icbt", "icbt", "usual_care", "usual_care"]
    assert wide[f"{stem}_baseline"].tolist() == [8, 6, 7, 5]
    assert wide[f"{stem}_post"].tolist() == [4, 3, 6, 4]
    assert wide[f"{stem}_post_chg"].tolist() == [-4, -3, -1, -1]
    assert wide[f"{stem}_post_pctchg"].tolist() == pytest.approx([-50, -50, -100 / 7, -20])
    assert wide[f"{stem}_post_r30"].tolist() == [1, 1, 0, 0]
    assert wide[f"{stem}_post_r50"].tolist() == [1, 1, 0, 0]
    assert wide[f"{stem}_post_rmcid"].tolist() == [1, 1, 0, 0]  # MCID: 2 points


@pytest.mark.parametrize(("rule", "p1_post", "p4_post", "p4_severity"), [
    ("first_complete", 4, 4, 3.75), ("first_in_window", 4, 5, None),
    ("last_complete", 7, 4, 3.75)])
def test_repeated_responses_are_resolved_by_the_chosen_rule(trial: Trial, tmp_path, rule: str,
                                                            p1_post: int, p4_post: int,
                                                            p4_severity: float | None) -> None:
    directory, manifest = trial.unpacked(tmp_path, format="csv", layout="scores_long",
                                         duplicates=rule)
    scores = read(directory / "data" / "scores_long.csv")
    post = scores[(scores["timepoint"] == "post") & (scores["instrument"] == "nrs_pain")]
    codes = list(dict.fromkeys(scores["participant"]))
    intensity = post[post["scale"] == "pain_intensity"].set_index("participant")["value"]
    severity = post[post["scale"] == "pain_severity"].set_index("participant")

    assert intensity[codes[0]] == p1_post and intensity[codes[3]] == p4_post
    if p4_severity is None:
        assert severity.loc[codes[3], "status"] == "insufficient"
        assert np.isnan(severity.loc[codes[3], "value"])
    else:
        assert severity.loc[codes[3], "value"] == p4_severity  # mean of 4, 5, 2, 4 (pain(4))
    assert manifest["selection"]["duplicates_rule"] == rule
    assert manifest["selection"]["duplicates_dropped"] == 2
    assert rule in (directory / "README.txt").read_text()


def test_the_summary_matches_an_independent_computation(trial: Trial, tmp_path) -> None:
    directory, _ = trial.unpacked(tmp_path, format="parquet", layout=["wide", "summary"])
    wide = read(directory / "data" / "wide.parquet")
    arms = read(directory / "data" / "summary_arms.parquet")
    comparisons = read(directory / "data" / "summary_comparisons.parquet")
    column = "nrs_pain_pain_intensity_post"
    icbt = wide.loc[wide["arm"] == "icbt", column].to_numpy()
    usual = wide.loc[wide["arm"] == "usual_care", column].to_numpy()
    row = arms[(arms["arm"] == "icbt") & (arms["scale"] == "pain_intensity")
               & (arms["timepoint"] == "post")].iloc[0]

    assert (row["n"], row["mean"], row["median"]) == (2, np.mean(icbt), np.median(icbt))
    assert row["sd"] == pytest.approx(np.std(icbt, ddof=1))
    assert (row["q1"], row["q3"]) == tuple(np.percentile(icbt, [25, 75]))
    assert (row["change_n"], row["change_mean"]) == (2, -3.5)
    assert (row["responders_n"], row["responders_denominator"], row["responders_pct"]) == (
        2, 2, 100.0)
    assert row["responder_rule"].startswith("pain reduced by ≥ 30%")

    versus = comparisons[(comparisons["scale"] == "pain_intensity")
                         & (comparisons["timepoint"] == "post")].iloc[0]
    z = stats.norm.ppf(0.975)
    md = icbt.mean() - usual.mean()
    se = np.sqrt(icbt.var(ddof=1) / 2 + usual.var(ddof=1) / 2)
    assert (versus["arm"], versus["comparator"]) == ("icbt", "usual_care")
    assert versus["md"] == pytest.approx(md)
    assert (versus["md_low"], versus["md_high"]) == pytest.approx((md - z * se, md + z * se))
    # Hedges' g from scipy's pieces: Cohen's d with the pooled SD, times J = 1 − 3/(4N − 9).
    pooled = np.sqrt((icbt.var(ddof=1) + usual.var(ddof=1)) / 2)
    g = md / pooled * (1 - 3 / (4 * 4 - 9))
    assert versus["smd"] == pytest.approx(g)
    se_g = np.sqrt(4 / 4 + g**2 / (2 * (4 - 3.94)))
    assert (versus["smd_low"], versus["smd_high"]) == pytest.approx((g - z * se_g, g + z * se_g))
    # Responders 2/2 vs 0/2: a zero cell, so 0.5 is added to each (RevMan): RR = (2.5/3)/(0.5/3).
    assert versus["rr"] == pytest.approx(5.0)


def test_the_summary_endpoint_returns_the_same_tables(trial: Trial, tmp_path,
                                                      db_session: Session) -> None:
    directory, _ = trial.unpacked(tmp_path, format="parquet", layout="summary")
    response = trial.world.client.get(f"{API}/studies/{trial.study['id']}/summary",
                                      headers=trial.world.headers(RESEARCHER))

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["comparator"] == "usual_care"
    assert body["duplicates"]["dropped"] == 2
    for table in ("summary_arms", "summary_comparisons", "summary_adverse_events"):
        exported = read(directory / "data" / f"{table}.parquet")
        served = pd.DataFrame(body[table])[list(exported.columns)]
        pd.testing.assert_frame_equal(served, exported, check_dtype=False)
    assert body["summary_adverse_events"][0] == {
        "arm": "icbt", "participants": 2, "with_event": 1, "with_event_pct": 50.0,
        "with_serious_event": 0, "with_serious_event_pct": 0.0, "events": 1,
        "serious_events": 0}
    assert audit_rows(db_session, "export.summary", trial.world.caller(RESEARCHER).user_id)


# ---------------------------------------------------------------------------------------------
# Pseudonymisation and identified exports


def all_text(directory) -> str:
    return "\n".join(
        path.read_bytes().decode("utf-8", errors="replace")
        for path in directory.rglob("*") if path.is_file() and path.name != "manifest.json")


def test_a_pseudonymised_export_holds_no_id_date_site_or_free_text(trial: Trial,
                                                                   tmp_path) -> None:
    directory, manifest = trial.unpacked(tmp_path, format="csv", layout=ALL_LAYOUTS)
    text = all_text(directory)

    for person in trial.participants:
        assert person["id"] not in text and person["enrolled_on"] not in text
    for response_id in trial.responses:
        assert response_id not in text
    assert trial.event["id"] not in text
    assert trial.world.site_a.code not in text and trial.world.site_a.name not in text
    assert DESCRIPTION not in text
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)  # no date of any kind
    assert manifest["pseudonymisation"]["identified"] is False
    codes = set(read(directory / "data" / "wide.csv")["participant"])
    assert len(codes) == 4 and all(re.fullmatch(r"[0-9a-f]{16}", c) for c in codes)


def test_participant_codes_are_stable_across_exports(trial: Trial, tmp_path) -> None:
    first, _ = trial.unpacked(tmp_path, format="csv", layout="wide")
    second, _ = trial.unpacked(tmp_path, format="csv", layout="wide")
    assert (read(first / "data" / "wide.csv")["participant"].tolist()
            == read(second / "data" / "wide.csv")["participant"].tolist())


def test_an_identified_export_needs_the_flag_and_an_allowed_role(trial: Trial,
                                                                 tmp_path) -> None:
    refused = trial.export(identified="true")
    assert "identified" in assert_problem(refused, 403)["detail"]

    response = trial.export(ADMIN, identified="true", format="csv",
                            layout=["scores_long", "adverse_events"])
    assert response.status_code == 200
    target = tmp_path / "identified"
    zipfile.ZipFile(io.BytesIO(response.data)).extractall(target)
    text = all_text(target)
    assert all(person["id"] in text for person in trial.participants)
    assert DESCRIPTION in text and trial.world.site_a.code in text
    events = read(target / "data" / "adverse_events.csv")
    assert events.loc[0, "event_id"] and events.loc[0, "reported_at"].startswith("20")
    scores = read(target / "data" / "scores_long.csv")  # ids in their usual printed form
    assert set(scores["response_id"]) <= set(trial.responses)
    assert set(scores["participant"]) == {person["id"] for person in trial.participants}
    assert scores["collected_at"].str.endswith("+00:00").all()


# ---------------------------------------------------------------------------------------------
# Who, and bad requests


@pytest.mark.parametrize(("who", "status"), [
    (ADMIN, 200), (RESEARCHER, 200), (RESEARCHER_NON_MEMBER, 404), (CLINICIAN_OF_SITE, 403),
    (THE_PARTICIPANT, 403), (NO_TOKEN, 401)])
@pytest.mark.parametrize("endpoint", ["export", "summary"])
def test_exports_are_for_admins_and_the_studys_researchers(trial: Trial, who: str, status: int,
                                                           endpoint: str) -> None:
    response = trial.world.client.get(f"{API}/studies/{trial.study['id']}/{endpoint}",
                                      headers=trial.world.headers(who), buffered=True)
    assert response.status_code == status, response.get_data(as_text=True)
    if status != 200:
        assert_problem(response, status)


def test_every_export_is_audited_with_its_request_and_checksum(trial: Trial,
                                                               db_session: Session) -> None:
    response = trial.export(format="csv", layout="wide", arm="icbt")
    assert response.status_code == 200
    researcher = trial.world.caller(RESEARCHER).user_id

    (row,) = audit_rows(db_session, "export.create", researcher)
    assert row.target_id == trial.study["id"]
    assert row.detail["format"] == "csv" and row.detail["identified"] is False
    assert row.detail["filters"]["arm"] == ["icbt"] and row.detail["rows"] == {"wide": 2}
    assert row.detail["sha256"] == hashlib.sha256(response.data).hexdigest()


@pytest.mark.parametrize(("params", "field"), [
    ({"arm": "nope"}, "arm"), ({"format": "xls"}, "format"), ({"layout": "tall"}, "layout"),
    ({"duplicates": "newest"}, "duplicates"), ({"timepoint": "week99"}, "timepoint"),
    ({"instrument": "sf36"}, "instrument"), ({"comparator": "placebo"}, "comparator"),
    ({"arm": "icbt", "comparator": "usual_care"}, "comparator"), ({"colour": "red"}, "colour")])
def test_a_bad_request_is_a_422_naming_the_parameter(trial: Trial, params: dict[str, str],
                                                     field: str, db_session: Session) -> None:
    response = trial.export(**params)
    assert_field_error(response, field, f"{field}.0")
    assert not audit_rows(db_session, "export.create")


def test_an_excel_export_too_large_for_a_workbook_is_refused_naming_the_format(
        trial: Trial, monkeypatch: pytest.MonkeyPatch, db_session: Session) -> None:
    monkeypatch.setattr("prom.export.writers.XLSX_MAX_ROWS", 10)  # scores_long has 17 rows

    response = trial.export(format="xlsx", layout="scores_long")

    assert "csv or parquet" in assert_field_error(response, "format")["errors"]["format"][0]
    assert not audit_rows(db_session, "export.create")
    assert trial.export(format="xlsx", layout="wide").status_code == 200  # 4 rows fit


def test_filters_narrow_the_datasets(trial: Trial, tmp_path) -> None:
    directory, manifest = trial.unpacked(tmp_path, format="csv", arm="icbt", timepoint="post",
                                         layout=["scores_long", "wide"])
    scores = read(directory / "data" / "scores_long.csv")
    assert set(scores["arm"]) == {"icbt"} and set(scores["timepoint"]) == {"post"}
    wide = read(directory / "data" / "wide.csv")
    assert len(wide) == 2 and not [c for c in wide.columns if "baseline" in c]
    assert manifest["request"]["filters"] == {"arm": ["icbt"], "instrument": [],
                                              "timepoint": ["post"]}
