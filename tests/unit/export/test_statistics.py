"""Per-arm review statistics (prom/export/statistics.py).

Contract, from the module docstring:

- `describe`: NaN (and None) ignored; SD with n − 1, None when n < 2; quartiles and median by
  linear interpolation (numpy's default, R type 7); everything None when n = 0.
- `mean_difference`: group 1 − group 2, SE = √(sd1²/n1 + sd2²/n2), interval ± z·SE with the
  normal quantile; all None when either n < 2, a mean or SD is missing, or SE = 0.
- `hedges_g`: Cochrane Handbook v6 §6.5.1.2 / RevMan: pooled SD, correction 1 − 3/(4N − 9),
  SE = √(N/(n1·n2) + g²/(2(N − 3.94))); all None when either n < 2 or the pooled SD is 0.
- `risk_ratio`: (a/n1)/(c/n2), SE of ln RR = √(1/a − 1/n1 + 1/c − 1/n2), interval exponentiated;
  0.5 added to every cell when an arm has no events or all events; None when both arms have
  none, or both have all, or an arm is empty.

Expected values come from three places that share no code with the module: published worked
examples (Borenstein M, Hedges LV, Higgins JPT, Rothstein HR. Introduction to Meta-Analysis.
Wiley, 2009: chapter 4's two-group example, means 103 and 100, SDs 5.5 and 4.5, 50 per group;
chapter 5's risk ratio example, 5/100 against 10/100), arithmetic done by hand in the comments,
and scipy on random inputs (t statistics, relative risk, mean and SD, type-7 quantiles, the
normal quantile; the SD also against the standard library's exact `statistics.stdev`).
"""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import relative_risk
from scipy.stats.mstats import mquantiles

from prom.export.statistics import (
    Description,
    Estimate,
    describe,
    hedges_g,
    mean_difference,
    risk_ratio,
)

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
NONE = Estimate(estimate=None, low=None, high=None, se=None)
Z95 = 1.959963984540054  # qnorm(0.975), R

# Borenstein et al. (2009), chapter 4: the same two arms feed every continuous example below.
BORENSTEIN = {"n1": 50, "mean1": 103.0, "sd1": 5.5, "n2": 50, "mean2": 100.0, "sd2": 4.5}


def width(found: Estimate) -> float:
    return found.high - found.low


# ---------------------------------------------------------------------------------------------
# Strategies

sizes = st.integers(min_value=2, max_value=500)
means = st.floats(min_value=-1000, max_value=1000, allow_nan=False)
sds = st.floats(min_value=0.01, max_value=100, allow_nan=False)
levels = st.floats(min_value=0.5, max_value=0.999)


@st.composite
def arms(draw: st.DrawFn) -> dict[str, float]:
    """Summary statistics of two arms that every continuous comparison can use."""
    return {"n1": draw(sizes), "mean1": draw(means), "sd1": draw(sds),
            "n2": draw(sizes), "mean2": draw(means), "sd2": draw(sds)}


def swapped(arm: dict[str, float]) -> dict[str, float]:
    return {"n1": arm["n2"], "mean1": arm["mean2"], "sd1": arm["sd2"],
            "n2": arm["n1"], "mean2": arm["mean1"], "sd2": arm["sd1"]}


@st.composite
def tables(draw: st.DrawFn, *, zero_cells: bool = True) -> tuple[int, int, int, int]:
    """(events1, n1, events2, n2); without zero cells, 1 ≤ events ≤ n − 1 in both arms."""
    n1, n2 = draw(st.integers(2, 1000)), draw(st.integers(2, 1000))
    if zero_cells:
        events1, events2 = draw(st.integers(0, n1)), draw(st.integers(0, n2))
        assume(not (events1 == 0 and events2 == 0))
        assume(not (events1 == n1 and events2 == n2))
    else:
        events1, events2 = draw(st.integers(1, n1 - 1)), draw(st.integers(1, n2 - 1))
    return events1, n1, events2, n2


values = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), max_size=60)


# ---------------------------------------------------------------------------------------------
# describe


def test_describe_one_to_ten_matches_r_type_7() -> None:
    # R: quantile(1:10) → 3.25, 5.50, 7.75; sd(1:10) = sqrt(55/6) = 3.0276504
    found = describe(np.arange(1, 11))

    assert found.n == 10
    assert found.mean == 5.5
    assert found.sd == pytest.approx(math.sqrt(55 / 6), rel=1e-12)
    assert (found.q1, found.median, found.q3) == pytest.approx((3.25, 5.5, 7.75), rel=1e-12)


def test_describe_ignores_nan_and_none() -> None:
    # sorted 1, 1, 3, 4, 5: q1 at position 1 → 1, median at 2 → 3, q3 at 3 → 4;
    # mean 14/5; deviations −1.8, −1.8, 0.2, 1.2, 2.2 → squares sum 12.8, variance 12.8/4 = 3.2
    found = describe([3, float("nan"), 1, None, 4, 1, 5, np.nan])

    assert found == Description(n=5, mean=pytest.approx(2.8), sd=pytest.approx(math.sqrt(3.2)),
                                median=3.0, q1=1.0, q3=4.0)


def test_describe_interpolates_between_order_statistics() -> None:
    # sorted 2, 4, 7, 20: q1 at 0.75 → 2 + 0.75·2 = 3.5; median at 1.5 → 5.5;
    # q3 at 2.25 → 7 + 0.25·13 = 10.25
    found = describe([20, 4, 2, 7])

    assert (found.q1, found.median, found.q3) == (3.5, 5.5, 10.25)


@pytest.mark.parametrize("empty", [[], [float("nan")], [np.nan, None], np.array([])])
def test_describe_no_values_is_all_none(empty: list) -> None:
    assert describe(empty) == Description(n=0, mean=None, sd=None, median=None, q1=None, q3=None)


def test_describe_one_value_has_no_sd() -> None:
    assert describe([7.5, np.nan]) == Description(n=1, mean=7.5, sd=None, median=7.5, q1=7.5,
                                                  q3=7.5)


def test_describe_identical_values_have_sd_zero() -> None:
    found = describe([4, 4, 4])

    assert (found.n, found.mean, found.sd, found.median) == (3, 4.0, 0.0, 4.0)


def test_describe_returns_plain_floats() -> None:
    found = describe(np.array([1, 2, 3], dtype=np.int64))

    assert all(type(value) is float for value in (found.mean, found.sd, found.median, found.q1,
                                                  found.q3))
    assert type(found.n) is int


@SETTINGS
@given(values.filter(lambda xs: len(xs) >= 2))
def test_describe_agrees_with_scipy(xs: list[float]) -> None:
    found = describe(xs)
    q1, median, q3 = mquantiles(xs, prob=[0.25, 0.5, 0.75], alphap=1, betap=1)  # type 7

    with warnings.catch_warnings():
        # scipy warns when the values are (nearly) identical; the SD is still 0
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        scipy_sd = stats.tstd(xs)  # ddof = 1

    assert found.n == len(xs)
    assert found.mean == pytest.approx(stats.tmean(xs), rel=1e-9, abs=1e-6)
    assert found.sd == pytest.approx(scipy_sd, rel=1e-9, abs=1e-6)
    assert found.sd == pytest.approx(statistics.stdev(xs), rel=1e-9, abs=1e-6)  # exact fractions
    assert found.median == pytest.approx(median, rel=1e-9, abs=1e-6)
    assert found.q1 == pytest.approx(q1, rel=1e-9, abs=1e-6)
    assert found.q3 == pytest.approx(q3, rel=1e-9, abs=1e-6)


@SETTINGS
@given(values, st.integers(0, 10), st.randoms(use_true_random=False))
def test_describe_is_unchanged_by_nan_and_order(xs: list[float], nans: int, rng) -> None:
    noisy = xs + [float("nan")] * nans
    rng.shuffle(noisy)

    found, expected = describe(noisy), describe(xs)

    assert found.n == expected.n
    for field in ("mean", "sd", "median", "q1", "q3"):
        want = getattr(expected, field)
        got = getattr(found, field)
        assert got == (None if want is None else pytest.approx(want, rel=1e-9, abs=1e-6))


@SETTINGS
@given(values.filter(bool))
def test_quartiles_are_ordered_within_the_range(xs: list[float]) -> None:
    found = describe(xs)

    assert min(xs) <= found.q1 <= found.median <= found.q3 <= max(xs)


# ---------------------------------------------------------------------------------------------
# Mean difference


def test_mean_difference_borenstein_example() -> None:
    # D = 103 − 100 = 3; V = 5.5²/50 + 4.5²/50 = 0.605 + 0.405 = 1.01; SE = 1.00499
    # (Borenstein et al. 2009, chapter 4: VD = 1.0100, SED = 1.0050);
    # 95% CI 3 ± 1.959964 × 1.004988 = 1.03026 to 4.96974
    found = mean_difference(**BORENSTEIN)

    assert found.estimate == 3.0
    assert found.se == pytest.approx(math.sqrt(1.01), rel=1e-12)
    assert found.low == pytest.approx(1.0302606, abs=1e-6)
    assert found.high == pytest.approx(4.9697394, abs=1e-6)


def test_mean_difference_level_uses_the_normal_quantile() -> None:
    # 90%: z = qnorm(0.95) = 1.644854; 3 ± 1.644854 × 1.004988
    found = mean_difference(**BORENSTEIN, level=0.90)

    assert found.low == pytest.approx(3 - 1.6448536 * math.sqrt(1.01), abs=1e-6)
    assert found.high == pytest.approx(3 + 1.6448536 * math.sqrt(1.01), abs=1e-6)


@pytest.mark.parametrize("arm", [
    pytest.param({**BORENSTEIN, "n1": 1}, id="n1 = 1"),
    pytest.param({**BORENSTEIN, "n2": 0}, id="n2 = 0"),
    pytest.param({**BORENSTEIN, "sd1": 0.0, "sd2": 0.0}, id="both SDs 0: SE 0"),
    pytest.param({**BORENSTEIN, "mean1": None}, id="mean missing"),
    pytest.param({**BORENSTEIN, "sd2": None}, id="SD missing"),
    pytest.param({**BORENSTEIN, "sd2": float("nan")}, id="SD NaN"),
])
def test_mean_difference_not_estimable(arm: dict) -> None:
    assert mean_difference(**arm) == NONE


def test_mean_difference_with_one_sd_zero_uses_the_other() -> None:
    # SE = √(0 + 4.5²/50) = 4.5/√50 = 0.636396
    found = mean_difference(**{**BORENSTEIN, "sd1": 0.0})

    assert found.estimate == 3.0
    assert found.se == pytest.approx(4.5 / math.sqrt(50), rel=1e-12)


def test_mean_difference_from_describe_of_too_few_values() -> None:
    one, many = describe([5.0]), describe([1.0, 2.0, 3.0])

    found = mean_difference(one.n, one.mean, one.sd, many.n, many.mean, many.sd)

    assert found == NONE


@SETTINGS
@given(arms(), levels)
def test_mean_difference_agrees_with_welch_t_and_the_normal_quantile(arm, level) -> None:
    found = mean_difference(**arm, level=level)
    welch = stats.ttest_ind_from_stats(arm["mean1"], arm["sd1"], arm["n1"],
                                       arm["mean2"], arm["sd2"], arm["n2"], equal_var=False)
    z = stats.norm.ppf((1 + level) / 2)

    assert found.estimate == pytest.approx(arm["mean1"] - arm["mean2"], rel=1e-12, abs=1e-9)
    assert found.estimate / found.se == pytest.approx(welch.statistic, rel=1e-9, abs=1e-9)
    assert found.high - found.estimate == pytest.approx(z * found.se, rel=1e-9)
    assert found.estimate - found.low == pytest.approx(z * found.se, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Hedges' adjusted g


def test_hedges_g_borenstein_example() -> None:
    # Borenstein et al. (2009), chapter 4: S_within = √((49·5.5² + 49·4.5²)/98) = √25.25 = 5.0249,
    # d = 3/5.0249 = 0.5970, J = 1 − 3/(4·98 − 1) = 1 − 3/391 = 0.9923, g = 0.5924.
    # (4·df − 1 with df = N − 2 is the handbook's 4N − 9.)
    found = hedges_g(**BORENSTEIN)

    assert found.estimate == pytest.approx(3 / math.sqrt(25.25) * (1 - 3 / 391), rel=1e-12)
    assert round(found.estimate, 4) == 0.5924


def test_hedges_g_standard_error_is_revmans_not_borensteins() -> None:
    # RevMan: SE² = N/(n1·n2) + g²/(2(N − 3.94)) = 100/2500 + 0.592442²/(2·96.06)
    #        = 0.04 + 0.350987/192.12 = 0.04 + 0.0018269 = 0.0418269 → SE = 0.204516.
    # Borenstein's J²·V_d (0.9923² × 0.041782 → 0.2028) is a different formula and must not match.
    found = hedges_g(**BORENSTEIN)

    assert found.se == pytest.approx(0.2045163, abs=1e-7)
    assert found.se != pytest.approx(0.2028, abs=5e-4)
    assert found.low == pytest.approx(0.5924416 - Z95 * 0.2045163, abs=1e-6)
    assert found.high == pytest.approx(0.5924416 + Z95 * 0.2045163, abs=1e-6)


def test_hedges_g_smallest_computable_trial() -> None:
    # n = 2 + 2: arm 1 values 1, 3 (mean 2, SD √2); arm 2 values 0, 2 (mean 1, SD √2).
    # S = √((2 + 2)/2) = √2; d = 1/√2 = 0.707107; J = 1 − 3/(16 − 9) = 4/7; g = 0.404061;
    # SE² = 4/4 + g²/(2·0.06) = 1 + 0.163265/0.12 = 2.360544 → SE = 1.536406
    found = hedges_g(2, 2.0, math.sqrt(2), 2, 1.0, math.sqrt(2))

    assert found.estimate == pytest.approx(4 / 7 / math.sqrt(2), rel=1e-12)
    assert found.se == pytest.approx(math.sqrt(1 + (8 / 49) / 0.12), rel=1e-12)


@pytest.mark.parametrize("arm", [
    pytest.param({**BORENSTEIN, "n2": 1}, id="n2 = 1"),
    pytest.param({**BORENSTEIN, "n1": 0}, id="n1 = 0"),
    pytest.param({**BORENSTEIN, "sd1": 0.0, "sd2": 0.0}, id="pooled SD 0"),
    pytest.param({**BORENSTEIN, "mean2": None}, id="mean missing"),
    pytest.param({**BORENSTEIN, "mean2": float("nan")}, id="mean NaN"),
])
def test_hedges_g_not_estimable(arm: dict) -> None:
    assert hedges_g(**arm) == NONE


def test_hedges_g_with_one_sd_zero_pools_the_other() -> None:
    # S = √((0 + 49·4.5²)/98) = 4.5/√2
    found = hedges_g(**{**BORENSTEIN, "sd1": 0.0})

    assert found.estimate == pytest.approx(3 / (4.5 / math.sqrt(2)) * (1 - 3 / 391), rel=1e-12)


def test_hedges_g_of_equal_means_is_zero_with_se_from_the_sizes() -> None:
    found = hedges_g(**{**BORENSTEIN, "mean1": 100.0})

    assert found.estimate == 0.0
    assert found.se == pytest.approx(math.sqrt(100 / 2500), rel=1e-12)


@SETTINGS
@given(arms(), levels)
def test_hedges_g_agrees_with_scipy_student_t(arm, level) -> None:
    # Cohen's d from Student's t: d = t·√(1/n1 + 1/n2); g = d·(1 − 3/(4N − 9)).
    n1, n2 = arm["n1"], arm["n2"]
    student = stats.ttest_ind_from_stats(arm["mean1"], arm["sd1"], n1,
                                         arm["mean2"], arm["sd2"], n2, equal_var=True)
    d = student.statistic * math.sqrt(1 / n1 + 1 / n2)
    g = d * (1 - 3 / (4 * (n1 + n2) - 9))
    se = math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2 - 3.94)))
    z = stats.norm.ppf((1 + level) / 2)

    found = hedges_g(**arm, level=level)

    assert found.estimate == pytest.approx(g, rel=1e-9, abs=1e-12)
    assert found.se == pytest.approx(se, rel=1e-9)
    assert found.low == pytest.approx(g - z * se, rel=1e-9, abs=1e-9)
    assert found.high == pytest.approx(g + z * se, rel=1e-9, abs=1e-9)


@SETTINGS
@given(arms())
def test_hedges_g_shrinks_cohens_d_toward_zero(arm) -> None:
    pooled = math.sqrt(((arm["n1"] - 1) * arm["sd1"] ** 2 + (arm["n2"] - 1) * arm["sd2"] ** 2)
                       / (arm["n1"] + arm["n2"] - 2))
    d = (arm["mean1"] - arm["mean2"]) / pooled

    g = hedges_g(**arm).estimate

    assert abs(g) <= abs(d)
    assert g * d >= 0
    if d != 0:
        assert abs(g) < abs(d)


# ---------------------------------------------------------------------------------------------
# Risk ratio


def test_risk_ratio_borenstein_example() -> None:
    # Borenstein et al. (2009), chapter 5: RR = (5/100)/(10/100) = 0.5;
    # V(ln RR) = 1/5 − 1/100 + 1/10 − 1/100 = 0.28, SE = 0.5292;
    # 95% CI exp(ln 0.5 ± 1.959964 × 0.529150) = 0.17724 to 1.41053
    found = risk_ratio(5, 100, 10, 100)

    assert found.estimate == pytest.approx(0.5, rel=1e-12)
    assert found.se == pytest.approx(math.sqrt(0.28), rel=1e-12)
    assert round(found.se, 4) == 0.5292
    assert found.low == pytest.approx(0.1772379, abs=1e-6)
    assert found.high == pytest.approx(1.4105339, abs=1e-6)


def test_risk_ratio_no_events_in_one_arm_adds_a_half_to_every_cell() -> None:
    # 0/20 vs 5/20 → 0.5/21 vs 5.5/21: RR = 0.5/5.5 = 1/11;
    # SE² = 1/0.5 − 1/21 + 1/5.5 − 1/21 = 2 + 2/11 − 2/21 = 2.086580
    found = risk_ratio(0, 20, 5, 20)

    assert found.estimate == pytest.approx(1 / 11, rel=1e-12)
    assert found.se == pytest.approx(math.sqrt(2 + 2 / 11 - 2 / 21), rel=1e-12)
    assert found.low == pytest.approx(math.exp(math.log(1 / 11) - Z95 * found.se), rel=1e-9)


def test_risk_ratio_all_events_in_one_arm_adds_a_half_to_every_cell() -> None:
    # 10/10 vs 5/10 → 10.5/11 vs 5.5/11: RR = 10.5/5.5 = 21/11 (uncorrected it would be 2);
    # SE² = 1/10.5 − 1/11 + 1/5.5 − 1/11 = 2/21 + 2/11 − 2/11 = 2/21
    found = risk_ratio(10, 10, 5, 10)

    assert found.estimate == pytest.approx(21 / 11, rel=1e-12)
    assert found.se == pytest.approx(math.sqrt(2 / 21), rel=1e-12)


def test_risk_ratio_no_events_against_all_events() -> None:
    # 0/10 vs 10/10 → 0.5/11 vs 10.5/11: RR = 1/21; SE² = 2 − 1/11 + 1/10.5 − 1/11
    found = risk_ratio(0, 10, 10, 10)

    assert found.estimate == pytest.approx(1 / 21, rel=1e-12)
    assert found.se == pytest.approx(math.sqrt(2 - 2 / 11 + 2 / 21), rel=1e-12)


def test_risk_ratio_without_zero_cells_is_uncorrected() -> None:
    # 1/3 vs 2/3: RR = 0.5 exactly; SE² = 1 − 1/3 + 1/2 − 1/3 = 5/6
    found = risk_ratio(1, 3, 2, 3)

    assert found.estimate == pytest.approx(0.5, rel=1e-12)
    assert found.se == pytest.approx(math.sqrt(5 / 6), rel=1e-12)


@pytest.mark.parametrize("table", [
    pytest.param((0, 30, 0, 25), id="no events in either arm"),
    pytest.param((30, 30, 25, 25), id="all events in both arms"),
    pytest.param((0, 0, 3, 10), id="empty arm 1"),
    pytest.param((3, 10, 0, 0), id="empty arm 2"),
])
def test_risk_ratio_not_estimable(table: tuple[int, int, int, int]) -> None:
    assert risk_ratio(*table) == NONE


@pytest.mark.parametrize("table", [(11, 10, 3, 10), (3, 10, -1, 10)])
def test_risk_ratio_rejects_impossible_counts(table: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="events must be between 0 and n"):
        risk_ratio(*table)


@SETTINGS
@given(tables(zero_cells=False), levels)
def test_risk_ratio_agrees_with_scipy(table, level) -> None:
    events1, n1, events2, n2 = table
    reference = relative_risk(events1, n1, events2, n2)
    interval = reference.confidence_interval(confidence_level=level)

    found = risk_ratio(events1, n1, events2, n2, level=level)

    assert found.estimate == pytest.approx(reference.relative_risk, rel=1e-9)
    assert found.low == pytest.approx(interval.low, rel=1e-9)
    assert found.high == pytest.approx(interval.high, rel=1e-9)


@SETTINGS
@given(tables())
def test_risk_ratio_interval_is_symmetric_on_the_log_scale(table) -> None:
    found = risk_ratio(*table)

    below = math.log(found.estimate) - math.log(found.low)
    above = math.log(found.high) - math.log(found.estimate)
    assert below == pytest.approx(above, rel=1e-9)
    assert below == pytest.approx(Z95 * found.se, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Properties shared by the three comparisons


@SETTINGS
@given(arms())
def test_swapping_groups_negates_md_and_g(arm) -> None:
    for compare in (mean_difference, hedges_g):
        forward, backward = compare(**arm), compare(**swapped(arm))

        assert backward.estimate == pytest.approx(-forward.estimate, rel=1e-12, abs=1e-12)
        assert backward.low == pytest.approx(-forward.high, rel=1e-9, abs=1e-9)
        assert backward.high == pytest.approx(-forward.low, rel=1e-9, abs=1e-9)
        assert backward.se == pytest.approx(forward.se, rel=1e-12)


@SETTINGS
@given(tables())
def test_swapping_groups_inverts_rr(table) -> None:
    events1, n1, events2, n2 = table
    forward, backward = risk_ratio(events1, n1, events2, n2), risk_ratio(events2, n2, events1, n1)

    assert backward.estimate == pytest.approx(1 / forward.estimate, rel=1e-9)
    assert backward.low == pytest.approx(1 / forward.high, rel=1e-9)
    assert backward.high == pytest.approx(1 / forward.low, rel=1e-9)
    assert backward.se == pytest.approx(forward.se, rel=1e-12)


@SETTINGS
@given(arms(), tables(), levels)
def test_interval_contains_the_estimate(arm, table, level) -> None:
    for found in (mean_difference(**arm, level=level), hedges_g(**arm, level=level),
                  risk_ratio(*table, level=level)):
        assert found.low < found.estimate < found.high
        assert found.se > 0


@SETTINGS
@given(arms(), tables(), levels, levels)
def test_interval_widens_with_the_level(arm, table, level_a, level_b) -> None:
    assume(abs(level_a - level_b) > 1e-6)
    narrow, wide = sorted((level_a, level_b))
    for compare, args in ((mean_difference, arm), (hedges_g, arm)):
        assert width(compare(**args, level=narrow)) < width(compare(**args, level=wide))
    assert width(risk_ratio(*table, level=narrow)) < width(risk_ratio(*table, level=wide))


@pytest.mark.parametrize("level", [0, 1, 95, -0.5, float("nan")])
def test_level_must_be_a_probability(level: float) -> None:
    for call in (lambda: mean_difference(**BORENSTEIN, level=level),
                 lambda: hedges_g(**BORENSTEIN, level=level),
                 lambda: risk_ratio(5, 100, 10, 100, level=level)):
        with pytest.raises(ValueError, match="level must be between 0 and 1"):
            call()


@pytest.mark.parametrize("arm", [
    pytest.param({**BORENSTEIN, "sd1": -1.0}, id="negative SD"),
    pytest.param({**BORENSTEIN, "n2": -3}, id="negative n"),
])
def test_continuous_comparisons_reject_impossible_summaries(arm: dict) -> None:
    for compare in (mean_difference, hedges_g):
        with pytest.raises(ValueError, match="must not be negative"):
            compare(**arm)
