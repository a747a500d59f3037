"""`prom instruments ...` and `prom score`: what operators and researchers run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from prom.cli import instruments_cli, score_command


@pytest.fixture
def runner():
    return CliRunner()


def test_check_passes_on_the_shipped_library(runner):
    result = runner.invoke(instruments_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "18 definition(s) OK" in result.output


def test_check_fails_naming_file_and_path(runner, tmp_path, monkeypatch):
    (tmp_path / "broken-1.yaml").write_text("id: broken\nversion: '1'\ntitle: {en: x}\n")
    monkeypatch.setenv("PROM_INSTRUMENTS_DIR", str(tmp_path))
    result = runner.invoke(instruments_cli, ["check"])
    assert result.exit_code == 1
    assert "broken-1.yaml: $: 'domains' is a required property" in result.output


def test_show_json_prints_the_definition_in_its_yaml_structure(runner):
    result = runner.invoke(instruments_cli, ["show", "pgic", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["id"] == "pgic" and document["scales"][0]["id"] == "pgic"


def test_list_and_show_name_the_instruments(runner):
    assert "promis29" in runner.invoke(instruments_cli, ["list"]).output
    shown = runner.invoke(instruments_cli, ["show", "odi", "--version", "2.1"])
    assert "percent_of_max" in shown.output
    assert runner.invoke(instruments_cli, ["show", "nope"]).exit_code == 1


def test_score_adds_scale_status_and_band_columns(runner, tmp_path):
    source = tmp_path / "odi.csv"
    rows = ["participant," + ",".join(f"s{i}" for i in range(1, 11)),
            "P1," + ",".join(["2"] * 8 + ["0", "0"]),  # 16/50 -> 32 % (Fairbank 2000 example)
            "P2," + ",".join(["2"] * 7 + ["", "1", "1"])]  # 16/45 -> 35.56 %
    source.write_text("\n".join(rows) + "\n")
    out = tmp_path / "scored.csv"
    result = runner.invoke(score_command, ["odi", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert list(scored["participant"]) == ["P1", "P2"]
    assert scored.loc[0, "odi"] == pytest.approx(32.0)
    assert scored.loc[1, "odi"] == pytest.approx(16 / 45 * 100)
    assert list(scored["odi_status"]) == ["scored", "prorated"]
    assert scored.loc[0, "odi_band"] == "moderate"


def test_score_reports_invalid_cells_by_row_and_column_and_writes_nothing(runner, tmp_path):
    source = tmp_path / "phq.csv"
    source.write_text("phq9_1,phq9_2\n1,7\nx,1\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(score_command, ["phq9", str(source), "-o", str(out)])
    assert result.exit_code == 1
    assert "row 1, column phq9_2: must be one of [0, 1, 2, 3]" in result.output
    assert "row 2, column phq9_1" in result.output
    assert not out.exists()


def test_score_skip_invalid_marks_the_row(runner, tmp_path):
    source = tmp_path / "phq.csv"
    source.write_text("id,phq9_1,phq9_2,phq9_3,phq9_4,phq9_5,phq9_6,phq9_7,phq9_8,phq9_9\n"
                      "a,1,1,1,1,1,1,1,,\nb,9,1,1,1,1,1,1,1,1\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(score_command, ["phq9", str(source), "-o", str(out), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out, keep_default_na=False)
    assert float(scored.loc[0, "phq9"]) == pytest.approx(9.0)  # 7 answered: 7 * 9 / 7
    assert scored.loc[0, "phq9_status"] == "prorated"
    assert scored.loc[1, "phq9_status"] == "invalid"


def test_a_scale_named_like_an_input_column_gets_a_score_suffix(runner, tmp_path):
    source = tmp_path / "eq.csv"
    source.write_text("mo,sc,ua,pd,ad,vas\n1,1,1,1,1,80\n")
    out = tmp_path / "out.csv"
    assert runner.invoke(score_command, ["eq5d5l", str(source), "-o", str(out)]).exit_code == 0
    scored = pd.read_csv(out)
    assert scored.loc[0, "vas"] == 80 and scored.loc[0, "vas_score"] == 80
    assert scored.loc[0, "index_england"] == pytest.approx(1.0)
