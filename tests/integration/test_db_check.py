"""`prom db check` fails when the models and the migrations drift apart (STYLE.md, habit 12).

The drift is made without touching a model: Alembic's env.py reads ``Base.metadata`` each time
it runs, so the test swaps in a throwaway copy of the metadata with one change, as if someone had
edited a model and written no migration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import Column, Integer, MetaData, String, Table

from prom.app import create_app
from prom.db import NAMING_CONVENTION, Base
from prom.extensions import db


def drifted(change) -> MetaData:
    """A copy of the models' metadata with `change` applied to it."""
    copy = MetaData(naming_convention=NAMING_CONVENTION)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    change(copy)
    return copy


def test_db_check_passes_on_the_current_tree(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "check"])

    assert result.exit_code == 0, result.output
    assert "Models and migrations agree." in result.output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda m: m.tables["responses"].append_column(Column("device_model", String(64))),
         "add_column responses responses.device_model"),
        (lambda m: Table("drift_probe", m, Column("id", Integer, primary_key=True)),
         "add_table drift_probe"),
        (lambda m: m.remove(m.tables["audit_events"]), "remove_index ix_audit_events_target"),
    ],
    ids=["extra column", "extra table", "missing table"],
)
def test_db_check_fails_and_names_the_drift(runner: FlaskCliRunner,
                                            monkeypatch: pytest.MonkeyPatch, change,
                                            named: str) -> None:
    monkeypatch.setattr(Base, "metadata", drifted(change))

    result = runner.invoke(args=["db", "check"])

    assert result.exit_code == 1, result.output
    assert "The models and the migrations differ" in result.output
    assert f"\n  {named}\n" in result.output  # one change a line, indexes by name
    assert "prom db revision" in result.output
    assert "agree" not in result.output


def test_db_check_fails_on_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})

    result = app.test_cli_runner().invoke(args=["db", "check"])
    with app.app_context():
        db.engine.dispose()

    assert result.exit_code == 1, result.output
    assert "Target database is not up to date." in result.output
