"""PROMIS Global Health v1.2 (instruments/promis_gh-1.2.yaml): Global Physical Health =
Global03 + Global06 + Global07 recoded + Global08, Global Mental Health = Global02 + Global04 +
Global05 + Global10, each raw 4–20 looked up in instruments/tables/promis_gh_v1_2_raw_to_t.csv
(Hays RD et al. Qual Life Res 2009;18:873–880).

Expected T-scores are rows of that table; the best / median / worst / "random" cases are the
fixtures of awell-health/awell-score's independent implementation (promis_10.test.ts).
Answer codes are PROMIS's values: Global08 (fatigue) and Global10 (emotional problems) are the
v1.2 items Global08r / Global10r, whose first-shown option (no fatigue, never bothered) is 5.
"""

import pytest

from prom.instruments import load_library
from prom.instruments.validation import validate_answers
from prom.scoring import raised_alerts, score_answers

LIBRARY = load_library()
GH = LIBRARY.get("promis_gh")
ITEMS = ("Global01", "Global02", "Global03", "Global04", "Global05", "Global09", "Global06",
         "Global10", "Global08", "Global07")
GPH_ITEMS = ("Global03", "Global06", "Global07", "Global08")
GMH_ITEMS = ("Global02", "Global04", "Global05", "Global10")
# Global07 recode: 0 → 5, 1-3 → 4, 4-6 → 3, 7-9 → 2, 10 → 1
PAIN_FOR = {5: 0, 4: 2, 3: 5, 2: 8, 1: 10}  # a 0-10 rating that recodes to each value


def answers(physical=(3, 3, 3, 3), mental=(3, 3, 3, 3), global01=3, global09=3):
    """All ten items. `physical` gives Global03, Global06, recoded Global07 and Global08 values."""
    g03, g06, g07_recoded, g08 = physical
    return {
        "Global01": global01, "Global09": global09,
        "Global03": g03, "Global06": g06, "Global07": PAIN_FOR[g07_recoded], "Global08": g08,
        **dict(zip(GMH_ITEMS, mental, strict=True)),
    }


def scores(given):
    return score_answers(GH, given)


def test_public_item_and_scale_ids():
    assert LIBRARY.get("promis_gh", "1.2") is GH
    assert [item.id for item in GH.items] == list(ITEMS)  # v1.2 form order
    assert [scale.id for scale in GH.scales] == ["global_physical_health", "global_mental_health"]
    assert GH.scale("global_physical_health").items == GPH_ITEMS
    assert GH.scale("global_mental_health").items == GMH_ITEMS


def test_ships_no_promis_wording():
    assert GH.license.text_included is False
    assert all(not item.text for item in GH.items)


@pytest.mark.parametrize(
    ("case", "physical", "mental", "gph", "gmh"),
    [
        # awell-score fixtures: best 20/20 → 67.7/67.6, median 12/12 → 39.8/43.5,
        # worst 4/4 → 16.2/21.2
        ("best", (5, 5, 5, 5), (5, 5, 5, 5), 67.7, 67.6),
        ("median", (3, 3, 3, 3), (3, 3, 3, 3), 39.8, 43.5),
        ("worst", (1, 1, 1, 1), (1, 1, 1, 1), 16.2, 21.2),
        # awell "random" case: raw 9 → 32.4 and raw 6 → 28.4
        ("raw 9 and 6", (2, 3, 2, 2), (1, 2, 2, 1), 32.4, 28.4),
    ],
)
def test_summary_t_scores(case, physical, mental, gph, gmh):
    result = scores(answers(physical, mental))
    assert result["global_physical_health"].value == pytest.approx(gph)
    assert result["global_mental_health"].value == pytest.approx(gmh)
    assert result["global_physical_health"].status == "scored"
    assert result["global_mental_health"].n_answered == 4


@pytest.mark.parametrize(
    ("raw", "gph", "gmh"),
    # GMH raw 4 is 21.2 in current implementations; Hays' 2009 derivation note printed 21.1
    [(4, 16.2, 21.2), (5, 19.9, 25.1), (11, 37.4, 41.1), (17, 54.1, 56.0), (19, 61.9, 62.5),
     (20, 67.7, 67.6)],
)
def test_table_rows(raw, gph, gmh):
    values = _spread(raw)
    result = scores(answers(tuple(values), tuple(values)))
    assert result["global_physical_health"].value == pytest.approx(gph)
    assert result["global_mental_health"].value == pytest.approx(gmh)


def _spread(raw):
    """Four values 1..5 adding up to raw."""
    values, left = [], raw
    for remaining in (3, 2, 1, 0):
        value = min(5, left - remaining)
        values.append(value)
        left -= value
    return values


@pytest.mark.parametrize(
    ("pain", "recoded", "expected_t"),
    # Global03 = Global06 = Global08 = 3 (9), plus the recoded pain value
    [(0, 5, 44.9), (1, 4, 42.3), (3, 4, 42.3), (4, 3, 39.8), (6, 3, 39.8), (7, 2, 37.4),
     (9, 2, 37.4), (10, 1, 34.9)],
)
def test_global07_is_recoded_before_summing(pain, recoded, expected_t):
    given = {"Global03": 3, "Global06": 3, "Global08": 3, "Global07": pain}
    assert scores(given)["global_physical_health"].value == pytest.approx(expected_t)


def test_no_pain_is_the_best_physical_health_contribution():
    best = scores({"Global03": 5, "Global06": 5, "Global08": 5, "Global07": 0})
    worst_pain = scores({"Global03": 5, "Global06": 5, "Global08": 5, "Global07": 10})
    assert best["global_physical_health"].value == pytest.approx(67.7)  # raw 20
    assert worst_pain["global_physical_health"].value == pytest.approx(50.8)  # raw 16


@pytest.mark.parametrize("item", ["Global08", "Global10"])
def test_reverse_scored_items_show_5_first(item):
    # no fatigue / never bothered by emotional problems is shown first and valued 5
    assert GH.item(item).response.codes == (5, 4, 3, 2, 1)


def test_no_fatigue_raises_physical_health_like_excellent_physical_health():
    # Global08 = 5 (no fatigue) and Global03 = 5 (best rating) each add 5: raw 8 → 29.6
    low = {"Global03": 1, "Global06": 1, "Global07": 10, "Global08": 1}
    assert scores({**low, "Global08": 5})["global_physical_health"].value == pytest.approx(29.6)
    assert scores({**low, "Global03": 5})["global_physical_health"].value == pytest.approx(29.6)


def test_never_bothered_raises_mental_health_like_excellent_mental_health():
    low = dict.fromkeys(GMH_ITEMS, 1)
    assert scores({**low, "Global10": 5})["global_mental_health"].value == pytest.approx(33.8)
    assert scores({**low, "Global04": 5})["global_mental_health"].value == pytest.approx(33.8)


def test_no_scale_reverses_again():
    assert all(not scale.reverse for scale in GH.scales)


def test_global01_and_global09_are_in_neither_summary():
    a = scores(answers(global01=1, global09=1))
    b = scores(answers(global01=5, global09=5))
    for scale in ("global_physical_health", "global_mental_health"):
        assert a[scale].value == b[scale].value


@pytest.mark.parametrize(
    ("scale", "items"),
    [("global_physical_health", GPH_ITEMS), ("global_mental_health", GMH_ITEMS)],
)
@pytest.mark.parametrize("missing", range(4))
def test_one_missing_item_makes_the_summary_insufficient(scale, items, missing):
    given = answers()
    del given[items[missing]]
    score = scores(given)[scale]
    assert score.value is None
    assert score.status == "insufficient"
    assert score.n_answered == 3


@pytest.mark.parametrize(
    ("raw", "t", "band"),
    # HealthMeasures GMH cut points 29 / 40 / 48 / 56
    [(4, 21.2, "poor"), (6, 28.4, "poor"), (7, 31.3, "fair"), (10, 38.8, "fair"),
     (11, 41.1, "good"), (13, 45.8, "good"), (14, 48.3, "very_good"), (16, 53.3, "very_good"),
     (17, 56.0, "excellent"), (20, 67.6, "excellent")],
)
def test_mental_health_bands(raw, t, band):
    score = scores(answers(mental=tuple(_spread(raw))))["global_mental_health"]
    assert score.value == pytest.approx(t)
    assert score.band == band


def test_physical_health_has_no_bands():
    assert scores(answers())["global_physical_health"].band is None


@pytest.mark.parametrize(("mental", "expected"), [(6, ["poor_mental_health"]), (7, [])])
def test_poor_mental_health_raises_an_alert(mental, expected):
    assert raised_alerts(GH, answers(mental=tuple(_spread(mental)))) == expected


@pytest.mark.parametrize(("pain", "expected"), [(8, ["severe_pain"]), (7, [])])
def test_average_pain_of_8_or_more_raises_an_alert(pain, expected):
    assert raised_alerts(GH, {**answers(), "Global07": pain}) == expected


def test_complete_answers_are_valid():
    assert validate_answers(GH, answers()) == {}


@pytest.mark.parametrize(
    ("item", "value"), [("Global01", 0), ("Global10", 6), ("Global07", 11), ("Global07", -1)]
)
def test_out_of_range_answers_are_rejected(item, value):
    assert item in validate_answers(GH, {**answers(), item: value})


def test_every_item_is_required():
    assert set(validate_answers(GH, {})) == set(ITEMS)
