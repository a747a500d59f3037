"""The synthetic trial model: repeatable, the sizes and rates it was given, valid entries that
land in their windows, and the standardised effect on nrs_pain it was asked for."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from prom.instruments import load_library, validate_answers
from prom.schedule import assign
from prom.schemas.responses import ResponseCreateSchema
from prom.synthetic_trial import (
    Arm,
    TrialSpec,
    effect_unit,
    generate,
    observed_sd,
    population_smd,
)

LIBRARY = load_library()
PARTICIPANT_ID = "6f1c3a52-9d7e-4b8a-8c1f-0a2b3c4d5e6f"
SMALL = TrialSpec(arms=(Arm("icbt", "Internet CBT", 6), Arm("education", "Education", 6),
                        Arm("usual_care", "Usual care", 6)), duplicates=0.05)


def _nrs_only(*codes_and_days: tuple[str, int], adverse_at: str | None = None):
    """A light schedule (nrs_pain at each timepoint) for large samples."""
    return tuple({"code": code, "day": day, "window_before": 3 if code != "baseline" else 14,
                  "window_after": 3 if code != "baseline" else 7,
                  "instruments": ["nrs_pain", *(["adverse_event"] if code == adverse_at
                                                else [])]}
                 for code, day in codes_and_days)


def _two_arms(n: int, **changes) -> TrialSpec:
    return TrialSpec(arms=(Arm("treated", "Treated", n), Arm("control", "Control", n)),
                     comparator="control", effects={"treated": {"nrs_pain": 0.5}},
                     adverse_events={}, **changes)


# ---------------------------------------------------------------------------------------------
# Repeatable


def test_the_same_spec_gives_the_same_entries():
    first = list(generate(SMALL))
    assert first == list(generate(SMALL))
    assert list(generate(SMALL, start=5, stop=9)) == first[5:9]  # slices agree with the whole
    other = list(generate(dataclasses.replace(SMALL, seed=SMALL.seed + 1)))
    assert [p.forms[0].answers for p in other] != [p.forms[0].answers for p in first]


def test_response_ids_are_unique_and_depend_on_the_study_code():
    ids = [form.id for person in generate(SMALL) for form in person.forms]
    assert len(set(ids)) == len(ids)
    renamed = [form.id for person in generate(dataclasses.replace(SMALL, code="OTHER"))
               for form in person.forms]
    assert not set(ids) & set(renamed)


def test_a_spec_survives_json():
    spec = dataclasses.replace(SMALL, effect_half_life_days=120.0)
    assert TrialSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


# ---------------------------------------------------------------------------------------------
# Sizes and rates


def test_arms_have_their_sizes_and_every_site_recruits():
    people = list(generate(dataclasses.replace(
        SMALL, arms=(Arm("icbt", "I", 40), Arm("education", "E", 25),
                     Arm("usual_care", "U", 35)))))
    assert Counter(p.enrolment.arm for p in people) == {"icbt": 40, "education": 25,
                                                         "usual_care": 35}
    assert {p.enrolment.site for p in people} == {site.code for site in SMALL.sites}
    assert [p.enrolment.number for p in people] == list(range(100))
    enrolled = [p.enrolment.enrolled_on for p in people]
    assert enrolled == sorted(enrolled)
    assert all(1 <= (p.enrolment.randomised_on - p.enrolment.enrolled_on).days <= 7
               for p in people)


def test_drop_out_missed_timepoints_skipped_items_and_duplicates_follow_the_spec():
    schedule = _nrs_only(("baseline", 0), ("week2", 14), ("week4", 28), ("post", 56),
                         ("fu3m", 146))
    spec = _two_arms(2500, schedule=schedule, drop_out=0.2, missed=0.15, missing_items=0.1,
                     duplicates=0.05, undeclared=0.2)
    people = list(generate(spec))
    codes = [o.code for o in spec.occurrences()]
    dropped = [p for p in people if p.dropped_out_after is not None]
    assert len(dropped) / len(people) == pytest.approx(0.2, abs=0.015)
    assert all(p.dropped_out_after != "fu3m" for p in dropped)
    assert Counter(p.dropped_out_after for p in dropped).keys() == set(codes[:-1])
    assert all(p.completed[0] == "baseline" for p in people)
    # Each timepoint after baseline and up to drop-out is missed 15% of the time.
    expected = sum(codes.index(p.dropped_out_after or "fu3m") for p in people)
    attended = sum(len(p.completed) - 1 for p in people)
    assert 1 - attended / expected == pytest.approx(0.15, abs=0.01)

    forms = [form for p in people for form in p.forms]
    assert {(p.enrolment.number, f.timepoint) for p in people for f in p.forms} == {
        (p.enrolment.number, code) for p in people for code in p.completed}
    originals = [form for form in forms if not form.duplicate]
    assert len(forms) / len(originals) - 1 == pytest.approx(0.05, abs=0.006)
    optional = [answered for form in forms for answered in
                (item in form.answers for item in ("worst", "least", "now"))]
    assert 1 - np.mean(optional) == pytest.approx(0.1, abs=0.006)
    assert all("average" in form.answers for form in forms)  # required: never skipped
    assert 1 - np.mean([form.declared for form in originals]) == pytest.approx(0.2, abs=0.01)


def test_adverse_events_are_reported_at_each_arms_rate():
    spec = dataclasses.replace(
        _two_arms(3000, schedule=_nrs_only(("baseline", 0), ("post", 56), adverse_at="post"),
                  drop_out=0.0, missed=0.0, duplicates=0.0, serious=0.2),
        adverse_events={"treated": 0.25, "control": 0.1})
    reports: dict[str, list[bool]] = {"treated": [], "control": []}
    serious = []
    for person in generate(spec):
        for form in person.forms:
            if form.instrument == "adverse_event":
                assert form.timepoint == "post"
                reports[person.enrolment.arm].append(form.answers["occurred"])
                if form.answers["occurred"]:
                    serious.append(form.answers["seriousness"] != ["none"])
    assert len(reports["treated"]) == len(reports["control"]) == 3000
    assert np.mean(reports["treated"]) == pytest.approx(0.25, abs=0.025)
    assert np.mean(reports["control"]) == pytest.approx(0.1, abs=0.017)
    assert np.mean(serious) == pytest.approx(0.2, abs=0.045)


# ---------------------------------------------------------------------------------------------
# Valid, and where they belong


def test_every_entry_is_valid_and_lands_in_its_window():
    schema = ResponseCreateSchema()
    occurrences = {o.code: o for o in SMALL.occurrences()}
    now = datetime.now(UTC)
    count = 0
    for person in generate(SMALL):
        enrolment = person.enrolment
        zone = ZoneInfo(enrolment.timezone)
        for form, entry in zip(person.forms, person.entries(PARTICIPANT_ID), strict=True):
            definition = LIBRARY.get(form.instrument, form.instrument_version)
            assert validate_answers(definition, form.answers) == {}, (form.instrument,
                                                                      form.answers)
            assert schema.validate(json.loads(json.dumps(entry))) == {}
            assert form.collected_at.tzinfo == zone and form.collected_at < now
            assignment = assign(list(occurrences.values()), instrument=form.instrument,
                                collected_at=form.collected_at,
                                anchor=enrolment.randomised_on, zone=zone,
                                declared=entry.get("timepoint"))
            assert (assignment.timepoint, assignment.in_window, assignment.flags) == (
                form.timepoint, True, ()), form
            count += 1
    assert count > 400


def test_baseline_is_filled_in_at_enrolment_before_randomisation():
    for person in generate(SMALL):
        baseline = [f for f in person.forms if f.timepoint == "baseline" and not f.duplicate]
        days = {(f.collected_at.date() - person.enrolment.enrolled_on).days for f in baseline}
        assert days <= {0, 1}
        assert all(f.collected_at.date() <= person.enrolment.randomised_on for f in baseline)


def test_the_whole_trial_must_lie_in_the_past():
    with pytest.raises(ValueError, match="must have finished"):
        dataclasses.replace(SMALL, enrolment_start=date.today())


@pytest.mark.parametrize(("changes", "message"), [
    ({"comparator": "placebo"}, "comparator 'placebo' is not an arm"),
    ({"effects": {"usual_care": {"nrs_pain": 0.3}}}, "comparator's effects are 0"),
    ({"effects": {"placebo": {"nrs_pain": 0.3}}}, "effects name arm 'placebo'"),
    ({"drop_out": 1.5}, "drop_out must be between 0 and 1"),
    ({"post": "week12"}, "'week12' is not in the schedule"),
])
def test_a_spec_that_makes_no_sense_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMALL, **changes)


# ---------------------------------------------------------------------------------------------
# The standardised effect


def test_the_population_smd_of_nrs_pain_is_the_specified_d():
    spec = TrialSpec()
    for arm in ("icbt", "education"):
        assert population_smd(spec, "nrs_pain", arm) == pytest.approx(
            spec.effect(arm, "nrs_pain"), abs=0.001)  # clipping is negligible
    assert population_smd(spec, "nrs_pain", "usual_care") == 0.0
    assert observed_sd(spec, "nrs_pain") == pytest.approx((13 / 6) ** 0.5)
    assert effect_unit(spec, "nrs_pain") == pytest.approx(observed_sd(spec, "nrs_pain") / 10)


def test_the_observed_nrs_smd_at_post_is_the_specified_d():
    """From the generated answers: 25,000 per arm put the sampling SE of the SMD near 0.009."""
    spec = _two_arms(25_000, schedule=_nrs_only(("baseline", 0), ("post", 56)), drop_out=0.0,
                     missed=0.0, duplicates=0.0)
    post: dict[str, list[int]] = {"treated": [], "control": []}
    for person in generate(spec):
        post[person.enrolment.arm] += [form.answers["average"] for form in person.forms
                                       if form.timepoint == "post"]
    treated, control = (np.array(post[arm], dtype=float) for arm in ("treated", "control"))
    pooled = np.sqrt((treated.var(ddof=1) + control.var(ddof=1)) / 2)
    smd = (control.mean() - treated.mean()) / pooled  # pain: lower is better
    assert smd == pytest.approx(population_smd(spec, "nrs_pain", "treated"), abs=0.03)
    assert population_smd(spec, "nrs_pain", "treated") == pytest.approx(0.5, abs=0.001)
    for values in (treated, control):  # the variance the calibration derives
        assert values.std(ddof=1) == pytest.approx(observed_sd(spec, "nrs_pain"), rel=0.02)


def test_an_effect_fades_after_post_with_its_half_life():
    spec = dataclasses.replace(TrialSpec(), effect_half_life_days=90.0)
    at_post = population_smd(spec, "nrs_pain", "icbt")
    fu3m = population_smd(spec, "nrs_pain", "icbt", "fu3m")  # 90 days after post
    assert fu3m == pytest.approx(at_post / 2, abs=0.002)
    assert population_smd(TrialSpec(), "nrs_pain", "icbt", "fu12m") == pytest.approx(at_post)


def test_on_a_multi_item_scale_the_observed_smd_is_attenuated():
    spec = TrialSpec()
    observed = population_smd(spec, "phq9", "icbt", draws=4000)
    assert 0.15 < observed < spec.effect("icbt", "phq9")
