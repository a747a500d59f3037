"""Research exports and summaries of a study: who may take them, reading the database a chunk
of participants at a time, and the audit trail.

- **Who.** Admins, and researchers granted the study (others get 404 for the study, as for
  every read of it). Clinicians and participants get 403: exports are for research. An
  **identified** export (participant ids, dates, sites, free text) needs the explicit flag and
  a role in `IDENTIFIED_EXPORT_ROLES` (admin unless configured).
- **Memory.** Participants are read in chunks of `CHUNK_PARTICIPANTS`: their responses, scores
  (and answers and adverse events when asked for) are read, built into the layouts
  (`prom.export.datasets`) and written (`prom.export.writers`) before the next chunk is read.
  The summary needs the whole study's `wide` rows, which are kept (a few hundred bytes per
  participant); Stata, SPSS and Excel keep their datasets until written (see the writers).
- **Files.** The export is built in a temporary directory, checked, and zipped into a temporary
  file, which the API then streams with its length: a failure while building is a clean error
  response, never a truncated download.
- **Audit.** Every export and every summary leaves an `export.create` / `export.summary` row
  with the request, the row counts and (for a zip) its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import DateTime, String, and_, cast, select, type_coerce

from prom import __version__
from prom.errors import Forbidden, ValidationFailed
from prom.export import summary as summary_tables
from prom.export.datasets import Chunk, adverse_events, items_long, scores_long, wide
from prom.export.design import NAME_LIMIT, STATA_NAME_LIMIT, Design, make_design
from prom.export.package import Package, zip_to
from prom.export.pseudonym import CODE_LENGTH, participant_code
from prom.export.selection import DEFAULT_RULE, RULES, select_responses
from prom.export.writers import FORMATS, ExportTooLarge
from prom.extensions import db
from prom.instruments.loader import version_key
from prom.models.accounts import Site, User
from prom.models.adverse_events import AdverseEvent, AdverseEventReview
from prom.models.participants import Participant
from prom.models.responses import Response, ResponseVersion, Score
from prom.models.studies import Arm, Study
from prom.services import audit, studies
from prom.services.instruments import library
from prom.services.placement import occurrences

LAYOUTS = ("scores_long", "items_long", "wide", "adverse_events", "summary")
DEFAULT_LAYOUTS = ("scores_long", "wide", "adverse_events", "summary")
DEFAULT_FORMAT = "parquet"
CHUNK_PARTICIPANTS = 500
EXPORT_ROLES = ("admin", "researcher")


@dataclass(frozen=True)
class ExportRequest:
    layouts: tuple[str, ...] = DEFAULT_LAYOUTS
    format: str = DEFAULT_FORMAT
    duplicates: str = DEFAULT_RULE
    identified: bool = False
    arms: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    timepoints: tuple[str, ...] = ()
    comparator: str | None = None

    def described(self) -> dict[str, Any]:
        return {"layouts": list(self.layouts), "format": self.format,
                "duplicates": self.duplicates, "identified": self.identified,
                "comparator": self.comparator,
                "filters": {"arm": list(self.arms), "instrument": list(self.instruments),
                            "timepoint": list(self.timepoints)}}


@dataclass
class _Tally:
    responses: int = 0
    unplaced: int = 0
    duplicates: int = 0


# ---------------------------------------------------------------------------------------------
# Use cases


def authorise(study_id: uuid.UUID, viewer: User, *, identified: bool) -> Study:
    """The study, if `viewer` may export it (module rules); 403 or 404 otherwise."""
    if viewer.role not in EXPORT_ROLES:
        raise Forbidden("Research exports are for admins and the study's researchers.")
    study = studies.get_study(study_id, viewer)
    if identified and viewer.role not in current_app.config["IDENTIFIED_EXPORT_ROLES"]:
        raise Forbidden(f"Your role ({viewer.role}) may not take identified exports; "
                        f"ask without identified=true for a pseudonymised one.")
    return study


def export_archive(study_id: uuid.UUID, request: ExportRequest,
                   viewer: User) -> tuple[IO[bytes], str, dict[str, Any]]:
    """Build the export as a zip in a temporary file: (file at offset 0, file name, manifest).
    The caller streams and closes the file; closing it deletes it."""
    study = authorise(study_id, viewer, identified=request.identified)
    check_request(study, request)
    name = export_name(study)
    archive = tempfile.TemporaryFile()  # noqa: SIM115 -- the response closes it when sent
    try:
        with tempfile.TemporaryDirectory(prefix="prom-export-") as directory:
            manifest = write_export(study, request, Path(directory), actor=viewer, name=name)
            zip_to(Path(directory), archive)
        archive.seek(0)
        digest = hashlib.file_digest(archive, "sha256").hexdigest()
        archive.seek(0)
    except BaseException:
        archive.close()
        raise
    _audit("export.create", study, request, viewer, manifest, sha256=digest)
    db.session.commit()
    return archive, f"{name}.zip", manifest


def export_to_directory(study: Study, request: ExportRequest, directory: Path, *,
                        actor: str) -> dict[str, Any]:
    """The export written into `directory` (for the `prom export` command), audited."""
    check_request(study, request)
    manifest = write_export(study, request, directory, actor=actor, name=export_name(study))
    _audit("export.create", study, request, actor, manifest, sha256=None)
    db.session.commit()
    return manifest


def summary(study_id: uuid.UUID, viewer: User, *, comparator: str | None = None,
            duplicates: str = DEFAULT_RULE, arms: Sequence[str] = ()) -> dict[str, Any]:
    """The review-ready summary tables of a study as JSON-ready lists of rows, audited."""
    study = authorise(study_id, viewer, identified=False)
    request = ExportRequest(layouts=("summary",), format="csv", duplicates=duplicates,
                            arms=tuple(arms), comparator=comparator)
    check_request(study, request)
    design, participants = _design(study, request)
    tally = _Tally()
    tables = dict(_frames(study, request, design, participants, tally))
    audit.record("export.summary", actor=viewer.id, target=("study", study.id),
                 detail={**request.described(), "participants": len(participants)})
    db.session.commit()
    return {"study": {"id": str(study.id), "code": study.code, "name": study.name},
            "comparator": _comparator(study, request),
            "duplicates": {"rule": duplicates, "description": RULES[duplicates],
                           "dropped": tally.duplicates},
            **{name: _records(frame) for name, frame in tables.items()}}


# ---------------------------------------------------------------------------------------------
# Checks


def check_request(study: Study, request: ExportRequest) -> None:
    """422 naming the parameter for anything the study does not have."""
    errors: dict[str, list[str]] = {}
    arm_codes = [arm.code for arm in study.arms]
    if unknown := [layout for layout in request.layouts if layout not in LAYOUTS]:
        errors["layout"] = [f"unknown layout(s) {unknown}; choose from {list(LAYOUTS)}"]
    if not request.layouts:
        errors["layout"] = ["choose at least one layout"]
    if request.format not in FORMATS:
        errors["format"] = [f"choose one of {list(FORMATS)}"]
    if request.duplicates not in RULES:
        errors["duplicates"] = [f"choose one of {list(RULES)}"]
    if unknown := sorted(set(request.arms) - set(arm_codes)):
        errors["arm"] = [f"the study has no arm {unknown}; its arms are {arm_codes}"]
    exported = list(request.arms or arm_codes)
    if request.comparator is not None and request.comparator not in exported:
        errors["comparator"] = [f"must be one of the exported arms {exported}"]
    timepoints = [o.code for o in occurrences(study.id)]
    if unknown := sorted(set(request.timepoints) - set(timepoints)):
        errors["timepoint"] = [f"the schedule has no timepoint {unknown}"]
    instruments = {d.id for d in library()}
    if unknown := sorted(set(request.instruments) - instruments):
        errors["instrument"] = [f"unknown instrument(s) {unknown}"]
    if errors:
        raise ValidationFailed(errors=errors)


def _comparator(study: Study, request: ExportRequest) -> str | None:
    """The chosen comparator; by default an arm coded `usual_care`, else the last arm."""
    arms = _exported_arms(study, request)
    if request.comparator is not None:
        return request.comparator
    if len(arms) < 2:
        return None
    return "usual_care" if "usual_care" in arms else arms[-1]


def _exported_arms(study: Study, request: ExportRequest) -> list[str]:
    """The arm codes the export covers: those asked for, else every arm of the study."""
    return list(request.arms) or [arm.code for arm in study.arms]


# ---------------------------------------------------------------------------------------------
# Building


def export_name(study: Study) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    code = "".join(c if c.isalnum() or c in "-_" else "_" for c in study.code)
    return f"{code}-export-{stamp}"


def write_export(study: Study, request: ExportRequest, directory: Path, *, actor: Any,
                 name: str) -> dict[str, Any]:
    """Write the export's files into `directory`; returns the manifest (nothing committed)."""
    design, participants = _design(study, request)
    tally = _Tally()
    with Package(directory, request.format, design.codebook(request.layouts), name) as package:
        try:
            for dataset, frame in _frames(study, request, design, participants, tally):
                package.writer(dataset).write(frame)
        except ExportTooLarge as error:
            raise ValidationFailed(errors={"format": [str(error)]}) from error
        scoring = _scoring_versions(study, request)
        created_by = ({"id": str(actor.id), "email": actor.email, "role": actor.role}
                      if isinstance(actor, User) else {"operator": str(actor)})
        about = {
            "study": {"id": str(study.id), "code": study.code, "name": study.name},
            "created_at": dt.datetime.now(dt.UTC).isoformat(), "created_by": created_by,
            "prom_version": __version__,
            "request": request.described(),
            "comparator": _comparator(study, request) if "summary" in request.layouts else None,
            "participants": len(participants),
            "pseudonymisation": _pseudonymisation(request.identified),
            "selection": {
                "duplicates_rule": request.duplicates, "description": RULES[request.duplicates],
                "responses_read": tally.responses, "duplicates_dropped": tally.duplicates,
                "unplaced_left_out": tally.unplaced,
                "unplaced_means": "collected outside every window, or of an instrument the "
                                  "schedule never asks for (adverse events are in their own "
                                  "dataset)"},
            "instruments": [
                {"id": i, "version": v, "scoring_versions": sorted(
                    s for i2, v2, s in scoring if (i2, v2) == (i, v)),
                 "licence": library().get(i, v).license.citation}
                for i, v in sorted({(i, v) for i, v, _ in scoring})],
        }
        return package.finish(about, _readme(study, request, about))


def _pseudonymisation(identified: bool) -> dict[str, Any]:
    if identified:
        return {"identified": True, "note": "participant and response ids, dates, sites and "
                "free text are included: handle under the study's data-protection rules"}
    return {"identified": False,
            "participant": f"first {CODE_LENGTH} hex digits of HMAC-SHA256 over the "
                           "participant id, keyed with the study's own secret; stable across "
                           "this study's exports",
            "dates": "days since the participant's anchor (randomisation, else enrolment)",
            "left_out": ["participant and response ids", "dates", "sites",
                         "free-text answers and review notes"]}


def _design(study: Study, request: ExportRequest) -> tuple[Design, pd.DataFrame]:
    participants = _participants(study, request)
    table = Response.__table__
    query = (select(table.c.instrument, table.c.instrument_version, table.c.analysis_timepoint)
             .distinct().join(Participant, Participant.id == table.c.participant_id)
             .where(Participant.id.in_(_participant_ids(study, request))))
    query = _response_filters(query, request)
    versions: dict[str, set[str]] = defaultdict(set)
    pairs = set()
    for instrument, version, timepoint in db.session.execute(query):
        versions[instrument].add(version)
        if timepoint is not None:
            pairs.add((instrument, timepoint))
    definitions = {i: library().get(i, max(vs, key=version_key)) for i, vs in versions.items()}
    limit = STATA_NAME_LIMIT if request.format == "dta" else NAME_LIMIT
    design = make_design(occurrences(study.id), definitions, pairs,
                         identified=request.identified, name_limit=limit)
    return design, participants


def _participant_ids(study: Study, request: ExportRequest) -> Any:
    query = select(Participant.id).where(Participant.study_id == study.id)
    if request.arms:
        query = query.join(Arm, Arm.id == Participant.arm_id).where(Arm.code.in_(request.arms))
    return query


def _response_filters(query: Any, request: ExportRequest) -> Any:
    table = Response.__table__
    if request.instruments:
        query = query.where(table.c.instrument.in_(request.instruments))
    if request.timepoints:
        query = query.where(table.c.analysis_timepoint.in_(request.timepoints))
    return query


def _participants(study: Study, request: ExportRequest) -> pd.DataFrame:
    query = (select(Participant.id, Arm.code, Site.code, Participant.enrolled_on,
                    Participant.randomised_on, Participant.timezone)
             .join(Arm, Arm.id == Participant.arm_id).join(Site, Site.id == Participant.site_id)
             .where(Participant.study_id == study.id)
             .order_by(Participant.created_at, Participant.id))
    if request.arms:
        query = query.where(Arm.code.in_(request.arms))
    frame = pd.DataFrame(db.session.execute(query).all(),
                         columns=["participant_id", "arm", "site", "enrolled_on",
                                  "randomised_on", "timezone"])
    if request.identified:
        frame.insert(1, "participant", frame["participant_id"].astype(str))
    else:
        codes = [participant_code(study.export_key, p) for p in frame["participant_id"]]
        if len(set(codes)) != len(codes):  # 64-bit codes: practically never; never silently
            raise RuntimeError(f"participant codes of study {study.code} collide")
        frame.insert(1, "participant", codes)
    frame["randomised_on"] = frame["randomised_on"].astype(object)
    return frame


def _frames(study: Study, request: ExportRequest, design: Design, participants: pd.DataFrame,
            tally: _Tally) -> Iterator[tuple[str, pd.DataFrame]]:
    """(dataset, rows) for every chunk of participants, then the summary tables."""
    layouts = set(request.layouts)
    wants_summary = "summary" in layouts
    wide_rows, event_rows = [], []
    for start in range(0, len(participants), CHUNK_PARTICIPANTS):
        chunk = _read_chunk(participants.iloc[start:start + CHUNK_PARTICIPANTS], request,
                            answers="items_long" in layouts)
        selected = select_responses(chunk.responses, chunk.scores, request.duplicates)
        tally.responses += len(chunk.responses)
        tally.unplaced += selected.unplaced
        tally.duplicates += selected.duplicates
        if "scores_long" in layouts:
            yield "scores_long", scores_long(chunk, selected, design)
        if "items_long" in layouts:
            yield "items_long", items_long(chunk, selected, design,
                                           _definitions_of(chunk.responses))
        if "wide" in layouts or wants_summary:
            rows = wide(chunk, selected, design)
            if "wide" in layouts:
                yield "wide", rows
            if wants_summary:
                wide_rows.append(rows)
        if "adverse_events" in layouts or wants_summary:
            events = adverse_events(_read_events(chunk), chunk, design)
            if "adverse_events" in layouts:
                yield "adverse_events", events
            if wants_summary:
                event_rows.append(events[["participant", "arm", "serious"]])
    if wants_summary:
        arms = _exported_arms(study, request)
        whole = (pd.concat(wide_rows, ignore_index=True) if wide_rows
                 else pd.DataFrame({"arm": pd.Series(dtype=object)}))
        events = (pd.concat(event_rows, ignore_index=True) if event_rows
                  else pd.DataFrame(columns=["participant", "arm", "serious"]))
        yield from summary_tables.build(whole, events, design, arms,
                                        _comparator(study, request)).items()


def _definitions_of(responses: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """{(instrument, version): definition} of the versions `responses` were answered on."""
    return {key: library().get(*key) for key in set(zip(
        responses["instrument"], responses["instrument_version"], strict=True))}


def _scoring_versions(study: Study, request: ExportRequest) -> set[tuple[str, str, str]]:
    """(instrument, version, scoring version) of every current score the export reads."""
    r, s = Response.__table__, Score.__table__
    query = (select(r.c.instrument, r.c.instrument_version, s.c.scoring_version).distinct()
             .join(s, and_(s.c.response_id == r.c.id, s.c.version == r.c.current_version))
             .where(r.c.participant_id.in_(_participant_ids(study, request))))
    return {tuple(row) for row in db.session.execute(_response_filters(query, request))}


# ---------------------------------------------------------------------------------------------
# Reading


def _read(query: Any, columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows as a frame, built column by column (pandas builds a frame from a list of
    rows several times slower)."""
    rows = db.session.execute(query).all()
    if not rows:  # typed as text, not pandas' float64 for an empty column, so merges agree
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    values = zip(*rows, strict=True)
    return pd.DataFrame({column: list(v) for column, v in zip(columns, values, strict=True)})


_SCORE_COLUMNS = ("position", "band", "n_answered", "scoring_version")  # for scores_long only


def _read_chunk(participants: pd.DataFrame, request: ExportRequest, *, answers: bool) -> Chunk:
    ids = list(participants["participant_id"])
    r, s = Response.__table__, Score.__table__
    responses = _read(_response_filters(
        select(_text(r.c.id), r.c.participant_id, r.c.instrument, r.c.instrument_version,
               _instant(r.c.collected_at), _instant(r.c.received_at), r.c.analysis_timepoint,
               r.c.study_day, r.c.in_window).where(r.c.participant_id.in_(ids)), request),
        ["response_id", "participant_id", "instrument", "instrument_version", "collected_at",
         "received_at", "analysis_timepoint", "study_day", "in_window"])
    for column in ("collected_at", "received_at"):
        responses[column] = pd.to_datetime(responses[column], utc=True)
    # Only the long layout shows a score's position, band, items answered and scoring version.
    extra = _SCORE_COLUMNS if "scores_long" in request.layouts else ()
    current = and_(r.c.id == s.c.response_id, r.c.current_version == s.c.version)
    scores = _read(_response_filters(
        select(_text(s.c.response_id), s.c.scale, s.c.value, s.c.status,
               *(s.c[column] for column in extra)).join(r, current)
        .where(r.c.participant_id.in_(ids)), request),
        ["response_id", "scale", "value", "status", *extra])
    answer_frame = None
    if answers:
        v = ResponseVersion.__table__
        answer_frame = _read(_response_filters(
            select(_text(v.c.response_id), v.c.answers).join(r, and_(
                r.c.id == v.c.response_id, r.c.current_version == v.c.version))
            .where(r.c.participant_id.in_(ids)), request), ["response_id", "answers"])
    responses["in_window"] = responses["in_window"].fillna(False).astype(bool)
    return Chunk(participants.reset_index(drop=True), responses, scores, answer_frame)


# Hundreds of thousands of rows: what costs most is making a Python object of each value. A
# response id is read as text (it is only matched, ordered and, in identified exports,
# written), and times without the UTC type's per-value step (pandas makes them UTC at once).


def _text(column: Any) -> Any:
    return cast(column, String).label(column.name)


def _instant(column: Any) -> Any:
    return type_coerce(column, DateTime(timezone=True)).label(column.name)


_EVENT_COLUMNS = ["event_id", "response_id", "participant_id", "reported_at",
                  "analysis_timepoint", "study_day", "answers", "reported_serious_score",
                  "review_count", "serious",
                  "seriousness_criteria", "severity_grade", "relatedness", "expected",
                  "action_taken", "outcome", "reviewed_at", "note"]


def _read_events(chunk: Chunk) -> pd.DataFrame:
    e, r = AdverseEvent.__table__, Response.__table__
    v, review = ResponseVersion.__table__, AdverseEventReview.__table__
    s = Score.__table__
    query = (select(e.c.id, e.c.response_id, e.c.participant_id, e.c.reported_at,
                    r.c.analysis_timepoint, r.c.study_day, v.c.answers, s.c.value,
                    e.c.review_count,
                    review.c.serious, review.c.seriousness_criteria, review.c.severity_grade,
                    review.c.relatedness, review.c.expected, review.c.action_taken,
                    review.c.outcome, review.c.reviewed_at, review.c.note)
             .join(r, r.c.id == e.c.response_id)
             .join(v, and_(v.c.response_id == r.c.id, v.c.version == r.c.current_version))
             # the form's own `serious` scale: a seriousness criterion was reported
             .outerjoin(s, and_(s.c.response_id == r.c.id, s.c.version == r.c.current_version,
                                s.c.scale == "serious"))
             .outerjoin(review, and_(review.c.adverse_event_id == e.c.id,
                                     review.c.number == e.c.review_count))
             .where(e.c.participant_id.in_(list(chunk.participants["participant_id"]))))
    frame = _read(query, _EVENT_COLUMNS)
    return frame.astype({"serious": object, "expected": object, "severity_grade": object})


# ---------------------------------------------------------------------------------------------
# Audit and README


def _audit(action: str, study: Study, request: ExportRequest, actor: Any,
           manifest: dict[str, Any], *, sha256: str | None) -> None:
    audit.record(action, actor=actor.id if isinstance(actor, User) else actor,
                 target=("study", study.id),
                 detail={**request.described(), "rows": manifest["row_counts"],
                         "participants": manifest["participants"], "sha256": sha256})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for JSON: NaN as None, numpy scalars as Python numbers."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{key: (value.item() if isinstance(value, np.generic) else value)
             for key, value in row.items()} for row in clean.to_dict("records")]


def _readme(study: Study, request: ExportRequest, about: dict[str, Any]) -> str:
    pseudonymised = not request.identified
    lines = [
        f"prom research export of study {study.code} ({study.name})",
        f"created {about['created_at']} by prom {__version__}",
        "",
        "Files",
        "  manifest.json   what was exported and how; the SHA-256 of every other file",
        "  codebook.csv    every variable of every data file: label, type, instrument, scale,",
        "                  timepoint, value labels, scoring rule, licence citation",
        "  codebook.json   the same, with each instrument's scales, items and response codes",
        f"  data/           the datasets, as {request.format}",
        "",
        "Check the files: the SHA-256 of each (sha256sum) must equal the one in manifest.json.",
        "scripts/export_cohort.py checks them all before it unpacks a download.",
        "",
        "Layouts",
        "  scores_long     participant x timepoint x instrument x scale",
        "  items_long      one row per answered item",
        "  wide            one row per participant: <instrument>_<scale>_<timepoint>, with",
        "                  change from baseline (_chg, _pctchg) and responder flags (_r30, _r50,",
        "                  _rmcid) at each follow-up",
        "  adverse_events  one row per event, with its current clinical review",
        "  summary_*       per arm and between arms, as a systematic reviewer extracts them",
        "",
        f"Repeated responses at a timepoint: rule {request.duplicates}: "
        f"{RULES[request.duplicates]}.",
        f"{about['selection']['duplicates_dropped']} duplicate responses were dropped and "
        f"{about['selection']['unplaced_left_out']} without a timepoint were left out.",
        "",
    ]
    if pseudonymised:
        lines += ["Pseudonymised: participant codes are keyed hashes, dates are days since each",
                  "participant's anchor (randomisation, else enrolment), and there are no ids,",
                  "sites or free text."]
    else:
        lines += ["IDENTIFIED export: it holds participant ids, dates, sites and free text."]
    return "\n".join(lines) + "\n"
