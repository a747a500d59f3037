"""The codebook: every variable of every data file, described.

A `Variable` is one column as it is written: its name in the file, a label, its type, and where
it comes from (instrument, scale, timepoint), its value labels, the scoring rule and the
instrument's licence citation. The same list drives the writers (Stata and SPSS variable and
value labels, Parquet field metadata), so a column cannot be written without being documented.

The codebook is written twice, with the same rows: `codebook.csv` (one row per dataset ×
variable; value labels as `code=label` pairs joined by ` | `) and `codebook.json`, which also
holds the instruments: version, scales with their range, direction, MCID and bands, and items
with their response codes (never their text, which some licences forbid redistributing).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: Column types as the codebook names them.
TYPES = ("string", "integer", "number", "boolean")
YES_NO = {0: "no", 1: "yes"}


@dataclass(frozen=True)
class Variable:
    name: str  # as written in the data file
    label: str
    type: str  # one of TYPES
    instrument: str | None = None
    scale: str | None = None
    timepoint: str | None = None
    value_labels: Mapping[Any, str] | None = None
    scoring_rule: str | None = None
    licence: str | None = None
    #: What the column holds when that is not plain: "change from baseline", "responder"…
    derivation: str | None = None


@dataclass
class Codebook:
    """The variables of each dataset, in file order, and the instruments they come from."""

    datasets: dict[str, list[Variable]] = field(default_factory=dict)
    instruments: list[dict[str, Any]] = field(default_factory=list)

    def add(self, dataset: str, variables: Sequence[Variable]) -> None:
        names = [v.name for v in variables]
        if len(set(names)) != len(names):
            raise ValueError(f"{dataset}: variable names are not unique")
        self.datasets[dataset] = list(variables)

    def rows(self) -> list[dict[str, Any]]:
        return [{"dataset": dataset, **_row(variable)}
                for dataset, variables in self.datasets.items() for variable in variables]

    def to_csv(self) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            labels = row["value_labels"]
            writer.writerow({**row, "value_labels": " | ".join(
                f"{code}={label}" for code, label in (labels or {}).items())})
        return buffer.getvalue().encode("utf-8")

    def to_json(self) -> bytes:
        document = {"variables": self.rows(), "instruments": self.instruments}
        return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


CSV_COLUMNS = ["dataset", "name", "label", "type", "instrument", "scale", "timepoint",
               "value_labels", "scoring_rule", "licence", "derivation"]


def _row(variable: Variable) -> dict[str, Any]:
    row = asdict(variable)
    if variable.value_labels is not None:
        row["value_labels"] = {str(code): label for code, label in variable.value_labels.items()}
    return row


def labels_of(variables: Iterable[Variable]) -> dict[str, str]:
    return {v.name: v.label for v in variables}


def value_labels_of(variables: Iterable[Variable]) -> dict[str, Mapping[Any, str]]:
    return {v.name: v.value_labels for v in variables if v.value_labels}
