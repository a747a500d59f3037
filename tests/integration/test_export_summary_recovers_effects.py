"""The review-ready summary on generated trials (prom/services/exports.py with
prom/synthetic_trial.py): it agrees with an independent computation by numpy and scipy on the
exported wide data, and a trial generated with a known standardised effect recovers it within
the confidence interval of Hedges' g.

The trials are stored through the real submission service in the test's rolled-back
transaction. Their generator's `population_smd` gives the effect the data were drawn from.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy.orm import Session

from prom.models.studies import Study
from prom.services import exports
from prom.services.synthetic_trial import staff_actor, store_trial
from prom.synthetic_trial import Arm, TrialSpec, population_smd

SCHEDULE = (
    {"code": "baseline", "day": 0, "window_before": 14, "window_after": 7,
     "instruments": ["nrs_pain", "phq9"]},
    {"code": "post", "day": 56, "window_before": 7, "window_after": 21,
     "instruments": ["nrs_pain", "phq9"]},
)
EFFECT = 0.5


def trial(db_session: Session, per_arm: int, seed: int, **changes: Any) -> tuple[Study, Any]:
    spec = TrialSpec(code=f"SMD-{uuid.uuid4().hex[:8]}", schedule=SCHEDULE,
                     arms=(Arm("icbt", "Internet CBT", per_arm),
                           Arm("usual_care", "Usual care", per_arm)),
                     effects={"icbt": {"nrs_pain": EFFECT, "phq9": 0.3}}, adverse_events={},
                     drop_out=0.0, missed=0.0, duplicates=0.0, seed=seed, **changes)
    actor, _ = staff_actor(f"trialist-{uuid.uuid4().hex[:8]}@example.org", "a-long-password")
    stored = store_trial(spec, actor=actor)
    return db_session.get(Study, stored.study_id), (spec, actor)


def comparison(summary: dict[str, Any], instrument: str, scale: str,
               timepoint: str) -> dict[str, Any]:
    (row,) = [r for r in summary["summary_comparisons"]
              if (r["instrument"], r["scale"], r["timepoint"]) == (instrument, scale, timepoint)]
    return row


def test_a_known_standardised_effect_is_recovered_within_its_interval(
        db_session: Session) -> None:
    study, (spec, actor) = trial(db_session, per_arm=250, seed=11)
    truth = population_smd(spec, "nrs_pain", "icbt")
    assert truth == pytest.approx(EFFECT, abs=0.001)

    summary = exports.summary(study.id, actor)
    row = comparison(summary, "nrs_pain", "pain_intensity", "post")

    # Pain is higher-is-worse: the better arm has the lower mean, so g is negative.
    assert row["higher_is"] == "worse"
    assert row["smd_low"] < -truth < row["smd_high"]
    assert row["smd_high"] - row["smd_low"] < 0.4  # 250 a side: an informative interval
    assert row["n_arm"] == row["n_comparator"] == 250
    baseline = comparison(summary, "nrs_pain", "pain_intensity", "baseline")
    assert baseline["smd_low"] < 0 < baseline["smd_high"]  # randomised: no difference at start


def test_the_summary_agrees_with_numpy_and_scipy_on_the_exported_data(
        db_session: Session, tmp_path: Path) -> None:
    study, (_, actor) = trial(db_session, per_arm=60, seed=5, missing_items=0.2)
    request = exports.ExportRequest(layouts=("wide", "summary"), format="parquet")
    exports.write_export(study, request, tmp_path, actor=actor, name="check")
    wide = pd.read_parquet(tmp_path / "data" / "wide.parquet")
    arms = pd.read_parquet(tmp_path / "data" / "summary_arms.parquet")
    versus = pd.read_parquet(tmp_path / "data" / "summary_comparisons.parquet")
    z = stats.norm.ppf(0.975)

    # The summary's responders: IMMPACT's ≥ 30% for pain, the MCID for PHQ-9.
    for instrument, scale, flag in (("nrs_pain", "pain_intensity", "r30"),
                                    ("phq9", "phq9", "rmcid")):
        column = f"{instrument}_{scale}_post"
        values = {arm: wide.loc[wide["arm"] == arm, column].dropna().to_numpy()
                  for arm in ("icbt", "usual_care")}
        for arm, x in values.items():
            row = arms[(arms["arm"] == arm) & (arms["scale"] == scale)
                       & (arms["timepoint"] == "post")].iloc[0]
            described = stats.describe(x)
            assert row["n"] == described.nobs
            assert row["mean"] == pytest.approx(described.mean)
            assert row["sd"] == pytest.approx(np.sqrt(described.variance))
            assert row["median"] == pytest.approx(np.median(x))
            assert (row["q1"], row["q3"]) == pytest.approx(tuple(np.percentile(x, [25, 75])))
            change = wide.loc[wide["arm"] == arm, f"{column}_chg"].dropna().to_numpy()
            assert row["change_n"] == len(change)
            assert row["change_mean"] == pytest.approx(change.mean())
            assert row["change_sd"] == pytest.approx(change.std(ddof=1))
            flags = wide.loc[wide["arm"] == arm, f"{column}_{flag}"].dropna()
            assert row["responders_n"] == int(flags.sum())
            assert row["responders_pct"] == pytest.approx(flags.mean() * 100)

        got = versus[(versus["scale"] == scale) & (versus["timepoint"] == "post")].iloc[0]
        a, b = values["icbt"], values["usual_care"]
        # Mean difference: Welch's standard error, a normal interval.
        welch = stats.ttest_ind(a, b, equal_var=False)
        se = (a.mean() - b.mean()) / welch.statistic
        assert got["md"] == pytest.approx(a.mean() - b.mean())
        assert (got["md_low"], got["md_high"]) == pytest.approx(
            (got["md"] - z * se, got["md"] + z * se))
        # Hedges' g: Cohen's d from Student's t, times J = 1 − 3 / (4N − 9).
        n1, n2 = len(a), len(b)
        student = stats.ttest_ind(a, b, equal_var=True).statistic
        g = student * np.sqrt(1 / n1 + 1 / n2) * (1 - 3 / (4 * (n1 + n2) - 9))
        assert got["smd"] == pytest.approx(g)
        se_g = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2 - 3.94)))
        assert (got["smd_low"], got["smd_high"]) == pytest.approx((g - z * se_g, g + z * se_g))

    # Responders (pain reduced by ≥ 30%): scipy's relative risk and its Katz interval.
    flags = {arm: wide.loc[wide["arm"] == arm, "nrs_pain_pain_intensity_post_r30"].dropna()
             for arm in ("icbt", "usual_care")}
    events = {arm: (int(f.sum()), len(f)) for arm, f in flags.items()}
    assert all(0 < k < n for k, n in events.values())  # no zero cells in this trial
    expected = stats.contingency.relative_risk(*events["icbt"], *events["usual_care"])
    interval = expected.confidence_interval(0.95)
    got = versus[(versus["scale"] == "pain_intensity") & (versus["timepoint"] == "post")].iloc[0]
    assert got["rr"] == pytest.approx(expected.relative_risk)
    assert (got["rr_low"], got["rr_high"]) == pytest.approx((interval.low, interval.high))
