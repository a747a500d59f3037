"""The export's pure steps: selection of one response per timepoint, the column design and its
codebook, and the datasets built from plain frames (prom/export/selection.py, design.py,
datasets.py). No database: frames are written by hand, so every expected value is visible."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prom.export.datasets import Chunk, derived, items_long, scores_long, wide
from prom.export.design import STATA_NAME_LIMIT, make_design, scoring_rule
from prom.export.pseudonym import participant_code
from prom.export.selection import RULES, select_responses
from prom.instruments import load_library
from prom.schedule import Assignment, Placed, TimepointSpec, expand, mark_duplicates
from prom.scoring.change import Change, is_pain_intensity, responder

LIBRARY = load_library()
NRS, PHQ9, PGIC = LIBRARY.get("nrs_pain"), LIBRARY.get("phq9"), LIBRARY.get("pgic")
SCHEDULE = tuple(expand([
    TimepointSpec("baseline", 0, 7, 7, ("nrs_pain", "phq9")),
    TimepointSpec("post", 56, 7, 21, ("nrs_pain", "phq9", "pgic")),
    TimepointSpec("fu3m", 146, 14, 28, ("nrs_pain", "phq9", "pgic")),
]))
T0 = dt.datetime(2026, 1, 1, 18, tzinfo=dt.UTC)
P1, P2 = uuid.UUID(int=1), uuid.UUID(int=2)


def design(identified: bool = False, name_limit: int = 64, pairs=None):
    pairs = pairs or {(i, t) for i in ("nrs_pain", "phq9") for t in ("baseline", "post", "fu3m")}
    return make_design(SCHEDULE, {"nrs_pain": NRS, "phq9": PHQ9}, pairs,
                       identified=identified, name_limit=name_limit)


def response(participant, instrument, timepoint, day, *, in_window=True, received=0, key=None):
    return {"response_id": key or uuid.uuid4(), "participant_id": participant,
            "instrument": instrument, "instrument_version": "1",
            "collected_at": T0 + dt.timedelta(days=day),
            "received_at": T0 + dt.timedelta(days=day, seconds=received),
            "analysis_timepoint": timepoint, "study_day": day, "in_window": in_window}


def scores_for(rows, values):
    """Score rows: `values` maps response id → {scale: value or None (insufficient)}."""
    out = []
    for row in rows:
        definition = LIBRARY.get(row["instrument"])
        for position, scale in enumerate(definition.scales):
            value = values.get(row["response_id"], {}).get(scale.id, 5.0)
            out.append({"response_id": row["response_id"], "scale": scale.id,
                        "position": position, "value": value,
                        "status": "insufficient" if value is None else "scored",
                        "band": None, "n_answered": 1, "scoring_version": "1.x"})
    return pd.DataFrame(out)


def people(*ids, arm="icbt"):
    return pd.DataFrame({"participant_id": list(ids),
                         "participant": [participant_code("00" * 32, p) for p in ids],
                         "arm": arm, "site": "S1", "enrolled_on": dt.date(2025, 12, 25),
                         "randomised_on": [dt.date(2026, 1, 1)] * len(ids),
                         "timezone": "UTC"})


# ---------------------------------------------------------------------------------------------
# Selection


class TestDuplicateRules:
    def setup_method(self):
        # One participant, two NRS forms at post: the first in window but incomplete, the
        # second in window and complete; a third out of window (declared post), complete.
        self.first = response(P1, "nrs_pain", "post", 50)
        self.second = response(P1, "nrs_pain", "post", 52)
        self.late = response(P1, "nrs_pain", "post", 90, in_window=False)
        self.rows = pd.DataFrame([self.late, self.second, self.first])
        self.scores = scores_for([self.first, self.second, self.late],
                                 {self.first["response_id"]: {"pain_intensity": None}})

    def kept(self, rule):
        selected = select_responses(self.rows, self.scores, rule)
        assert selected.duplicates == 2 and selected.unplaced == 0
        return selected.responses["response_id"].tolist()

    def test_first_complete_prefers_a_complete_form_inside_the_window(self):
        assert self.kept("first_complete") == [self.second["response_id"]]

    def test_first_in_window_takes_the_first_collected_inside_the_window(self):
        assert self.kept("first_in_window") == [self.first["response_id"]]

    def test_last_complete_takes_the_last_complete_inside_the_window(self):
        assert self.kept("last_complete") == [self.second["response_id"]]

    def test_a_complete_form_outside_the_window_loses_to_an_incomplete_one_inside(self):
        rows = pd.DataFrame([self.first, self.late])
        kept = select_responses(rows, self.scores, "first_complete").responses
        assert kept["response_id"].tolist() == [self.first["response_id"]]

    def test_responses_without_a_timepoint_are_counted_and_left_out(self):
        unplaced = response(P1, "adverse_event", None, 20, in_window=False)
        rows = pd.DataFrame([self.first, unplaced])
        selected = select_responses(rows, self.scores, "first_complete")
        assert selected.unplaced == 1 and selected.duplicates == 0
        assert selected.responses["response_id"].tolist() == [self.first["response_id"]]

    def test_an_unknown_rule_is_refused(self):
        with pytest.raises(ValueError, match="unknown duplicate rule"):
            select_responses(self.rows, self.scores, "newest")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(0, 2),
                          st.integers(0, 2)), min_size=1, max_size=8))
def test_first_in_window_keeps_what_the_clinic_report_keeps(forms):
    """The export's `first_in_window` and the schedule's `mark_duplicates` agree, ties
    included (same collected and received time: the smaller id)."""
    rows = [response(P1, "nrs_pain", "post", day, in_window=inside, received=received,
                     key=uuid.UUID(int=k * 10 + n))
            for n, (day, inside, received, k) in enumerate(forms)]
    frame = pd.DataFrame(rows)
    kept = select_responses(frame, scores_for(rows, {}), "first_in_window").responses
    marked = mark_duplicates(Placed(r["response_id"], r["instrument"], r["collected_at"],
                                    r["received_at"], Assignment("post", r["study_day"],
                                                                 r["in_window"], ()))
                             for r in rows)
    analysis = [p.key for p in marked if "duplicate_in_window" not in p.flags]
    assert kept["response_id"].tolist() == analysis


# ---------------------------------------------------------------------------------------------
# Design and codebook


class TestDesign:
    def test_wide_names_follow_instrument_scale_timepoint_with_derived_suffixes(self):
        names = [c.name for c in design().wide_columns()]
        assert names[:8] == [
            "nrs_pain_pain_intensity_baseline", "nrs_pain_pain_intensity_post",
            "nrs_pain_pain_intensity_post_chg", "nrs_pain_pain_intensity_post_pctchg",
            "nrs_pain_pain_intensity_post_r30", "nrs_pain_pain_intensity_post_r50",
            "nrs_pain_pain_intensity_post_rmcid", "nrs_pain_pain_intensity_fu3m"]
        # PHQ-9 is not a pain scale: MCID responders only.
        assert "phq9_phq9_post_rmcid" in names and "phq9_phq9_post_r30" not in names
        assert "phq9_phq9_baseline_chg" not in names  # no change at the baseline itself

    def test_a_global_impression_has_no_change_columns(self):
        pairs = {("pgic", "post"), ("pgic", "fu3m")}
        d = make_design(SCHEDULE, {"pgic": PGIC}, pairs, identified=False)
        assert [c.name for c in d.wide_columns()] == ["pgic_pgic_post", "pgic_pgic_fu3m"]

    def test_stata_names_are_cut_to_31_characters_and_stay_unique(self):
        d = design(name_limit=STATA_NAME_LIMIT)
        names = [c.name for c in d.wide_columns()]
        assert max(map(len, names)) <= STATA_NAME_LIMIT
        assert len(set(names)) == len(names)
        assert "nrs_pain_pain_intensity_post" in names  # short names are kept as they are

    def test_names_keep_only_letters_digits_and_underscores(self):
        assert design().name("nrs pain-intensity/week 1") == "nrs_pain_intensity_week_1"

    @pytest.mark.parametrize("layout", ["scores_long", "items_long", "wide", "adverse_events",
                                        "summary"])
    def test_every_variable_has_a_label_a_known_type_and_a_name_stata_takes(self, layout):
        for variables in design(identified=True, name_limit=STATA_NAME_LIMIT).variables(
                layout).values():
            assert variables
            for variable in variables:
                assert variable.label and variable.type in ("string", "integer", "number",
                                                            "boolean")
                assert len(variable.name) <= STATA_NAME_LIMIT, variable.name

    def test_wide_variables_say_instrument_scale_timepoint_rule_and_licence(self):
        variables = design().variables("wide")["wide"]
        change = next(v for v in variables if v.name == "phq9_phq9_fu3m_chg")
        assert (change.instrument, change.scale, change.timepoint) == ("phq9", "phq9", "fu3m")
        assert change.scoring_rule == scoring_rule(PHQ9.scale("phq9"))
        assert change.licence == PHQ9.license.citation
        assert "baseline" in change.derivation
        flag = next(v for v in variables if v.name == "nrs_pain_pain_intensity_post_r30")
        assert flag.value_labels == {0: "no", 1: "yes"}

    def test_identified_designs_add_ids_dates_and_sites(self):
        plain = {v.name for v in design().variables("scores_long")["scores_long"]}
        named = {v.name for v in design(identified=True).variables("scores_long")["scores_long"]}
        assert named - plain == {"site", "enrolled_on", "randomised_on", "response_id",
                                 "collected_at"}

    def test_the_codebook_lists_items_codes_but_not_text_an_instrument_may_not_ship(self):
        book = make_design(SCHEDULE, {"eq5d5l": LIBRARY.get("eq5d5l")}, set(),
                           identified=False).codebook(["scores_long"])
        eq5d = book.instruments[0]
        assert not eq5d["licence"]["text_included"]
        assert all(code["label"] is None for item in eq5d["items"] for code in item["codes"])


# ---------------------------------------------------------------------------------------------
# Datasets


def trial_chunk():
    """Two participants: P1 answers NRS at baseline (8), post (4) and fu3m (5); P2 answers only
    at baseline (6) and has a PHQ-9 at post (12) but none at baseline."""
    rows = [response(P1, "nrs_pain", "baseline", 0), response(P1, "nrs_pain", "post", 56),
            response(P1, "nrs_pain", "fu3m", 150), response(P2, "nrs_pain", "baseline", 1),
            response(P2, "phq9", "post", 57)]
    values = {rows[0]["response_id"]: {"pain_intensity": 8.0},
              rows[1]["response_id"]: {"pain_intensity": 4.0},
              rows[2]["response_id"]: {"pain_intensity": 5.0},
              rows[3]["response_id"]: {"pain_intensity": 6.0},
              rows[4]["response_id"]: {"phq9": 12.0}}
    return Chunk(people(P1, P2), pd.DataFrame(rows), scores_for(rows, values)), rows


class TestDatasets:
    def test_wide_has_one_row_per_participant_with_change_and_responders(self):
        chunk, _ = trial_chunk()
        d = design()
        frame = wide(chunk, select_responses(chunk.responses, chunk.scores, "first_complete"), d)
        assert list(frame.columns) == [v.name for v in d.variables("wide")["wide"]]
        one = frame.iloc[0]
        assert one["nrs_pain_pain_intensity_post"] == 4.0
        assert one["nrs_pain_pain_intensity_post_chg"] == -4.0
        assert one["nrs_pain_pain_intensity_post_pctchg"] == -50.0
        assert (one["nrs_pain_pain_intensity_post_r30"], one["nrs_pain_pain_intensity_post_r50"],
                one["nrs_pain_pain_intensity_post_rmcid"]) == (1.0, 1.0, 1.0)
        assert one["nrs_pain_pain_intensity_fu3m_pctchg"] == pytest.approx(-37.5)
        assert one["nrs_pain_pain_intensity_fu3m_r50"] == 0.0
        two = frame.iloc[1]
        assert two["phq9_phq9_post"] == 12.0 and math.isnan(two["phq9_phq9_post_chg"])
        assert math.isnan(two["nrs_pain_pain_intensity_post_r30"])  # no value: no flag

    def test_scores_long_has_one_row_per_scale_of_each_kept_response(self):
        chunk, _ = trial_chunk()
        d = design()
        frame = scores_long(chunk, select_responses(chunk.responses, chunk.scores,
                                                    "first_complete"), d)
        assert list(frame.columns) == [v.name for v in d.variables("scores_long")["scores_long"]]
        assert len(frame) == 4 * len(NRS.scales) + len(PHQ9.scales)
        first = frame.iloc[0]
        assert (first["timepoint"], first["target_day"], first["study_day"],
                first["scale"], first["value"]) == ("baseline", 0, 0, "pain_intensity", 8.0)
        assert frame["timepoint"].tolist()[:len(NRS.scales) * 3] == (
            ["baseline"] * len(NRS.scales) + ["post"] * len(NRS.scales)
            + ["fu3m"] * len(NRS.scales))

    def test_pseudonymised_rows_hold_no_id_or_date(self):
        chunk, rows = trial_chunk()
        frame = scores_long(chunk, select_responses(chunk.responses, chunk.scores,
                                                    "first_complete"), design())
        text = frame.to_csv()
        for row in rows:
            assert str(row["response_id"]) not in text
        assert str(P1) not in text and "2026-" not in text and "2025-" not in text

    def test_items_long_turns_dates_into_days_and_drops_free_text(self):
        form = LIBRARY.get("adverse_event")
        row = response(P1, "adverse_event", "post", 56)
        answers = {"occurred": True, "description": "=HYPERLINK(\"x\")",
                   "onset_date": "2026-02-20", "severity": "mild",
                   "seriousness": ["hospitalisation"], "ongoing": False, "attributed": "no"}
        chunk = Chunk(people(P1), pd.DataFrame([row]), scores_for([row], {}),
                      pd.DataFrame([{"response_id": row["response_id"], "answers": answers}]))
        pairs = {("adverse_event", "post")}
        d = make_design(SCHEDULE, {"adverse_event": form}, pairs, identified=False)
        selected = select_responses(chunk.responses, chunk.scores, "first_complete")
        frame = items_long(chunk, selected, d, {("adverse_event", "1"): form}).set_index("item")
        assert "description" not in frame.index
        assert frame.loc["onset_date", "value"] == 50  # 20 Feb is day 50 after 1 Jan
        assert frame.loc["occurred", "value"] == 1.0
        assert frame.loc["severity", "code"] == "mild" and np.isnan(frame.loc["severity",
                                                                              "value"])
        assert frame.loc["seriousness", "code"] == "hospitalisation"
        identified = make_design(SCHEDULE, {"adverse_event": form}, pairs, identified=True)
        named = items_long(chunk, selected, identified, {("adverse_event", "1"): form})
        assert named.set_index("item").loc["description", "text"] == answers["description"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([("nrs_pain", "pain_intensity"), ("peg", "peg"), ("phq9", "phq9"),
                        ("pseq", "pseq"), ("eq5d5l", "index_us")]),
       st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False))
def test_derived_columns_agree_with_the_clinic_reports_rules(which, base, value):
    """The vectorised flags and changes equal `prom.scoring.change` on every pair of values."""
    definition = LIBRARY.get(which[0])
    scale = definition.scale(which[1])
    b, v = np.array([base]), np.array([value])
    change = Change(base, value)
    assert derived("change", definition, scale.id, b, v)[0] == pytest.approx(change.change)
    percent = derived("percent_change", definition, scale.id, b, v)[0]
    assert (np.isnan(percent) if change.percent_change is None
            else percent == pytest.approx(change.percent_change))
    category = responder(definition, scale, change)
    if is_pain_intensity(definition, scale):
        r30 = derived("r30", definition, scale.id, b, v)[0]
        r50 = derived("r50", definition, scale.id, b, v)[0]
        if change.percent_change is None:
            assert np.isnan(r30) and np.isnan(r50)
        else:
            assert r50 == (category.category == "substantial_improvement")
            assert r30 == (category.category in ("substantial_improvement",
                                                 "moderate_improvement"))
    elif scale.mcid is not None:
        flag = derived("rmcid", definition, scale.id, b, v)[0]
        if not np.isnan(flag):
            assert flag == (category.category == "improved")


def test_every_rule_is_documented():
    assert set(RULES) == {"first_complete", "first_in_window", "last_complete"}
    assert all(len(text) > 20 for text in RULES.values())


def test_participant_codes_are_keyed_and_stable():
    key_a, key_b = "11" * 32, "22" * 32
    assert participant_code(key_a, P1) == participant_code(key_a, P1)
    assert participant_code(key_a, P1) != participant_code(key_b, P1)
    assert participant_code(key_a, P1) != participant_code(key_a, P2)
    assert len(participant_code(key_a, P1)) == 16 and str(P1) not in participant_code(key_a, P1)
