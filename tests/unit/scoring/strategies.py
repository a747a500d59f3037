"""Hypothesis strategies that draw valid answer sets for any loaded definition."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from prom.instruments.spec import Definition, Item, Response
from prom.scoring.reference import _condition


def response_values(response: Response) -> st.SearchStrategy[Any]:
    if response.type == "integer":
        return st.integers(response.min, response.max)
    if response.type == "single_choice":
        return st.sampled_from(response.codes)
    if response.type == "multiple_choice":
        plain = [c for c in response.codes if c not in response.exclusive]
        choices = st.lists(st.sampled_from(plain), unique=True) if plain else st.just([])
        if response.exclusive:
            alone = st.sampled_from(sorted(response.exclusive, key=str)).map(lambda c: [c])
            return st.one_of(choices.filter(bool), alone)
        return choices
    if response.type == "boolean":
        return st.booleans()
    if response.type == "date":
        return st.dates().map(lambda d: d.isoformat())
    return st.text(max_size=min(response.max_length or 20, 20))


@st.composite
def answer_sets(draw: st.DrawFn, definition: Definition, missing: float = 0.3) -> dict[str, Any]:
    """A valid answer set: hidden items unanswered, required items answered, others maybe not."""
    answers: dict[str, Any] = {}
    for item in definition.items:
        if _condition(item.show_if, definition, answers, {}) is not True:
            continue
        if not item.required and draw(st.floats(0, 1)) < missing:
            continue
        answers[item.id] = draw(response_values(item.response))
    return answers


def scorable_items(definition: Definition) -> list[Item]:
    return [item for item in definition.items if item.response.scorable]
