"""Writers: a dataset's frames, chunk after chunk, into one file of the chosen format.

Writers only format. Column types come from the codebook (`Variable.type`), so every chunk of a
dataset is written with the same types whatever values it happens to hold:

| codebook type | CSV | Parquet | Stata / SPSS / Excel |
|---|---|---|---|
| `string` | text | string | string |
| `integer` | digits | int64 | numeric |
| `number` | shortest exact decimal | float64 | numeric (double) |
| `boolean` | 0 / 1 | int8 | numeric 0 / 1, labelled no / yes |

A missing value is an empty CSV cell, a Parquet null, a system-missing value in Stata and SPSS,
and an empty cell in Excel.

- **CSV** (UTF-8, comma, header row) and **Parquet** (a row group per chunk) are written as
  the chunks come, so their memory does not grow with the study.
- **Stata** (`.dta`, version 15: names ≤ 32 characters, see `prom.export.design`) and **SPSS**
  (`.sav`) carry variable labels and, for numeric codes, value labels. pyreadstat writes a whole
  frame at once, so these hold the dataset in memory until it is written.
- **Excel** is for small exports: one workbook, a sheet per dataset, at most `XLSX_MAX_ROWS`
  rows in each; a larger export is refused (`ExportTooLarge`) rather than cut. Excel keeps 15
  significant digits of a number; the other formats keep every bit.

CSV and Excel cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage return are prefixed
with `'`, so that a spreadsheet does not run them as formulas (OWASP, "CSV Injection"). Only text
columns are touched; numbers are never altered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

from prom.export.codebook import Variable

FORMATS = {"csv": ".csv", "parquet": ".parquet", "dta": ".dta", "sav": ".sav", "xlsx": ".xlsx"}
XLSX_MAX_ROWS = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
                "boolean": pa.int8()}


class ExportTooLarge(ValueError):
    """The chosen format cannot hold this many rows."""


def typed(frame: pd.DataFrame, variables: Sequence[Variable]) -> pd.DataFrame:
    """`frame` with each column in its codebook type (nullable integers, 0/1 booleans)."""
    out = {}
    for variable in variables:
        column = frame[variable.name]
        if variable.type in ("integer", "boolean"):
            column = column.astype("Float64").round().astype("Int64")
        elif variable.type == "number":
            column = pd.to_numeric(column, errors="raise").astype(float)
        else:
            column = column.astype(object).where(column.notna(), None)
            if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
                column = column.map(lambda v: None if v is None else str(v))
        out[variable.name] = column
    return pd.DataFrame(out, index=frame.index)


def guard_formulas(frame: pd.DataFrame, variables: Sequence[Variable]) -> pd.DataFrame:
    frame = frame.copy()
    for variable in variables:
        if variable.type == "string":
            frame[variable.name] = frame[variable.name].map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return frame


class DatasetWriter:
    """Writes one dataset to `path`; `write` takes chunks, `close` returns the rows written."""

    def __init__(self, path: Path, variables: Sequence[Variable], title: str) -> None:
        self.path, self.variables, self.title = path, list(variables), title
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        names = [v.name for v in self.variables]
        if list(frame.columns) != names:
            raise ValueError(f"{self.path.name}: columns {list(frame.columns)} are not the "
                             f"codebook's {names}")
        self._write(typed(frame, self.variables))
        self.rows += len(frame)

    def close(self) -> int:
        self._close()
        return self.rows

    def abandon(self) -> None:
        """Release open files after a failure; the file is left incomplete."""

    def _write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class CsvWriter(DatasetWriter):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._file.write(",".join(v.name for v in self.variables) + "\n")

    def _write(self, frame: pd.DataFrame) -> None:
        guard_formulas(frame, self.variables).to_csv(self._file, header=False, index=False,
                                                     lineterminator="\n")

    def _close(self) -> None:
        self._file.close()

    def abandon(self) -> None:
        self._file.close()


class ParquetWriter(DatasetWriter):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        fields = [pa.field(v.name, _ARROW_TYPES[v.type],
                           metadata={"label": v.label, "codebook": json.dumps(
                               _field_document(v), ensure_ascii=False)})
                  for v in self.variables]
        self.schema = pa.schema(fields, metadata={"title": self.title})
        self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")

    def _write(self, frame: pd.DataFrame) -> None:
        arrays = [pa.array(frame[f.name].tolist() if f.type == pa.string()
                           else frame[f.name], type=f.type, from_pandas=True)
                  for f in self.schema]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def _close(self) -> None:
        self._writer.close()

    def abandon(self) -> None:
        self._writer.close()


def _field_document(variable: Variable) -> dict[str, Any]:
    document = {key: getattr(variable, key) for key in ("instrument", "scale", "timepoint",
                                                        "derivation")
                if getattr(variable, key) is not None}
    if variable.value_labels:
        document["value_labels"] = {str(k): v for k, v in variable.value_labels.items()}
    return document


class _WholeFrameWriter(DatasetWriter):
    """Collects the chunks, then writes the frame in one go."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._frames: list[pd.DataFrame] = []

    def _write(self, frame: pd.DataFrame) -> None:
        self._frames.append(frame)

    def frame(self) -> pd.DataFrame:
        if not self._frames:
            return typed(pd.DataFrame({v.name: pd.Series(dtype=object)
                                       for v in self.variables}), self.variables)
        return pd.concat(self._frames, ignore_index=True)

    def _labels(self) -> tuple[dict[str, str], dict[str, Mapping[float, str]]]:
        labels = {v.name: v.label for v in self.variables}
        value_labels = {v.name: {float(code): label for code, label in v.value_labels.items()}
                        for v in self.variables if v.value_labels and v.type != "string"}
        return labels, value_labels


class StataWriter(_WholeFrameWriter):
    def _close(self) -> None:
        labels, value_labels = self._labels()
        pyreadstat.write_dta(self.frame(), str(self.path), file_label=self.title[:80],
                             column_labels=[labels[v.name][:80] for v in self.variables],
                             variable_value_labels=value_labels, version=15)


class SpssWriter(_WholeFrameWriter):
    def _close(self) -> None:
        labels, value_labels = self._labels()
        pyreadstat.write_sav(self.frame(), str(self.path), file_label=self.title,
                             column_labels=[labels[v.name] for v in self.variables],
                             variable_value_labels=value_labels)


class Workbook:
    """An Excel workbook with one sheet per dataset, written when closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sheets: dict[str, _SheetWriter] = {}

    def sheet(self, dataset: str, variables: Sequence[Variable], title: str) -> _SheetWriter:
        writer = _SheetWriter(self.path, variables, title)
        self.sheets[dataset] = writer
        return writer

    def close(self) -> None:
        with pd.ExcelWriter(self.path, engine="openpyxl") as excel:
            for dataset, sheet in self.sheets.items():
                frame = guard_formulas(sheet.frame(), sheet.variables)
                frame.to_excel(excel, sheet_name=dataset[:31], index=False)


class _SheetWriter(_WholeFrameWriter):
    def _write(self, frame: pd.DataFrame) -> None:
        if self.rows + len(frame) > XLSX_MAX_ROWS:
            raise ExportTooLarge(
                f"An Excel export holds at most {XLSX_MAX_ROWS:,} rows per dataset; this one "
                f"has more. Choose csv or parquet, or narrow the export.")
        super()._write(frame)

    def _close(self) -> None:  # the workbook writes every sheet
        pass


WRITERS: dict[str, type[DatasetWriter]] = {"csv": CsvWriter, "parquet": ParquetWriter,
                                           "dta": StataWriter, "sav": SpssWriter}
