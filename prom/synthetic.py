"""Synthetic answers: valid answer sets for any instrument definition, at a chosen severity.

Used by the demo study (`prom.services.demo`) and meant for research tooling that needs
realistic-looking cohorts (a `scripts/synth_cohort.py`, say). Pure code: no Flask, no SQL. Every
draw comes from the numpy `Generator` passed in, so a seed gives the same answers every time.

**Severity** runs from 0 (best health the instrument can record) to 1 (worst). One answer set
shares one severity, so its items agree with each other the way a real person's answers do, and
each item adds its own noise, so they are not all the same.

**Which end of an item is worse** is read off the instrument's own scoring, not guessed from
labels: every single-valued item is moved from its lowest to its highest value (the other items
held at their middle values) and the compiled scorer says how each scale that uses the item
moves. A scale that rises is worse when it is `higher_is: worse`, better when `higher_is:
better`; `reverse`, `recode`, lookup tables and named scorers (EQ-5D value sets) are all
accounted for because the real scorer is asked. An item that no scale uses takes the direction
of the items that share its response set (PROMIS Global01 rates like Global02); failing that, a
higher value is taken as worse (PHQ-9's "how difficult", RAND-36's "compared to a year ago").

**One item's answer**: with the item's answers ordered best to worst (k of them) and

    p = clip(severity + shift + N(0, noise), 0, 1),   x = p · (k − 1),

the answer is the one at index ⌊x⌋, or the next one with probability x − ⌊x⌋. Its expected
index is therefore p · (k − 1): an NRS at severity 0.65 averages 6.5, a yes/no item is "yes"
with probability p. `noise` defaults to 0.08 (under one point on a 0–10 scale). `shift` is a
small per-item correction where items of one scale have very different base rates
(`ITEM_SHIFTS`: "worst pain" runs above "average pain"; thoughts of self-harm, PHQ-9 item 9,
are far rarer than the other depression symptoms). On a 0–100 scale (EQ-5D VAS) people mostly
pick round numbers: 60% of answers snap to a multiple of 5.

**Other answers**: optional items are left out with probability `omit_optional` (5%); items
hidden by their `show_if` are never answered; required shown items always are. Multiple
choice selects each ordinary option with probability severity / (number of options), and
falls back to the exclusive option ("none of these") or an empty list. Dates are up to four
weeks before `on`; free text is a short plausible sentence within `max_length`.

**Special forms**

- `adverse_event`: `adverse_event_answers` writes a report from what happened (occurred or
  not, mild/moderate/severe, ICH E2A seriousness criteria) with a matching description. At a
  severity s, `answers_at` reports an event with probability 0.05 + 0.3·s² and makes it
  serious with probability 0.25·s².
- `neq` (NEQ-20): `neq_answers` draws about `expected_effects` of the 20 negative effects, each
  with an impact of 1–4 (mostly 1–2) and attributed to the treatment one time in three;
  `answers_at` expects 0.5 + 4·s effects.
- `pgic` is answered like any item (1 very much improved … 7 very much worse); to make it
  follow a relative improvement in pain, use `pgic_severity(improvement)`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from prom.instruments.conditions import ConditionSet
from prom.instruments.layout import layout_for
from prom.instruments.spec import Definition, Item
from prom.scoring import compiled

#: Severity added to one item's answers (instrument id, item id): items of one scale whose base
#: rates differ a lot. Positive is worse.
ITEM_SHIFTS: Mapping[tuple[str, str], float] = {
    ("phq9", "phq9_9"): -0.45,
    ("nrs_pain", "worst"): 0.15,
    ("nrs_pain", "least"): -0.2,
    ("bpi_sf", "worst"): 0.15,
    ("bpi_sf", "least"): -0.2,
}

SNAP_TO_FIVE = 0.6  # share of answers on a 0–100 scale that are a multiple of 5

_SINGLE_VALUED = ("integer", "single_choice", "boolean")

_NOTES = (
    "Much the same as last week.",
    "A busy week at work.",
    "Slept badly a few nights.",
    "Weather has been cold and damp.",
    "Managed a short walk most days.",
    "Had a family visit at the weekend.",
)

#: What participants write about an event, by how bad it was (serious: an E2A criterion met).
_EVENTS: Mapping[str, tuple[str, ...]] = {
    "mild": (
        "Headache for a couple of days after the relaxation exercises.",
        "Felt a bit low for a few days after the module on pain and mood.",
        "Trouble getting to sleep for about a week.",
        "Stiff neck after sitting at the computer for the sessions.",
    ),
    "moderate": (
        "My back pain flared up after I increased my walking; I had to rest for several days.",
        "More anxious than usual for two weeks; it was hard to concentrate at work.",
        "Stomach upset from a new painkiller my GP prescribed.",
    ),
    "severe": (
        "A bad flare-up of pain; I could not work or leave the house for a week.",
        "Panic attacks most days for a week.",
    ),
    "serious": (
        "Admitted to hospital for two nights with chest pain; the tests were normal.",
        "Fell on the stairs and broke my wrist; I needed an operation.",
    ),
}

#: Seriousness criteria a participant plausibly reports about themself.
_SELF_REPORTED_CRITERIA = ("hospitalisation", "medically_important", "disability")


def answers_at(definition: Definition, severity: float, rng: np.random.Generator, *,
               noise: float = 0.08, omit_optional: float = 0.05,
               on: dt.date | None = None) -> dict[str, Any]:
    """A valid answer set for `definition` from someone at `severity` (0 best, 1 worst).

    `on` is the day the form is filled in (default today): dates answered lie before it."""
    if not 0.0 <= severity <= 1.0:
        raise ValueError(f"severity must be between 0 and 1, not {severity}")
    on = on or dt.date.today()
    special = _SPECIAL_FORMS.get(definition.id)
    if special is not None:
        return special(severity, rng, on)
    answers: dict[str, Any] = {}
    for plan in _plans(definition):
        item = plan.item
        if item.show_if is not None and not _shown(definition, item, answers):
            continue
        if not item.required and rng.random() < omit_optional:
            continue
        answers[item.id] = _answer(plan, severity, rng, noise, on)
    return answers


def adverse_event_answers(rng: np.random.Generator, occurred: bool, severity: str = "mild",
                          serious: Sequence[str] = (), *,
                          on: dt.date | None = None) -> dict[str, Any]:
    """An `adverse_event` report: nothing happened, or an event of `severity` (mild, moderate,
    severe) meeting the seriousness criteria `serious` (codes of the form; empty: none)."""
    if not occurred:
        return {"occurred": False}
    if severity not in ("mild", "moderate", "severe"):
        raise ValueError(f"severity must be mild, moderate or severe, not {severity!r}")
    descriptions = _EVENTS["serious" if serious else severity]
    onset = (on or dt.date.today()) - dt.timedelta(days=int(rng.integers(1, 22)))
    answers: dict[str, Any] = {
        "occurred": True,
        "description": descriptions[int(rng.integers(len(descriptions)))],
        "ongoing": bool(rng.random() < (0.5 if severity == "severe" else 0.25)),
        "severity": severity,
        "seriousness": list(serious) if serious else ["none"],
        "attributed": str(rng.choice(["no", "unsure", "yes"], p=[0.6, 0.3, 0.1])),
    }
    if rng.random() < 0.9:  # the onset date is optional; most people give one
        answers["onset_date"] = onset.isoformat()
    return answers


def neq_answers(rng: np.random.Generator, expected_effects: float) -> dict[str, Any]:
    """An NEQ-20 answer set with about `expected_effects` of the 20 negative effects."""
    chance = min(max(expected_effects / 20.0, 0.0), 1.0)
    answers: dict[str, Any] = {}
    for effect in range(1, 21):
        occurred = rng.random() < chance
        answers[f"q{effect}_occurred"] = int(occurred)
        if occurred:
            answers[f"q{effect}_impact"] = 1 + int(rng.binomial(3, 0.3))
            answers[f"q{effect}_cause"] = "treatment" if rng.random() < 1 / 3 else "other"
    return answers


def pgic_severity(improvement: float) -> float:
    """The severity at which PGIC answers fit a relative improvement in pain (0.35 = 35% less
    pain than at baseline): about "much improved" at 35%, "minimally improved" at 20%, "no
    change" at 0 and "minimally worse" at −15%."""
    return min(max(0.5 - 0.9 * improvement, 0.0), 1.0)


# ---------------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True)
class _ItemPlan:
    """How to answer one item: its answers from best to worst, and its shift."""

    item: Item
    best_to_worst: tuple[Any, ...]  # empty for multiple choice, dates and text
    shift: float


def _answer(plan: _ItemPlan, severity: float, rng: np.random.Generator, noise: float,
            on: dt.date) -> Any:
    response = plan.item.response
    if plan.best_to_worst:
        return _ordered_answer(plan, severity, rng, noise)
    if response.type == "multiple_choice":
        plain = [code for code in response.codes if code not in response.exclusive]
        chosen = [code for code in plain if rng.random() < severity / len(plain)]
        if chosen or not response.exclusive:
            return chosen
        return [sorted(response.exclusive, key=str)[0]]
    if response.type == "date":
        return (on - dt.timedelta(days=int(rng.integers(0, 29)))).isoformat()
    note = _NOTES[int(rng.integers(len(_NOTES)))]
    return note[: response.max_length]


def _ordered_answer(plan: _ItemPlan, severity: float, rng: np.random.Generator,
                    noise: float) -> Any:
    answers = plan.best_to_worst
    p = min(max(severity + plan.shift + rng.normal(0.0, noise), 0.0), 1.0)
    x = p * (len(answers) - 1)
    index = min(math.floor(x) + int(rng.random() < x - math.floor(x)), len(answers) - 1)
    answer = answers[index]
    response = plan.item.response
    if (response.type == "integer" and response.max - response.min >= 50  # type: ignore[operator]
            and rng.random() < SNAP_TO_FIVE):
        answer = min(max(5 * round(answer / 5), response.min), response.max)
    return answer


@lru_cache(maxsize=256)
def _plans(definition: Definition) -> tuple[_ItemPlan, ...]:
    worse_when_higher = _directions(definition)
    plans = []
    for item in definition.items:
        ascending = _ascending(item)
        if ascending and worse_when_higher[item.id] < 0:
            ascending = ascending[::-1]
        plans.append(_ItemPlan(item, ascending, ITEM_SHIFTS.get((definition.id, item.id), 0.0)))
    return tuple(plans)


def _ascending(item: Item) -> tuple[Any, ...]:
    """A single-valued item's answers from the lowest number scoring sees to the highest."""
    response = item.response
    if response.type == "integer":
        return tuple(range(response.min, response.max + 1))  # type: ignore[arg-type]
    if response.type == "single_choice":
        return tuple(o.code for o in sorted(response.options, key=lambda o: o.value))
    if response.type == "boolean":
        return (False, True)
    return ()


def _directions(definition: Definition) -> dict[str, int]:
    """Per item: +1 when a higher value is worse health, −1 when it is better (module
    docstring)."""
    items = [item for item in definition.items if item.response.type in _SINGLE_VALUED]
    middle = {item.id: _ascending(item)[len(_ascending(item)) // 2] for item in items}
    probes = []
    for item in items:
        values = _ascending(item)
        probes += [{**middle, item.id: values[0]}, {**middle, item.id: values[-1]}]
    scorer = compiled(definition)
    scored = scorer.score_matrix(scorer.layout.encode_many(probes)).values if probes else None
    found: dict[str, int] = {}
    for k, item in enumerate(items):
        vote = 0.0
        for s, scale in enumerate(definition.scales):
            if item.id in scale.items and scored is not None:
                change = scored[2 * k + 1, s] - scored[2 * k, s]
                if not np.isnan(change):
                    vote += np.sign(change) * (1 if scale.higher_is == "worse" else -1)
        if vote:
            found[item.id] = 1 if vote > 0 else -1
    by_set: dict[str, list[int]] = {}
    for item in items:
        if item.id in found and item.response_set is not None:
            by_set.setdefault(item.response_set, []).append(found[item.id])
    directions = {}
    for item in definition.items:
        borrowed = sum(by_set.get(item.response_set, ())) if item.response_set else 0
        directions[item.id] = found.get(item.id) or (-1 if borrowed < 0 else 1)
    return directions


@lru_cache(maxsize=256)
def _skip_conditions(definition: Definition) -> Mapping[str, ConditionSet]:
    layout = layout_for(definition)
    return {item.id: ConditionSet([item.show_if], layout)
            for item in definition.items if item.show_if is not None}


def _shown(definition: Definition, item: Item, answers: Mapping[str, Any]) -> bool:
    """Whether `item` is shown after `answers` (the earlier items), by the rules validation
    applies: a condition that cannot be decided hides the item."""
    row = layout_for(definition).encode(answers)[:, np.newaxis]
    return bool(_skip_conditions(definition)[item.id].holds(row)[0, 0])


# ---------------------------------------------------------------------------------------------
# Special forms


def _adverse_event_at(severity: float, rng: np.random.Generator,
                      on: dt.date) -> dict[str, Any]:
    occurred = rng.random() < 0.05 + 0.3 * severity**2
    if not occurred:
        return adverse_event_answers(rng, False, on=on)
    level = ("mild", "moderate", "severe")[
        min(math.floor(severity * 2 + rng.random()), 2)]
    serious = ([str(rng.choice(_SELF_REPORTED_CRITERIA))]
               if rng.random() < 0.25 * severity**2 else [])
    return adverse_event_answers(rng, True, level, serious, on=on)


def _neq_at(severity: float, rng: np.random.Generator, on: dt.date) -> dict[str, Any]:
    return neq_answers(rng, 0.5 + 4.0 * severity)


_SPECIAL_FORMS: Mapping[str, Callable[[float, np.random.Generator, dt.date], dict[str, Any]]] = {
    "adverse_event": _adverse_event_at,
    "neq": _neq_at,
}
