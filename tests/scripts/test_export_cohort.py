"""`scripts/export_cohort.py` against a local HTTP server that speaks the export contract.

The server (``FakeProm``) signs in one account, lists studies, and serves a zip built here with
real SHA-256s; tests tamper with the zip or script the server's answers to see what a researcher
would see. The script is loaded from its path, as it is not part of the prom package.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import urllib.parse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_script

export_cohort = load_script("export_cohort")

EMAIL = "ana@example.org"
PASSWORD = "correct horse battery staple"
TOKEN = "access-token-1"
STUDY_ID = "5f0c6a52-3c1e-4c59-9a55-2f0d5e7f8a11"
OTHER_STUDY_ID = "0b4f9a6e-7a43-4d0e-8e0e-6f3f0c1a2b3c"
ARMS = {"active", "placebo"}
ZIP_NAME = "PAIN01-export-20250301T101500Z.zip"

SCORES = b"participant,timepoint,scale,score\nP001,baseline,odi,32.0\nP002,baseline,odi,40.0\n"
WIDE = b"participant,odi_baseline\nP001,32.0\nP002,40.0\n"
EXPORT_FILES = {
    "data/scores_long.csv": SCORES,
    "data/wide.csv": WIDE,
    "codebook.csv": b"variable,label\nodi,Oswestry Disability Index\n",
    "codebook.json": b'{"odi": {"label": "Oswestry Disability Index"}}',
    "README.txt": b"PAIN01 research export.\n",
}
ROWS = {"data/scores_long.csv": 2, "data/wide.csv": 2}


def export_zip(files: dict[str, bytes], listed: dict[str, bytes] | None = None) -> bytes:
    """A zip holding ``files`` and a manifest.json with the real checksums of ``listed``."""
    listed = files if listed is None else listed
    manifest = {
        "study": {"id": STUDY_ID, "code": "PAIN01", "name": "Pain trial"},
        "created_at": "2025-03-01T10:15:00Z",
        "request": {"format": "csv"},
        "files": [{"path": path, "sha256": hashlib.sha256(content).hexdigest(),
                   "bytes": len(content), "rows": ROWS.get(path)}
                  for path, content in listed.items()],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    return {"type": f"https://prom.dev/problems/{slug}", "title": title, "status": status,
            "detail": detail, **extra}


@dataclass
class Answer:
    """A response the server gives instead of its normal one."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeProm:
    """What the fake server serves, and what it was asked."""

    url: str = ""
    export: bytes = field(default_factory=lambda: export_zip(EXPORT_FILES))
    #: Declared length minus the body's: > 0 sends a body shorter than its Content-Length.
    missing_bytes: int = 0
    #: Answers given (first in, first out) before the normal ones, per path.
    scripted: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)

    def script(self, path: str, *answers: Answer) -> None:
        self.scripted.setdefault(path, []).extend(answers)

    def asked(self, path: str) -> list[dict[str, list[str]]]:
        return [query for _, asked, query in self.requests if asked == path]


def problem_answer(status: int, body: dict[str, Any], **headers: str) -> Answer:
    return Answer(status, json.dumps(body).encode(),
                  {"Content-Type": "application/problem+json", **headers})


def handler_for(fake: FakeProm) -> type[BaseHTTPRequestHandler]:
    export_path = f"/api/v1/studies/{STUDY_ID}/export"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep captured stderr clean
            pass

        def do_POST(self) -> None:
            self._handle("POST")

        def do_GET(self) -> None:
            self._handle("GET")

        def _handle(self, method: str) -> None:
            address = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(address.query)
            fake.requests.append((method, address.path, query))
            pending = fake.scripted.get(address.path)
            if pending:
                self._send(pending.pop(0))
            elif (method, address.path) == ("POST", "/api/v1/auth/login"):
                self._send(self._login())
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(problem_answer(401, problem(401, "Unauthorized", "Sign in first.")))
            elif address.path == "/api/v1/studies":
                studies = [{"id": STUDY_ID, "code": "PAIN01", "name": "Pain trial"},
                           {"id": OTHER_STUDY_ID, "code": "HEAD02", "name": "Headache"}]
                self._send(Answer(200, json.dumps({"items": studies}).encode(),
                                  {"Content-Type": "application/json"}))
            elif address.path == export_path:
                self._send(self._export(query))
            else:
                self._send(problem_answer(404, problem(404, "Not Found", "No such study.")))

        def _login(self) -> Answer:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if (body.get("email"), body.get("password")) != (EMAIL, PASSWORD):
                return problem_answer(401, problem(401, "Unauthorized",
                                                   "Email or password is incorrect."))
            tokens = {"access_token": TOKEN, "refresh_token": "refresh-1",
                      "token_type": "Bearer", "expires_in": 900}
            return Answer(200, json.dumps(tokens).encode(), {"Content-Type": "application/json"})

        def _export(self, query: dict[str, list[str]]) -> Answer:
            unknown = [arm for arm in query.get("arm", []) if arm not in ARMS]
            if unknown:
                return problem_answer(422, problem(
                    422, "Unprocessable Entity", "The request had invalid fields.",
                    errors={"arm": [f"No arm {arm!r} in this study." for arm in unknown]}))
            return Answer(200, fake.export, {
                "Content-Type": "application/zip",
                "Content-Length": str(len(fake.export) + fake.missing_bytes),
                "Content-Disposition": f'attachment; filename="{ZIP_NAME}"'})

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            headers = {"Content-Length": str(len(answer.body)), **answer.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler


@pytest.fixture
def prom() -> Iterator[FakeProm]:
    fake = FakeProm()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def researcher(prom: FakeProm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A researcher's environment: server, email and password set; working in an empty dir."""
    monkeypatch.setenv("PROM_SERVER", prom.url)
    monkeypatch.setenv("PROM_EMAIL", EMAIL)
    monkeypatch.setenv("PROM_PASSWORD", PASSWORD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(export_cohort, "RETRY_DELAYS", (0.0, 0.0))
    return tmp_path


def run(*args: str) -> int:
    return export_cohort.main(["--no-progress", *args])


def test_exports_verifies_and_unpacks_into_a_directory_named_after_the_zip(researcher, capsys):
    assert run("--study", STUDY_ID) == 0

    out = researcher / ZIP_NAME.removesuffix(".zip")
    for path, content in EXPORT_FILES.items():
        assert (out / path).read_bytes() == content
    assert json.loads((out / "manifest.json").read_text())["study"]["code"] == "PAIN01"
    assert sorted(p.name for p in researcher.iterdir()) == [out.name]  # no zip, no temporaries
    printed = capsys.readouterr().out
    assert f"PAIN01 (Pain trial): 5 files verified against manifest.json and unpacked to {out}" \
        in printed
    assert "data/scores_long.csv" in printed and "2 rows" in printed


def test_sends_the_export_options_as_query_parameters(researcher, prom):
    code = run("--study", STUDY_ID, "--layout", "scores_long", "--layout", "wide",
               "--format", "csv", "--duplicates", "last_complete", "--arm", "active",
               "--arm", "placebo", "--instrument", "odi", "--timepoint", "baseline",
               "--timepoint", "week12", "--comparator", "placebo", "--identified",
               "--out", "cohort")
    assert code == 0
    assert prom.asked(f"/api/v1/studies/{STUDY_ID}/export") == [{
        "layout": ["scores_long", "wide"], "format": ["csv"], "duplicates": ["last_complete"],
        "arm": ["active", "placebo"], "instrument": ["odi"], "timepoint": ["baseline", "week12"],
        "comparator": ["placebo"], "identified": ["true"]}]
    assert (researcher / "cohort" / "data" / "wide.csv").read_bytes() == WIDE


def test_leaves_unset_options_to_the_server(researcher, prom):
    assert run("--study", STUDY_ID) == 0
    assert prom.asked(f"/api/v1/studies/{STUDY_ID}/export") == [{}]


def test_resolves_a_study_code_to_its_id(researcher, prom):
    assert run("--study", "pain01", "--out", "cohort") == 0
    assert prom.asked("/api/v1/studies") == [{}]
    assert len(prom.asked(f"/api/v1/studies/{STUDY_ID}/export")) == 1


def test_an_unknown_study_code_is_a_usage_error_naming_the_codes_there_are(researcher, capsys):
    assert run("--study", "NOPE") == 2
    assert "no study with code 'NOPE'" in capsys.readouterr().err


def test_rejected_sign_in_exits_1_with_the_problem_detail(researcher, prom, monkeypatch,
                                                          capsys):
    monkeypatch.setenv("PROM_PASSWORD", "wrong")
    assert run("--study", STUDY_ID) == 1
    assert "could not sign in: 401 Unauthorized: Email or password is incorrect." \
        in capsys.readouterr().err
    assert prom.asked(f"/api/v1/studies/{STUDY_ID}/export") == []


def test_asks_for_the_password_when_the_environment_has_none(researcher, prom, monkeypatch):
    monkeypatch.delenv("PROM_PASSWORD")
    prompts = []
    monkeypatch.setattr(export_cohort.getpass, "getpass",
                        lambda prompt: prompts.append(prompt) or PASSWORD)
    assert run("--study", STUDY_ID) == 0
    assert prompts == [f"Password for {EMAIL} on {prom.url}: "]


def test_a_refused_export_exits_1_naming_the_field(researcher, capsys):
    assert run("--study", STUDY_ID, "--arm", "sham") == 1
    err = capsys.readouterr().err
    assert "could not download the export: 422 Unprocessable Entity" in err
    assert "arm: No arm 'sham' in this study." in err
    assert list(researcher.iterdir()) == []


def test_a_tampered_file_exits_3_and_unpacks_nothing(researcher, prom, capsys):
    prom.export = export_zip({**EXPORT_FILES, "data/wide.csv": WIDE.replace(b"40.0", b"04.0")},
                             listed=EXPORT_FILES)
    assert run("--study", STUDY_ID) == 3
    assert "data/wide.csv does not match its SHA-256" in capsys.readouterr().err
    assert list(researcher.iterdir()) == []


@pytest.mark.parametrize(("files", "listed", "reported"), [
    ({**EXPORT_FILES, "data/extra.csv": b"x\n"}, EXPORT_FILES,
     "data/extra.csv is in the zip but not listed in manifest.json"),
    ({k: v for k, v in EXPORT_FILES.items() if k != "codebook.csv"}, EXPORT_FILES,
     "codebook.csv is listed in manifest.json but not in the zip"),
    ({**EXPORT_FILES, "data/wide.csv": WIDE + b"P003,12.0\n"}, EXPORT_FILES,
     "data/wide.csv is larger than"),
], ids=["unlisted-file", "missing-file", "wrong-size"])
def test_a_zip_that_differs_from_its_manifest_exits_3(researcher, prom, capsys, files, listed,
                                                      reported):
    prom.export = export_zip(files, listed=listed)
    assert run("--study", STUDY_ID) == 3
    assert reported in capsys.readouterr().err
    assert list(researcher.iterdir()) == []


def test_a_path_escaping_the_output_directory_exits_3_and_writes_nothing(researcher, prom,
                                                                         capsys):
    prom.export = export_zip({**EXPORT_FILES, "../escaped.txt": b"gotcha\n"})
    assert run("--study", STUDY_ID, "--out", "nested/cohort") == 3
    assert "'../escaped.txt' would be unpacked outside the output directory" \
        in capsys.readouterr().err
    assert not (researcher / "nested" / "escaped.txt").exists()
    assert list((researcher / "nested").iterdir()) == []


def test_a_body_shorter_than_its_content_length_is_retried_then_reported(researcher, prom,
                                                                         capsys):
    prom.missing_bytes = 100
    assert run("--study", STUDY_ID) == 1
    assert "the download was cut short" in capsys.readouterr().err
    assert len(prom.asked(f"/api/v1/studies/{STUDY_ID}/export")) == 3  # two retries
    assert list(researcher.iterdir()) == []


def test_a_server_error_is_retried(researcher, prom):
    unavailable = problem_answer(503, problem(503, "Service Unavailable", "Database is down."))
    prom.script(f"/api/v1/studies/{STUDY_ID}/export", unavailable)
    assert run("--study", STUDY_ID) == 0
    assert len(prom.asked(f"/api/v1/studies/{STUDY_ID}/export")) == 2


def test_too_many_requests_waits_for_retry_after(prom):
    prom.script("/api/v1/auth/login", problem_answer(
        429, problem(429, "Too Many Requests", "Too many attempts."), **{"Retry-After": "7"}))
    waits = []
    client = export_cohort.Client(prom.url, timeout=5, sleep=waits.append)
    client.sign_in(EMAIL, PASSWORD)
    assert waits == [7.0]
    assert client.token == TOKEN


def test_a_non_empty_out_without_force_is_a_usage_error_before_downloading(researcher, prom):
    (researcher / "cohort").mkdir()
    (researcher / "cohort" / "analysis.R").write_text("library(lme4)\n")
    assert run("--study", STUDY_ID, "--out", "cohort") == 2
    assert prom.requests == []
    assert run("--study", STUDY_ID, "--out", "cohort", "--force") == 2  # not a prom export
    assert (researcher / "cohort" / "analysis.R").exists()


def test_force_replaces_a_previous_export(researcher):
    assert run("--study", STUDY_ID, "--out", "cohort") == 0
    (researcher / "cohort" / "data" / "stale.csv").write_text("old\n")
    assert run("--study", STUDY_ID, "--out", "cohort") == 2
    assert run("--study", STUDY_ID, "--out", "cohort", "--force") == 0
    assert not (researcher / "cohort" / "data" / "stale.csv").exists()
    assert sorted(p.name for p in researcher.iterdir()) == ["cohort"]


def test_a_failure_while_unpacking_leaves_nothing_behind(researcher, monkeypatch):
    copies = []

    def copy_then_fail(source, sink, length):
        copies.append(sink.name)
        if len(copies) == 3:
            raise OSError(28, "No space left on device")
        sink.write(source.read())

    monkeypatch.setattr(export_cohort.shutil, "copyfileobj", copy_then_fail)
    assert run("--study", STUDY_ID, "--out", "cohort") == 1
    assert len(copies) == 3
    assert list(researcher.iterdir()) == []


def test_keep_zip_keeps_the_download_beside_the_export(researcher, prom, capsys):
    assert run("--study", STUDY_ID, "--out", "cohort", "--keep-zip") == 0
    assert (researcher / ZIP_NAME).read_bytes() == prom.export
    assert f"zip kept at {researcher / ZIP_NAME}" in capsys.readouterr().out


def test_missing_server_is_a_usage_error(researcher, monkeypatch, capsys):
    monkeypatch.delenv("PROM_SERVER")
    assert run("--study", STUDY_ID) == 2
    assert "give --server or set PROM_SERVER" in capsys.readouterr().err


def test_help_exits_0_and_documents_every_option(capsys):
    assert export_cohort.main(["--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--server", "--email", "--study", "--layout", "--format", "--duplicates",
                   "--arm", "--instrument", "--timepoint", "--identified", "--comparator",
                   "--out", "--force", "--keep-zip", "--no-progress", "--timeout",
                   "PROM_SERVER", "PROM_EMAIL", "PROM_PASSWORD", "examples:", "exit status:"):
        assert option in text, option
    assert "--password" not in text


def test_verify_returns_the_manifest_of_a_sound_zip(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(export_zip(EXPORT_FILES))
    manifest = export_cohort.verify(path)
    assert [entry["path"] for entry in manifest["files"]] == list(EXPORT_FILES)


def test_verify_refuses_what_is_not_a_zip(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(b"<html>Proxy error</html>")
    with pytest.raises(export_cohort.VerificationError, match="not a readable zip file"):
        export_cohort.verify(path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "data/../../x", "C:/x", "data\\..\\x",
                                  ""])
def test_unsafe_member_names(name):
    assert not export_cohort.is_safe_member(name)


@pytest.mark.parametrize("name", ["manifest.json", "data/wide.parquet", "data/a..b.csv"])
def test_safe_member_names(name):
    assert export_cohort.is_safe_member(name)
