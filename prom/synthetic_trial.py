"""Synthetic randomised trials: a model of a finished trial, and what to store for it.

A `TrialSpec` describes the trial (arms and their sizes, sites, schedule, standardised effects,
drop-out, missed timepoints, skipped items, adverse-event rates, duplicates, seed, enrolment
dates); `generate(spec)` yields its participants one at a time, each with their enrolment and
the `submit_batch` entries they send. Storing them is someone else's job: the services
(`prom.services.synthetic_trial.store_trial`) or the API (`scripts/synth_cohort.py --server`).
Pure code: no Flask, no SQL. Answers come from `prom.synthetic`, so they are valid for their
instrument by construction.

**Randomness.** Allocation, sites and enrolment days come from one generator seeded with
`seed`; everything about participant k from their own, seeded with `[seed, k]` (as in
`prom.services.demo`). The same spec gives the same data, whether it is generated whole or in
slices (`generate(spec, start=…, stop=…)`).

**The trial has finished.** Enrolment days are spread uniformly over `enrolment_days` from
`enrolment_start`; randomisation follows 1–7 days later and anchors the schedule (day 0). The
defaults end every participant's last window by April 2024 (a spec that would run into the
future is refused), so nothing is in the future and nothing is still due. Baseline is filled
in on the day of enrolment or the day after (so before randomisation, inside the baseline
window); other timepoints near their target day (mostly on it or a day or two after, never
outside the window), in the local evening, in the participant's time zone (their site's).

**Adherence.** Baseline is always done. A participant drops out with probability `drop_out`,
after a timepoint drawn uniformly from baseline to the one before the last, and sends nothing
after it. Each other timepoint before that is missed whole with probability `missed`. A timepoint's
forms declare it, except with probability `undeclared` (the server then places them by window).
Optional items are skipped with probability `missing_items`. Each form is filled in a second time
later in the same window with probability `duplicates` (a new response, same occasion: the
server keeps both and flags the later one `duplicate_in_window`, so the analysis response is
still the first).

**Outcomes.** Each instrument has a latent severity on `prom.synthetic`'s 0 (best) – 1 (worst)
scale, with an `Outcome` model: mean at baseline, between-person SD σ_b and occasion SD σ_o. A
person's deviation is shared across instruments in proportion `shared` (a common factor), the
rest their own. At a timepoint whose target day is t, with the post-treatment timepoint's
target day T,

    severity = mean + person + N(0, σ_o) − unit · (comparator_change · ramp(t) + d · course(t))

clipped to 0–1 and answered with `answers_at`. ramp(t) is 0 up to day 0, t/T during treatment
and 1 after; course(t) is ramp(t), fading after T with half-life `effect_half_life_days` when
one is given. d is the arm's standardised effect for the instrument (`effects[arm][instrument]`,
0 for the comparator and anything not named), positive meaning better than the comparator. The
effect is the same shift for everyone in an arm, so arms share their variance.

**The standardised effect (SMD) is exact for single-item scales.** `unit` is the SD of what is
observed. For a scale that is one integer item with k answers (`nrs_pain`'s primary scale is its
0–10 `average` item, required, no `ITEM_SHIFTS` entry; score = answer), `answers_at` turns
severity s into x = (k − 1)·clip(s + ε) with item noise ε ~ N(0, ν = 0.08), and answers ⌊x⌋, or
⌊x⌋ + 1 with probability f = x − ⌊x⌋.
So E[answer | x] = x and Var(answer | x) = f(1 − f). x spreads over more than one answer
(SD √2 = 1.41 NRS points by default), so f is uniform on [0, 1) to within e^(−2π²·2) ≈ 10⁻¹⁷ and
E[f(1 − f)] = ∫₀¹ f(1 − f) df = 1/6. Without clipping, then,

    E[answer] = (k − 1)·E[s],   Var(answer) = (k − 1)²·(σ_b² + σ_o² + ν²) + 1/6,

and unit = SD(answer)/(k − 1) = √(σ_b² + σ_o² + ν² + 1/(6(k − 1)²)) on the severity scale makes
the arms' difference in mean answer exactly d observed SDs: the population SMD of the observed
score at post (pooled SD; the arms' SDs are equal) is d, and d · course(t) at other
timepoints. For the NRS defaults (σ_b = 0.10, σ_o = 0.06, ν = 0.08) the observed SD is
√(1 + 0.36 + 0.64 + 1/6) = √(13/6) = 1.472 points. Clipping at 0 and 10 is negligible: x has SD
√2 around 6.0 at baseline, 5.71 for the comparator at post and 4.97 for d = 0.5, at least 2.8
SDs from either bound, so under 0.3% of values are clipped and the SMD moves by under 0.001.
`population_smd` computes the exact value, clipping included, by quadrature.

For other scales (several items, lookup tables, EQ-5D value sets, 0–100 scales that snap to
multiples of 5) unit is the latent SD √(σ_b² + σ_o²): d is the SMD of the latent severity, and
the observed SMD is attenuated by item noise (and bent by non-linear scoring).
`population_smd` then estimates it by simulation.

**Adverse events.** Each `adverse_event` form in the schedule (by default at post) reports an
event with the arm's probability (`adverse_events[arm]`, else `DEFAULT_ADVERSE_EVENT_RATE`):
mild 60%, moderate 30%, severe 10%, serious (an ICH E2A criterion) with probability `serious`;
otherwise it reports that nothing happened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from prom.instruments import Library, load_library
from prom.instruments.spec import Definition, Item
from prom.schedule import Occurrence, TimepointSpec, expand
from prom.scoring import score_responses
from prom.synthetic import ITEM_SHIFTS, adverse_event_answers, answers_at

ITEM_NOISE = 0.08  # `answers_at`'s default item noise, on the 0–1 severity scale
ROUNDING_VARIANCE = 1 / 6  # E[f(1 − f)] for f uniform on [0, 1): the random rounding, in answers²

CORE = ("nrs_pain", "bpi_sf", "phq9", "gad7", "eq5d5l")
POST = "post"
DEFAULT_SCHEDULE: tuple[Mapping[str, Any], ...] = (
    {"code": "baseline", "day": 0, "window_before": 14, "window_after": 7,
     "instruments": list(CORE)},
    *({"code": f"week{week}", "day": 7 * week, "window_before": 3, "window_after": 3,
       "instruments": list(CORE)} for week in (2, 4, 6)),
    {"code": POST, "day": 56, "window_before": 7, "window_after": 21,
     "instruments": [*CORE, "adverse_event"]},
    *({"code": f"fu{months}m", "day": 56 + 30 * months, "window_before": 14,
       "window_after": 28, "instruments": list(CORE)} for months in (3, 6, 12)),
)


@dataclass(frozen=True)
class Arm:
    code: str
    name: str
    n: int  # participants allocated to it


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    timezone: str  # IANA zone of the site's participants


@dataclass(frozen=True)
class Outcome:
    """An instrument's latent severity (0 best – 1 worst) at baseline."""

    mean: float
    between_sd: float  # between people
    occasion_sd: float  # between occasions of one person


DEFAULT_ARMS = (Arm("icbt", "Internet-delivered CBT", 100),
                Arm("education", "Pain education (active control)", 100),
                Arm("usual_care", "Usual care", 100))
DEFAULT_SITES = (Site("SYN-LDN", "Synthetic pain clinic, London", "Europe/London"),
                 Site("SYN-BER", "Synthetic pain clinic, Berlin", "Europe/Berlin"),
                 Site("SYN-SYD", "Synthetic pain clinic, Sydney", "Australia/Sydney"))
#: Arm → instrument → standardised effect (Cohen's d) against the comparator at post.
DEFAULT_EFFECTS: Mapping[str, Mapping[str, float]] = {
    "icbt": {"nrs_pain": 0.5, "bpi_sf": 0.4, "phq9": 0.3, "gad7": 0.25, "eq5d5l": 0.3},
    "education": {"nrs_pain": 0.2, "bpi_sf": 0.15, "phq9": 0.1, "gad7": 0.1, "eq5d5l": 0.1},
}
DEFAULT_OUTCOMES: Mapping[str, Outcome] = {
    "nrs_pain": Outcome(0.60, 0.10, 0.06),  # NRS 6.0, observed SD 1.47
    "bpi_sf": Outcome(0.55, 0.12, 0.06),
    "phq9": Outcome(0.38, 0.14, 0.07),  # PHQ-9 about 10
    "gad7": Outcome(0.32, 0.14, 0.07),  # GAD-7 about 7
    "eq5d5l": Outcome(0.40, 0.12, 0.06),
}
OTHER_OUTCOME = Outcome(0.50, 0.12, 0.06)  # an instrument `outcomes` does not name
DEFAULT_ADVERSE_EVENTS: Mapping[str, float] = {"icbt": 0.15, "education": 0.10,
                                               "usual_care": 0.08}
DEFAULT_ADVERSE_EVENT_RATE = 0.08  # an arm `adverse_events` does not name
EVENT_SEVERITY = {"mild": 0.6, "moderate": 0.3, "severe": 0.1}
SERIOUSNESS = ("hospitalisation", "medically_important", "disability")
RANDOMISATION_LAG = (1, 7)  # days from enrolment to randomisation, both included
#: Days after the target day a form is filled in, and how often (kept inside the window).
DELAY_DAYS = (-2, -1, 0, 1, 2, 3, 4, 5)
DELAY_WEIGHTS = (0.04, 0.10, 0.30, 0.22, 0.14, 0.09, 0.06, 0.05)


@dataclass(frozen=True)
class TrialSpec:
    """A finished randomised trial to synthesise (module docstring). Rates are probabilities."""

    code: str = "SYNTH-TRIAL"
    name: str = "Synthetic trial: internet-delivered CBT for chronic pain"
    arms: tuple[Arm, ...] = DEFAULT_ARMS
    comparator: str = "usual_care"
    sites: tuple[Site, ...] = DEFAULT_SITES
    #: Timepoints as `studies.create_study` takes them (`code`, `day`, `window_before`,
    #: `window_after`, `instruments`, optional `every` and `count`).
    schedule: tuple[Mapping[str, Any], ...] = DEFAULT_SCHEDULE
    post: str = POST  # the post-treatment timepoint: effects are reached there
    effects: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {arm: dict(e) for arm, e in DEFAULT_EFFECTS.items()})
    effect_half_life_days: float | None = None  # fading after post; None: kept
    comparator_change: float = 0.2  # everyone's improvement by post, in SDs (natural course)
    outcomes: Mapping[str, Outcome] = field(default_factory=lambda: dict(DEFAULT_OUTCOMES))
    shared: float = 0.4  # share of between-person variance common to all instruments
    drop_out: float = 0.15
    missed: float = 0.10  # per timepoint after baseline
    missing_items: float = 0.05  # per optional item
    adverse_events: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_ADVERSE_EVENTS))  # arm → rate per AE form
    serious: float = 0.10  # share of events that meet a seriousness criterion
    duplicates: float = 0.01  # per form: filled in again later in its window
    undeclared: float = 0.10  # per timepoint: sent without naming it
    seed: int = 20240611
    enrolment_start: date = date(2022, 1, 10)
    enrolment_days: int = 365
    language: str = "en"

    def __post_init__(self) -> None:
        codes = [arm.code for arm in self.arms]
        problems = []
        if len(set(codes)) != len(codes) or not codes:
            problems.append("arms need distinct codes")
        if any(arm.n < 1 for arm in self.arms):
            problems.append("every arm needs at least one participant")
        if self.comparator not in codes:
            problems.append(f"comparator {self.comparator!r} is not an arm")
        if not self.sites or len({site.code for site in self.sites}) != len(self.sites):
            problems.append("sites need distinct codes")
        for site in self.sites:
            try:
                ZoneInfo(site.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(f"site {site.code}: {site.timezone!r} is not an IANA time zone")
        for arm, effects in self.effects.items():
            if arm not in codes:
                problems.append(f"effects name arm {arm!r}, which is not an arm")
            elif arm == self.comparator and any(effects.values()):
                problems.append("the comparator's effects are 0 by definition")
        problems += [f"adverse_events name arm {arm!r}, which is not an arm"
                     for arm in self.adverse_events if arm not in codes]
        rates = {"drop_out": self.drop_out, "missed": self.missed,
                 "missing_items": self.missing_items, "serious": self.serious,
                 "duplicates": self.duplicates, "undeclared": self.undeclared,
                 "shared": self.shared, **{f"adverse_events.{a}": r
                                           for a, r in self.adverse_events.items()}}
        problems += [f"{name} must be between 0 and 1" for name, rate in rates.items()
                     if not 0.0 <= rate <= 1.0]
        try:
            occurrences = self.occurrences()
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"bad schedule: {error}") from error
        if not any(o.code == self.post for o in occurrences):
            problems.append(f"post-treatment timepoint {self.post!r} is not in the schedule")
        elif self.post_day <= 0:
            problems.append("the post-treatment timepoint must come after day 0")
        if self.enrolment_days < 0:
            problems.append("enrolment_days cannot be negative")
        last = (self.enrolment_start + timedelta(days=self.enrolment_days + RANDOMISATION_LAG[1]
                                                 + max(o.last_day for o in occurrences) + 1))
        if last >= date.today():
            problems.append(f"the trial would run until {last}: it must have finished (move "
                            "enrolment_start back)")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def size(self) -> int:
        return sum(arm.n for arm in self.arms)

    @property
    def post_day(self) -> int:
        return next(o.day for o in self.occurrences() if o.code == self.post)

    def occurrences(self) -> list[Occurrence]:
        """The schedule expanded (repeating timepoints become week1, week2, …)."""
        return expand(TimepointSpec(code=t["code"], day=t["day"],
                                    window_before=t["window_before"],
                                    window_after=t["window_after"],
                                    instruments=tuple(t["instruments"]), every=t.get("every"),
                                    count=t.get("count", 1))
                      for t in self.schedule)

    def instruments(self) -> list[str]:
        """Every instrument the schedule asks for, in order of first appearance."""
        return list(dict.fromkeys(i for t in self.schedule for i in t["instruments"]))

    def effect(self, arm: str, instrument: str) -> float:
        return float(self.effects.get(arm, {}).get(instrument, 0.0))

    def outcome(self, instrument: str) -> Outcome:
        return self.outcomes.get(instrument, OTHER_OUTCOME)

    def adverse_event_rate(self, arm: str) -> float:
        return float(self.adverse_events.get(arm, DEFAULT_ADVERSE_EVENT_RATE))

    def study_body(self) -> dict[str, Any]:
        """The study as `POST /api/v1/studies` takes it (timepoints under `timepoint`)."""
        return {"code": self.code, "name": self.name,
                "arms": [{"code": arm.code, "name": arm.name} for arm in self.arms],
                "schedule": [{"timepoint" if key == "code" else key: value
                              for key, value in timepoint.items()}
                             for timepoint in self.schedule]}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; `TrialSpec.from_dict` reads it back."""
        data = dataclasses.asdict(self)
        data["enrolment_start"] = self.enrolment_start.isoformat()
        data["schedule"] = [dict(t) for t in self.schedule]
        data["effects"] = {arm: dict(e) for arm, e in self.effects.items()}
        data["outcomes"] = {i: dataclasses.asdict(o) for i, o in self.outcomes.items()}
        data["adverse_events"] = dict(self.adverse_events)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialSpec:
        """A spec from `to_dict`'s form; fields left out keep their defaults."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown TrialSpec fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "arms" in values:
            values["arms"] = tuple(Arm(**arm) for arm in values["arms"])
        if "sites" in values:
            values["sites"] = tuple(Site(**site) for site in values["sites"])
        if "schedule" in values:
            values["schedule"] = tuple(dict(t) for t in values["schedule"])
        if "outcomes" in values:
            values["outcomes"] = {i: Outcome(**o) for i, o in values["outcomes"].items()}
        if isinstance(values.get("enrolment_start"), str):
            values["enrolment_start"] = date.fromisoformat(values["enrolment_start"])
        return cls(**values)


# ---------------------------------------------------------------------------------------------
# What to store


@dataclass(frozen=True)
class Enrolment:
    number: int  # enrolment order, from 0
    arm: str
    site: str  # site code
    enrolled_on: date
    randomised_on: date  # day 0 of the schedule
    timezone: str
    language: str

    def body(self, site_id: uuid.UUID | str) -> dict[str, Any]:
        """As `POST /api/v1/studies/{id}/participants` takes it."""
        return {"site_id": str(site_id), "arm": self.arm,
                "enrolled_on": self.enrolled_on.isoformat(),
                "randomised_on": self.randomised_on.isoformat(), "language": self.language,
                "timezone": self.timezone}


@dataclass(frozen=True)
class Form:
    """One questionnaire a participant sends."""

    id: str  # the client's UUID
    instrument: str
    instrument_version: str
    collected_at: datetime  # aware, in the participant's zone
    timepoint: str  # the occurrence it answers (declared or not)
    declared: bool  # whether the entry names it
    answers: dict[str, Any]
    language: str
    duplicate: bool = False  # a second filling-in, later in the window

    def entry(self, participant_id: uuid.UUID | str) -> dict[str, Any]:
        """As `POST /api/v1/responses` (and each entry of `/responses/batch`) takes it."""
        entry = {"id": self.id, "participant_id": str(participant_id),
                 "instrument": self.instrument, "instrument_version": self.instrument_version,
                 "collected_at": self.collected_at.isoformat(), "language": self.language,
                 "answers": self.answers}
        if self.declared:
            entry["timepoint"] = self.timepoint
        return entry


@dataclass(frozen=True)
class SyntheticParticipant:
    enrolment: Enrolment
    completed: tuple[str, ...]  # occurrences with forms, in schedule order
    dropped_out_after: str | None  # the last occurrence before dropping out; None: stayed
    forms: tuple[Form, ...]  # in the order they are sent (by collection time)

    def entries(self, participant_id: uuid.UUID | str) -> list[dict[str, Any]]:
        return [form.entry(participant_id) for form in self.forms]


def generate(spec: TrialSpec, library: Library | None = None, *, start: int = 0,
             stop: int | None = None) -> Iterator[SyntheticParticipant]:
    """Participants `start` to `stop` (default: all) in enrolment order, one at a time."""
    library = library or default_library()
    occurrences = spec.occurrences()
    definitions = {i: library.get(i) for i in spec.instruments()}
    means = {(arm.code, instrument, o.day): mean_severity(spec, arm.code, instrument, o.day,
                                                          library)
             for arm in spec.arms for o in occurrences for instrument in o.instruments}
    allocation, sites, days = _allocation(spec)
    ids = _Ids(spec.code)
    for number in range(start, spec.size if stop is None else min(stop, spec.size)):
        yield _participant(spec, number, spec.arms[allocation[number]].code,
                           spec.sites[sites[number]], int(days[number]), occurrences,
                           definitions, means, ids)


@cache
def default_library() -> Library:
    """The repository's instrument library (a server may run another: pass its own)."""
    return load_library()


def _allocation(spec: TrialSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arm index, site index and enrolment day (from `enrolment_start`), by enrolment order."""
    rng = np.random.default_rng(spec.seed)
    arms = rng.permutation(np.repeat(np.arange(len(spec.arms)), [a.n for a in spec.arms]))
    sites = rng.integers(len(spec.sites), size=spec.size)
    days = np.sort(rng.integers(0, spec.enrolment_days + 1, size=spec.size))
    return arms, sites, days


def _participant(spec: TrialSpec, number: int, arm: str, site: Site, day: int,
                 occurrences: Sequence[Occurrence], definitions: Mapping[str, Definition],
                 means: Mapping[tuple[str, str, int], float], ids: _Ids) -> SyntheticParticipant:
    rng = np.random.default_rng([spec.seed, number])
    enrolled_on = spec.enrolment_start + timedelta(days=day)
    randomised_on = enrolled_on + timedelta(days=int(rng.integers(RANDOMISATION_LAG[0],
                                                                  RANDOMISATION_LAG[1] + 1)))
    enrolment = Enrolment(number, arm, site.code, enrolled_on, randomised_on, site.timezone,
                          spec.language)
    last = len(occurrences) - 1
    if rng.random() < spec.drop_out and last > 0:
        last = int(rng.integers(0, last))
    zone = ZoneInfo(site.timezone)
    person = _person_deviations(spec, rng)
    forms: list[Form] = []
    completed: list[str] = []
    for index, occurrence in enumerate(occurrences[:last + 1]):
        if index > 0 and rng.random() < spec.missed:
            continue
        completed.append(occurrence.code)
        declared = rng.random() >= spec.undeclared
        study_day = _collection_day(occurrence, enrolled_on, randomised_on, rng)
        moment = _evening(randomised_on + timedelta(days=study_day), zone, rng)
        on = moment.date()
        for instrument in occurrence.instruments:
            definition = definitions[instrument]
            severity = None
            if instrument != "adverse_event":
                severity = float(np.clip(
                    means[arm, instrument, occurrence.day] + person[instrument]
                    + rng.normal(0.0, spec.outcome(instrument).occasion_sd), 0.0, 1.0))
            answers = _answers(spec, arm, definition, severity, rng, on)
            forms.append(_form(ids.draw(rng), definition, moment, occurrence.code, declared,
                               answers, spec.language))
            if rng.random() < spec.duplicates:
                again = _later(moment, occurrence, randomised_on, zone, rng)
                answers = _answers(spec, arm, definition, severity, rng, again.date())
                forms.append(_form(ids.draw(rng), definition, again, occurrence.code,
                                   declared, answers, spec.language, duplicate=True))
    forms.sort(key=lambda form: form.collected_at)  # stable: originals before their duplicates
    dropped_out_after = None if last == len(occurrences) - 1 else occurrences[last].code
    return SyntheticParticipant(enrolment, tuple(completed), dropped_out_after, tuple(forms))


def _person_deviations(spec: TrialSpec, rng: np.random.Generator) -> dict[str, float]:
    """Each instrument's stable personal deviation from its mean severity."""
    common = rng.normal()
    deviations = {}
    for instrument in spec.instruments():
        own = rng.normal()
        deviations[instrument] = spec.outcome(instrument).between_sd * (
            math.sqrt(spec.shared) * common + math.sqrt(1 - spec.shared) * own)
    return deviations


def mean_severity(spec: TrialSpec, arm: str, instrument: str, day: int,
                  library: Library | None = None) -> float:
    """The arm's mean latent severity (before clipping) at a timepoint with target day `day`."""
    unit = effect_unit(spec, instrument, library)
    return spec.outcome(instrument).mean - unit * (
        spec.comparator_change * _ramp(spec, day)
        + spec.effect(arm, instrument) * _course(spec, day))


def _ramp(spec: TrialSpec, day: int) -> float:
    return min(max(day / spec.post_day, 0.0), 1.0)


def _course(spec: TrialSpec, day: int) -> float:
    """The share of the effect present at target day `day`."""
    if day <= spec.post_day or spec.effect_half_life_days is None:
        return _ramp(spec, day)
    return 0.5 ** ((day - spec.post_day) / spec.effect_half_life_days)


def _answers(spec: TrialSpec, arm: str, definition: Definition, severity: float | None,
             rng: np.random.Generator, on: date) -> dict[str, Any]:
    if severity is not None:
        return answers_at(definition, severity, rng, omit_optional=spec.missing_items, on=on)
    if rng.random() >= spec.adverse_event_rate(arm):
        return adverse_event_answers(rng, False, on=on)
    level = str(rng.choice(list(EVENT_SEVERITY), p=list(EVENT_SEVERITY.values())))
    serious = [str(rng.choice(SERIOUSNESS))] if rng.random() < spec.serious else []
    return adverse_event_answers(rng, True, level, serious, on=on)


class _Ids:
    """Response ids: random bits from the participant's stream, mixed with a digest of the
    study code, so that trials with the same seed and different codes can share a database
    (the server refuses an id it has stored with other content)."""

    def __init__(self, study_code: str) -> None:
        digest = hashlib.sha256(f"prom.synthetic_trial/{study_code}".encode()).digest()
        self.salt = int.from_bytes(digest[:16])

    def draw(self, rng: np.random.Generator) -> str:
        return str(uuid.UUID(int=int.from_bytes(rng.bytes(16)) ^ self.salt, version=4))


def _form(response_id: str, definition: Definition, moment: datetime, timepoint: str,
          declared: bool, answers: dict[str, Any], language: str, *,
          duplicate: bool = False) -> Form:
    return Form(response_id, definition.id, definition.version, moment, timepoint, declared,
                answers, language, duplicate)


def _collection_day(occurrence: Occurrence, enrolled_on: date, randomised_on: date,
                    rng: np.random.Generator) -> int:
    """The study day (from randomisation) a timepoint's forms are filled in."""
    if occurrence.day <= 0:  # baseline: at enrolment or the day after, before randomisation
        day = (enrolled_on - randomised_on).days + int(rng.integers(0, 2))
        return min(max(day, occurrence.first_day), occurrence.last_day, 0)
    delay = int(rng.choice(DELAY_DAYS, p=DELAY_WEIGHTS))
    return min(max(occurrence.day + delay, occurrence.first_day), occurrence.last_day)


def _evening(day: date, zone: ZoneInfo, rng: np.random.Generator) -> datetime:
    """An evening-leaning local time on `day` (07:00–22:59), as an aware datetime."""
    minutes = int(np.clip(rng.normal(19.5 * 60, 150), 7 * 60, 23 * 60 - 1))
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


def _later(moment: datetime, occurrence: Occurrence, randomised_on: date, zone: ZoneInfo,
           rng: np.random.Generator) -> datetime:
    """When a form is filled in again: 1–3 days later, or later the same day at the window's
    end. Always after `moment` and inside the window."""
    day = (moment.date() - randomised_on).days
    later = min(day + int(rng.integers(1, 4)), occurrence.last_day)
    if later == day:
        return moment + timedelta(minutes=int(rng.integers(1, 60)))
    return _evening(randomised_on + timedelta(days=later), zone, rng)


# ---------------------------------------------------------------------------------------------
# The standardised effect


def effect_unit(spec: TrialSpec, instrument: str, library: Library | None = None) -> float:
    """Latent severity per unit of d: the observed SD on the 0–1 severity scale for a
    single-item scale, the latent SD otherwise (module docstring)."""
    outcome = spec.outcome(instrument)
    latent = outcome.between_sd**2 + outcome.occasion_sd**2
    single = _single_item(library_definition(instrument, library))
    if single is None:
        return math.sqrt(latent)
    _, k, _ = single
    return math.sqrt(latent + ITEM_NOISE**2 + ROUNDING_VARIANCE / (k - 1) ** 2)


def observed_sd(spec: TrialSpec, instrument: str, library: Library | None = None) -> float:
    """The SD of a single-item primary scale's score within an arm, ignoring clipping
    ((k − 1) · `effect_unit`); ValueError for other scales."""
    single = _single_item(library_definition(instrument, library))
    if single is None:
        raise ValueError(f"{instrument}'s primary scale is not a single integer item")
    return (single[1] - 1) * effect_unit(spec, instrument, library)


def population_smd(spec: TrialSpec, instrument: str, arm: str, timepoint: str | None = None,
                   library: Library | None = None, *, draws: int = 20_000) -> float:
    """The population SMD of the instrument's primary scale (its first), `arm` against the
    comparator at `timepoint` (default: post-treatment), positive when `arm` is better, with the
    pooled SD √((v_arm + v_comparator)/2) (equal arms). Exact (quadrature) for a single integer
    item, where it equals d up to clipping; otherwise estimated from `draws` simulated answer
    sets per arm, scored by the real scorer (Monte Carlo error about √(2/draws))."""
    if arm == spec.comparator:
        return 0.0
    definition = library_definition(instrument, library)
    code = timepoint or spec.post
    day = next(o.day for o in spec.occurrences() if o.code == code)
    means = [mean_severity(spec, a, instrument, day, library) for a in (arm, spec.comparator)]
    outcome = spec.outcome(instrument)
    latent_sd = math.hypot(outcome.between_sd, outcome.occasion_sd)
    single = _single_item(definition)
    if single is not None:
        _, k, shift = single
        (m1, v1), (m0, v0) = (_single_item_moments(m, latent_sd, shift, k) for m in means)
        return (m0 - m1) / math.sqrt((v1 + v0) / 2)  # answers rise with severity
    scale = definition.scales[0]
    moments = []
    for mean in means:  # the same draws for both arms (common random numbers)
        rng = np.random.default_rng([spec.seed, zlib.crc32(instrument.encode())])
        severities = np.clip(mean + latent_sd * rng.standard_normal(draws), 0.0, 1.0)
        answer_sets = [answers_at(definition, float(s), rng, omit_optional=spec.missing_items,
                                  on=spec.enrolment_start) for s in severities]
        values = np.array([scored.scores[scale.id].value
                           for scored in score_responses(definition, answer_sets)], dtype=float)
        values = values[~np.isnan(values)]
        moments.append((values.mean(), values.var()))
    (m1, v1), (m0, v0) = moments
    sign = 1.0 if scale.higher_is == "worse" else -1.0
    return sign * (m0 - m1) / math.sqrt((v1 + v0) / 2)


def library_definition(instrument: str, library: Library | None = None) -> Definition:
    return (library or default_library()).get(instrument)


def _single_item(definition: Definition) -> tuple[Item, int, float] | None:
    """(item, number of answers k, `ITEM_SHIFTS` shift) when the primary scale is one integer
    item scored as itself (or reversed) on fewer than 51 values; else None."""
    if not definition.scales:
        return None
    scale = definition.scales[0]
    if len(scale.items) != 1 or scale.method not in ("sum", "mean") or scale.recode:
        return None
    item = next(i for i in definition.items if i.id == scale.items[0])
    response = item.response
    if response.type != "integer" or item.show_if is not None:
        return None
    k = response.max - response.min + 1  # type: ignore[operator]
    if k < 2 or k - 1 >= 50:  # 0–100 scales snap to multiples of 5 (SNAP_TO_FIVE)
        return None
    return item, k, ITEM_SHIFTS.get((definition.id, item.id), 0.0)


def _single_item_moments(mean: float, sd: float, shift: float, k: int) -> tuple[float, float]:
    """Mean and variance of a single item's answer index (0 … k − 1) when the latent severity
    is N(mean, sd): clipped, `answers_at`'s noise and shift added, clipped, randomly rounded."""
    z = np.linspace(-8.0, 8.0, 1201)
    weights = np.exp(-z**2 / 2)
    latent = np.clip(mean + sd * z, 0.0, 1.0)[:, np.newaxis]
    noise = ITEM_NOISE * z[np.newaxis, :]
    x = (k - 1) * np.clip(latent + shift + noise, 0.0, 1.0)
    w = weights[:, np.newaxis] * weights[np.newaxis, :]
    w /= w.sum()
    fraction = x - np.floor(x)
    first = float((w * x).sum())
    second = float((w * (x**2 + fraction * (1 - fraction))).sum())
    return first, second - first**2
