"""Per-arm numbers a systematic reviewer extracts from a trial, computed as RevMan computes them.

Pure numpy and the standard library: no pandas, no Flask, no SQL, no scipy. Values are not
rounded; the writers format them.

**One group** (`describe`). NaN values are ignored (so is None in a list, which numpy reads as
NaN); n counts the values left.

- mean: the arithmetic mean.
- sd: the sample standard deviation, ddof = 1 (divisor n − 1); None when n < 2.
- median, q1, q3: the 50th, 25th and 75th percentiles by linear interpolation between order
  statistics, numpy's default method ("linear"), which is pandas' default and R's type 7:
  the p-th quantile sits at position (n − 1)·p of the sorted values, counting from 0.
- n = 0: every statistic is None. n = 1: mean, median, q1 and q3 are the value; sd is None.

**Two groups.** Every comparison is group 1 against group 2 (group 1 minus group 2, or group 1
over group 2). Each returns an `Estimate` (estimate, low, high, se); the interval is
two-sided at `level` (default 0.95), normal approximation: estimate ± z·SE with
z = Φ⁻¹((1 + level) / 2) (`statistics.NormalDist`; 1.959964 at 0.95). When the comparison
cannot be computed every field is None, never NaN and never a guess.

- **Mean difference** (`mean_difference`): MD = mean1 − mean2,
  SE = √(sd1²/n1 + sd2²/n2) (inverse-variance, separate SDs). None when either group has
  n < 2, when a mean or SD is missing (None or NaN), or when SE = 0 (both SDs 0): RevMan
  reports such a study as "not estimable".
- **Standardised mean difference, Hedges' adjusted g** (`hedges_g`), N = n1 + n2:

      pooled SD  S = √( ((n1 − 1)·sd1² + (n2 − 1)·sd2²) / (N − 2) )
      g          = (mean1 − mean2) / S × (1 − 3 / (4N − 9))
      SE(g)      = √( N / (n1·n2) + g² / (2·(N − 3.94)) )

  1 − 3/(4N − 9) is Hedges' small-sample correction (Hedges & Olkin's approximation,
  1 − 3/(4·df − 1) with df = N − 2): g is Cohen's d = (mean1 − mean2) / S shrunk toward 0.
  None when either group has n < 2, a mean or SD is missing, or S = 0.
  For MD and g alike, a negative n or SD raises ValueError.
- **Risk ratio** (`risk_ratio`): RR = (a/n1) / (c/n2), with a and c the events in groups
  1 and 2. SE is of ln RR: SE = √(1/a − 1/n1 + 1/c − 1/n2); the interval is
  exp(ln RR ± z·SE), and `Estimate.se` holds SE(ln RR), not an SE on the ratio scale.
  Zero cells, as RevMan: when a cell of the 2×2 table is 0 (an arm with no events, or with
  every participant an event), 0.5 is added to all four cells, so a becomes a + 0.5 and n1
  becomes n1 + 1 (likewise c and n2). When both arms have no events, or both have all events,
  the trial says nothing about the ratio and RR is undefined (None), as RevMan omits it; so
  too when an arm has no participants. Counts outside 0 ≤ events ≤ n raise ValueError.

Sources:

- Higgins JPT, Li T, Deeks JJ (editors). Chapter 6: Choosing effect measures and computing
  estimates of effect. In: Cochrane Handbook for Systematic Reviews of Interventions,
  version 6 (6.4, 2023): section 6.5.1.1 (mean difference), section 6.5.1.2 (the
  standardized mean difference is Hedges' adjusted g, with a pooled SD and a small-sample
  correction), section 6.4.1.2 (risk ratio, analysed on the log scale).
- Deeks JJ, Higgins JPT. Statistical algorithms in Review Manager 5 (Cochrane, 2010), carried
  into the RevMan Web "statistical methods" documentation: the MD, SMD (the g, correction
  factor and SE formulas above, with N − 3.94) and RR formulas and the 0.5 zero-cell rule.
- Cochrane Handbook version 5.1, section 9.2.2.2, and version 6, chapter 10, section 10.4.4.1:
  RevMan adds ½ to each cell of a 2×2 table with a zero cell; trials with no events (or all
  events) in both arms are omitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

#: Hedges' correction is 1 − 3 / (4N − 9): 4N − 9 > 0 needs N ≥ 3, the SE's N − 3.94 needs
#: N ≥ 4; both hold when each group has at least two values.
_MIN_GROUP_SIZE = 2
_CONTINUITY_CORRECTION = 0.5


@dataclass(frozen=True)
class Description:
    """One group's values, NaN ignored. None where the statistic needs more values."""

    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True)
class Estimate:
    """A comparison of two groups with its confidence interval; all None when not computable."""

    estimate: float | None
    low: float | None
    high: float | None
    se: float | None


NOT_ESTIMABLE = Estimate(estimate=None, low=None, high=None, se=None)


def describe(values: ArrayLike) -> Description:
    """N, mean, SD (n − 1), median and quartiles (linear interpolation) of the non-NaN values."""
    array = np.asarray(values, dtype=float).ravel()
    array = array[~np.isnan(array)]
    n = int(array.size)
    if n == 0:
        return Description(n=0, mean=None, sd=None, median=None, q1=None, q3=None)
    q1, median, q3 = np.percentile(array, [25, 50, 75], method="linear")
    sd = float(np.std(array, ddof=1)) if n >= _MIN_GROUP_SIZE else None
    return Description(n=n, mean=float(np.mean(array)), sd=sd, median=float(median),
                       q1=float(q1), q3=float(q3))


def z_value(level: float) -> float:
    """The standard normal quantile of a two-sided interval at `level`: 1.959964 at 0.95."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level!r}")
    return NormalDist().inv_cdf((1 + level) / 2)


def mean_difference(n1: int, mean1: float | None, sd1: float | None,
                    n2: int, mean2: float | None, sd2: float | None, *,
                    level: float = 0.95) -> Estimate:
    """Mean of group 1 minus mean of group 2, inverse-variance SE, normal interval."""
    z = z_value(level)
    if not _comparable(n1, mean1, sd1, n2, mean2, sd2):
        return NOT_ESTIMABLE
    se = math.sqrt(sd1**2 / n1 + sd2**2 / n2)
    if se == 0:
        return NOT_ESTIMABLE
    return _normal_interval(mean1 - mean2, se, z)


def hedges_g(n1: int, mean1: float | None, sd1: float | None,
             n2: int, mean2: float | None, sd2: float | None, *,
             level: float = 0.95) -> Estimate:
    """Hedges' adjusted g of group 1 against group 2, with RevMan's SE (N − 3.94)."""
    z = z_value(level)
    if not _comparable(n1, mean1, sd1, n2, mean2, sd2):
        return NOT_ESTIMABLE
    total = n1 + n2
    pooled_sd = pooled_standard_deviation(n1, sd1, n2, sd2)
    if pooled_sd == 0:
        return NOT_ESTIMABLE
    g = (mean1 - mean2) / pooled_sd * small_sample_correction(total)
    se = math.sqrt(total / (n1 * n2) + g**2 / (2 * (total - 3.94)))
    return _normal_interval(g, se, z)


def pooled_standard_deviation(n1: int, sd1: float, n2: int, sd2: float) -> float:
    """√(((n1 − 1)·sd1² + (n2 − 1)·sd2²) / (n1 + n2 − 2))."""
    return math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))


def small_sample_correction(total: int) -> float:
    """Hedges' correction factor 1 − 3 / (4N − 9), N the two groups' total."""
    return 1 - 3 / (4 * total - 9)


def risk_ratio(events1: int, n1: int, events2: int, n2: int, *,
               level: float = 0.95) -> Estimate:
    """Risk in group 1 over risk in group 2; `se` is SE(ln RR); RevMan's 0.5 zero-cell rule."""
    z = z_value(level)
    _check_counts(events1, n1)
    _check_counts(events2, n2)
    if n1 == 0 or n2 == 0:
        return NOT_ESTIMABLE
    no_events = events1 == 0 and events2 == 0
    all_events = events1 == n1 and events2 == n2
    if no_events or all_events:
        return NOT_ESTIMABLE
    zero_cell = has_zero_cell(events1, n1) or has_zero_cell(events2, n2)
    correction = _CONTINUITY_CORRECTION if zero_cell else 0.0
    a, total1 = events1 + correction, n1 + 2 * correction
    c, total2 = events2 + correction, n2 + 2 * correction
    log_rr = math.log((a / total1) / (c / total2))
    se = math.sqrt(1 / a - 1 / total1 + 1 / c - 1 / total2)
    return Estimate(estimate=math.exp(log_rr), low=math.exp(log_rr - z * se),
                    high=math.exp(log_rr + z * se), se=se)


def has_zero_cell(events: int, n: int) -> bool:
    """True when an arm has no events or no non-events: a zero in its row of the 2×2 table."""
    return events == 0 or events == n


def _comparable(n1: int, mean1: float | None, sd1: float | None,
                n2: int, mean2: float | None, sd2: float | None) -> bool:
    _check_group(n1, sd1)
    _check_group(n2, sd2)
    if n1 < _MIN_GROUP_SIZE or n2 < _MIN_GROUP_SIZE:
        return False
    return not any(_missing(value) for value in (mean1, sd1, mean2, sd2))


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def _check_group(n: int, sd: float | None) -> None:
    if n < 0:
        raise ValueError(f"n must not be negative: {n}")
    if sd is not None and sd < 0:
        raise ValueError(f"a standard deviation must not be negative: {sd}")


def _check_counts(events: int, n: int) -> None:
    if not 0 <= events <= n:
        raise ValueError(f"events must be between 0 and n: {events} of {n}")


def _normal_interval(estimate: float, se: float, z: float) -> Estimate:
    return Estimate(estimate=estimate, low=estimate - z * se, high=estimate + z * se, se=se)
