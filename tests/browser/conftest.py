"""Fixtures for the browser tests of the participant client (`/app/`).

The client runs in the system's headless Chromium through Playwright's sync API (no
pytest-playwright, and no browser downloaded by Playwright): ``PROM_CHROMIUM`` names the
executable, else ``/usr/bin/chromium``, else ``chromium`` on the PATH. Without one, the browser
tests are skipped with how to install it; the blueprint tests (``test_webapp.py``) still run.

- ``browser``: one Chromium for the module (all the browser tests are in test_client.py).
- ``server``: the app served over HTTP on 127.0.0.1 (werkzeug, in a thread) against the test
  database, with raised sign-in rate limits and an overlay that gives the pain NRS a German
  version (no shipped instrument has a second language).
- ``participant``: a fresh study, site and enrolled participant, committed (unique codes), with
  its activation code; ``participant.activated(page)`` signs in through the app.
- ``page``: a new browser context at a phone's size (360 × 800) and its page, per test.
- ``shoot(page, screen)``: checks the screen has no horizontal scrolling and no WCAG 2.1 A or AA
  violation that axe-core finds, and saves a screenshot to
  ``$PROM_TEST_ARTIFACTS/browser/<test>-<screen>.png`` (default ``<repo>/test-artifacts``).
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from prom.app import create_app
from prom.extensions import db
from tests.api.conftest import RAISED_RATE_LIMITS
from tests.conftest import FAST_PASSWORD_HASHING

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
    "--disable-default-apps", "--disable-extensions",
]
PHONE = {"viewport": {"width": 360, "height": 800}, "device_scale_factor": 1,
         "is_mobile": True, "has_touch": True, "locale": "en-GB", "timezone_id": "UTC"}
#: Generous for a first page load on a busy CI machine; assertions auto-wait up to this.
TIMEOUT_MS = 10_000

#: A German overlay for the pain NRS, so that the language picker has something to pick.
GERMAN_NRS = """\
overlay: true
id: nrs_pain
version: "1"
languages: [de]
title: {de: Schmerzstärke (numerische Skala)}
instructions: {de: "Bitte wählen Sie die Zahl, die Ihre Schmerzen am besten beschreibt."}
items:
  average: {text: {de: "Welche Zahl beschreibt Ihre durchschnittlichen Schmerzen in den letzten 24 Stunden am besten?"}}
  worst: {text: {de: "Welche Zahl beschreibt Ihre stärksten Schmerzen in den letzten 24 Stunden am besten?"}}
  least: {text: {de: "Welche Zahl beschreibt Ihre geringsten Schmerzen in den letzten 24 Stunden am besten?"}}
  now: {text: {de: "Welche Zahl beschreibt Ihre Schmerzen im Moment am besten?"}}
response_sets:
  nrs: {anchors: {"0": {de: Keine Schmerzen}, "10": {de: Stärkste vorstellbare Schmerzen}}}
"""  # noqa: E501 (item wording)


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("PROM_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


# Module scope, not session: between its calls, Playwright's sync API leaves its event loop
# marked as running in the main thread, so while a browser is open no other test could use
# asyncio.run(). The browser tests are one module, so this is still one browser per run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium to run the browser tests: install it with "
                    "`apt-get install chromium` (`make test` does), or set PROM_CHROMIUM to "
                    "a Chromium executable")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@dataclass
class Server:
    app: Flask
    url: str
    api_reachable: threading.Event  # cleared: every /api/ request gets 503, and nothing is stored


def gate(wsgi_app: Callable, reachable: threading.Event) -> Callable:
    """`wsgi_app`, answering 503 to every API request while `reachable` is clear."""
    def app(environ: dict[str, Any], start_response: Callable) -> Any:
        if not reachable.is_set() and environ.get("PATH_INFO", "").startswith("/api/"):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                       ("Retry-After", "1")])
            return [b"unreachable (tests/browser)"]
        return wsgi_app(environ, start_response)

    return app


@pytest.fixture(scope="module")  # stopped, with its connections, before other tests run
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    overlay = tmp_path_factory.mktemp("overlay")
    (overlay / "nrs_pain-1.de.yaml").write_text(GERMAN_NRS, encoding="utf-8")
    app = create_app({"DATABASE_URL": database_url, "INSTRUMENTS_PATH": overlay,
                      **FAST_PASSWORD_HASHING, **RAISED_RATE_LIMITS})
    reachable = threading.Event()
    reachable.set()
    app.wsgi_app = gate(app.wsgi_app, reachable)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="prom-browser-tests", daemon=True)
    thread.start()
    try:
        yield Server(app, f"http://127.0.0.1:{http.server_port}", reachable)
    finally:
        http.shutdown()
        http.server_close()
        thread.join()
        with app.app_context():
            db.engine.dispose()


@dataclass
class Participant:
    server: Server
    id: uuid.UUID
    user_id: uuid.UUID
    activation_code: str

    def responses(self) -> list[Any]:
        """This participant's stored responses (with their versions), oldest first."""
        from prom.models.responses import Response

        with self.server.app.app_context():
            rows = list(db.session.scalars(
                select(Response).where(Response.participant_id == self.id)
                .order_by(Response.received_at)))
            for row in rows:  # load while the session is open
                for version in row.versions:
                    _ = version.scores
            db.session.expunge_all()
            return rows

    def submit_nrs(self, ratings: list[tuple[datetime, int]]) -> None:
        """Store pain NRS responses (average pain only) as this participant's own."""
        from prom.models.accounts import User
        from prom.services import submissions

        entries = [{"id": str(uuid.uuid4()), "instrument": "nrs_pain", "instrument_version": "1",
                    "collected_at": at.isoformat(), "answers": {"average": value}}
                   for at, value in ratings]
        with self.server.app.app_context():
            results = submissions.submit_batch(entries, actor=db.session.get(User, self.user_id))
        assert [result["status"] for result in results] == [201] * len(entries), results

    def activated(self, page: Any) -> None:
        """Activate through the app: the page ends on the due list."""
        from playwright.sync_api import expect

        page.goto(f"{self.server.url}/app/")
        page.get_by_label("Activation code").fill(self.activation_code)
        page.get_by_label("Choose a password").fill(PASSWORD)
        page.get_by_role("button", name="Activate").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your questionnaires")


@pytest.fixture
def participant(server: Server) -> Participant:
    """A new study (baseline, open today: pain NRS, PHQ-9, adverse events, EQ-5D-5L), a site,
    and one participant enrolled today, all committed."""
    from prom.models.accounts import User
    from prom.services import accounts, participants, studies

    code = uuid.uuid4().hex[:10].upper()
    with server.app.app_context():
        admin = accounts.create_user(f"admin-{code.lower()}@example.org", PASSWORD, "admin")
        site = accounts.create_site(f"SITE-{code}", f"Browser test site {code}")
        study = studies.create_study({
            "code": f"WEB-{code}", "name": "Browser test study",
            "arms": [{"code": "A", "name": "Arm A"}],
            "schedule": [
                {"code": "baseline", "day": 0, "window_before": 0, "window_after": 6,
                 "instruments": ["nrs_pain", "phq9", "adverse_event", "eq5d5l"]},
                {"code": "week4", "day": 28, "window_before": 2, "window_after": 5,
                 "instruments": ["nrs_pain"]},
            ],
        }, actor=admin.id)
        enrolment = participants.enrol(study.id, {
            "site_id": site.id, "arm": "A", "enrolled_on": datetime.now(UTC).date(),
            "language": "en", "timezone": "UTC"}, actor=db.session.get(User, admin.id))
        return Participant(server, enrolment.participant.id, enrolment.participant.user_id,
                           enrolment.activation_code)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    # Service workers are blocked, so that no cached app shell can hide what a test checks.
    context = browser.new_context(**PHONE, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = watch_for_errors(page)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"errors on the page: {errors}"


def watch_for_errors(page: Any) -> list[str]:
    """A list that collects the page's uncaught JavaScript errors, Content-Security-Policy
    violations (a blocked inline style or script is only reported on the console) and anything
    outside the API that is not found (a missing asset or icon)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status == 404 and "/api/" not in response.url else None)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


#: axe-core (bundled by axe-playwright-python, run inside the page) on the rules of WCAG 2.0 and
#: 2.1 at levels A and AA: labels, names and roles, contrast, landmarks, language, and so on.
AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}

ARTIFACTS = Path(os.environ.get("PROM_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "browser"


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    test = request.node.name.removeprefix("test_")

    def take(page: Any, screen: str) -> Path:
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{screen}: scrolls sideways at 360 px ({widths})"
        results = AXE.run(page, options=WCAG_AA)
        assert results.violations_count == 0, f"{screen}: {results.generate_report()}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{test}-{screen}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
