"""The import use cases, called by the web pages (``views``, in a background thread through
``jobs``) and by ``flask --app registry import-initiatives`` (``cli``).

A file goes through three steps:

1. ``plan_file``: what the file is (type, encoding, delimiter, sheets) and how its columns
   map: the registry's own export (``initiatieven`` with ``knelpunten``: as a workbook with
   both sheets, or two CSV files) needs no mapping; any other list is mapped column by
   column. A file that cannot be read is refused whole (``reader.FileProblem``).
2. ``check_rows`` (the web: ``check_job``): every row validated by the submission form
   (``checking.RowChecker``) and classified: invalid, imported before (its key), repeated in
   the file, a likely duplicate of an entry or of an earlier row, or new. The valid rows are
   written, as the form's data, to a file next to the upload; nothing is stored in the
   registry. This is the preview.
3. ``import_checked`` (the web: ``import_job``): the checked rows stored, each whole or not
   at all (initiative, school, dimensions, obstacles, contact, its key, its history, the
   contact's invitation; ``Pass.store_pending``). Rows are classified again first, against
   the registry as it is then, so a row imported meanwhile (by another job) or a new likely
   duplicate is skipped.

The command runs 2 and 3 one after the other (``import_file``). Imported entries wait for
moderation (``pending``); where a row has a contact e-mail address, the contact is invited
to check and take over the entry with the usual manage link; without one no contact is
stored and a moderator may publish the facts. Each import is written to the audit log.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from registry.audit.services import record
from registry.auth.models import User
from registry.database import utcnow
from registry.extensions import db
from registry.geo.services import locate_organisation
from registry.history import services as history
from registry.history.models import Revision
from registry.imports import reader
from registry.imports.checking import (
    DUPLICATE,
    DUPLICATE_IN_FILE,
    IMPORTED,
    INVALID,
    VALID,
    Classifier,
    DuplicateIndex,
    Match,
    Ref,
    RowChecker,
    importable,
)
from registry.imports.fields import (
    RowBuilder,
    export_layout,
    export_mapping,
    export_obstacle_columns,
    row_key,
    suggest_mapping,
)
from registry.imports.models import (
    CHECKED,
    CHECKING,
    DISCARDED,
    DONE,
    FAILED,
    IMPORTING,
    MAPPING,
    ImportJob,
    ImportRow,
    ImportSource,
)
from registry.imports.reader import FileInfo, FileProblem
from registry.mail.models import OutboxMessage
from registry.mail.services import queue_mail
from registry.manage.models import ManageToken
from registry.manage.tokens import hash_token, manage_link
from registry.moderation.duplicates import get_flag, pair
from registry.moderation.models import DuplicateFlag
from registry.submissions.models import Initiative, InitiativeDimension
from registry.submissions.services import (
    ContactData,
    InitiativeData,
    ObstacleData,
    OrganisationData,
    build_initiative,
    make_reference,
)
from registry.taxonomy.constants import InitiativeState
from registry.taxonomy.services import Taxonomy
from registry.taxonomy.services import current as current_taxonomy
from registry.urls import absolute_url

logger = logging.getLogger(__name__)
INITIATIVE_TABLE: Table = Initiative.__table__  # type: ignore[assignment]  # a Table

EXPORT, MAPPED = "export", "mapped"
# Progress is written (and the work committed) every this many rows.
CHUNK = 200
# Rows stored together (see ``Pass.store_pending``); CHUNK is a multiple of it.
BATCH = 50
# The preview keeps this many rows with a problem, and this many good rows as a sample.
REPORT_PROBLEMS = 500
REPORT_SAMPLE = 25

NEED_OBSTACLES = _l(
    "Dit is het initiatievenbestand van een export van het register. De knelpunten staan in "
    "een apart bestand (knelpunten.csv): kies dat als knelpuntenbestand, of gebruik de "
    "Excel-export, waarin beide staan.")
NEED_INITIATIVES = _l(
    "Dit is het knelpuntenbestand van een export van het register. Kies het "
    "initiatievenbestand (initiatieven.csv) als bestand en dit als knelpuntenbestand.")
SECOND_FILE_UNUSED = _l(
    "Een knelpuntenbestand hoort alleen bij een CSV-export van het register "
    "(initiatieven.csv). Laat het leeg voor een andere lijst.")
NOT_STORED = _l("Deze rij kon niet worden opgeslagen. Controleer de gegevens en probeer het "
                "opnieuw.")
UNEXPECTED = _l(
    "Er ging iets mis bij het verwerken van het bestand. Probeer het opnieuw; lukt het niet, "
    "meld het dan aan de beheerder.")


# --------------------------------------------------------------------------- files

def imports_dir() -> Path:
    """Uploads wait here (IMPORT_DIR) until they are imported or discarded."""
    path = Path(current_app.config["IMPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_file(job_id: int, part: str) -> Path:
    """``main.csv``/``main.xlsx``, ``obstacles.csv``/``.xlsx`` or ``checked.jsonl``."""
    return imports_dir() / f"job-{job_id}-{part}"


def job_files(job_id: int) -> list[Path]:
    return sorted(imports_dir().glob(f"job-{job_id}-*"))


def remove_job_files(job_id: int) -> None:
    for path in job_files(job_id):
        path.unlink(missing_ok=True)


def max_bytes() -> int:
    return int(current_app.config["IMPORT_MAX_BYTES"])


# --------------------------------------------------------------------------- plan

@dataclass
class Plan:
    """How to read a file: its type, its layout and where its obstacles are."""

    path: Path
    info: FileInfo
    layout: str  # EXPORT | MAPPED
    headers: list[str]
    sheet: str | None = None
    obstacles_path: Path | None = None
    obstacles_info: FileInfo | None = None
    obstacles_sheet: str | None = None


def _header(path: Path, info: FileInfo, sheet: str | None = None) -> list[str]:
    with reader.open_table(path, info, sheet) as table:
        return table.header


def _describe(path: Path, tax: Taxonomy) -> tuple[FileInfo, str | None, list[str], str | None]:
    """(info, own export dataset or None, header, sheet) of one file."""
    info = reader.inspect(path, max_bytes())
    if info.kind == reader.XLSX and {reader.INITIATIVES_SHEET, reader.OBSTACLES_SHEET} <= set(
            info.sheets):
        header = _header(path, info, reader.INITIATIVES_SHEET)
        if export_layout(header, tax) == "initiatieven" and export_layout(
                _header(path, info, reader.OBSTACLES_SHEET), tax) == "knelpunten":
            return info, "workbook", header, reader.INITIATIVES_SHEET
    header = _header(path, info)
    return info, export_layout(header, tax), header, None


def plan_file(path: Path, tax: Taxonomy, obstacles_path: Path | None = None) -> Plan:
    """What ``path`` (and an obstacles file beside it) holds; refuses what cannot be read
    or does not belong together."""
    info, dataset, header, sheet = _describe(path, tax)
    if dataset == "workbook":
        return Plan(path, info, EXPORT, header, sheet=reader.INITIATIVES_SHEET,
                    obstacles_path=path, obstacles_info=info,
                    obstacles_sheet=reader.OBSTACLES_SHEET)
    second = _describe(obstacles_path, tax) if obstacles_path is not None else None
    if dataset == "knelpunten":
        if second is not None and obstacles_path is not None and second[1] == "initiatieven":
            return Plan(obstacles_path, second[0], EXPORT, second[2],
                        obstacles_path=path, obstacles_info=info)
        raise FileProblem(NEED_INITIATIVES)
    if dataset == "initiatieven":
        if second is None or second[1] != "knelpunten":
            raise FileProblem(NEED_OBSTACLES)
        return Plan(path, info, EXPORT, header, obstacles_path=obstacles_path,
                    obstacles_info=second[0])
    if second is not None:
        raise FileProblem(SECOND_FILE_UNUSED)
    return Plan(path, info, MAPPED, header, sheet=sheet)


def plan_for_job(job: ImportJob, tax: Taxonomy) -> Plan:
    main = job_file(job.id, f"main.{job.kind}")
    obstacles = next((p for p in job_files(job.id) if p.name.startswith(
        f"job-{job.id}-obstacles.")), None)
    if not main.exists():
        raise FileProblem(_l(
            "Het bestand van deze import is er niet meer (het is al verwerkt of "
            "verwijderd). Kies het opnieuw."))
    return plan_file(main, tax, obstacles)


def sample_rows(job: ImportJob, count: int = 3) -> list[tuple[int, list[str]]]:
    """The first rows of the job's file, as the mapping page shows them."""
    plan = plan_for_job(job, current_taxonomy())
    out = []
    with reader.open_table(plan.path, plan.info, plan.sheet) as table:
        for item in table.rows:
            out.append(item)
            if len(out) >= count:
                break
    return out


def total_rows(plan: Plan) -> int | None:
    return reader.count_rows(plan.path, plan.info, plan.sheet)


def _obstacles_by_initiative(plan: Plan, tax: Taxonomy) -> dict[str, list[dict[str, str]]]:
    """The rows of the obstacles export per ``initiatief_id`` (in file order)."""
    if plan.obstacles_path is None or plan.obstacles_info is None:
        return {}
    columns = export_obstacle_columns(tax)
    out: dict[str, list[dict[str, str]]] = {}
    with reader.open_table(plan.obstacles_path, plan.obstacles_info,
                           plan.obstacles_sheet) as table:
        position = {h.casefold(): i for i, h in reversed(list(enumerate(table.header)))}
        owner = position["initiatief_id"]
        picks = [(name, position[column]) for name, column in columns.items()]
        for _number, cells in table.rows:
            def cell(i: int, cells: list[str] = cells) -> str:
                return cells[i] if i < len(cells) else ""
            out.setdefault(cell(owner).strip(), []).append(
                {name: cell(i) for name, i in picks})
    return out


@contextmanager
def plan_rows(plan: Plan, tax: Taxonomy, mapping: dict[str, str]) -> Iterator[Iterator[Any]]:
    """The rows of a planned file as ``fields.Row`` (the form's data), streamed."""
    if plan.layout == EXPORT:
        obstacles = _obstacles_by_initiative(plan, tax)
        builder = RowBuilder(tax, plan.headers, export_mapping(tax),
                             identity_column="referentie", typed=plan.info.kind == reader.XLSX)
        owner = [h.casefold() for h in plan.headers].index("initiatief_id")
        with reader.open_table(plan.path, plan.info, plan.sheet) as table:
            yield (builder.build(number, cells, obstacles.pop(
                       (cells[owner] if owner < len(cells) else "").strip(), []))
                   for number, cells in table.rows)
    else:
        builder = RowBuilder(tax, plan.headers, mapping, typed=plan.info.kind == reader.XLSX)
        with reader.open_table(plan.path, plan.info, plan.sheet) as table:
            yield (builder.build(number, cells) for number, cells in table.rows)


# --------------------------------------------------------------------------- one pass

@dataclass
class Outcome:
    """What became of one row."""

    number: int
    status: str
    title: str
    school: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    data: InitiativeData | None = None
    key: str = ""
    match: Match | None = None
    ref: Ref | None = None
    initiative_id: int | None = None
    note: str = ""

    def as_report(self) -> dict[str, Any]:
        return {"row": self.number, "status": self.status, "title": self.title,
                "school": self.school, "errors": [list(e) for e in self.errors],
                "match": self.match.as_dict() if self.match is not None else None,
                "initiative_id": self.initiative_id, "note": self.note}


class Report:
    """The rows a page shows: every problem up to REPORT_PROBLEMS, a sample of good rows."""

    def __init__(self) -> None:
        self.problems: list[dict[str, Any]] = []
        self.sample: list[dict[str, Any]] = []
        self.more_problems = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.status in (VALID, IMPORTED) and not outcome.note:
            if len(self.sample) < REPORT_SAMPLE:
                self.sample.append(outcome.as_report())
        elif len(self.problems) < REPORT_PROBLEMS:
            self.problems.append(outcome.as_report())
        else:
            self.more_problems += 1

    def as_dict(self) -> dict[str, Any]:
        return {"problems": sorted(self.problems, key=lambda r: r["row"]),
                "sample": sorted(self.sample, key=lambda r: r["row"]),
                "more_problems": self.more_problems}


def known_keys(source: str) -> set[str]:
    return set(db.session.scalars(select(ImportRow.row_key).where(ImportRow.source == source)))


class Pass:
    """One pass over rows: check (validate and classify), and optionally store."""

    def __init__(self, source: str, tax: Taxonomy, *, include_duplicates: bool) -> None:
        self.source = source
        self.tax = tax
        self.include_duplicates = include_duplicates
        self.checker = RowChecker(tax)
        self.classifier = Classifier(DuplicateIndex.from_database(), known_keys(source))
        self.counts: Counter[str] = Counter()
        self.report = Report()
        self.invitations = 0
        self.rows = 0
        self.pending: list[Outcome] = []

    def check(self, row: Any) -> Outcome:
        """Validate and classify one ``fields.Row``."""
        checked = self.checker.check(row)
        note = str(_l("Naam van de contactpersoon zonder e-mailadres: niet opgeslagen.")) \
            if row.dropped_name else ""
        if checked.data is None:
            return Outcome(row.number, INVALID, row.title, row.school, errors=checked.errors)
        key = row_key(self.source, row.identity)
        return self.classify(Outcome(row.number, VALID, checked.data.title,
                                     checked.data.organisation.name, data=checked.data,
                                     key=key, note=note))

    def classify(self, outcome: Outcome) -> Outcome:
        if outcome.data is None:  # only valid rows are classified
            return outcome
        status, match, ref = self.classifier.classify(outcome.number, outcome.key, outcome.data)
        outcome.status, outcome.match, outcome.ref = status, match, ref
        return outcome

    def tally(self, outcome: Outcome) -> None:
        self.rows += 1
        self.counts[outcome.status] += 1
        self.report.add(outcome)

    def store(self, outcome: Outcome, *, job_id: int | None, user: User | None) -> None:
        """Store the row (with the next BATCH rows); it is tallied once it is stored."""
        self.pending.append(outcome)
        if len(self.pending) >= BATCH:
            self.store_pending(job_id=job_id, user=user)

    def store_pending(self, *, job_id: int | None, user: User | None) -> None:
        """Store the waiting rows, each whole or not at all.

        The rows go in together, inside one SAVEPOINT, so that SQLAlchemy writes each table
        in one statement (a flush per row cost ~5 ms); should that fail, the batch is rolled
        back and its rows are stored one by one, each in a SAVEPOINT of its own, and a row
        that still fails is reported and left out (nothing of it is stored)."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with db.session.begin_nested():
                stored = self._store(batch, job_id=job_id, user=user)
        except SQLAlchemyError:
            logger.warning("Storing %d imported rows together failed; one by one", len(batch))
            _forget(batch)
            stored = []
            for outcome in batch:
                try:
                    with db.session.begin_nested():
                        stored += self._store([outcome], job_id=job_id, user=user)
                except SQLAlchemyError:
                    logger.exception("Imported row %d could not be stored", outcome.number)
                    _forget([outcome])
                    outcome.status = INVALID
                    outcome.errors = [("", str(NOT_STORED))]
                    self.tally(outcome)
        for outcome, initiative_id, invited in stored:
            outcome.status, outcome.initiative_id = IMPORTED, initiative_id
            if outcome.ref is not None:
                outcome.ref.initiative_id = initiative_id
            self.invitations += invited
            self.tally(outcome)

    def _store(self, batch: list[Outcome], *, job_id: int | None,
               user: User | None) -> list[tuple[Outcome, int, int]]:
        """The rows of ``batch`` as new entries (the caller holds the SAVEPOINT).

        The school, initiative, obstacles and contact are built by the submission service
        (``build_initiative``, which the search text and the caches watch); the rows nobody
        watches - the dimension levels, the key, the history line, the manage link - are
        written with one INSERT per table for the batch, which halves the time per row."""
        built = []
        for outcome in batch:
            if outcome.data is None:
                continue
            initiative = build_initiative(replace(outcome.data, dimensions={}),
                                          state=InitiativeState.PENDING)
            locate_organisation(initiative.organisation, online=False)  # never raises
            if outcome.data.contact is None:
                initiative.contact = None  # known to be absent: no query for it later
            db.session.add(initiative)
            built.append((outcome, initiative))
        db.session.flush()
        now = utcnow()
        dimensions: list[dict[str, Any]] = []
        keys: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        tokens: list[dict[str, Any]] = []
        references: list[dict[str, Any]] = []
        out = []
        for outcome, initiative in built:
            data = outcome.data
            if data is None:
                continue
            if outcome.ref is not None:  # a later row of the batch may be its duplicate
                outcome.ref.initiative_id = initiative.id
            reference = make_reference(initiative)
            set_committed_value(initiative, "reference", reference)
            references.append({"ref_id": initiative.id, "ref": reference})
            dimensions += [{"initiative_id": initiative.id, "dimension_code": code,
                            "current_level": now_level, "ambition_level": ambition}
                           for code, (now_level, ambition) in data.dimensions.items()]
            keys.append({"source": self.source, "row_key": outcome.key,
                         "initiative_id": initiative.id, "job_id": job_id, "created_at": now})
            after = history.snapshot(initiative)
            after["dimensions"] = {code: [now_level, ambition]
                                   for code, (now_level, ambition) in data.dimensions.items()}
            revisions.append({"initiative_id": initiative.id, "created_at": now,
                              "actor_type": "moderator" if user else "system",
                              "actor_id": getattr(user, "id", None), "kind": "import",
                              "status": "applied", "data": after,
                              "changes": history.diff(None, after)})
            self._flag(initiative.id, outcome)
            invited = 0
            if data.contact is not None:
                queue_invitation(initiative, self.source, tokens)
                invited = 1
            out.append((outcome, initiative.id, invited))
        for model, rows in ((InitiativeDimension, dimensions), (ImportRow, keys),
                            (Revision, revisions), (ManageToken, tokens)):
            if rows:
                db.session.execute(insert(model), rows)
        if references:  # one statement for the batch (the entries' version stays 1)
            db.session.connection().execute(
                update(INITIATIVE_TABLE).where(INITIATIVE_TABLE.c.id == bindparam("ref_id"))
                .values(reference=bindparam("ref")), references)
        db.session.flush()
        return out

    def _flag(self, initiative_id: int, outcome: Outcome) -> None:
        """A likely duplicate imported anyway is flagged for the moderators, as on arrival."""
        match = outcome.match
        other = match.ref.initiative_id if match is not None else None
        if match is None or other is None or outcome.status not in (DUPLICATE,
                                                                    DUPLICATE_IN_FILE):
            return
        first, second = pair(initiative_id, other)
        if get_flag(first, second) is None:
            db.session.add(DuplicateFlag(first_id=first, second_id=second,
                                         reasons=match.reasons, score=match.score,
                                         status="open"))

    def summary(self) -> dict[str, int]:
        return {"rows": self.rows, **{k: v for k, v in self.counts.items() if v},
                "invitations": self.invitations}


def _forget(batch: list[Outcome]) -> None:
    """The rows were rolled back: they are nobody's entry (yet)."""
    for outcome in batch:
        if outcome.ref is not None:
            outcome.ref.initiative_id = None


def queue_invitation(initiative: Initiative, source: str,
                     tokens: list[dict[str, Any]]) -> OutboxMessage:
    """Invite the contact of a new imported entry to check it and take it over, with its
    first manage link (``registry.manage.tokens``: only the hash is stored; the token row
    is added to ``tokens`` for the caller to insert)."""
    contact = initiative.contact
    if contact is None:
        raise ValueError(f"initiative {initiative.id} has no contact to invite")
    token = secrets.token_urlsafe(32)
    tokens.append({"initiative_id": initiative.id, "token_hash": hash_token(token),
                   "created_at": utcnow()})
    context = {"initiative": initiative, "contact": contact, "source": source,
               "manage_url": manage_link(token),
               "request_url": absolute_url("manage.request_link"),
               "months": current_app.config["MANAGE_LINK_IDLE_MONTHS"]}
    with force_locale(initiative.language or "nl"):
        body = render_template("imports/mail/invitation.txt", **context)
    subject, _sep, text = body.partition("\n")
    return queue_mail(to=contact.email, subject=subject.removeprefix("Subject:").strip(),
                      body_text=text.lstrip("\n"), kind="import.invitation",
                      initiative_id=initiative.id)


# --------------------------------------------------------------------------- checked rows

def _data_from_dict(raw: dict[str, Any]) -> InitiativeData:
    data = InitiativeData(**{**raw, "organisation": OrganisationData(**raw["organisation"]),
                             "obstacles": [ObstacleData(**o) for o in raw["obstacles"]],
                             "contact": ContactData(**raw["contact"]) if raw["contact"]
                             else None,
                             "dimensions": {k: tuple(v) for k, v in raw["dimensions"].items()}})
    return data


def _plain(data: InitiativeData) -> dict[str, Any]:
    """``dataclasses.asdict`` for this one shape, without its deep copies (a third of the
    time of writing a checked row)."""
    out = dict(vars(data))
    out["organisation"] = dict(vars(data.organisation))
    out["obstacles"] = [dict(vars(o)) for o in data.obstacles]
    out["contact"] = dict(vars(data.contact)) if data.contact is not None else None
    out["dimensions"] = {code: list(levels) for code, levels in data.dimensions.items()}
    return out


def _write_checked(out, outcome: Outcome) -> None:
    if outcome.data is None:
        return
    out.write(json.dumps({"row": outcome.number, "key": outcome.key, "note": outcome.note,
                          "data": _plain(outcome.data)}, ensure_ascii=False) + "\n")


def _read_checked(path: Path) -> Iterator[Outcome]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            data = _data_from_dict(item["data"])
            yield Outcome(item["row"], VALID, data.title, data.organisation.name, data=data,
                          key=item["key"], note=item.get("note", ""))


# --------------------------------------------------------------------------- the two passes

def check_rows(plan: Plan, *, source: str, mapping: dict[str, str], out: Path,
               include_duplicates: bool = False,
               progress: Callable[[Pass], None] | None = None) -> Pass:
    """Check every row (nothing is stored): the valid ones, likely duplicates included, go
    to ``out`` as the form's data. ``progress`` is called every CHUNK rows."""
    tax = current_taxonomy()
    run = Pass(source, tax, include_duplicates=include_duplicates)
    with out.open("w", encoding="utf-8") as fh, plan_rows(plan, tax, mapping) as rows:
        for row in rows:
            outcome = run.check(row)
            run.tally(outcome)
            if outcome.status in (VALID, DUPLICATE, DUPLICATE_IN_FILE):
                _write_checked(fh, outcome)
            if progress is not None and run.rows % CHUNK == 0:
                progress(run)
    return run


def count_checked(path: Path) -> int:
    with path.open(encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def import_checked(path: Path, *, source: str, include_duplicates: bool, job: ImportJob,
                   user: User | None, progress: Callable[[Pass], None] | None = None) -> Pass:
    """Store the checked rows in ``path``, classified again against the registry as it is
    now. Commits every CHUNK rows (a row is stored whole or not at all)."""
    run = Pass(source, current_taxonomy(), include_duplicates=include_duplicates)
    _begin(job)
    handled = 0
    for outcome in _read_checked(path):
        run.classify(outcome)
        if importable(outcome.status, include_duplicates):
            run.store(outcome, job_id=job.id, user=user)
        else:
            run.tally(outcome)
        handled += 1
        if handled % CHUNK == 0:
            run.store_pending(job_id=job.id, user=user)
            job.rows_done = handled
            db.session.commit()
            _begin(job)
            if progress is not None:
                progress(run)
    run.store_pending(job_id=job.id, user=user)
    return run


def _begin(job: ImportJob) -> None:
    """Start the next transaction with a write (the job's heartbeat): on SQLite the driver
    begins a transaction only before a write, and the savepoints of the rows must lie
    inside one."""
    job.updated_at = utcnow()
    db.session.flush()


def final_counts(checked: Counter[str] | dict[str, int], imported: Pass | None) -> dict[str, int]:
    """The counts of a finished job: the check's for what was not importable, the import's
    for the rest (rows imported meanwhile by another job count as imported before)."""
    counts = Counter({k: v for k, v in dict(checked).items() if k in STATUS_KEYS})
    if imported is not None:
        for status in (VALID, DUPLICATE, DUPLICATE_IN_FILE):
            counts.pop(status, None)
        counts.update(imported.counts)
        counts["invitations"] = imported.invitations
    return {k: v for k, v in counts.items() if v}


STATUS_KEYS = (VALID, INVALID, "imported_before", "repeated", DUPLICATE, DUPLICATE_IN_FILE,
               IMPORTED, "rows", "invitations")


def merged_report(checked: dict[str, Any], imported: Pass) -> dict[str, Any]:
    """The check's rows that were never importable, and the import's rows."""
    kept = [r for r in checked.get("problems", [])
            if r["status"] not in (VALID, DUPLICATE, DUPLICATE_IN_FILE)]
    new = imported.report.as_dict()
    problems = sorted(kept + new["problems"], key=lambda r: r["row"])[:REPORT_PROBLEMS]
    more = checked.get("more_problems", 0) + new["more_problems"] + max(
        0, len(kept) + len(new["problems"]) - REPORT_PROBLEMS)
    return {"problems": problems, "sample": new["sample"], "more_problems": more}


def audit_import(job: ImportJob, counts: dict[str, int], user: User | str | None) -> None:
    """The import in the audit log: file, source, what became of the rows, who ran it."""
    record("initiative.import", target_type="import", target_id=job.id, actor=user,
           after={"file": job.file_name, "source": job.source, "rows": counts.get("rows", 0),
                  "imported": counts.get(IMPORTED, 0), "invalid": counts.get(INVALID, 0),
                  "duplicates": counts.get(DUPLICATE, 0) + counts.get(DUPLICATE_IN_FILE, 0),
                  "imported_before": counts.get("imported_before", 0)
                  + counts.get("repeated", 0),
                  "invitations": counts.get("invitations", 0)})


# --------------------------------------------------------------------------- jobs (web)

def create_job(*, path: Path, file_name: str, obstacles_path: Path | None,
               obstacles_name: str, source: str, user: User | None,
               language: str) -> ImportJob:
    """A job for an uploaded file (moved into the imports folder). Refuses a file that
    cannot be read; the caller commits. A mapped file waits for its mapping (MAPPING), an
    export of the registry can be checked at once (CHECKING)."""
    tax = current_taxonomy()
    plan = plan_file(path, tax, obstacles_path)
    swapped = plan.path != path
    separate = plan.obstacles_path is not None and plan.obstacles_path != plan.path
    job = ImportJob(
        source=source, kind=plan.info.kind, layout=plan.layout, language=language,
        file_name=obstacles_name if swapped else file_name,
        obstacles_file_name=(file_name if swapped else obstacles_name) if separate else "",
        status=CHECKING if plan.layout == EXPORT else MAPPING,
        headers=plan.headers, created_by_id=getattr(user, "id", None), counts={},
        report={}, mapping={})
    db.session.add(job)
    db.session.flush()
    os.replace(plan.path, job_file(job.id, f"main.{plan.info.kind}"))
    if separate and plan.obstacles_path is not None and plan.obstacles_info is not None:
        os.replace(plan.obstacles_path,
                   job_file(job.id, f"obstacles.{plan.obstacles_info.kind}"))
    return job


def saved_mapping(source: str) -> dict[str, str]:
    row = db.session.scalar(select(ImportSource).where(ImportSource.name == source))
    return dict(row.mapping) if row is not None else {}


def suggested_mapping(job: ImportJob) -> dict[str, str]:
    return suggest_mapping(list(job.headers), current_taxonomy(), saved_mapping(job.source))


def save_mapping(job: ImportJob, mapping: dict[str, str]) -> None:
    """The job's mapping, also kept for the next file of its source; the job is then
    checked. Not committed."""
    job.mapping = mapping
    source = db.session.scalar(select(ImportSource).where(ImportSource.name == job.source))
    if source is None:
        source = ImportSource(name=job.source, mapping={})
        db.session.add(source)
    source.mapping = mapping
    job.status = CHECKING


def source_names() -> list[str]:
    return list(db.session.scalars(select(ImportSource.name).order_by(ImportSource.name)))


def recent_jobs(limit: int = 20) -> list[ImportJob]:
    return list(db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())
                                   .limit(limit)))


def _fail(job_id: int, message: Any) -> None:
    """The job ends with ``message``; its file and checked rows are deleted (rows already
    imported stay, and are recognised by their keys when the file is imported again)."""
    db.session.rollback()
    remove_job_files(job_id)
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return
    job.status = FAILED
    job.error = str(message)
    job.finished_at = utcnow()
    db.session.commit()


# Uploads of jobs nobody finished are deleted after this many days (they hold personal data)
KEEP_ABANDONED_DAYS = 7


def discard_abandoned(now: datetime | None = None) -> int:
    """Discard the jobs left waiting (for a mapping, or checked but not imported) for more
    than KEEP_ABANDONED_DAYS, with their files; called when a new file is uploaded. Not
    committed."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_ABANDONED_DAYS)
    stale = list(db.session.scalars(select(ImportJob).where(
        ImportJob.status.in_((MAPPING, CHECKED)), ImportJob.updated_at < cutoff)))
    for job in stale:
        job.status = DISCARDED
        job.report = {}
        remove_job_files(job.id)
    return len(stale)


def check_job(job_id: int) -> None:
    """Check every row of the job's file (the preview). Never raises: a problem ends the job
    as FAILED with its message."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != CHECKING:
        return
    try:
        plan = plan_for_job(job, current_taxonomy())
        job.total_rows, job.rows_done, job.counts = total_rows(plan), 0, {}
        job.updated_at = utcnow()
        db.session.commit()

        def progress(run: Pass) -> None:
            job.rows_done, job.counts = run.rows, dict(run.counts)
            job.updated_at = utcnow()
            db.session.commit()

        run = check_rows(plan, source=job.source, mapping=dict(job.mapping),
                         out=job_file(job.id, "checked.jsonl"),
                         include_duplicates=job.include_duplicates, progress=progress)
        job.rows_done = job.total_rows = run.rows
        job.counts = {**run.counts, "rows": run.rows}
        job.report = run.report.as_dict()
        job.status = CHECKED
        job.updated_at = utcnow()
        db.session.commit()
    except FileProblem as problem:
        _fail(job_id, problem.message)
    except Exception:
        logger.exception("Checking import job %s failed", job_id)
        _fail(job_id, UNEXPECTED)


def import_job(job_id: int, user_id: int | None) -> None:
    """Store the checked rows of the job. Never raises (see ``check_job``)."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != IMPORTING:
        return
    user = db.session.get(User, user_id) if user_id is not None else None
    try:
        checked = job_file(job.id, "checked.jsonl")
        if not checked.exists():
            raise FileProblem(_l("De gecontroleerde rijen van deze import zijn er niet meer. "
                                 "Kies het bestand opnieuw."))
        job.total_rows, job.rows_done = count_checked(checked), 0
        run = import_checked(checked, source=job.source,
                             include_duplicates=job.include_duplicates, job=job, user=user)
        counts = {**final_counts(job.counts or {}, run), "rows": (job.counts or {}).get(
            "rows", run.rows)}
        job.report = merged_report(job.report or {}, run)
        job.counts = counts
        job.rows_done = run.rows
        job.status = DONE
        job.finished_at = utcnow()
        audit_import(job, counts, user)
        db.session.commit()
        remove_job_files(job.id)
    except FileProblem as problem:
        _fail(job_id, problem.message)
    except Exception:
        logger.exception("Import job %s failed", job_id)
        _fail(job_id, UNEXPECTED)


# --------------------------------------------------------------------------- the command

@dataclass
class FileRun:
    """The outcome of ``import_file`` for the command to print."""

    plan: Plan
    mapping: dict[str, str]
    checked: Pass
    imported: Pass | None = None
    job: ImportJob | None = None
    counts: dict[str, int] = field(default_factory=dict)


def import_file(path: Path, *, source: str, obstacles_path: Path | None = None,
                dry_run: bool = False, include_duplicates: bool = False,
                bar: Callable[[str, int | None], Any] | None = None) -> FileRun:
    """Check a file (``dry_run``), or check it and import its rows, as the web pages do.

    A mapped file uses the mapping saved for ``source`` on the web page, else the
    suggested one. Raises ``FileProblem`` for a file that cannot be read (then nothing is
    stored). ``bar(label, total)`` gives a progress bar (``click.progressbar``)."""
    if path.stat().st_size > max_bytes():
        raise reader.too_large(max_bytes())
    tax = current_taxonomy()
    plan = plan_file(path, tax, obstacles_path)
    mapping = {} if plan.layout == EXPORT else suggest_mapping(plan.headers, tax,
                                                               saved_mapping(source))
    checked_path = imports_dir() / f"cli-{os.getpid()}-{utcnow():%Y%m%d%H%M%S%f}.jsonl"
    try:
        with _bar(bar, "check", total_rows(plan)) as advance:
            checked = check_rows(plan, source=source, mapping=mapping, out=checked_path,
                                 include_duplicates=include_duplicates,
                                 progress=lambda run: advance(CHUNK))
        counts = {**checked.counts, "rows": checked.rows}
        result = FileRun(plan, mapping, checked, counts=counts)
        if dry_run:
            return result
        job = ImportJob(source=source, kind=plan.info.kind, layout=plan.layout,
                        file_name=path.name, obstacles_file_name=obstacles_path.name
                        if obstacles_path is not None else "", status=IMPORTING,
                        headers=plan.headers, mapping=mapping, counts=counts,
                        include_duplicates=include_duplicates,
                        report=checked.report.as_dict(), total_rows=checked.rows)
        db.session.add(job)
        db.session.commit()
        with _bar(bar, "import", count_checked(checked_path)) as advance:
            imported = import_checked(checked_path, source=source,
                                      include_duplicates=include_duplicates, job=job,
                                      user=None, progress=lambda run: advance(CHUNK))
        result.counts = {**final_counts(counts, imported), "rows": checked.rows}
        result.imported, result.job = imported, job
        job.counts, job.report = result.counts, merged_report(job.report, imported)
        job.rows_done, job.status, job.finished_at = imported.rows, DONE, utcnow()
        audit_import(job, result.counts, "cli")
        db.session.commit()
        return result
    finally:
        checked_path.unlink(missing_ok=True)


@contextmanager
def _bar(bar: Callable[[str, int | None], Any] | None, label: str,
         total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar that is advanced CHUNK rows at a time and completed at the end."""
    if bar is None:
        yield lambda n: None
        return
    with bar(label, total) as progress:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            progress.update(n)

        yield advance
        if total is not None and done < total:
            progress.update(total - done)
