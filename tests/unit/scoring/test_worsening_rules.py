"""Every `worsening` alert rule in the instrument library, checked against its own scale.

A rule fires when the scale is worse than baseline by at least its MCID: the absolute MCID
when one is declared, else the percent. This test does not name the instruments. It walks
the library, so a rule added later is covered too, and it can fail: a rule on a scale without
an MCID, or threshold arithmetic that ignores `higher_is`.
"""

from __future__ import annotations

import pytest

from prom.instruments import load_library
from prom.scoring.change import Change, worse_beyond_mcid

LIBRARY = load_library()
RULES = [(definition, alert) for definition in LIBRARY for alert in definition.worsening_alerts]


def test_the_library_declares_worsening_rules_for_pain_disability_and_mood() -> None:
    instruments = {definition.id for definition, _ in RULES}
    assert {"nrs_pain", "peg", "bpi_sf", "odi", "rmdq", "pdi", "phq9", "gad7"} <= instruments


@pytest.mark.parametrize(("definition", "alert"), RULES,
                         ids=[f"{d.id}-{a.id}" for d, a in RULES])
def test_each_rule_fires_at_its_mcid_and_not_just_below(definition, alert) -> None:
    scale = definition.scale(alert.worsening)
    low, high = scale.range
    baseline = low + (high - low) / 2
    if scale.mcid.absolute is not None:
        step = scale.mcid.absolute
    else:
        step = abs(baseline) * scale.mcid.percent / 100
    worse = 1 if scale.higher_is == "worse" else -1

    assert worse_beyond_mcid(scale, Change(baseline, baseline + worse * step))
    assert not worse_beyond_mcid(scale, Change(baseline, baseline + worse * step * 0.99))
    # The same distance in the better direction is an improvement, never a worsening.
    assert not worse_beyond_mcid(scale, Change(baseline, baseline - worse * step))


@pytest.mark.parametrize(("definition", "alert"), RULES,
                         ids=[f"{d.id}-{a.id}" for d, a in RULES])
def test_each_rule_has_a_message_and_a_severity(definition, alert) -> None:
    assert alert.when is None
    assert alert.message.get("en")
    assert alert.severity in ("low", "medium", "high", "critical")
