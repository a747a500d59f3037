"""A demo study for trying prom locally (`prom demo`, run by `make run`): loaded once.

It creates a demo admin and clinician, a site, and a small three-arm trial of internet-delivered
CBT for chronic pain with the timepoints trials report: baseline, weekly pain (NRS and PEG) for
seven weeks, post-treatment at day 56, and follow-up at 3, 6 and 12 months after it. Its 36
participants (12 per arm) have already answered, so reports, alerts and exports have data the
moment the demo is loaded. Passwords and activation codes are printed: this is for a laptop,
never for real data.

The data are synthetic, made by `prom.synthetic` from the model below, and stored through the
real submission service (`submissions.submit_batch`, as the clinician), so they are validated,
scored and alerted on like any other. Dates are relative to today and every draw comes from a
seeded generator (one stream per participant), so every load tells the same story: nothing is
collected in the future, and nothing is due before its window opens.

**Recruitment.** Enrolments are spread evenly from 470 days (15½ months) to 14 days ago
(±4 days of jitter), arms allocated in permuted blocks of six (two per arm), so every arm has
people at every stage, from week 1 to the 12-month follow-up. Randomisation is recorded 2–8
days after enrolment, and then anchors the schedule; for those enrolled in the last four weeks it
is still pending (their schedule runs from enrolment). The baseline forms are filled in on
the day of enrolment or the day after. Time zone: Europe/London.

**Pain.** Each participant has a baseline pain b ~ N(6.5, 1.0) on 0–10, kept within 4–9, and a
personal response r ~ N(arm mean, 0.15): the fraction of pain gone by the end of treatment,
on average 35% with internet CBT, 20% with pain education (the active control) and 8% with usual
care. The improvement grows linearly over the 56 days of treatment, then fades towards 60% of
itself with a time constant of 180 days (so about 84%, 75% and 65% of it is kept at 3, 6 and 12
months). Pain on day t is b · (1 − improvement(t)) with occasion noise N(0, 0.5).
The pain instruments (NRS, PEG, BPI) are answered at severity pain / 10.

**Other outcomes** follow the pain severity s with an intercept, a slope, a personal offset per
domain N(0, 0.08) and occasion noise N(0, 0.04) (see `OUTCOME_MODEL`): PHQ-9 0.15 + 0.35·s (about
10 at baseline), GAD-7 0.12 + 0.35·s (about 7), EQ-5D-5L 0.05 + 0.55·s (index about 0.6, VAS
about 60), PCS 0.10 + 0.5·s (about 22), PSEQ 0.10 + 0.6·s (about 30), NEQ at the mood severity.
PGIC answers the participant's own improvement so far (`prom.synthetic.pgic_severity`).

**Adherence.** A timepoint is missed 10% of the time; 15% of participants drop out for good
after a randomly chosen timepoint (between week 1 and post); 5% of forms come 1–7 days after
the window closed; the rest are filled in close to the target day (mostly on it or a day or two
after), in the evening. A window that is open today may not be done yet. One timepoint in seven
is sent without saying which timepoint it answers (the server places it by window). Two
participants send a weekly pain rating twice in one window.

**Adverse events.** At post-treatment 15% report an event (60% mild, 30% moderate, 10% severe);
the others report that nothing happened. Five reports arrive unscheduled during treatment, two of
them severe and one of those serious (a hospital admission), which raises a critical alert.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from prom.extensions import db
from prom.models.accounts import User
from prom.models.participants import Participant
from prom.models.studies import Study
from prom.schedule import Occurrence, expand
from prom.schedule.due import COMPLETED, OPEN
from prom.services import accounts, participants, studies, submissions
from prom.services.instruments import library
from prom.services.schedule import items as due_items
from prom.synthetic import adverse_event_answers, answers_at, pgic_severity

DEMO_STUDY = "DEMO-ICBT"
ADMIN = ("admin@demo.prom.local", "demo-admin-password")
CLINICIAN = ("clinician@demo.prom.local", "demo-clinician-password")
CORE = ["nrs_pain", "bpi_sf", "phq9", "gad7", "eq5d5l"]
SCHEDULE = [
    {"code": "baseline", "day": 0, "window_before": 14, "window_after": 7,
     "instruments": [*CORE, "pcs", "pseq"]},
    {"code": "week", "day": 7, "every": 7, "count": 7, "window_before": 3, "window_after": 3,
     "instruments": ["nrs_pain", "peg"]},
    {"code": "post", "day": 56, "window_before": 7, "window_after": 21,
     "instruments": [*CORE, "pgic", "neq", "adverse_event"]},
    *({"code": f"fu{m}m", "day": 56 + 30 * m, "window_before": 14, "window_after": 28,
       "instruments": [*CORE, "pgic"]} for m in (3, 6, 12)),
]
ZONE = "Europe/London"
SEED = 20241105

PER_ARM = 12
#: Arm code → mean fraction of baseline pain gone by the end of treatment.
ARM_RESPONSE = {"icbt": 0.35, "education": 0.20, "usual_care": 0.08}
RESPONSE_SD = 0.15
BASELINE_PAIN = (6.5, 1.0)  # mean, SD on 0–10; kept within 4–9
PAIN_NOISE = 0.5  # occasion noise, NRS points
TREATMENT_DAYS = 56
KEPT_LONG_TERM = 0.6  # share of the improvement kept in the long run after treatment
FADE_DAYS = 180.0

#: Instrument → (intercept, slope on pain severity, domain of the personal offset).
OUTCOME_MODEL: Mapping[str, tuple[float, float, str]] = {
    "phq9": (0.15, 0.35, "mood"),
    "gad7": (0.12, 0.35, "mood"),
    "neq": (0.15, 0.35, "mood"),
    "eq5d5l": (0.05, 0.55, "quality_of_life"),
    "pcs": (0.10, 0.50, "cognition"),
    "pseq": (0.10, 0.60, "cognition"),
}
DOMAIN_SD = 0.08
OCCASION_SD = 0.04

ENROLMENT_SPAN = (470, 14)  # enrolled between 15 months and two weeks ago
AWAITING_RANDOMISATION = 28  # days: randomisation is still pending for those enrolled since
MISSED = 0.10
DROP_OUT = 0.15
LATE = 0.05
UNDECLARED = 1 / 7
#: Days after the target day a form is filled in, and how often (a few come early).
DELAY_DAYS = (-2, -1, 0, 1, 2, 3, 4, 5)
DELAY_WEIGHTS = (0.04, 0.10, 0.30, 0.22, 0.14, 0.09, 0.06, 0.05)
EVENT_AT_POST = 0.15
EVENT_SEVERITY = {"mild": 0.6, "moderate": 0.3, "severe": 0.1}
#: Unscheduled adverse-event reports: (participant in enrolment order, study day, severity,
#: seriousness criteria). The first participants finished treatment long ago.
UNSCHEDULED_EVENTS: Sequence[tuple[int, int, str, tuple[str, ...]]] = (
    (1, 18, "mild", ()),
    (4, 30, "moderate", ()),
    (7, 24, "severe", ()),
    (10, 40, "severe", ("hospitalisation",)),
    (13, 12, "mild", ()),
)
#: Participants (in enrolment order) who send one weekly pain rating twice.
DUPLICATE_SENDERS = {5: "week3", 9: "week2"}


def load_demo() -> dict[str, Any] | None:
    """Create the demo once; None when it is already there."""
    if db.session.scalar(select(Study).where(Study.code == DEMO_STUDY)) is not None:
        return None
    admin = accounts.create_user(*ADMIN, "admin")
    site = accounts.create_site("DEMO-LDN", "Demo pain clinic", actor=admin.id)
    clinician = accounts.create_user(*CLINICIAN, "clinician", [site.id], actor=admin.id)
    study = studies.create_study({
        "code": DEMO_STUDY, "name": "Demo: internet-delivered CBT for chronic pain",
        "arms": [{"code": "icbt", "name": "Internet CBT"},
                 {"code": "education", "name": "Pain education (active control)"},
                 {"code": "usual_care", "name": "Usual care"}],
        "schedule": SCHEDULE,
    }, actor=admin.id)
    schedule = expand(timepoint.spec() for timepoint in study.schedule)
    clinician_user = db.session.get(User, clinician.id)
    now = datetime.now(UTC)
    people = _cohort(now.astimezone(ZoneInfo(ZONE)).date())

    enrolled = []
    entries: list[dict[str, Any]] = []
    for person in people:
        enrolment = participants.enrol(study.id, {
            "site_id": site.id, "arm": person.arm, "enrolled_on": person.enrolled_on,
            "language": "en", "timezone": ZONE}, actor=clinician_user)
        participant_id = enrolment.participant.id
        if person.randomised_on is not None:
            participants.record_randomisation(participant_id, person.randomised_on,
                                              actor=clinician_user)
        enrolled.append((person.arm, str(participant_id), enrolment.activation_code))
        entries += _submissions(person, str(participant_id), schedule, now)

    events = 0
    for start in range(0, len(entries), 500):
        chunk = entries[start:start + 500]
        for entry, result in zip(chunk, submissions.submit_batch(chunk, actor=clinician_user),
                                 strict=True):
            if result["status"] != 201:
                raise RuntimeError(f"demo response {entry['id']} ({entry['instrument']}) was "
                                   f"refused: {result}")
        events += sum(1 for entry in chunk
                      if entry["instrument"] == "adverse_event" and entry["answers"]["occurred"])
    # A report worth opening: the best responder to internet CBT followed beyond 6 months.
    fu6m = next(occurrence for occurrence in schedule if occurrence.code == "fu6m")
    featured = max((k for k, p in enumerate(people) if p.arm == "icbt"),
                   key=lambda k: (people[k].followed_beyond(fu6m), people[k].response))
    return {"admin": ADMIN, "clinician": CLINICIAN, "study": str(study.id),
            "participants": enrolled, "report": enrolled[featured][1],
            "responses": len(entries), "adverse_events": events,
            "try_in_app": _worth_trying_in_the_app(enrolled, now)}


def _worth_trying_in_the_app(enrolled: Sequence[tuple[str, str, str]],
                             now: datetime) -> tuple[str, int] | None:
    """(activation code, questionnaires open now) of the participant with the most to answer
    in the participant app today, a pain trend included; None when nobody has anything open."""
    best = None
    for _, participant_id, code in enrolled:
        participant = db.session.get(Participant, uuid.UUID(participant_id))
        items = due_items(participant, now)
        open_now = sum(item.status == OPEN for item in items)
        has_trend = sum(item.status == COMPLETED and item.instrument == "nrs_pain"
                        for item in items) >= 2
        if open_now and has_trend and (best is None or open_now > best[1]):
            best = (code, open_now)
    return best


# ---------------------------------------------------------------------------------------------
# The cohort


@dataclass
class _Person:
    """One synthetic participant: their plan and their own random stream."""

    number: int  # enrolment order, from 0
    arm: str
    enrolled_on: date
    randomised_on: date | None
    today: date
    rng: np.random.Generator
    baseline_pain: float = 0.0
    response: float = 0.0  # fraction of baseline pain gone at the end of treatment
    offsets: dict[str, float] = field(default_factory=dict)  # per domain
    drops_out_after: int | None = None  # index in the schedule of the last timepoint done

    @property
    def anchor(self) -> date:
        return self.randomised_on or self.enrolled_on

    @property
    def today_day(self) -> int:
        return (self.today - self.anchor).days

    def followed_beyond(self, occurrence: Occurrence) -> bool:
        """Still taking part after `occurrence`'s window closed."""
        return self.drops_out_after is None and self.today_day > occurrence.last_day

    def pain(self, day: int) -> float:
        """Pain (0–10) on study day `day`, with occasion noise."""
        typical = self.baseline_pain * (1 - self.improvement(day))
        return float(np.clip(typical + self.rng.normal(0, PAIN_NOISE), 0.0, 10.0))

    def improvement(self, day: int) -> float:
        """Fraction of baseline pain gone on study day `day` (the module's model)."""
        if day <= 0:
            return 0.0
        if day <= TREATMENT_DAYS:
            return self.response * day / TREATMENT_DAYS
        fade = math.exp(-(day - TREATMENT_DAYS) / FADE_DAYS)
        return self.response * (KEPT_LONG_TERM + (1 - KEPT_LONG_TERM) * fade)


def _cohort(today: date) -> list[_Person]:
    """36 participants in enrolment order, 12 per arm (module docstring)."""
    rng = np.random.default_rng(SEED)
    total = PER_ARM * len(ARM_RESPONSE)
    days_ago = np.linspace(*ENROLMENT_SPAN, total).round().astype(int)
    days_ago = np.clip(days_ago + rng.integers(-4, 5, total), ENROLMENT_SPAN[1], None)
    days_ago = sorted(days_ago.tolist(), reverse=True)
    arms = [arm for _ in range(total // 6)
            for arm in rng.permutation([*ARM_RESPONSE, *ARM_RESPONSE]).tolist()]
    people = []
    for number, (ago, arm) in enumerate(zip(days_ago, arms, strict=True)):
        own = np.random.default_rng([SEED, number])
        enrolled_on = today - timedelta(days=ago)
        randomised_on = None
        if ago > AWAITING_RANDOMISATION:
            randomised_on = min(enrolled_on + timedelta(days=int(own.integers(2, 9))), today)
        person = _Person(number, arm, enrolled_on, randomised_on, today, own)
        person.baseline_pain = float(np.clip(own.normal(*BASELINE_PAIN), 4.0, 9.0))
        person.response = float(own.normal(ARM_RESPONSE[arm], RESPONSE_SD))
        person.offsets = {domain: float(own.normal(0, DOMAIN_SD))
                          for domain in ("mood", "quality_of_life", "cognition")}
        if own.random() < DROP_OUT:
            person.drops_out_after = int(own.integers(1, 9))  # week1 … post
        people.append(person)
    return people


# ---------------------------------------------------------------------------------------------
# Responses


def _submissions(person: _Person, participant_id: str, schedule: Sequence[Occurrence],
                 now: datetime) -> list[dict[str, Any]]:
    """The person's entries for `submit_batch`: every timepoint whose window has opened, less
    the missed ones, plus their unscheduled reports. Nothing is collected after `now`."""
    entries = []
    events = np.random.default_rng([SEED, person.number, 1])
    for number, day, severity, serious in UNSCHEDULED_EVENTS:
        if number != person.number:
            continue
        moment = _local_moment(person, day, events)
        if moment <= now:
            answers = adverse_event_answers(events, True, severity, serious, on=moment.date())
            entries.append(_entry(events, participant_id, "adverse_event", answers, moment, None))
    rng = person.rng
    for index, occurrence in enumerate(schedule):
        if person.drops_out_after is not None and index > person.drops_out_after:
            break
        # Drawn before deciding whether it happened, so that each timepoint uses the same
        # draws whatever the date: the cohort's story does not change from day to day.
        missed = rng.random() < MISSED
        late = rng.random() < LATE
        declared = occurrence.code if rng.random() >= UNDECLARED else None
        sends_twice = DUPLICATE_SENDERS.get(person.number) == occurrence.code
        if sends_twice:
            missed = late = False
        day = _collection_day(person, occurrence, late, rng)
        moment = _local_moment(person, day, rng)
        if missed or occurrence.first_day > person.today_day or moment > now:
            continue
        pain = person.pain(day) / 10
        for instrument in occurrence.instruments:
            answers = _answers(person, instrument, day, pain)
            entries.append(_entry(rng, participant_id, instrument, answers, moment, declared))
        if sends_twice:
            other_day = day + 1 if day < occurrence.last_day else day - 1
            again = _local_moment(person, other_day, rng)
            if again <= now:
                answers = _answers(person, "nrs_pain", other_day, person.pain(other_day) / 10)
                entries.append(_entry(rng, participant_id, "nrs_pain", answers, again,
                                      occurrence.code))
    return entries


def _collection_day(person: _Person, occurrence: Occurrence, late: bool,
                    rng: np.random.Generator) -> int:
    """The study day a timepoint's forms are filled in."""
    if occurrence.code == "baseline":  # at enrolment, before randomisation
        return (person.enrolled_on - person.anchor).days + int(rng.integers(0, 2))
    if late:
        return occurrence.last_day + int(rng.integers(1, 8))
    delay = int(rng.choice(DELAY_DAYS, p=DELAY_WEIGHTS))
    return min(max(occurrence.day + delay, occurrence.first_day), occurrence.last_day)


def _local_moment(person: _Person, day: int, rng: np.random.Generator) -> datetime:
    """An evening-leaning local time on study day `day`, as an aware datetime."""
    minutes = int(np.clip(rng.normal(19.5 * 60, 150), 7 * 60, 23 * 60 - 1))
    local_date = person.anchor + timedelta(days=day)
    return datetime.combine(local_date, time(minutes // 60, minutes % 60),
                            tzinfo=ZoneInfo(ZONE))


def _answers(person: _Person, instrument: str, day: int, pain: float) -> dict[str, Any]:
    """One form's answers on study day `day`, when pain is `pain` (0–1) that day."""
    rng = person.rng
    if instrument == "adverse_event":
        if rng.random() >= EVENT_AT_POST:
            return adverse_event_answers(rng, False)
        severity = str(rng.choice(list(EVENT_SEVERITY), p=list(EVENT_SEVERITY.values())))
        return adverse_event_answers(rng, True, severity,
                                     on=person.anchor + timedelta(days=day))
    if instrument == "pgic":
        severity = pgic_severity(person.improvement(day) + rng.normal(0, OCCASION_SD))
    elif instrument in OUTCOME_MODEL:
        intercept, slope, domain = OUTCOME_MODEL[instrument]
        severity = (intercept + slope * pain + person.offsets[domain]
                    + rng.normal(0, OCCASION_SD))
    else:
        severity = pain
    return answers_at(library().get(instrument), float(np.clip(severity, 0.0, 1.0)), rng,
                      on=person.anchor + timedelta(days=day))


def _entry(rng: np.random.Generator, participant_id: str, instrument: str,
           answers: dict[str, Any], moment: datetime, timepoint: str | None) -> dict[str, Any]:
    """A `submit_batch` entry, as the API takes it."""
    definition = library().get(instrument)
    entry = {"id": str(uuid.UUID(bytes=rng.bytes(16), version=4)),
             "participant_id": participant_id, "instrument": definition.id,
             "instrument_version": definition.version, "collected_at": moment.isoformat(),
             "language": "en", "answers": answers}
    if timepoint is not None:
        entry["timepoint"] = timepoint
    return entry
