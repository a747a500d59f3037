"""A deliberately plain, per-row implementation of the same scoring rules.

It shares nothing with the compiled engine but the loaded definition: its own skip-condition logic,
its own recode/reverse, its own arithmetic, written for clarity rather than speed. The test suite
checks that both give the same scores on random answer sets for every instrument (so a bug would
have to be made twice, the same way), and `benchmarks/bench_scoring.py` uses it as the baseline the
compiled scorer is measured against.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from prom.instruments.spec import Comparison, Condition, Definition, Item, Scale
from prom.scoring.named import eq5d_states, eq5d_value_table


def plain_scores(definition: Definition, answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{scale: {value, status, n_answered, band}} for one valid answer set."""
    numbers = {item.id: _number(item, answers.get(item.id)) for item in definition.items}
    for item in definition.items:
        if item.hidden_value is not None and numbers[item.id] is None:
            verdict = _condition(item.show_if, definition, answers, {})
            if verdict is False:
                numbers[item.id] = (_all_unselected(item) if item.response.type ==
                                    "multiple_choice" else item.hidden_value)
                answers = {**answers, item.id: numbers[item.id]
                           if item.response.type != "multiple_choice" else []}
    results: dict[str, dict[str, Any]] = {}
    for scale in definition.scales:
        results[scale.id] = _score_scale(definition, scale, numbers)
    return results


def plain_alerts(definition: Definition, answers: Mapping[str, Any],
                 scores: Mapping[str, Mapping[str, Any]]) -> list[str]:
    values = {scale_id: score["value"] for scale_id, score in scores.items()}
    return [alert.id for alert in definition.answer_alerts
            if _condition(alert.when, definition, answers, values) is True]


def _number(item: Item, value: Any) -> Any:
    """An answer as scoring sees it: a float, a {code: 0/1} dict for multiple choice, or None."""
    if value is None or not item.response.scorable:
        return None
    if item.response.type == "multiple_choice":
        return {option.code: 1.0 if option.code in value else 0.0
                for option in item.response.options}
    if item.response.type == "single_choice":
        return item.response.option(value).value  # type: ignore[union-attr]
    return float(value)


def _all_unselected(item: Item) -> dict[Any, float]:
    return {option.code: 0.0 for option in item.response.options}


def _score_scale(definition: Definition, scale: Scale, numbers: Mapping[str, Any]):
    contributions = []
    lows, highs = [], []
    answered = 0
    for item_id in scale.items:
        item = definition.item(item_id)
        value = numbers[item_id]
        if value is None:
            continue
        answered += 1
        if scale.method == "count":
            if item.response.type == "multiple_choice":
                contributions.append(sum(value[c] for c in scale.codes if c in value))
            else:
                counted = [_code_number(item, c) for c in scale.codes]
                contributions.append(1.0 if value in counted else 0.0)
            continue
        possible = [float(v) for v in item.response.numeric_values()]
        for recode in scale.recode:
            if item_id in recode.items:
                value = recode.mapping[int(value)]
                possible = [recode.mapping[int(v)] for v in possible]
        if item_id in scale.reverse:
            value = min(possible) + max(possible) - value
        contributions.append(value)
        lows.append(min(possible))
        highs.append(max(possible))

    n_items = len(scale.items)
    if answered < scale.min_answered:
        return {"value": None, "status": "insufficient", "n_answered": answered, "band": None}
    total = sum(contributions)
    if scale.method in ("sum", "count"):
        value = total
    elif scale.method == "mean":
        value = total / answered
    elif scale.method == "prorated_sum":
        value = total * n_items / answered
    elif scale.method == "percent_of_max":
        value = (total - sum(lows)) * 100.0 / (sum(highs) - sum(lows))
    elif scale.method == "lookup":
        table = scale.table
        value = table.scores[round(total) - table.raw_min]  # type: ignore[union-attr]
    else:  # named: the only one is eq5d5l_index; look the state up by its profile digits
        table = eq5d_value_table(definition.source.parent / "tables",
                                 scale.scorer_params["value_set"])
        state = "".join(str(int(numbers[i])) for i in scale.items)
        value = table[eq5d_states().index(state)]
    band = scale.band_for(value)
    return {
        "value": value,
        "status": "prorated" if answered < n_items else "scored",
        "n_answered": answered,
        "band": band.code if band else None,
    }


def _code_number(item: Item, code: Any) -> float | None:
    if item.response.type == "single_choice":
        option = item.response.option(code)
        return option.value if option else None
    if item.response.type == "integer" and isinstance(code, int):
        return float(code)
    return None


def _condition(condition: Condition | None, definition: Definition,
               answers: Mapping[str, Any], scales: Mapping[str, Any]) -> bool | None:
    """True, False, or None when an answer it needs is missing."""
    if condition is None:
        return True
    verdicts = [_comparison(c, definition, answers, scales) for c in condition.comparisons]
    if condition.mode == "all":
        if False in verdicts:
            return False
        return None if None in verdicts else True
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _comparison(comparison: Comparison, definition: Definition, answers: Mapping[str, Any],
                scales: Mapping[str, Any]) -> bool | None:
    if comparison.source == "scale":
        value = scales.get(comparison.ref)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return _ordered(comparison.operator, value, comparison.operand)
    item = definition.item(comparison.ref)
    answer = answers.get(comparison.ref)
    if answer is None:
        return None
    operator, operand = comparison.operator, comparison.operand
    if item.response.type == "multiple_choice":
        selected = set(answer)
        if operator == "equals":
            return operand in selected
        if operator == "not_equals":
            return operand not in selected
        return any(code in selected for code in operand)
    if operator == "equals":
        return _same(answer, operand)
    if operator == "not_equals":
        return not _same(answer, operand)
    if operator == "in":
        return any(_same(answer, code) for code in operand)
    return _ordered(operator, answer, operand)


def _same(answer: Any, code: Any) -> bool:
    return answer == code and isinstance(answer, bool) == isinstance(code, bool)


def _ordered(operator: str, value: float, operand: float) -> bool:
    return {"gte": value >= operand, "gt": value > operand,
            "lte": value <= operand, "lt": value < operand}[operator]
