"""Writers and the export package (prom/export/writers.py, package.py): every format reads back
with the same values, labels travel with Stata and SPSS files and Parquet fields, spreadsheets
are protected from formulas, and the manifest's checksums catch a changed file."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from prom.export.codebook import YES_NO, Codebook, Variable
from prom.export.package import Package, verify, zip_to
from prom.export.writers import XLSX_MAX_ROWS, ExportTooLarge

VARIABLES = [
    Variable("participant", "Participant code", "string"),
    Variable("day", "Study day", "integer"),
    Variable("score", "PHQ-9 total", "number", instrument="phq9", scale="phq9"),
    Variable("responder", "Improved by the MCID", "boolean", value_labels=YES_NO),
    Variable("note", "Free text", "string"),
]
CHUNKS = [
    pd.DataFrame({"participant": ["a1", "b2"], "day": [0, 56], "score": [12.5, np.nan],
                  "responder": [1.0, np.nan], "note": ["=SUM(A1)", None]}),
    pd.DataFrame({"participant": ["c3"], "day": pd.array([None], dtype="Int64"),
                  "score": [0.1 + 0.2], "responder": [0.0], "note": ["plain, with comma"]}),
]


def read_back(fmt: str, path) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, keep_default_na=True)
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "dta":
        return pyreadstat.read_dta(str(path))[0]
    if fmt == "sav":
        return pyreadstat.read_sav(str(path))[0]
    return pd.read_excel(path, sheet_name="scores")


def build(tmp_path, fmt):
    book = Codebook()
    book.add("scores", VARIABLES)
    package = Package(tmp_path / "export", fmt, book, "TEST-export")
    for chunk in CHUNKS:
        package.writer("scores").write(chunk)
    manifest = package.finish({"study": {"code": "TEST"}}, "readme\n")
    return package, manifest


@pytest.mark.parametrize("fmt", ["csv", "parquet", "dta", "sav", "xlsx"])
def test_every_format_reads_back_with_the_same_values(tmp_path, fmt):
    package, manifest = build(tmp_path, fmt)
    data = next(f for f in manifest["files"] if f["path"].startswith("data/"))
    assert data["rows"] == 3 and manifest["row_counts"] == {"scores": 3}
    frame = read_back(fmt, package.directory / data["path"])
    assert list(frame.columns) == [v.name for v in VARIABLES]
    assert frame["participant"].tolist() == ["a1", "b2", "c3"]
    assert frame["score"].iloc[0] == 12.5 and np.isnan(frame["score"].iloc[1])
    if fmt == "xlsx":  # Excel keeps 15 significant digits, as the writers' docstring says
        assert frame["score"].iloc[2] == pytest.approx(0.1 + 0.2, rel=1e-15)
    else:
        assert frame["score"].iloc[2] == 0.1 + 0.2  # no rounding on the way
    assert frame["day"].iloc[1] == 56 and pd.isna(frame["day"].iloc[2])
    assert frame["responder"].iloc[0] == 1 and pd.isna(frame["responder"].iloc[1])


@pytest.mark.parametrize("fmt", ["dta", "sav"])
def test_stata_and_spss_files_carry_variable_and_value_labels(tmp_path, fmt):
    package, _ = build(tmp_path, fmt)
    reader = pyreadstat.read_dta if fmt == "dta" else pyreadstat.read_sav
    _, meta = reader(str(package.directory / "data" / f"scores.{fmt}"))
    assert meta.column_names_to_labels == {v.name: v.label for v in VARIABLES}
    assert meta.variable_value_labels["responder"] == {0: "no", 1: "yes"}


def test_parquet_fields_carry_their_codebook_entry(tmp_path):
    package, _ = build(tmp_path, "parquet")
    schema = pq.read_schema(package.directory / "data" / "scores.parquet")
    assert schema.field("score").metadata[b"label"].decode() == "PHQ-9 total"
    assert json.loads(schema.field("score").metadata[b"codebook"]) == {"instrument": "phq9",
                                                                       "scale": "phq9"}
    assert str(schema.field("day").type) == "int64" and str(schema.field("score").type) == "double"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_spreadsheet_cells_cannot_start_a_formula(tmp_path, fmt):
    package, _ = build(tmp_path, fmt)
    frame = read_back(fmt, next((package.directory / "data").iterdir()))
    assert frame["note"].iloc[0] == "'=SUM(A1)"
    assert frame["note"].iloc[2] == "plain, with comma"


def test_a_chunk_with_other_columns_than_the_codebook_is_refused(tmp_path):
    book = Codebook()
    book.add("scores", VARIABLES)
    with pytest.raises(ValueError, match="codebook"), Package(tmp_path / "export", "csv", book,
                                                                "TEST") as package:
        package.writer("scores").write(CHUNKS[0].drop(columns="note"))


def test_excel_refuses_more_rows_than_it_is_for(tmp_path):
    book = Codebook()
    book.add("scores", VARIABLES[:1])
    with pytest.raises(ExportTooLarge, match="csv or parquet"), Package(
            tmp_path / "export", "xlsx", book, "TEST") as package:
        package.writer("scores").write(pd.DataFrame({"participant": ["x"] * (XLSX_MAX_ROWS + 1)}))


def test_the_manifest_lists_every_file_with_its_checksum_and_verify_catches_a_change(tmp_path):
    package, manifest = build(tmp_path, "csv")
    listed = {f["path"] for f in manifest["files"]}
    assert listed == {"README.txt", "codebook.csv", "codebook.json", "data/scores.csv"}
    assert verify(package.directory)["files"] == manifest["files"]
    (package.directory / "data" / "scores.csv").write_text("tampered\n")
    with pytest.raises(ValueError, match=r"checksum mismatch: data/scores\.csv"):
        verify(package.directory)


def test_the_codebook_documents_every_column_in_csv_and_json(tmp_path):
    package, _ = build(tmp_path, "csv")
    codebook = pd.read_csv(package.directory / "codebook.csv")
    assert codebook["name"].tolist() == [v.name for v in VARIABLES]
    assert codebook.set_index("name").loc["responder", "value_labels"] == "0=no | 1=yes"
    document = json.loads((package.directory / "codebook.json").read_text())
    assert [v["name"] for v in document["variables"]] == [v.name for v in VARIABLES]


def test_the_zip_holds_the_directory(tmp_path):
    package, manifest = build(tmp_path, "parquet")
    with (tmp_path / "out.zip").open("wb") as target:
        zip_to(package.directory, target)
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        names = set(archive.namelist())
        assert names == {f["path"] for f in manifest["files"]} | {"manifest.json"}
        assert archive.testzip() is None
