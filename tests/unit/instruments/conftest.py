"""Fixtures for the instrument-library tests: temporary libraries written from dicts.

- `minimal_definition(id=..., version=...)` builds a small, valid definition document (three 0–4
  items summed into one scale) that a test mutates to break one rule;
- `write_library(documents, tables=...)` writes documents into a fresh instruments directory (with a
  `tables/` subdirectory) under `tmp_path` and returns it;
- `library_errors(directory, overlay_directory)` loads a library that must fail and returns its
  `DefinitionError`s;
- `shipped_library` is the real library in `instruments/`, loaded once per session.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from prom.instruments import DefinitionError, Library, LibraryError, load_library

_MINIMAL: dict[str, Any] = {
    "id": "mini",
    "version": "1",
    "title": {"en": "Mini questionnaire"},
    "domains": ["pain_intensity"],
    "recall_period": {"days": 7, "text": {"en": "In the past 7 days"}},
    "license": {
        "holder": "prom test suite",
        "terms": "Test fixture; may be used freely.",
        "citation": "none (test fixture)",
        "text_included": True,
    },
    "languages": ["en"],
    "response_sets": {
        "rating": {
            "type": "integer",
            "min": 0,
            "max": 4,
            "anchors": [
                {"value": 0, "label": {"en": "None"}},
                {"value": 4, "label": {"en": "Extreme"}},
            ],
        },
    },
    "items": [
        {"id": "q1", "label": "Question 1", "text": {"en": "How much in the first way?"},
         "response": "rating", "required": True},
        {"id": "q2", "label": "Question 2", "text": {"en": "How much in the second way?"},
         "response": "rating"},
        {"id": "q3", "label": "Question 3", "text": {"en": "How much in the third way?"},
         "response": "rating"},
    ],
    "scales": [
        {"id": "total", "label": {"en": "Total"}, "method": "sum", "items": ["q1", "q2", "q3"],
         "range": [0, 12], "higher_is": "worse"},
    ],
}

Documents = Mapping[str, Mapping[str, Any] | str]
Tables = Mapping[str, str | list[tuple[str, int, float]]]


@pytest.fixture(scope="session")
def minimal_definition() -> Callable[..., dict[str, Any]]:
    """A factory of fresh, valid definition documents (deep copies: mutate freely)."""

    def make(id: str = "mini", version: str = "1") -> dict[str, Any]:
        document = copy.deepcopy(_MINIMAL)
        document["id"] = id
        document["version"] = version
        return document

    return make


def _table_text(rows: str | list[tuple[str, int, float]]) -> str:
    if isinstance(rows, str):
        return rows
    lines = ["key,raw,score,source"]
    lines += [f"{key},{raw},{score},test fixture" for key, raw, score in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def write_library(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write `{file name: document}` into a new temporary directory; return the directory.

    A document given as a dict is dumped as YAML; a string is written verbatim (for syntax
    errors). `tables` maps a CSV file name to its text or to (key, raw, score) rows; the tables/
    subdirectory is always created. Every call makes a new directory, so one test can write a
    library and an overlay directory. Session-scoped so module-scoped fixtures can use it too.
    """

    def write(documents: Documents, tables: Tables | None = None, *,
              name: str = "library") -> Path:
        directory = tmp_path_factory.mktemp(name)
        (directory / "tables").mkdir()
        for file_name, document in documents.items():
            text = document if isinstance(document, str) else yaml.safe_dump(
                dict(document), sort_keys=False, allow_unicode=True)
            (directory / file_name).write_text(text, encoding="utf-8")
        for file_name, rows in (tables or {}).items():
            (directory / "tables" / file_name).write_text(_table_text(rows), encoding="utf-8")
        return directory

    return write


@pytest.fixture(scope="session")
def library_errors() -> Callable[..., list[DefinitionError]]:
    """Load a library that must be rejected; return every problem reported."""

    def load(directory: Path | None, overlay_directory: Path | None = None
             ) -> list[DefinitionError]:
        with pytest.raises(LibraryError) as raised:
            load_library(directory, overlay_directory)
        errors = raised.value.errors
        assert errors, "LibraryError raised without any DefinitionError"
        assert all(isinstance(error, DefinitionError) for error in errors)
        return errors

    return load


@pytest.fixture(scope="session")
def shipped_library() -> Library:
    return load_library()
