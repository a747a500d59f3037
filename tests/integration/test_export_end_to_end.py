"""A research export from end to end, on a real server: the demo study is loaded into a fresh
SQLite database, the app is served over HTTP in a thread, and `scripts/export_cohort.py` signs
in as a researcher, downloads, verifies and unpacks. The operator's `prom export` is run on the
same database. Neither touches the shared test database (PROM_TEST_DATABASE_URL): this needs
committed data that a real server can see."""

from __future__ import annotations

import json
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from werkzeug.serving import make_server

from prom.app import create_app
from prom.export.package import verify
from prom.extensions import db
from tests.conftest import FAST_PASSWORD_HASHING, load_script, migrated

RESEARCHER = ("researcher@demo.example.org", "researcher-password-1")



@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo study on a fresh SQLite file, a researcher granted it, and the app on HTTP."""
    url = migrated(f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'prom.db'}")
    app = create_app({"DATABASE_URL": url, **FAST_PASSWORD_HASHING})
    with app.app_context():
        from prom.services import accounts, studies
        from prom.services.demo import load_demo

        loaded = load_demo()
        researcher = accounts.create_user(*RESEARCHER, "researcher")
        studies.grant_member(uuid.UUID(loaded["study"]), researcher.id, actor=researcher.id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"app": app, "url": f"http://127.0.0.1:{server.server_port}", **loaded}
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


def test_a_researcher_downloads_verifies_and_unpacks_with_the_script(
        served: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROM_PASSWORD", RESEARCHER[1])
    out = tmp_path / "export"

    status = load_script("export_cohort").main([
        "--server", served["url"], "--email", RESEARCHER[0], "--study", "DEMO-ICBT",
        "--format", "csv", "--layout", "wide", "--layout", "summary", "--out", str(out),
        "--no-progress"])

    assert status == 0, capsys.readouterr().err
    manifest = verify(out)  # prom's own check agrees with the script's
    assert manifest["created_by"]["email"] == RESEARCHER[0]
    assert manifest["row_counts"]["wide"] == 36
    wide = pd.read_csv(out / "data" / "wide.csv")
    assert set(wide["arm"]) == {"icbt", "education", "usual_care"}
    assert "verified" in capsys.readouterr().out


def test_a_clinician_gets_the_servers_403_through_the_script(
        served: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROM_PASSWORD", served["clinician"][1])

    status = load_script("export_cohort").main([
        "--server", served["url"], "--email", served["clinician"][0], "--study",
        served["study"], "--out", str(tmp_path / "refused"), "--no-progress"])

    assert status == 1
    assert "403" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()


def test_an_operator_exports_to_a_zip_or_a_directory(served: dict[str, Any],
                                                     tmp_path: Path) -> None:
    runner = served["app"].test_cli_runner()

    result = runner.invoke(args=["export", "DEMO-ICBT", "--format", "sav", "--out",
                                 str(tmp_path / "demo.zip")])
    assert result.exit_code == 0, result.output
    assert "36 participants" in result.output
    with zipfile.ZipFile(tmp_path / "demo.zip") as archive:
        archive.extractall(tmp_path / "unzipped")
    manifest = verify(tmp_path / "unzipped")
    assert manifest["created_by"]["operator"].startswith("cli:")
    assert {f["path"] for f in manifest["files"]} >= {"data/wide.sav", "data/scores_long.sav"}

    again = runner.invoke(args=["export", served["study"], "--layout", "adverse_events",
                                "--out", str(tmp_path / "folder")])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "folder" / "manifest.json").read_text())["row_counts"] == {
        "adverse_events": served["adverse_events"]}

    refused = runner.invoke(args=["export", "DEMO-ICBT", "--out", str(tmp_path / "folder")])
    assert refused.exit_code != 0 and "not empty" in refused.output
    unknown = runner.invoke(args=["export", "NO-SUCH-STUDY"])
    assert unknown.exit_code != 0 and "No study" in unknown.output
    bad_arm = runner.invoke(args=["export", "DEMO-ICBT", "--arm", "placebo", "--out",
                                  str(tmp_path / "bad.zip")])
    assert bad_arm.exit_code != 0 and "arm" in bad_arm.output
    assert not (tmp_path / "bad.zip").exists()
