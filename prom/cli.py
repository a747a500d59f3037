"""The ``prom`` command: Flask's CLI for the prom app, plus prom's own command groups.

``cli`` is the console script. It builds the app with :func:`prom.app.create_app` (so no
``FLASK_APP`` is needed), which registers the groups below on ``app.cli``; the same commands
are therefore also there under ``flask --app prom.app``. Flask's ``run``, ``shell`` and
``routes`` and flask-smorest's ``openapi`` come along.

Each area of work is one click group defined in this module and listed in :data:`COMMAND_GROUPS`:
``prom db ...`` below; ``prom instruments ...`` and ``prom score ...`` are added the same way.
Commands are thin: they parse arguments and call one function of the package.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic.util import CommandError
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from prom import migrations
from prom.extensions import db

# ---------------------------------------------------------------------------------------------
# prom db

db_cli = AppGroup("db", help="Database schema: apply, revert, inspect and write migrations.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the latest, "head")."""
    migrations.upgrade(db.engine, revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (default: one step, "-1"; "base" empties it)."""
    migrations.downgrade(db.engine, revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the database's revision; "(head)" means it is up to date."""
    migrations.current(db.engine)


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does, e.g. 'add studies'.")
@click.option(
    "--autogenerate/--empty",
    default=True,
    show_default=True,
    help="Diff the models against an up-to-date database, or write an empty revision.",
)
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new dated migration file in prom/migrations/versions."""
    migrations.revision(db.engine, message, autogenerate=autogenerate)


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models differ from what the migrations create (database must be at head)."""
    try:
        migrations.check(db.engine)
    except CommandError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Models and migrations agree.")


# ---------------------------------------------------------------------------------------------
# prom instruments, prom score
#
# These read the instrument library straight from disk (PROM_INSTRUMENTS_DIR and
# PROM_INSTRUMENTS_PATH), without building the app, so that `prom instruments check` can report a
# broken library that would stop the app from starting.

instruments_cli = click.Group("instruments", help="Instrument definitions: check, list, show.")


def _load_library():
    import os

    from prom.instruments import LibraryError, load_library

    try:
        return load_library(os.environ.get("PROM_INSTRUMENTS_DIR") or None,
                            os.environ.get("PROM_INSTRUMENTS_PATH") or None)
    except LibraryError as error:
        for problem in error.errors:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(error.errors)} problem(s) in the instrument library.") from error


@instruments_cli.command("check")
def instruments_check() -> None:
    """Validate every definition (schema, cross-field rules, tables); exit 1 on any problem."""
    library = _load_library()
    from prom.scoring import compiled

    for definition in library:
        compiled(definition)  # compiling is the last check: every scale must build
    click.echo(f"{len(library)} definition(s) OK in {library.directory}"
               + (f" with overlays from {library.overlay_directory}"
                  if library.overlay_directory else ""))


@instruments_cli.command("list")
def instruments_list() -> None:
    """One line per instrument: id, versions, text, scales, title."""
    library = _load_library()
    for definition in library.latest():
        versions = ",".join(library.versions(definition.id))
        text = {"bundled": "text", "overlay": "text (overlay)", "none": "codes only"}
        click.echo(f"{definition.id:15} {versions:10} {text[definition.text_source]:15} "
                   f"{','.join(s.id for s in definition.scales):60} {definition.title['en']}")


@instruments_cli.command("show")
@click.argument("instrument_id")
@click.option("--version", help="A released version (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print the loaded definition as JSON, in "
              "the same structure as its YAML file (overlay text merged in).")
def instruments_show(instrument_id: str, version: str | None, as_json: bool) -> None:
    """Show one definition: a readable summary, or the whole definition with --json."""
    import json

    from prom.instruments import UnknownInstrument

    try:
        definition = _load_library().get(instrument_id, version)
    except UnknownInstrument as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(definition.document, indent=2, ensure_ascii=False))
        return
    click.echo(f"{definition.title['en']} — {definition.id} version {definition.version}")
    click.echo(f"licence: {definition.license.holder}; item text: {definition.text_source}")
    click.echo(f"citation: {definition.license.citation}")
    click.echo(f"items ({len(definition.items)}):")
    for item in definition.items:
        flags = " required" if item.required else ""
        flags += " conditional" if item.show_if else ""
        click.echo(f"  {item.id:18} {item.response.type:16}{flags:22} {item.label}")
    click.echo("scales:")
    for scale in definition.scales:
        click.echo(f"  {scale.id:24} {scale.method:15} range {list(scale.range)} "
                   f"min_answered {scale.min_answered}/{len(scale.items)} "
                   f"higher is {scale.higher_is}")


@click.command("score")
@click.argument("instrument_id")
@click.argument("input_csv", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output CSV (default: "
              "standard output).")
@click.option("--version", help="Definition version (default: the latest).")
@click.option("--skip-invalid", is_flag=True, help="Score the valid rows and mark invalid ones "
              "with status 'invalid' instead of stopping.")
def score_command(instrument_id: str, input_csv: str, output: str | None, version: str | None,
                  skip_invalid: bool) -> None:
    """Score a CSV of answers: one row per answer set, one column per item id.

    Empty cells are missing answers; multiple-choice cells list codes separated by ';'; booleans
    are true/false, yes/no or 1/0. Other columns (e.g. a participant id) pass through. Adds
    <scale>, <scale>_status and, for banded scales, <scale>_band (named <scale>_score... where the
    scale id equals an input column). Invalid cells are reported with row and column; without
    --skip-invalid nothing is written and the exit status is 1.
    """
    import sys

    import pandas as pd

    from prom.instruments import UnknownInstrument
    from prom.scoring.tabular import score_frame

    try:
        definition = _load_library().get(instrument_id, version)
    except UnknownInstrument as error:
        raise click.ClickException(str(error)) from error
    frame = pd.read_csv(input_csv, dtype=str, keep_default_na=False)
    absent = [item.id for item in definition.items if item.id not in frame.columns]
    if absent:
        click.echo(f"note: no column for {', '.join(absent)}: treated as unanswered", err=True)
    scored, errors = score_frame(definition, frame, skip_invalid=skip_invalid)
    for error in errors[:100]:
        click.echo(str(error), err=True)
    if len(errors) > 100:
        click.echo(f"... and {len(errors) - 100} more", err=True)
    if errors and not skip_invalid:
        raise click.ClickException(f"{len(errors)} invalid cell(s); nothing written.")
    scored.to_csv(output if output else sys.stdout, index=False)
    if output:
        click.echo(f"Scored {len(scored)} row(s) into {output}.", err=True)


# ---------------------------------------------------------------------------------------------
# prom create-admin


@click.command("create-admin")
@click.option("--email", required=True, help="The admin's email, used to sign in.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters; prompted for when omitted (keeps it out of shell "
                   "history).")
@with_appcontext
def create_admin(email: str, password: str) -> None:
    """Create the first admin account (or another one)."""
    from prom.errors import ProblemError
    from prom.services.accounts import create_user
    from prom.services.passwords import MIN_LENGTH

    if len(password) < MIN_LENGTH:
        raise click.ClickException(f"The password needs at least {MIN_LENGTH} characters.")
    try:
        user = create_user(email, password, "admin")
    except ProblemError as error:
        raise click.ClickException(error.detail if not error.errors else
                                   "; ".join(f"{k}: {', '.join(v)}"
                                             for k, v in error.errors.items())) from error
    click.echo(f"Created admin {user.email} ({user.id}).")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load a demo study, accounts and participants (once; for local trials, never real data)."""
    from prom.services.demo import DEMO_STUDY as DEMO_STUDY_CODE
    from prom.services.demo import load_demo

    loaded = load_demo()
    if loaded is None:
        click.echo("The demo study is already loaded.")
        return
    arms = sorted({arm for arm, _, _ in loaded["participants"]})
    click.echo(f"Demo loaded: {len(loaded['participants'])} participants in {len(arms)} arms, "
               f"{loaded['responses']} responses, {loaded['adverse_events']} adverse events "
               f"reported.\n"
               f"Sign in at POST /api/v1/auth/login as\n"
               f"  admin      {loaded['admin'][0]} / {loaded['admin'][1]}\n"
               f"  clinician  {loaded['clinician'][0]} / {loaded['clinician'][1]}\n"
               f"A report worth opening, as the clinician (with the server running):\n"
               f"  TOKEN=$(curl -s localhost:8000/api/v1/auth/login -H 'Content-Type: "
               f"application/json' -d '{{\"email\": \"{loaded['clinician'][0]}\", "
               f"\"password\": \"{loaded['clinician'][1]}\"}}' | python3 -c "
               f"'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
               f"  curl -s -H \"Authorization: Bearer $TOKEN\" localhost:8000/api/v1/"
               f"participants/{loaded['report']}/report?format=html > report.html\n"
               f"  (JSON: GET /api/v1/participants/{loaded['report']}/report)\n"
               f"A research export of the demo study, as the admin:\n"
               f"  PROM_PASSWORD={loaded['admin'][1]} .venv/bin/python scripts/export_cohort.py "
               f"--server http://localhost:8000 --email {loaded['admin'][0]} "
               f"--study {DEMO_STUDY_CODE} --format csv\n"
               f"Participants (activate at POST /api/v1/auth/activate):")
    for arm, participant_id, code in loaded["participants"]:
        click.echo(f"  {arm:12} {participant_id}  activation code {code}")


# ---------------------------------------------------------------------------------------------
# prom export


@click.command("export")
@click.argument("study")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write: a directory, or a path ending in .zip for one zip file. "
                   "Default: <study code>-export-<UTC time>.zip in the current directory.")
@click.option("--layout", "layouts", multiple=True,
              help="Dataset to include; repeat for several. Default: scores_long, wide, "
                   "adverse_events, summary. Also: items_long.")
@click.option("--format", "fmt", default="parquet", show_default=True,
              type=click.Choice(["csv", "parquet", "dta", "sav", "xlsx"]))
@click.option("--duplicates", default="first_complete", show_default=True,
              type=click.Choice(["first_complete", "first_in_window", "last_complete"]),
              help="How repeated responses at one timepoint are resolved.")
@click.option("--arm", "arms", multiple=True, help="Only this arm; repeat for several.")
@click.option("--instrument", "instruments", multiple=True, help="Only this instrument.")
@click.option("--timepoint", "timepoints", multiple=True, help="Only this timepoint.")
@click.option("--comparator", default=None, help="Arm the summary compares the others with.")
@click.option("--identified", is_flag=True,
              help="Include participant ids, dates, sites and free text (audited).")
@with_appcontext
def export_command(study: str, out: Path | None, layouts: tuple[str, ...], fmt: str,
                   duplicates: str, arms: tuple[str, ...], instruments: tuple[str, ...],
                   timepoints: tuple[str, ...], comparator: str | None,
                   identified: bool) -> None:
    """Export STUDY (its code or id) for research, as the API does; for operators on the server.
    The export is audited with the operating-system user as its actor."""
    import getpass
    import shutil
    import tempfile
    import uuid

    from sqlalchemy import or_, select

    from prom.errors import ProblemError
    from prom.export.package import zip_to
    from prom.models.studies import Study
    from prom.services import exports

    try:
        study_id = uuid.UUID(study)
    except ValueError:
        study_id = None
    found = db.session.scalar(select(Study).where(
        or_(Study.code == study, Study.id == study_id) if study_id else Study.code == study))
    if found is None:
        raise click.ClickException(f"No study {study!r}.")
    request = exports.ExportRequest(
        layouts=layouts or exports.DEFAULT_LAYOUTS, format=fmt, duplicates=duplicates,
        identified=identified, arms=arms, instruments=instruments, timepoints=timepoints,
        comparator=comparator)
    if out is None:
        out = Path(f"{exports.export_name(found)}.zip")
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise click.ClickException(f"{out} exists and is not empty; nothing written.")
    actor = f"cli:{getpass.getuser()}"
    try:
        if out.suffix == ".zip":
            with tempfile.TemporaryDirectory(prefix="prom-export-") as directory:
                manifest = exports.export_to_directory(found, request, Path(directory),
                                                       actor=actor)
                partial = out.with_suffix(".zip.partial")
                try:
                    with partial.open("wb") as target:
                        zip_to(Path(directory), target)
                    shutil.move(partial, out)
                finally:
                    partial.unlink(missing_ok=True)
        else:
            manifest = exports.export_to_directory(found, request, out, actor=actor)
    except ProblemError as error:
        raise click.ClickException(error.detail if not error.errors else "; ".join(
            f"{k}: {', '.join(v)}" for k, v in error.errors.items())) from error
    click.echo(f"Exported {found.code}: {manifest['participants']} participants into {out}")
    for dataset, rows in manifest["row_counts"].items():
        click.echo(f"  {dataset:24} {rows:>9} rows")


# ---------------------------------------------------------------------------------------------

#: Every prom command group, registered on ``app.cli`` by :func:`register_commands`.
COMMAND_GROUPS: list[click.Command] = [db_cli, instruments_cli, score_command, create_admin,
                                       demo, export_command]


def register_commands(app: Flask) -> None:
    """Add prom's command groups to the app's CLI."""
    for group in COMMAND_GROUPS:
        app.cli.add_command(group)


def _create_app() -> Flask:
    # Imported on use: prom.app imports this module to register the commands.
    from prom.app import create_app

    return create_app()


cli = FlaskGroup(
    name="prom",
    create_app=_create_app,
    help="prom: patient-reported outcomes. Settings come from PROM_* environment variables.",
)
