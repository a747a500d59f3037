"""`scripts/synth_cohort.py`: a small synthetic trial stored in a fresh SQLite database, directly
through the services and through a real HTTP server, then counted in the database.

Each test makes its own database in `tmp_path` (never the shared PROM_TEST_DATABASE_URL): the
script creates studies, sites and accounts that would leak into other tests. The script is
loaded from its path, as it is not part of the prom package.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from prom.app import create_app
from prom.extensions import db
from prom.models.adverse_events import AdverseEvent
from prom.models.participants import Participant
from prom.models.responses import Response
from prom.models.studies import Arm, Study
from prom.synthetic_trial import generate
from tests.conftest import FAST_PASSWORD_HASHING, load_script, migrated

EMAIL = "trialist@example.org"
PASSWORD = "a-long-password"



synth_cohort = load_script("synth_cohort")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite database of this test's own, migrated."""
    return migrated(f"sqlite:///{tmp_path / 'synth.db'}")


def stored(url: str, study_code: str) -> dict[str, Any]:
    """What the database holds for the study: participants per arm, responses, events."""
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        study = db.session.scalar(select(Study).where(Study.code == study_code))
        per_arm = Counter(dict(db.session.execute(
            select(Arm.code, func.count()).join(Participant, Participant.arm_id == Arm.id)
            .where(Participant.study_id == study.id).group_by(Arm.code)).all()))
        responses = db.session.execute(
            select(Response.instrument, Response.analysis_timepoint, Response.in_window)
            .join(Participant, Participant.id == Response.participant_id)
            .where(Participant.study_id == study.id)).all()
        events = db.session.scalar(select(func.count()).select_from(AdverseEvent)
                                   .where(AdverseEvent.study_id == study.id))
        db.engine.dispose()
    return {"participants": per_arm, "responses": responses, "adverse_events": events}


def expected(args: list[str]) -> dict[str, Any]:
    """The same trial, generated again from the same options (no database)."""
    spec = synth_cohort.build_spec(synth_cohort.build_parser().parse_args(args))
    people = list(generate(spec))
    forms = [form for person in people for form in person.forms]
    return {"spec": spec, "forms": forms,
            "events": sum(1 for form in forms if form.instrument == "adverse_event"
                          and form.answers["occurred"])}


TRIAL = ["--n", "10", "--seed", "11", "--adverse-events", "0.3", "--quiet"]


def test_a_trial_goes_straight_into_a_database(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'direct.db'}"  # migrated by the script
    assert synth_cohort.main(["--database", url, "--migrate", *TRIAL]) == 0
    out = capsys.readouterr().out
    assert "30 participants (icbt 10, education 10, usual_care 10)" in out

    want = expected(TRIAL)
    got = stored(url, want["spec"].code)
    assert got["participants"] == {"icbt": 10, "education": 10, "usual_care": 10}
    assert len(got["responses"]) == len(want["forms"]) > 30 * 20
    assert Counter(instrument for instrument, _, _ in got["responses"]) == Counter(
        form.instrument for form in want["forms"])
    # Every response is placed where the generator meant it, inside its window.
    assert Counter((timepoint, in_window) for _, timepoint, in_window in got["responses"]) == \
        Counter((form.timepoint, True) for form in want["forms"])
    assert got["adverse_events"] == want["events"] > 0
    assert f"{len(want['forms'])} responses" in out


def test_a_second_trial_needs_its_own_study_code(database_url, capsys):
    args = ["--database", database_url, "--arms", "a=2,b=2", "--comparator", "b", "--quiet"]
    assert synth_cohort.main(args) == 0
    assert synth_cohort.main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert synth_cohort.main([*args, "--study-code", "SYNTH-2"]) == 0  # same seed, new ids
    assert stored(database_url, "SYNTH-2")["participants"] == {"a": 2, "b": 2}


def test_a_spec_that_makes_no_sense_is_reported(database_url, capsys):
    assert synth_cohort.main(["--database", database_url, "--drop-out", "1.5"]) == 1
    assert "drop_out must be between 0 and 1" in capsys.readouterr().err


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """prom served over HTTP on a free port, with an admin to sign in as."""
    app = create_app({"DATABASE_URL": database_url, **FAST_PASSWORD_HASHING})
    with app.app_context():
        from prom.services.accounts import create_user

        create_user(EMAIL, PASSWORD, "admin")
    http = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    with app.app_context():
        db.engine.dispose()


def test_a_trial_goes_in_through_the_api(server, database_url, capsys):
    args = ["--arms", "icbt=4,usual_care=4", "--seed", "3", "--batch-size", "100",
            "--adverse-events", "0.5", "--quiet"]
    assert synth_cohort.main(["--server", server, "--email", EMAIL, "--password", PASSWORD,
                              *args]) == 0
    assert "8 participants (icbt 4, usual_care 4)" in capsys.readouterr().out
    want = expected(args)
    got = stored(database_url, want["spec"].code)
    assert got["participants"] == {"icbt": 4, "usual_care": 4}
    assert Counter((timepoint, in_window) for _, timepoint, in_window in got["responses"]) == \
        Counter((form.timepoint, True) for form in want["forms"])
    assert got["adverse_events"] == want["events"]


def test_the_api_path_reports_a_refused_sign_in(server, capsys):
    assert synth_cohort.main(["--server", server, "--email", EMAIL, "--password", "wrong-one!",
                              "--n", "1", "--quiet"]) == 1
    assert "POST /auth/login: 401" in capsys.readouterr().err


def test_only_an_admin_creates_a_trial(database_url, capsys):
    app = create_app({"DATABASE_URL": database_url, **FAST_PASSWORD_HASHING})
    with app.app_context():
        from prom.services.accounts import create_user

        create_user(EMAIL, PASSWORD, "clinician")
        db.engine.dispose()
    assert synth_cohort.main(["--database", database_url, "--email", EMAIL, "--n", "1"]) == 1
    assert "Only an admin" in capsys.readouterr().err
