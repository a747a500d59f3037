"""Change from baseline, and what it means clinically: responder categories and worsening.

Each scale declares `higher_is` (better or worse) and, where one is published, its minimal
clinically important difference (`mcid`: absolute points and/or percent of baseline). From a
baseline and a later value:

- **change** is later − baseline, in the scale's units. **Percent change** is change / |baseline|
  × 100; it is undefined (None) when the baseline is 0.
- **improvement** is the change in the better direction: −change when higher is worse.
- **A scale's MCID threshold** is its absolute MCID when declared, otherwise its percent.
- **Worsened**: the worsening reaches the MCID threshold. Reaching it counts.
- **Responder category.** For pain-intensity scales (an instrument of the `pain_intensity`
  domain whose scale declares a percent MCID), the IMMPACT categories apply (Dworkin et al.,
  J Pain 2008;9:105–121):
  - `substantial_improvement` at a 50% or greater reduction;
  - `moderate_improvement` at 30% or more;
  - `worsened` at the MCID threshold;
  - `no_important_change` otherwise.

  For other scales with an MCID, the categories are `improved` and `worsened` at the threshold,
  and `no_important_change`. A scale without an MCID has no category.

Comparisons allow for floating-point error, so that 7 → 4.9 is the 30% it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from prom.instruments.spec import Definition, Scale

EPSILON = 1e-9
IMMPACT_SUBSTANTIAL, IMMPACT_MODERATE = 50.0, 30.0

CATEGORY_LABELS = {
    "substantial_improvement": "Substantial improvement (pain reduced by 50% or more)",
    "moderate_improvement": "Moderate improvement (pain reduced by 30% or more)",
    "improved": "Improved by at least the MCID",
    "no_important_change": "No clinically important change",
    "worsened": "Worse by at least the MCID",
}


@dataclass(frozen=True)
class Change:
    baseline: float
    value: float

    @property
    def change(self) -> float:
        return self.value - self.baseline

    @property
    def percent_change(self) -> float | None:
        return None if self.baseline == 0 else self.change / abs(self.baseline) * 100


@dataclass(frozen=True)
class Responder:
    category: str
    label: str
    rule: str


def improvement(scale: Scale, change: Change) -> tuple[float, float | None]:
    """The change in the better direction: (points, percent of baseline or None)."""
    sign = -1.0 if scale.higher_is == "worse" else 1.0
    percent = change.percent_change
    return sign * change.change, None if percent is None else sign * percent


def worse_beyond_mcid(scale: Scale, change: Change) -> bool:
    """Whether the worsening reaches the scale's MCID threshold (False without an MCID)."""
    if scale.mcid is None:
        return False
    points, percent = improvement(scale, change)
    if scale.mcid.absolute is not None:
        return -points >= scale.mcid.absolute - EPSILON
    return percent is not None and -percent >= scale.mcid.percent - EPSILON


def is_pain_intensity(definition: Definition, scale: Scale) -> bool:
    """Whether the IMMPACT pain categories apply to the scale (see the module docstring)."""
    return ("pain_intensity" in definition.domains and scale.mcid is not None
            and scale.mcid.percent is not None)


def responder(definition: Definition, scale: Scale, change: Change) -> Responder | None:
    """The responder category of a change (see the module docstring); None without an MCID."""
    mcid = scale.mcid
    if mcid is None:
        return None
    points, percent = improvement(scale, change)
    pain = is_pain_intensity(definition, scale)
    if worse_beyond_mcid(scale, change):
        category = "worsened"
    elif pain and percent is not None and percent >= IMMPACT_SUBSTANTIAL - EPSILON:
        category = "substantial_improvement"
    elif pain and percent is not None and percent >= IMMPACT_MODERATE - EPSILON:
        category = "moderate_improvement"
    elif not pain and (points >= mcid.absolute - EPSILON if mcid.absolute is not None
                       else percent is not None and percent >= mcid.percent - EPSILON):
        category = "improved"
    else:
        category = "no_important_change"
    rule = (f"IMMPACT: pain reduced by ≥50% substantial, ≥30% moderate; worse by "
            f"{_threshold(scale)} worsened" if pain
            else f"improved or worse by the MCID, {_threshold(scale)}")
    return Responder(category, CATEGORY_LABELS[category], rule)


def _threshold(scale: Scale) -> str:
    assert scale.mcid is not None
    if scale.mcid.absolute is not None:
        return f"{scale.mcid.absolute:g} points"
    return f"{scale.mcid.percent:g}% of baseline"
