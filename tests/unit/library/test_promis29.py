"""PROMIS-29 Profile v2.1 (instruments/promis29-2.1.yaml): seven 4a short forms, each a raw sum
(4–20) looked up in instruments/tables/promis29_v2_1_raw_to_t.csv, plus the 0–10 pain item.

Expected T-scores are the rows of the PROMIS Adult Profile scoring tables as reproduced in public
scoring scripts (sources per row in the CSV). Answer codes are the values PROMIS scores: for
Sleep109, Sleep116 and the social-roles items the first-shown option is already 5.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
PROMIS29 = LIBRARY.get("promis29")

DOMAINS = {
    "physical_function": ("PFA11", "PFA21", "PFA23", "PFA53"),
    "anxiety": ("EDANX01", "EDANX40", "EDANX41", "EDANX53"),
    "depression": ("EDDEP04", "EDDEP06", "EDDEP29", "EDDEP41"),
    "fatigue": ("HI7", "AN3", "FATEXP41", "FATEXP40"),
    "sleep_disturbance": ("Sleep109", "Sleep116", "Sleep20", "Sleep44"),
    "social_roles": ("SRPPER11_CaPS", "SRPPER18_CaPS", "SRPPER23_CaPS", "SRPPER46_CaPS"),
    "pain_interference": ("PAININ9", "PAININ22", "PAININ31", "PAININ34"),
}

# (raw 4, raw 12, raw 20) per domain, from the PROMIS-29 v2.1 tables
T_SCORES = {
    "physical_function": (22.5, 36.7, 57.0),
    "anxiety": (40.3, 63.4, 81.6),
    "depression": (41.0, 62.2, 79.4),
    "fatigue": (33.7, 57.0, 75.8),
    "sleep_disturbance": (32.0, 54.3, 73.3),
    "social_roles": (27.5, 44.2, 64.2),
    "pain_interference": (41.6, 61.2, 75.6),
}


def with_values(domain, values):
    """Answers giving each item of `domain` the scored value in `values` (in item order)."""
    return dict(zip(DOMAINS[domain], values, strict=True))


def values_for(raw):
    """Four item values 1..5 that add up to `raw` (4..20)."""
    values, left = [], raw
    for remaining in (3, 2, 1, 0):
        value = min(5, left - remaining)
        values.append(value)
        left -= value
    return values


def domain_score(domain, answers):
    return score_answers(PROMIS29, answers)[domain]


def test_public_item_and_scale_ids():
    assert LIBRARY.get("promis29", "2.1") is PROMIS29
    expected_items = [item for items in DOMAINS.values() for item in items] + ["Global07"]
    assert [item.id for item in PROMIS29.items] == expected_items
    assert [scale.id for scale in PROMIS29.scales] == [*DOMAINS, "pain_intensity"]


def test_ships_no_promis_wording():
    assert PROMIS29.license.text_included is False
    assert all(not item.text for item in PROMIS29.items)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize(("raw", "position"), [(4, 0), (12, 1), (20, 2)])
def test_raw_sum_is_looked_up_in_the_v2_1_table(domain, raw, position):
    score = domain_score(domain, with_values(domain, values_for(raw)))
    assert score.value == pytest.approx(T_SCORES[domain][position])
    assert score.status == "scored"
    assert score.n_answered == 4


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_same_raw_sum_gives_the_same_t_whatever_the_items(domain):
    # raw 12 as 3+3+3+3 and as 1+2+4+5
    even = domain_score(domain, with_values(domain, (3, 3, 3, 3))).value
    uneven = domain_score(domain, with_values(domain, (1, 2, 4, 5))).value
    assert even == uneven == pytest.approx(T_SCORES[domain][1])


@pytest.mark.parametrize(
    ("raw", "expected"),
    # PROMIS SF v2.0 Physical Function 4a (PROMIS-29 v2.0/v2.1), not the retired v1.0 table
    # (22.9, 26.9, … 45.3, 48.0, 56.9)
    [(4, 22.5), (5, 26.6), (14, 39.2), (18, 45.5), (19, 48.3), (20, 57.0)],
)
def test_physical_function_uses_the_v2_table(raw, expected):
    score = domain_score("physical_function", with_values("physical_function", values_for(raw)))
    assert score.value == pytest.approx(expected)


@pytest.mark.parametrize(("raw", "expected"), [(18, 69.7), (19, 71.6), (20, 75.6)])
def test_pain_interference_top_of_table(raw, expected):
    # raw 20 is 75.6 (SE 3.7) in three public copies; one copy's 75.8 is the fatigue value
    score = domain_score("pain_interference", with_values("pain_interference", values_for(raw)))
    assert score.value == pytest.approx(expected)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("missing", range(4))
def test_one_missing_item_makes_the_domain_insufficient(domain, missing):
    answers = with_values(domain, (5, 5, 5, 5))
    del answers[DOMAINS[domain][missing]]
    score = domain_score(domain, answers)
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 3


def test_a_missing_item_only_affects_its_own_domain():
    answers = {**with_values("anxiety", (2, 2, 2, 2)), **with_values("depression", (2, 2, 2, 2))}
    del answers["EDDEP41"]
    scores = score_answers(PROMIS29, answers)
    assert scores["anxiety"].value == pytest.approx(55.8)  # raw 8
    assert scores["depression"].status == "insufficient"


# ------------------------------------------------------------------------- reverse-valued items


@pytest.mark.parametrize("item", ["Sleep109", "Sleep116", *DOMAINS["social_roles"]])
def test_reverse_worded_items_show_5_first(item):
    # PROMIS values these options in reverse of their display order (poorest quality, not
    # refreshing, trouble "never" = 5), so the option shown first carries code 5
    assert PROMIS29.item(item).response.codes == (5, 4, 3, 2, 1)


@pytest.mark.parametrize("item", ["Sleep20", "Sleep44", "EDANX01", "HI7", "PAININ9"])
def test_symptom_items_show_1_first(item):
    assert PROMIS29.item(item).response.codes == (1, 2, 3, 4, 5)


def test_physical_function_shows_most_able_first():
    assert PROMIS29.item("PFA11").response.codes == (5, 4, 3, 2, 1)


def test_no_scale_reverses_again():
    # the reversal lives in the answer codes; a `reverse` on top would undo it
    assert all(not scale.reverse for scale in PROMIS29.scales)


def test_best_sleep_quality_counts_like_no_sleep_problem():
    # Sleep109 answered with its best-quality option (code 1, shown last) contributes what
    # Sleep20 answered "no problem" (code 1) does: both leave the raw sum at its floor
    best_quality = with_values("sleep_disturbance", (1, 1, 1, 1))
    assert domain_score("sleep_disturbance", best_quality).value == pytest.approx(32.0)


@pytest.mark.parametrize("reversed_item", ["Sleep109", "Sleep116"])
def test_worst_answer_to_a_reversed_sleep_item_counts_like_worst_sleep_problem(reversed_item):
    # the first-shown option of Sleep109 (poorest quality) / Sleep116 (not refreshing) is 5 and
    # raises disturbance exactly as Sleep20 = 5 ("very much" a problem) does: raw 8 → T 46.2
    base = dict.fromkeys(DOMAINS["sleep_disturbance"], 1)
    worst_reversed = {**base, reversed_item: 5}
    worst_problem = {**base, "Sleep20": 5}
    assert domain_score("sleep_disturbance", worst_reversed).value == pytest.approx(46.2)
    assert domain_score("sleep_disturbance", worst_problem).value == pytest.approx(46.2)


def test_never_having_trouble_is_the_best_social_roles_score():
    never = with_values("social_roles", (5, 5, 5, 5))
    always = with_values("social_roles", (1, 1, 1, 1))
    assert domain_score("social_roles", never).value == pytest.approx(64.2)
    assert domain_score("social_roles", always).value == pytest.approx(27.5)
    assert PROMIS29.scale("social_roles").higher_is == "better"


# ----------------------------------------------------------------------------- pain intensity


@pytest.mark.parametrize("rating", [0, 1, 5, 10])
def test_pain_intensity_is_the_0_to_10_item_itself(rating):
    score = score_answers(PROMIS29, {"Global07": rating})["pain_intensity"]
    assert score.value == rating
    assert score.status == "scored"


def test_pain_intensity_missing_is_insufficient():
    score = score_answers(PROMIS29, with_values("anxiety", (1, 1, 1, 1)))["pain_intensity"]
    assert score.value is None
    assert score.status == "insufficient"


@pytest.mark.parametrize(
    ("rating", "band"), [(0, "none"), (1, "mild"), (3, "mild"), (4, "moderate"), (7, "severe")]
)
def test_pain_intensity_bands(rating, band):
    assert score_answers(PROMIS29, {"Global07": rating})["pain_intensity"].band == band


# ------------------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("raw", "t", "band"),
    # HealthMeasures symptom cut points 55 / 60 / 70 (anxiety table)
    [(4, 40.3, "within_normal_limits"), (7, 53.7, "within_normal_limits"), (8, 55.8, "mild"),
     (10, 59.5, "mild"), (11, 61.4, "moderate"), (15, 69.3, "moderate"), (16, 71.2, "severe")],
)
def test_anxiety_bands_at_the_cut_points(raw, t, band):
    score = domain_score("anxiety", with_values("anxiety", values_for(raw)))
    assert score.value == pytest.approx(t)
    assert score.band == band


@pytest.mark.parametrize(
    ("raw", "t", "band"),
    # function cut points 45 / 40 / 30, higher is better (physical function table)
    [(4, 22.5, "severe"), (7, 30.5, "moderate"), (14, 39.2, "moderate"), (15, 40.5, "mild"),
     (17, 43.5, "mild"), (18, 45.5, "within_normal_limits"), (20, 57.0, "within_normal_limits")],
)
def test_physical_function_bands_at_the_cut_points(raw, t, band):
    score = domain_score("physical_function", with_values("physical_function", values_for(raw)))
    assert score.value == pytest.approx(t)
    assert score.band == band


@pytest.mark.parametrize(
    ("domain", "raw", "band"),
    # T from the v2.1 tables in brackets
    [("depression", 7, "within_normal_limits"),  # 53.9
     ("depression", 8, "mild"),  # 55.7
     ("depression", 10, "mild"),  # 58.9
     ("depression", 11, "moderate"),  # 60.5
     ("depression", 17, "severe"),  # 71.2
     ("fatigue", 10, "within_normal_limits"),  # 53.1
     ("fatigue", 11, "mild"),  # 55.1
     ("fatigue", 14, "moderate"),  # 60.7
     ("fatigue", 19, "severe"),  # 71.6
     ("sleep_disturbance", 12, "within_normal_limits"),  # 54.3
     ("sleep_disturbance", 13, "mild"),  # 56.1
     ("sleep_disturbance", 16, "moderate"),  # 61.7
     ("sleep_disturbance", 20, "severe"),  # 73.3
     ("pain_interference", 6, "within_normal_limits"),  # 52.0
     ("pain_interference", 8, "mild"),  # 55.6
     ("pain_interference", 11, "mild"),  # 59.9
     ("pain_interference", 12, "moderate"),  # 61.2
     ("pain_interference", 19, "severe"),  # 71.6
     ("social_roles", 4, "severe"),  # 27.5
     ("social_roles", 5, "moderate"),  # 31.8
     ("social_roles", 10, "mild"),  # 40.5
     ("social_roles", 13, "within_normal_limits")],  # 46.2
)
def test_bands_of_the_other_domains(domain, raw, band):
    assert domain_score(domain, with_values(domain, values_for(raw))).band == band


# ------------------------------------------------------------------------------------ alerts


def full_answers(**raws):
    """Every domain answered (raw 4 unless given), pain intensity 0."""
    answers = {"Global07": 0}
    for domain in DOMAINS:
        answers.update(with_values(domain, values_for(raws.get(domain, 4))))
    return answers


def test_a_well_respondent_raises_no_alert():
    assert raised_alerts(PROMIS29, full_answers(physical_function=20, social_roles=20)) == []


@pytest.mark.parametrize(
    ("raws", "expected"),
    [
        ({"depression": 17}, ["severe_depression"]),  # T 71.2
        ({"depression": 16}, []),  # T 69.4
        ({"anxiety": 16}, ["severe_anxiety"]),  # T 71.2
        ({"anxiety": 15}, []),  # T 69.3
        ({"pain_interference": 19}, ["severe_pain_interference"]),  # T 71.6
        ({"pain_interference": 18}, []),  # T 69.7
    ],
)
def test_severe_t_scores_raise_alerts(raws, expected):
    assert raised_alerts(PROMIS29, full_answers(**raws)) == expected


@pytest.mark.parametrize(("rating", "expected"), [(8, ["severe_pain"]), (7, [])])
def test_average_pain_of_8_or_more_raises_an_alert(rating, expected):
    assert raised_alerts(PROMIS29, {**full_answers(), "Global07": rating}) == expected


def test_alerts_come_in_definition_order():
    answers = {**full_answers(depression=20, anxiety=20, pain_interference=20), "Global07": 10}
    assert raised_alerts(PROMIS29, answers) == [
        "severe_depression", "severe_anxiety", "severe_pain_interference", "severe_pain"]


# -------------------------------------------------------------------------------- validation


def test_complete_answers_are_valid():
    assert validate_answers(PROMIS29, full_answers()) == {}


@pytest.mark.parametrize(
    ("item", "value"),
    [("PFA11", 0), ("PFA11", 6), ("Sleep109", 6), ("Global07", 11), ("Global07", -1)],
)
def test_out_of_range_answers_are_rejected(item, value):
    assert item in validate_answers(PROMIS29, {**full_answers(), item: value})


def test_every_item_is_required():
    assert len(validate_answers(PROMIS29, {})) == 29
