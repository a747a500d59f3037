"""The FHIR_BASE_URL setting (PROM_FHIR_BASE_URL): an absolute http(s) URL, kept without a
trailing slash; unset, the API's own …/api/v1/fhir is used (tests/api/test_fhir.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prom.config import Config


def test_the_base_url_is_read_without_its_trailing_slash(tmp_path: Path) -> None:
    config = Config.from_environ({"PROM_FHIR_BASE_URL": "https://fhir.example.org/prom/"},
                                 instance_path=tmp_path)
    assert config.FHIR_BASE_URL == "https://fhir.example.org/prom"
    assert Config.from_environ({}, instance_path=tmp_path).FHIR_BASE_URL is None


@pytest.mark.parametrize("value", ["fhir.example.org", "ftp://x/fhir", "https://"])
def test_a_base_url_that_is_not_absolute_http_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="PROM_FHIR_BASE_URL"):
        Config.from_environ({"PROM_FHIR_BASE_URL": value}, instance_path=tmp_path)
