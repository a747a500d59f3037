"""Change from baseline and what it means clinically (prom/scoring/change.py).

Contract, from the module docstring:

- change = later − baseline; percent change = change / |baseline| × 100, None at baseline 0;
  improvement is the change in the better direction (sign flipped when higher is worse).
- The MCID threshold is the absolute MCID when declared, else the percent. `worse_beyond_mcid`
  is true when the worsening reaches it (reaching counts); false without an MCID.
- Pain-intensity scales (an instrument of the `pain_intensity` domain, a scale with a percent
  MCID) use the IMMPACT categories: substantial improvement at ≥50% reduction, moderate at
  ≥30%, worsened at the threshold, else no important change. Other scales with an MCID are
  improved / worsened at the threshold, else no important change. No MCID, no category.
- Comparisons allow for floating-point error: 7 → 4.9 is the 30% it is.

Every expected value below is computed by hand from those rules. Scales are the library's
(nrs_pain: 2 points / 30%, higher worse; peg: 30% only; phq9: 5 points only; pseq: 7 points,
higher better; eq5d5l index_us: 0.078, higher better), and a few derived from them with
`dataclasses.replace` where the library has no example.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prom.instruments import load_library
from prom.instruments.spec import Definition, Mcid, Scale
from prom.scoring.change import (
    CATEGORY_LABELS,
    Change,
    improvement,
    is_pain_intensity,
    responder,
    worse_beyond_mcid,
)

LIBRARY = load_library()
NRS = LIBRARY.get("nrs_pain")
PEG = LIBRARY.get("peg")
PHQ9 = LIBRARY.get("phq9")
PSEQ = LIBRARY.get("pseq")
EQ5D = LIBRARY.get("eq5d5l")

NRS_PAIN = NRS.scale("pain_intensity")
PEG_SCALE = PEG.scale("peg")
PHQ9_SCALE = PHQ9.scale("phq9")
PSEQ_SCALE = PSEQ.scale("pseq")
EQ5D_INDEX = EQ5D.scale("index_us")
#: A non-pain scale with only a percent MCID (none in the library): phq9 with 20%.
PHQ9_PERCENT = replace(PHQ9_SCALE, mcid=Mcid(absolute=None, percent=20, source="test"))
#: A pain scale whose MCID is absolute only: the IMMPACT categories do not apply.
NRS_ABSOLUTE = replace(NRS_PAIN, mcid=Mcid(absolute=2, percent=None, source="test"))
NRS_NO_MCID = replace(NRS_PAIN, mcid=None)
#: nrs_pain's scale in an instrument that is not of the pain_intensity domain.
NOT_PAIN = replace(NRS, domains=("physical_function",))

IMPROVEMENTS = {"improved", "moderate_improvement", "substantial_improvement"}


def category(definition: Definition, scale: Scale, baseline: float, value: float) -> str | None:
    found = responder(definition, scale, Change(baseline, value))
    return None if found is None else found.category


# ---------------------------------------------------------------------------------------------
# Change and percent change


@pytest.mark.parametrize(("baseline", "value", "change", "percent"), [
    (8, 4, -4, -50.0),
    (4, 8, 4, 100.0),
    (5, 5, 0, 0.0),
    (0, 3, 3, None),
    (0, 0, 0, None),
    (-4, -2, 2, 50.0),  # |baseline|: a rise from a negative baseline is a positive percent
])
def test_change_and_percent_change(baseline: float, value: float, change: float,
                                   percent: float | None) -> None:
    found = Change(baseline, value)

    assert found.change == change
    assert found.percent_change == (None if percent is None else pytest.approx(percent))


@pytest.mark.parametrize(("scale", "baseline", "value", "expected"), [
    (NRS_PAIN, 8, 4, (4, 50.0)),  # higher is worse: a fall is an improvement
    (NRS_PAIN, 4, 8, (-4, -100.0)),
    (PSEQ_SCALE, 20, 30, (10, 50.0)),  # higher is better: a rise is an improvement
    (PSEQ_SCALE, 30, 20, (-10, pytest.approx(-33.333333))),
    (NRS_PAIN, 0, 2, (-2, None)),
])
def test_improvement_is_the_change_in_the_better_direction(
        scale: Scale, baseline: float, value: float, expected: tuple[float, float | None]) -> None:
    assert improvement(scale, Change(baseline, value)) == expected


# ---------------------------------------------------------------------------------------------
# Worse beyond the MCID


@pytest.mark.parametrize(("scale", "baseline", "value", "worse"), [
    pytest.param(NRS_PAIN, 5, 7, True, id="nrs +2: exactly the absolute MCID"),
    pytest.param(NRS_PAIN, 5, 6.9, False, id="nrs +1.9"),
    pytest.param(NRS_PAIN, 2, 3, False, id="nrs +50% but 1 point: absolute decides"),
    pytest.param(NRS_PAIN, 7, 9.1, True, id="nrs 7 to 9.1: +2.1 in floating point"),
    pytest.param(NRS_PAIN, 0, 2, True, id="nrs from 0"),
    pytest.param(NRS_PAIN, 7, 5, False, id="nrs improvement"),
    pytest.param(PEG_SCALE, 10 / 3, 13 / 3, True, id="peg 10/3 to 13/3: 30% (29.99999…)"),
    pytest.param(PEG_SCALE, 10, 13, True, id="peg +30%"),
    pytest.param(PEG_SCALE, 10, 12.9, False, id="peg +29%"),
    pytest.param(PEG_SCALE, 0, 10, False, id="peg from 0: no percent, no threshold"),
    pytest.param(PHQ9_SCALE, 10, 15, True, id="phq9 +5"),
    pytest.param(PHQ9_SCALE, 10, 14, False, id="phq9 +4"),
    pytest.param(PHQ9_PERCENT, 10, 12, True, id="percent-only non-pain +20%"),
    pytest.param(PHQ9_PERCENT, 10, 11.9, False, id="percent-only non-pain +19%"),
    pytest.param(PSEQ_SCALE, 30, 23, True, id="pseq −7: higher is better"),
    pytest.param(PSEQ_SCALE, 30, 24, False, id="pseq −6"),
    pytest.param(PSEQ_SCALE, 30, 40, False, id="pseq +10 is better"),
    pytest.param(EQ5D_INDEX, 0.7, 0.622, True, id="eq5d −0.078 in floating point"),
    pytest.param(EQ5D_INDEX, 0.7, 0.623, False, id="eq5d −0.077"),
    pytest.param(NRS_NO_MCID, 0, 10, False, id="no MCID"),
])
def test_worse_beyond_mcid(scale: Scale, baseline: float, value: float, worse: bool) -> None:
    assert worse_beyond_mcid(scale, Change(baseline, value)) is worse


def test_the_floating_point_cases_really_miss_the_threshold_without_a_tolerance() -> None:
    # What the tolerance is for: these are the MCID exactly, but not in binary floating point.
    assert Change(7, 4.9).percent_change > -30
    assert Change(10 / 3, 13 / 3).percent_change < 30
    assert -Change(0.7, 0.622).change < 0.078


# ---------------------------------------------------------------------------------------------
# Responder categories


@pytest.mark.parametrize(("baseline", "value", "expected"), [
    pytest.param(8, 4, "substantial_improvement", id="−50%"),
    pytest.param(10, 5, "substantial_improvement", id="−50% from 10"),
    pytest.param(10, 5.1, "moderate_improvement", id="−49%"),
    pytest.param(10, 7, "moderate_improvement", id="−30%"),
    pytest.param(7, 4.9, "moderate_improvement", id="7 to 4.9: −30% in floating point"),
    pytest.param(10, 7.1, "no_important_change", id="−29%"),
    pytest.param(10, 8, "no_important_change", id="−2 points is only −20%: IMMPACT is percent"),
    pytest.param(5, 7, "worsened", id="+2 points"),
    pytest.param(5, 6.9, "no_important_change", id="+1.9 points"),
    pytest.param(2, 3, "no_important_change", id="+50% but 1 point"),
    pytest.param(0, 0, "no_important_change", id="0 to 0"),
    pytest.param(0, 2, "worsened", id="0 to 2: absolute"),
    pytest.param(8, 0, "substantial_improvement", id="−100%"),
])
def test_immpact_categories_for_pain_intensity(baseline: float, value: float,
                                               expected: str) -> None:
    assert is_pain_intensity(NRS, NRS_PAIN)
    found = responder(NRS, NRS_PAIN, Change(baseline, value))

    assert found is not None
    assert found.category == expected
    assert found.label == CATEGORY_LABELS[expected]
    assert "IMMPACT" in found.rule and "2 points" in found.rule


@pytest.mark.parametrize(("baseline", "value", "expected"), [
    (10 / 3, 5 / 3, "substantial_improvement"),
    (10 / 3, 7 / 3, "moderate_improvement"),  # 30% in floating point
    (10 / 3, 8 / 3, "no_important_change"),
    (10 / 3, 13 / 3, "worsened"),
    (0, 5, "no_important_change"),  # from 0 there is no percent, and peg has nothing else
])
def test_peg_is_a_pain_scale_with_a_percent_threshold(baseline: float, value: float,
                                                      expected: str) -> None:
    found = responder(PEG, PEG_SCALE, Change(baseline, value))

    assert found is not None and found.category == expected
    assert "30% of baseline" in found.rule


@pytest.mark.parametrize(("definition", "scale", "baseline", "value", "expected"), [
    pytest.param(PHQ9, PHQ9_SCALE, 15, 10, "improved", id="phq9 −5"),
    pytest.param(PHQ9, PHQ9_SCALE, 15, 11, "no_important_change", id="phq9 −4"),
    pytest.param(PHQ9, PHQ9_SCALE, 10, 15, "worsened", id="phq9 +5"),
    pytest.param(PHQ9, PHQ9_SCALE, 0, 0, "no_important_change", id="phq9 0 to 0"),
    pytest.param(PSEQ, PSEQ_SCALE, 20, 27, "improved", id="pseq +7: higher is better"),
    pytest.param(PSEQ, PSEQ_SCALE, 20, 26, "no_important_change", id="pseq +6"),
    pytest.param(PSEQ, PSEQ_SCALE, 27, 20, "worsened", id="pseq −7"),
    pytest.param(EQ5D, EQ5D_INDEX, 0.622, 0.7, "improved", id="eq5d +0.078 in floating point"),
    pytest.param(EQ5D, EQ5D_INDEX, 0.7, 0.622, "worsened", id="eq5d −0.078"),
    pytest.param(PHQ9, PHQ9_PERCENT, 10, 8, "improved", id="percent-only −20%"),
    pytest.param(PHQ9, PHQ9_PERCENT, 10, 8.1, "no_important_change", id="percent-only −19%"),
    pytest.param(PHQ9, PHQ9_PERCENT, 0, 5, "no_important_change", id="percent-only from 0"),
    pytest.param(NRS, NRS_ABSOLUTE, 8, 6, "improved", id="pain scale, absolute MCID only"),
    pytest.param(NOT_PAIN, NRS_PAIN, 10, 5, "improved", id="not a pain_intensity instrument"),
    pytest.param(NOT_PAIN, NRS_PAIN, 10, 8.1, "no_important_change", id="−1.9, not pain"),
])
def test_other_scales_are_improved_or_worsened_at_the_threshold(
        definition: Definition, scale: Scale, baseline: float, value: float,
        expected: str) -> None:
    assert not is_pain_intensity(definition, scale)
    found = responder(definition, scale, Change(baseline, value))

    assert found is not None
    assert found.category == expected
    assert found.label == CATEGORY_LABELS[expected]
    assert "IMMPACT" not in found.rule


def test_the_rule_states_the_threshold() -> None:
    assert "5 points" in responder(PHQ9, PHQ9_SCALE, Change(10, 10)).rule
    assert "20% of baseline" in responder(PHQ9, PHQ9_PERCENT, Change(10, 10)).rule
    assert "0.078 points" in responder(EQ5D, EQ5D_INDEX, Change(0.5, 0.5)).rule


@pytest.mark.parametrize(("definition", "scale"), [
    (NRS, NRS_NO_MCID), (EQ5D, EQ5D.scale("vas")), (LIBRARY.get("pcs"), None)])
def test_a_scale_without_an_mcid_has_no_category(definition: Definition,
                                                  scale: Scale | None) -> None:
    scale = scale or definition.scales[0]
    assert scale.mcid is None
    assert responder(definition, scale, Change(10, 0)) is None
    assert not worse_beyond_mcid(scale, Change(0, 10))


# ---------------------------------------------------------------------------------------------
# Properties

#: Scales with an MCID of every kind: (definition, scale, range).
WITH_MCID = [
    (NRS, NRS_PAIN), (PEG, PEG_SCALE), (PHQ9, PHQ9_SCALE), (PSEQ, PSEQ_SCALE),
    (EQ5D, EQ5D_INDEX), (PHQ9, PHQ9_PERCENT), (NRS, NRS_ABSOLUTE), (NOT_PAIN, NRS_PAIN)]


@st.composite
def changes(draw: st.DrawFn) -> tuple[Definition, Scale, Change]:
    """A scale with an MCID, and two values in its range (in hundredths, as scores are)."""
    definition, scale = draw(st.sampled_from(WITH_MCID))
    low, high = (round(bound * 100) for bound in scale.range)
    value = st.integers(low, high).map(lambda n: n / 100)
    return definition, scale, Change(draw(value), draw(value))


@given(changes())
def test_a_change_in_the_worse_direction_is_never_an_improvement(
        drawn: tuple[Definition, Scale, Change]) -> None:
    definition, scale, change = drawn
    found = responder(definition, scale, change)
    points, _ = improvement(scale, change)

    assert found is not None
    if points < 0:
        assert found.category not in IMPROVEMENTS
    if points > 0:
        assert found.category != "worsened"
    if points == 0:
        assert found.category == "no_important_change"


@given(changes())
def test_worsened_is_exactly_worse_beyond_the_mcid(
        drawn: tuple[Definition, Scale, Change]) -> None:
    definition, scale, change = drawn

    assert (responder(definition, scale, change).category == "worsened") is worse_beyond_mcid(
        scale, change)


@given(changes(), st.integers(0, 500).map(lambda n: n / 100))
def test_worsening_further_stays_worse(drawn: tuple[Definition, Scale, Change],
                                       further: float) -> None:
    _, scale, change = drawn
    sign = 1 if scale.higher_is == "worse" else -1
    worse_still = Change(change.baseline, change.value + sign * further)

    if worse_beyond_mcid(scale, change):
        assert worse_beyond_mcid(scale, worse_still)


@given(changes())
def test_immpact_categories_follow_the_percent_reduction(
        drawn: tuple[Definition, Scale, Change]) -> None:
    definition, scale, change = drawn
    found = responder(definition, scale, change)
    _, percent = improvement(scale, change)

    if found.category == "substantial_improvement":
        assert is_pain_intensity(definition, scale)
        assert percent is not None and percent > 50 - 1e-6
    if found.category == "moderate_improvement":
        assert is_pain_intensity(definition, scale)
        assert percent is not None and 30 - 1e-6 < percent < 50
