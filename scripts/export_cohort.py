#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["tqdm>=4.66"]
# ///
"""Download a study's research export from a prom server, verify it and unpack it.

Runs on a researcher's machine with Python 3.11+ and tqdm only: no prom package, no requests
(``uv run scripts/export_cohort.py`` installs tqdm from the block above). Run it with ``--help``.

Tests import it by path and use :func:`main`, :class:`Client`, :func:`verify` and :func:`unpack`.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from email.message import Message
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypeVar

from tqdm import tqdm

EXIT_OK = 0
EXIT_SERVER = 1
EXIT_USAGE = 2
EXIT_VERIFICATION = 3

LAYOUTS = ("scores_long", "items_long", "wide", "adverse_events", "summary")
FORMATS = ("csv", "parquet", "dta", "sav", "xlsx")
DUPLICATE_RULES = ("first_complete", "first_in_window", "last_complete")

MANIFEST = "manifest.json"
CHUNK_BYTES = 1 << 20
#: Waits before the second, third and fourth attempt after a connection failure or a 5xx.
RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0, 15.0)
#: A 429 asking for a longer wait than this is reported rather than silently waited out.
MAX_RETRY_AFTER = 300.0
DEFAULT_TIMEOUT = 60.0
USER_AGENT = "prom-export-cohort/1 (python-urllib)"

T = TypeVar("T")


class ExportFailed(Exception):
    """A failure reported to the user in one message; ``exit_code`` says which kind."""

    exit_code = EXIT_SERVER


class UsageError(ExportFailed):
    exit_code = EXIT_USAGE


class DownloadError(ExportFailed):
    """The server could not be reached, or its answer arrived incomplete or unreadable."""


class ServerError(ExportFailed):
    """The server answered with an error status; ``problem`` is its problem+json body."""

    def __init__(self, action: str, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(describe_problem(action, status, problem))


class VerificationError(ExportFailed):
    """The zip does not match its manifest; ``problems`` lists every mismatch found."""

    exit_code = EXIT_VERIFICATION

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = f"the export failed verification: {self.problems[0]}"
        else:
            message = "the export failed verification:\n" + "\n".join(
                f"  - {problem}" for problem in self.problems)
        super().__init__(message)


class _Transient(Exception):
    """A failure worth another attempt (connection, 5xx, 429), wrapping what to report if not."""

    def __init__(self, error: ExportFailed, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def describe_problem(action: str, status: int, problem: dict[str, Any]) -> str:
    """`could not ACTION: 422 Unprocessable Entity: detail`, then one line per field error."""
    title = problem.get("title") or _status_phrase(status)
    first = f"could not {action}: {status} {title}"
    detail = problem.get("detail")
    if detail and detail != title:
        first += f": {detail}"
    lines = [first]
    errors = problem.get("errors")
    if isinstance(errors, dict):
        for field, messages in errors.items():
            if isinstance(messages, list):
                messages = "; ".join(str(message) for message in messages)
            lines.append(f"  {field}: {messages}")
    return "\n".join(lines)


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _unexpected(action: str, what: str) -> DownloadError:
    return DownloadError(f"could not {action}: the server's answer is not what this script "
                         f"expects ({what}); is --server a prom server?")


class Client:
    """The few prom API calls the script makes, retrying failures that may pass.

    Connection failures and 5xx answers are retried after ``retry_delays``; a 429 waits for its
    Retry-After instead (up to ``MAX_RETRY_AFTER``).
    """

    def __init__(
        self,
        server: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry_delays: Sequence[float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.server = server.rstrip("/")
        self.timeout = timeout
        self.retry_delays = tuple(RETRY_DELAYS if retry_delays is None else retry_delays)
        self.sleep = sleep
        self.token: str | None = None

    def sign_in(self, email: str, password: str) -> None:
        action = "sign in"
        tokens = self._json(action, "POST", "/api/v1/auth/login",
                            body={"email": email, "password": password})
        token = tokens.get("access_token") if isinstance(tokens, dict) else None
        if not isinstance(token, str) or not token:
            raise _unexpected(action, "no access_token")
        self.token = token

    def studies(self) -> list[dict[str, Any]]:
        """The studies this account can see (a bare list or prom's ``{"items": [...]}``)."""
        action = "list your studies"
        answer = self._json(action, "GET", "/api/v1/studies")
        items = answer.get("items") if isinstance(answer, dict) else answer
        if not isinstance(items, list):
            raise _unexpected(action, "no list of studies")
        return [study for study in items if isinstance(study, dict)]

    def download_export(
        self,
        study_id: str,
        query: Sequence[tuple[str, str]],
        *,
        choose_out: Callable[[str], Path],
        progress: bool = True,
    ) -> tuple[Path, Path, str]:
        """Stream a study's export to a hidden temporary file beside its output directory.

        ``choose_out`` gets the zip's file name (from Content-Disposition) and returns the
        output directory, raising :class:`UsageError` if it may not be used. Returns the
        temporary zip, the output directory and the zip's name.
        """
        action = "download the export"
        path = f"/api/v1/studies/{urllib.parse.quote(study_id, safe='')}/export"
        request = self._request("GET", path, query=query, accept="application/zip")

        def attempt() -> tuple[Path, Path, str]:
            with self._open(action, request) as response:
                name = zip_name(response.headers, fallback=f"prom-export-{study_id}.zip")
                out = choose_out(name)
                length = _content_length(response.headers)
                out.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(
                    dir=out.parent, prefix=f".{name}.", suffix=".part")
                part = Path(temporary)
                try:
                    with os.fdopen(handle, "wb") as sink:
                        received = _stream(response, sink, total=length, label=name,
                                           progress=progress)
                    if length is not None and received < length:
                        raise _Transient(DownloadError(
                            f"could not {action}: the download was cut short "
                            f"({received:,} of {length:,} bytes)"))
                except BaseException:
                    part.unlink(missing_ok=True)
                    raise
                return part, out, name

        return self._retrying(attempt)

    def _json(self, action: str, method: str, path: str, body: Any = None) -> Any:
        request = self._request(method, path, body=body)

        def attempt() -> bytes:
            with self._open(action, request) as response:
                try:
                    return response.read()
                except (OSError, http.client.HTTPException) as error:
                    raise _Transient(DownloadError(
                        f"could not {action}: the connection failed ({error})")) from None

        raw = self._retrying(attempt)
        try:
            return json.loads(raw)
        except ValueError:
            raise _unexpected(action, "not JSON") from None

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        accept: str = "application/json",
    ) -> urllib.request.Request:
        url = self.server + path
        if query:
            url += "?" + urllib.parse.urlencode(list(query))
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", f"{accept}, application/problem+json")
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            # Unredirected: a redirect to another host must not carry the token along.
            request.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return request

    def _open(self, action: str, request: urllib.request.Request) -> http.client.HTTPResponse:
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            try:
                failure = ServerError(action, error.code, _read_problem(error))
                retry_after = parse_retry_after(error.headers.get("Retry-After"))
            finally:
                error.close()
            if error.code == HTTPStatus.TOO_MANY_REQUESTS or error.code >= 500:
                raise _Transient(failure, retry_after) from None
            raise failure from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            raise _Transient(DownloadError(
                f"could not {action}: cannot reach {self.server} ({reason})")) from None

    def _retrying(self, attempt: Callable[[], T]) -> T:
        delays = iter(self.retry_delays)
        while True:
            try:
                return attempt()
            except _Transient as transient:
                delay = next(delays, None)
                if delay is None:
                    raise transient.error from None
                if transient.retry_after is not None:
                    if transient.retry_after > MAX_RETRY_AFTER:
                        raise transient.error from None
                    delay = transient.retry_after
                summary = str(transient.error).splitlines()[0]
                print(f"{summary}; trying again in {delay:g} s", file=sys.stderr)
                self.sleep(delay)


def _read_problem(error: urllib.error.HTTPError) -> dict[str, Any]:
    """The problem+json body of an error answer, or just its status text if it has none."""
    try:
        problem = json.loads(error.read(64 * 1024))
    except (ValueError, OSError, http.client.HTTPException):
        problem = None
    if isinstance(problem, dict):
        return problem
    return {"title": error.reason or _status_phrase(error.code)}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def zip_name(headers: Message, *, fallback: str) -> str:
    """The file name the server suggests, reduced to a plain, visible name ending in .zip."""
    suggested = (headers.get_filename() or "").replace("\\", "/")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(suggested).name)
    if not name.lower().endswith(".zip"):
        name += ".zip"
    if name.startswith(".") or name == "_.zip":
        name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback)
    return name


def _content_length(headers: Message) -> int | None:
    value = headers.get("Content-Length")
    return int(value) if value and value.strip().isdigit() else None


def _stream(response: BinaryIO, sink: BinaryIO, *, total: int | None, label: str,
            progress: bool) -> int:
    """Copy the body to ``sink`` under a progress bar; return the bytes received."""
    received = 0
    # disable=None: show the bar only on a terminal, so logs of scheduled runs stay clean.
    with tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
              disable=None if progress else True) as bar:
        while True:
            try:
                chunk = response.read(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as error:
                raise _Transient(DownloadError(
                    f"could not download the export: the connection failed after "
                    f"{received:,} bytes ({error})")) from None
            if not chunk:
                return received
            sink.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))


def is_safe_member(name: str) -> bool:
    """Whether a zip member's path stays inside the directory it is unpacked into, on any OS."""
    if not name or name.startswith("/") or any(char in name for char in "\\:\x00"):
        return False
    return ".." not in PurePosixPath(name).parts


def verify(zip_path: Path) -> dict[str, Any]:
    """Check an export zip against its manifest.json and return the manifest.

    Raises :class:`VerificationError` naming every problem: a member path that could land
    outside the output directory, a listed file missing from the zip, a file in the zip the
    manifest does not list, or a size or SHA-256 different from the manifest's.
    """
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return _verify_archive(archive)
    # BadZipFile also reports a member whose CRC is wrong; NotImplementedError an unknown
    # compression method; RuntimeError an encrypted member.
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        raise VerificationError(f"{zip_path.name} is not a readable zip file ({error})") from None


def _verify_archive(archive: zipfile.ZipFile) -> dict[str, Any]:
    names = archive.namelist()
    unsafe = [name for name in names if not is_safe_member(name)]
    if unsafe:
        raise VerificationError([f"{name!r} would be unpacked outside the output directory"
                                 for name in unsafe])
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise VerificationError([f"{name} is in the zip more than once" for name in repeated])
    if MANIFEST not in names:
        raise VerificationError(f"the zip has no {MANIFEST}")
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except ValueError as error:
        raise VerificationError(f"{MANIFEST} is not valid JSON ({error})") from None
    listed = listed_files(manifest)
    present = {info.filename: info for info in archive.infolist()
               if not info.is_dir() and info.filename != MANIFEST}

    problems = [f"{path} is listed in {MANIFEST} but not in the zip"
                for path in sorted(listed.keys() - present.keys())]
    problems += [f"{path} is in the zip but not listed in {MANIFEST}"
                 for path in sorted(present.keys() - listed.keys())]
    for path in sorted(listed.keys() & present.keys()):
        expected_sha256, expected_bytes = listed[path]
        size, sha256 = _measure(archive, present[path], limit=expected_bytes)
        if size > expected_bytes:
            problems.append(f"{path} is larger than the {expected_bytes:,} bytes {MANIFEST} lists")
        elif size < expected_bytes:
            problems.append(f"{path} has {size:,} bytes; {MANIFEST} lists {expected_bytes:,}")
        elif sha256 != expected_sha256:
            problems.append(f"{path} does not match its SHA-256 in {MANIFEST} "
                            f"(altered or corrupt)")
    if problems:
        raise VerificationError(problems)
    return manifest


def listed_files(manifest: Any) -> dict[str, tuple[str, int]]:
    """``{path: (sha256, bytes)}`` from the manifest's "files", checking each entry's shape."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list):
        raise VerificationError(f'{MANIFEST} has no "files" list')
    listed: dict[str, tuple[str, int]] = {}
    for index, entry in enumerate(files):
        path, sha256, size = (entry.get(key) if isinstance(entry, dict) else None
                              for key in ("path", "sha256", "bytes"))
        if not (isinstance(path, str) and isinstance(sha256, str)
                and re.fullmatch(r"[0-9a-fA-F]{64}", sha256)
                and isinstance(size, int) and not isinstance(size, bool) and size >= 0):
            raise VerificationError(
                f"{MANIFEST} files[{index}] needs a path, a 64-digit hex sha256 and bytes")
        if path == MANIFEST:
            raise VerificationError(f"{MANIFEST} lists itself, so its checksum cannot be checked")
        if path in listed:
            raise VerificationError(f"{MANIFEST} lists {path} more than once")
        listed[path] = (sha256.lower(), size)
    return listed


def _measure(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, limit: int) -> tuple[int, str]:
    """The member's size and SHA-256, reading no further than one chunk past ``limit``."""
    digest = hashlib.sha256()
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:  # a member bigger than listed need not be read to its end
                break
            digest.update(chunk)
    return size, digest.hexdigest()


def check_out(out: Path, *, force: bool) -> None:
    """Refuse an output directory whose contents would be lost (checked before downloading)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise UsageError(f"{out} is not empty; choose another --out, or pass --force to "
                         f"replace the export already there")
    if not (out / MANIFEST).is_file():
        raise UsageError(f"{out} is not empty and has no {MANIFEST}, so it is not a previous "
                         f"export; --force replaces only a previous export. Choose another --out.")


def unpack(zip_path: Path, manifest: dict[str, Any], out: Path) -> None:
    """Unpack a verified export into ``out``, all or nothing.

    Files are written to a hidden sibling of ``out`` that takes its place only once every file
    is written, so a failure leaves nothing half-unpacked. An existing ``out`` is replaced:
    :func:`check_out` decides whether it may be.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for name in [MANIFEST, *listed_files(manifest)]:
                if not is_safe_member(name):  # verify() refused these; never write one anyway
                    raise VerificationError(f"{name!r} would be unpacked outside {out}")
                target = staging.joinpath(*PurePosixPath(name).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(name) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, CHUNK_BYTES)
        _put_in_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _put_in_place(staging: Path, out: Path) -> None:
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        staging.rename(out)
        return
    previous = out.with_name(f".{out.name}.previous-{uuid.uuid4().hex[:8]}")
    out.rename(previous)
    try:
        staging.rename(out)
    except BaseException:
        previous.rename(out)
        raise
    shutil.rmtree(previous)


def resolve_study(client: Client, study: str) -> str:
    """The study's id: ``study`` itself if it is a UUID, else the id of the study with that code."""
    try:
        return str(uuid.UUID(study))
    except ValueError:
        pass
    studies = client.studies()
    matches = [item for item in studies if str(item.get("code", "")).casefold() == study.casefold()]
    if len(matches) == 1 and matches[0].get("id"):
        return str(matches[0]["id"])
    codes = ", ".join(sorted(str(item.get("code")) for item in studies)) or "none"
    raise UsageError(f"no study with code {study!r} among the studies you can see ({codes})")


def export_query(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The export's query parameters; options left out are left to the server's defaults."""
    query: list[tuple[str, str]] = []
    for name in ("layout", "arm", "instrument", "timepoint"):
        query += [(name, value) for value in getattr(args, name) or ()]
    for name in ("format", "duplicates", "comparator"):
        if getattr(args, name):
            query.append((name, getattr(args, name)))
    if args.identified:
        query.append(("identified", "true"))
    return query


def summarise(manifest: dict[str, Any], out: Path, *, kept_zip: Path | None,
              identified: bool) -> str:
    """What was exported and where it went, for the terminal."""
    study = manifest.get("study") if isinstance(manifest.get("study"), dict) else {}
    label = str(study.get("code") or "Export")
    if study.get("name"):
        label += f" ({study['name']})"
    files = manifest["files"]
    lines = [f"{label}: {len(files)} files verified against {MANIFEST} and unpacked to {out}"]
    data = [entry for entry in files if entry["path"].startswith("data/")]
    width = max((len(entry["path"]) for entry in data), default=0)
    for entry in data:
        rows = entry.get("rows")
        counted = f"{rows:>10,} rows" if isinstance(rows, int) else "      rows not counted"
        lines.append(f"  {entry['path']:<{width}}  {counted}")
    others = [entry["path"] for entry in files if not entry["path"].startswith("data/")]
    if others:
        lines.append(f"  with {', '.join([MANIFEST, *others])}")
    if kept_zip:
        lines.append(f"zip kept at {kept_zip}")
    if identified:
        lines.append("This export identifies participants: store and share it only as your "
                     "protocol and ethics approval allow.")
    return "\n".join(lines)


DESCRIPTION = """\
Download a study's research export from a prom server, verify it and unpack it.

The script signs in with your prom account, asks the server for an export of one study (the
layouts, file format and filters you choose below) and downloads the zip with a progress bar.
Before anything is unpacked it checks the zip against its manifest.json: every file listed is
there with the size and SHA-256 checksum the server recorded, nothing unlisted is there, and
no path could land outside the output directory. Only then is the export unpacked, all at
once, into --out; if anything fails, nothing is left half-unpacked.

An export holds manifest.json (the study, what was asked for and when, and every file's
checksum and row count), codebook.csv and codebook.json (each variable, its label and coded
values), README.txt, and the data files under data/.

The password comes from PROM_PASSWORD or is asked for without echo. It is never a command-line
option, so it stays out of shell history and process lists. Exports are pseudonymised unless
--identified is given. Dropped connections and server errors (5xx) are retried a few times with
a growing wait; a "too many requests" answer is retried after the wait the server asks for."""

EPILOG = """\
examples:
  # the server's default layouts as Parquet, unpacked into ./<zip name>/
  export_cohort.py --server https://prom.example.org --email ana@example.org --study PAIN01

  # long scores and the wide table as CSV, two arms, baseline and week 12 only
  export PROM_SERVER=https://prom.example.org PROM_EMAIL=ana@example.org
  export_cohort.py --study PAIN01 --format csv --layout scores_long --layout wide \\
      --arm active --arm placebo --timepoint baseline --timepoint week12 --out pain01-csv

  # Stata files with the between-arm summary against placebo, keeping the zip
  export_cohort.py --study PAIN01 --format dta --layout summary --comparator placebo --keep-zip

  # refresh an earlier export in place from a scheduled job whose environment sets
  # PROM_SERVER, PROM_EMAIL and PROM_PASSWORD
  export_cohort.py --study PAIN01 --out pain01 --force --no-progress

  # with uv, which installs tqdm from the script's own metadata
  uv run scripts/export_cohort.py --study PAIN01

environment:
  PROM_SERVER    server URL when --server is not given
  PROM_EMAIL     account email when --email is not given
  PROM_PASSWORD  password; when unset, the script asks for it

exit status:
  0  exported, verified and unpacked
  1  the server refused or could not be reached, the download was cut short, or it could not
     be saved (the server's problem title, detail and field errors are printed)
  2  usage: a missing or invalid option, an unknown study code, or an --out already in use
  3  the zip failed verification; nothing was unpacked"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="export_cohort.py", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)

    account = parser.add_argument_group("server and account")
    account.add_argument(
        "--server", metavar="URL", default=os.environ.get("PROM_SERVER"),
        help="the prom server, e.g. https://prom.example.org (default: $PROM_SERVER)")
    account.add_argument(
        "--email", default=os.environ.get("PROM_EMAIL"),
        help="your prom account's email (default: $PROM_EMAIL); the password comes from "
             "$PROM_PASSWORD or is asked for")
    account.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=DEFAULT_TIMEOUT,
        help=f"give up on a connection silent for this long (default: {DEFAULT_TIMEOUT:g}); "
             f"failures are retried {len(RETRY_DELAYS)} times")

    wanted = parser.add_argument_group(
        "what to export",
        "Options left out are left to the server's defaults. Repeat --layout, --arm,\n"
        "--instrument and --timepoint to give several values.")
    wanted.add_argument(
        "--study", required=True,
        help="the study's UUID, or its code (e.g. PAIN01) among the studies you can see")
    wanted.add_argument(
        "--layout", action="append", choices=LAYOUTS, metavar="LAYOUT",
        help="a table to include: scores_long (a row per scored scale per response), "
             "items_long (a row per item answer), wide (a row per participant, a column per "
             "scale and timepoint), adverse_events, or summary (per-arm statistics by "
             "timepoint) (default: all but items_long)")
    wanted.add_argument(
        "--format", choices=FORMATS, metavar="FORMAT",
        help="data file format: csv, parquet, dta (Stata), sav (SPSS) or xlsx (Excel) "
             "(default: parquet)")
    wanted.add_argument(
        "--duplicates", choices=DUPLICATE_RULES, metavar="RULE",
        help="which response counts when an instrument was answered more than once at a "
             "timepoint: first_complete (the default), first_in_window (the first inside the "
             "timepoint's window) or last_complete")
    wanted.add_argument("--arm", metavar="CODE", action="append",
                        help="only participants in this arm (by arm code)")
    wanted.add_argument("--instrument", metavar="ID", action="append",
                        help="only this instrument (e.g. promis29)")
    wanted.add_argument("--timepoint", metavar="CODE", action="append",
                        help="only this timepoint (e.g. baseline, week12)")
    wanted.add_argument(
        "--comparator", metavar="ARM",
        help="arm the summary layout compares the other arms with (default: the server's "
             "choice)")
    wanted.add_argument(
        "--identified", action="store_true",
        help="include participant ids, dates, sites and free text instead of the "
             "pseudonymised default; the server allows it only to permitted roles, and audits "
             "it")

    where = parser.add_argument_group("where it goes")
    where.add_argument(
        "--out", metavar="DIR",
        help="directory to unpack into; it must not exist or must be empty "
             "(default: ./<zip name without .zip>)")
    where.add_argument(
        "--force", action="store_true",
        help="replace a previous export in --out (a directory holding manifest.json), and a "
             "kept zip of the same name; any other non-empty directory is still refused")
    where.add_argument(
        "--keep-zip", action="store_true",
        help="keep the downloaded zip beside --out (also when verification fails, to inspect)")
    where.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _check_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.server:
        parser.error("give --server or set PROM_SERVER")
    address = urllib.parse.urlsplit(args.server)
    if address.scheme not in ("http", "https") or not address.netloc:
        parser.error(f"--server {args.server!r} is not an http(s) URL like "
                     f"https://prom.example.org")
    if not args.email:
        parser.error("give --email or set PROM_EMAIL")
    if args.timeout <= 0:
        parser.error("--timeout must be more than 0 seconds")
    if address.scheme == "http" and address.hostname not in ("localhost", "127.0.0.1", "::1"):
        print(f"warning: {args.server} is plain http; your password and the export cross the "
              f"network unencrypted", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_settings(parser, args)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return export(args)
    except ExportFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return failure.exit_code
    except OSError as error:  # the local disk: no space, no permission
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SERVER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def export(args: argparse.Namespace) -> int:
    """Sign in, download, verify and unpack, as the parsed options say."""
    chosen_out = Path(args.out).expanduser().absolute() if args.out else None
    if chosen_out:
        check_out(chosen_out, force=args.force)  # before asking for a password or downloading
    password = os.environ.get("PROM_PASSWORD") or getpass.getpass(
        f"Password for {args.email} on {args.server}: ")
    if not password:
        raise UsageError("no password: set PROM_PASSWORD or type it when asked")

    client = Client(args.server, timeout=args.timeout)
    client.sign_in(args.email, password)
    study_id = resolve_study(client, args.study)

    def choose_out(name: str) -> Path:
        out = chosen_out or Path.cwd() / name.removesuffix(".zip")
        check_out(out, force=args.force)
        if args.keep_zip and (out.parent / name).exists() and not args.force:
            raise UsageError(f"{out.parent / name} exists; pass --force to replace it")
        return out

    part, out, name = client.download_export(
        study_id, export_query(args), choose_out=choose_out, progress=not args.no_progress)
    kept_zip = out.parent / name if args.keep_zip else None
    try:
        manifest = verify(part)
        unpack(part, manifest, out)
    finally:
        if kept_zip:
            os.replace(part, kept_zip)
        else:
            part.unlink(missing_ok=True)
    print(summarise(manifest, out, kept_zip=kept_zip, identified=args.identified))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
