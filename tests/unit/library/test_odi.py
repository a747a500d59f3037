"""Oswestry Disability Index v2.1a (instruments/odi-2.1.yaml): percent of the maximum over the
sections answered (Fairbank JCT, Pynsent PB. Spine 2000;25:2940–2952), at least 8 of 10 answered.
"""

import math
import shutil

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
ODI = LIBRARY.get("odi")
SECTIONS = tuple(f"s{n}" for n in range(1, 11))

# Fairbank & Pynsent 2000, whole percentages: 0-20, 21-40, 41-60, 61-80, 81-100
FAIRBANK = ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled"), (100, "bed_bound"))


def answers_with(total, answered=10):
    """`answered` sections (the first ones) whose scores add up to `total`."""
    assert 0 <= total <= 5 * answered
    given, left = {}, total
    for section in SECTIONS[:answered]:
        given[section] = min(5, left)
        left -= given[section]
    return given


def odi(given):
    return score_answers(ODI, given)["odi"]


def fairbank_band(value):
    whole = math.floor(value + 0.5)  # rounded half up to a whole percent
    return next(code for upper, code in FAIRBANK if whole <= upper)


def test_is_version_2_1_with_public_item_and_scale_ids():
    assert LIBRARY.get("odi", "2.1") is ODI
    assert [item.id for item in ODI.items] == list(SECTIONS)
    assert [scale.id for scale in ODI.scales] == ["odi"]
    assert ODI.domains == ("physical_function",)


def test_ships_no_item_text():
    assert ODI.license.text_included is False
    assert all(not item.text for item in ODI.items)


def test_published_example_all_sections_answered():
    # Fairbank scoring instructions: 16 (total scored) / 50 (total possible) x 100 = 32%
    score = odi(answers_with(16))
    assert score.value == pytest.approx(32.0)
    assert score.status == "scored"
    assert score.n_answered == 10


def test_published_example_one_section_missing():
    # Fairbank: one section missed → 16 / 45 x 100; printed as "35.5%" (truncated), exactly 35.555…
    score = odi(answers_with(16, answered=9))
    assert score.value == pytest.approx(1600 / 45)
    assert score.value == pytest.approx(35.5556, abs=1e-4)
    assert score.n_answered == 9
    assert score.status == "prorated"  # the engine flags any score computed with items missing


def test_an_unanswered_section_takes_five_off_the_denominator():
    given = {section: 3 for section in SECTIONS}
    del given["s8"]  # sex life, the section most often skipped
    assert odi(given).value == pytest.approx(27 / 45 * 100)


def test_scores_with_eight_sections_answered():
    score = odi(answers_with(16, answered=8))
    assert score.value == pytest.approx(40.0)  # 16 / 40 x 100
    assert score.n_answered == 8
    assert score.status == "prorated"


def test_seven_sections_answered_is_insufficient():
    score = odi(answers_with(16, answered=7))
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 7
    assert score.band is None


@pytest.mark.parametrize(("total", "expected"), [(0, 0.0), (50, 100.0), (25, 50.0)])
def test_full_range_is_0_to_100(total, expected):
    assert odi(answers_with(total)).value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("total", "answered", "value", "band"),
    [
        (0, 10, 0.0, "minimal"),
        (10, 10, 20.0, "minimal"),  # top of Fairbank's 0-20
        (10, 9, 2000 / 90, "moderate"),  # 22.2: lowest value above 20
        (20, 10, 40.0, "moderate"),
        (17, 8, 42.5, "severe"),
        (30, 10, 60.0, "severe"),
        (28, 9, 2800 / 45, "crippled"),  # 62.2
        (40, 10, 80.0, "crippled"),
        (37, 9, 3700 / 45, "bed_bound"),  # 82.2
        (50, 10, 100.0, "bed_bound"),
    ],
)
def test_bands_follow_fairbank_at_their_boundaries(total, answered, value, band):
    score = odi(answers_with(total, answered))
    assert score.value == pytest.approx(value)
    assert score.band == band


def test_every_attainable_score_lands_in_fairbanks_integer_band():
    # With 8-10 sections answered no value falls strictly between 20 and 21, 40 and 41, …, so the
    # half-way band mins (20.5, 40.5, …) reproduce Fairbank's whole-percent bands exactly.
    for answered in (8, 9, 10):
        for total in range(5 * answered + 1):
            score = odi(answers_with(total, answered))
            assert score.band == fairbank_band(score.value), (answered, total, score.value)


def test_min_answered_default_is_eight():
    assert ODI.scale("odi").min_answered == 8


def test_mcid_is_10_points_or_30_percent_per_ostelo():
    mcid = ODI.scale("odi").mcid
    assert (mcid.absolute, mcid.percent) == (10, 30)
    assert "Ostelo" in mcid.source


@pytest.mark.parametrize(
    ("given", "raised"),
    [
        (answers_with(37, answered=9), ["bed_bound_range"]),  # 82.2
        (answers_with(50), ["bed_bound_range"]),
        (answers_with(40), []),  # 80: top of "crippled"
        (answers_with(35, answered=7), []),  # all 5s but insufficient: no score, no alert
    ],
)
def test_alert_fires_above_80_percent(given, raised):
    assert raised_alerts(ODI, given) == raised


def test_complete_answers_are_valid():
    assert validate_answers(ODI, answers_with(16)) == {}


def test_no_section_is_required():
    # section 8 (sex life) is commonly skipped; the min-answered rule handles gaps
    given = answers_with(16)
    del given["s8"]
    assert validate_answers(ODI, given) == {}


@pytest.mark.parametrize("value", [6, -1, "5"])
def test_rejects_codes_other_than_0_to_5(value):
    assert list(validate_answers(ODI, {**answers_with(16), "s3": value})) == ["s3"]


def test_an_overlay_labels_each_sections_statements_separately(tmp_path):
    # each section has its own response set, so licensed wording for one section's statements
    # must not leak into another's (YAML aliases would share one object and leak)
    library, overlays = tmp_path / "library", tmp_path / "overlays"
    library.mkdir()
    overlays.mkdir()
    shutil.copy(ODI.source, library / ODI.source.name)
    (overlays / "odi-2.1.yaml").write_text(
        "overlay: true\n"
        "id: odi\n"
        'version: "2.1"\n'
        "items:\n"
        "  s1: {text: {en: Licensed heading one}}\n"
        "response_sets:\n"
        "  s1_statements: {options: {'0': {en: Licensed statement s1-0}}}\n"
        "  s2_statements: {options: {'0': {en: Licensed statement s2-0}}}\n",
        encoding="utf-8",
    )
    licensed = load_library(library, overlay_directory=overlays).get("odi")
    first_label = {item.id: item.response.options[0].label["en"] for item in licensed.items}
    assert first_label["s1"] == "Licensed statement s1-0"
    assert first_label["s2"] == "Licensed statement s2-0"
    assert first_label["s3"] == "0: first statement (least disability)"
    assert licensed.item("s1").text == {"en": "Licensed heading one"}
    assert score_answers(licensed, answers_with(16))["odi"].value == pytest.approx(32.0)
