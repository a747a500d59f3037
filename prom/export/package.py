"""An export on disk: data files, codebook, README and manifest, then (optionally) one zip.

The directory holds

    manifest.json    what was exported, from what, by whom, with row counts and the SHA-256
                     of every other file
    codebook.csv     every variable of every data file (`prom.export.codebook`)
    codebook.json    the same, with the instruments' scales, items and codes
    README.txt       how the files are laid out and how to check them
    data/<dataset>.<csv|parquet|dta|sav>   or   data/<study>.xlsx (a sheet per dataset)

`verify` recomputes the checksums; `scripts/export_cohort.py` does the same on the researcher's
side without prom installed. `zip_to` writes the directory as a zip into an open binary file
(CSV, JSON and Stata/SPSS files deflated, Parquet and Excel stored: they are compressed already).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from prom.export.codebook import Codebook
from prom.export.writers import FORMATS, WRITERS, DatasetWriter, Workbook

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_STORED = (".parquet", ".xlsx")


class Package:
    """The files of one export being written; use it as a context manager so that a failure
    closes the data files it opened."""

    def __init__(self, directory: Path, fmt: str, codebook: Codebook, name: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.directory, self.format, self.codebook, self.name = directory, fmt, codebook, name
        (directory / "data").mkdir(parents=True, exist_ok=True)
        self._workbook = (Workbook(directory / "data" / f"{name}.xlsx") if fmt == "xlsx"
                          else None)
        self.writers: dict[str, DatasetWriter] = {}

    def __enter__(self) -> Package:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # a failed export: close the files, leave them to be removed
            for writer in self.writers.values():
                writer.abandon()

    def writer(self, dataset: str) -> DatasetWriter:
        """The writer of `dataset` (made on first use, with the codebook's variables)."""
        if dataset not in self.writers:
            variables = self.codebook.datasets[dataset]
            title = f"{self.name}: {dataset}"
            if self._workbook is not None:
                self.writers[dataset] = self._workbook.sheet(dataset, variables, title)
            else:
                path = self.directory / "data" / f"{dataset}{FORMATS[self.format]}"
                self.writers[dataset] = WRITERS[self.format](path, variables, title)
        return self.writers[dataset]

    def finish(self, about: Mapping[str, Any], readme: str) -> dict[str, Any]:
        """Close the data files, write codebook, README and manifest; returns the manifest.
        `about` goes into the manifest as it is (study, request, versions, rules…)."""
        for dataset in self.codebook.datasets:
            self.writer(dataset)  # a dataset with no rows is still written, with its header
        rows = {dataset: writer.close() for dataset, writer in self.writers.items()}
        if self._workbook is not None:
            self._workbook.close()
        (self.directory / "codebook.csv").write_bytes(self.codebook.to_csv())
        (self.directory / "codebook.json").write_bytes(self.codebook.to_json())
        (self.directory / "README.txt").write_text(readme, encoding="utf-8")
        files = []
        for path in sorted(p for p in self.directory.rglob("*") if p.is_file()):
            relative = path.relative_to(self.directory).as_posix()
            if relative == MANIFEST:
                continue
            entry: dict[str, Any] = {"path": relative, "bytes": path.stat().st_size,
                                     "sha256": sha256_of(path)}
            datasets = [d for d, w in self.writers.items() if w.path == path]
            if datasets:
                entry["datasets"] = {d: rows[d] for d in datasets}
                entry["rows"] = sum(rows[d] for d in datasets)
                entry["columns"] = sum(len(self.codebook.datasets[d]) for d in datasets)
            files.append(entry)
        manifest = {"manifest_version": MANIFEST_VERSION, **about, "format": self.format,
                    "row_counts": rows, "files": files}
        (self.directory / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        return manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(directory: Path) -> dict[str, Any]:
    """The manifest, after checking that every file it lists is there with its size and
    SHA-256, and that nothing else is; raises ValueError naming the first mismatch."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    if extra := present - set(listed) - {MANIFEST}:
        raise ValueError(f"not in the manifest: {sorted(extra)}")
    for path, entry in listed.items():
        file = directory / path
        if not file.is_file():
            raise ValueError(f"missing: {path}")
        if file.stat().st_size != entry["bytes"] or sha256_of(file) != entry["sha256"]:
            raise ValueError(f"checksum mismatch: {path}")
    return manifest


def zip_to(directory: Path, target: IO[bytes], folder: str = "") -> None:
    """Write `directory` as a zip into `target`, each file under `folder/` when given."""
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            compression = (zipfile.ZIP_STORED if path.suffix in _STORED
                           else zipfile.ZIP_DEFLATED)
            archive.write(path, f"{folder}/{name}" if folder else name,
                          compress_type=compression)
