"""Import pages for moderators: ``/moderatie/import`` (upload), the column mapping, the
job's page (progress, preview, import, result)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import update
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from registry.auth.decorators import protect_blueprint
from registry.database import utcnow
from registry.extensions import csrf, db
from registry.imports import jobs, reader, services
from registry.imports.checking import STATUSES
from registry.imports.fields import GROUP_LABELS, REQUIRED_TARGETS, targets
from registry.imports.forms import (
    ActionForm,
    ImportForm,
    UploadForm,
    column_names,
    mapping_form,
    mapping_from,
)
from registry.imports.models import (
    CHECKED,
    CHECKING,
    DISCARDED,
    FAILED,
    IMPORTING,
    MAPPING,
    RUNNING,
    ImportJob,
)
from registry.imports.reader import FileProblem
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("imports", __name__, url_prefix="/moderatie/import")
protect_blueprint(bp, "moderator")

# The upload form's own fields besides the files
FORM_OVERHEAD = 64 * 1024


def _job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    return job


def _language() -> str:
    return str(get_locale() or "nl")


def _app():
    return current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy


def _save(upload: FileStorage | None, limit: int, saved: list[Path]) -> Path | None:
    """The uploaded file in the imports folder (a temporary name, added to ``saved``);
    refuses one that is too large while it is copied."""
    if upload is None or not upload.filename:
        return None
    handle, name = tempfile.mkstemp(prefix="upload-", dir=services.imports_dir())
    path = Path(name)
    saved.append(path)
    size = 0
    with os.fdopen(handle, "wb") as out:
        while chunk := upload.stream.read(1 << 16):
            size += len(chunk)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise reader.too_large(limit)
            out.write(chunk)
    return path


def _index(form: UploadForm, problem: str | None = None, status: int = 200):
    """The upload page; ``problem`` (the file cannot be imported) shows at the file field
    and in the summary at the top."""
    if problem:
        form.file.errors = [problem]
    return render_template("imports/index.html", form=form,
                           jobs=services.recent_jobs(), sources=services.source_names(),
                           max_mb=services.max_bytes() // (1024 * 1024)), status


@bp.route("/", methods=["GET", "POST"])
@csrf.exempt  # checked by UploadForm, after the larger limit for files is set
def index():
    limit = services.max_bytes()
    if request.method == "POST":
        request.max_content_length = limit * 2 + FORM_OVERHEAD  # two files at most
        try:
            request.files  # noqa: B018 - parse the body now, under that limit
        except RequestEntityTooLarge:
            return _index(UploadForm(formdata=None), str(reader.too_large(limit).message), 413)
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, status=422 if request.method == "POST" else 200)
    services.discard_abandoned()
    db.session.commit()
    paths: list[Path] = []
    try:
        main = _save(form.file.data, limit, paths)
        obstacles = _save(form.obstacles_file.data, limit, paths)
        if main is None:
            abort(400)
        job = services.create_job(
            path=main, file_name=_file_name(form.file.data), obstacles_path=obstacles,
            obstacles_name=_file_name(form.obstacles_file.data), source=form.source.data or "",
            user=current_user._get_current_object(), language=_language())
        db.session.commit()
    except FileProblem as problem:
        db.session.rollback()
        return _index(form, str(problem.message), 422)
    finally:
        for path in paths:
            path.unlink(missing_ok=True)  # moved into place when the job was created
    if job.status == CHECKING:
        _start_check(job)
        return redirect(url_for("imports.job", job_id=job.id))
    return redirect(url_for("imports.mapping", job_id=job.id))


def _file_name(upload: FileStorage | None) -> str:
    name = (upload.filename or "") if upload is not None else ""
    return os.path.basename(name.replace("\\", "/"))[:255]


def _start_check(job: ImportJob) -> None:
    job_id = job.id
    jobs.start(_app(), job_id, job.language, lambda: services.check_job(job_id))


def _start_import(job: ImportJob, user_id: int | None) -> None:
    job_id = job.id
    jobs.start(_app(), job_id, job.language, lambda: services.import_job(job_id, user_id))


@bp.route("/<int:job_id>/kolommen", methods=["GET", "POST"])
def mapping(job_id: int):
    job = _job_or_404(job_id)
    if job.status != MAPPING:
        return redirect(url_for("imports.job", job_id=job.id))
    fields = targets(current_taxonomy())
    headers = list(job.headers)
    suggested = services.suggested_mapping(job)
    form = mapping_form(fields, headers, suggested,
                        formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        chosen = mapping_from(form, fields, headers)
        services.save_mapping(job, chosen)
        job.language = _language()
        db.session.commit()
        _start_check(job)
        return redirect(url_for("imports.job", job_id=job.id))
    groups: dict[str, list] = {}
    for target in fields:
        groups.setdefault(target.group, []).append(form[target.key])
    try:
        sample = services.sample_rows(job)
    except FileProblem:
        sample = []
    return render_template("imports/mapping.html", job=job, form=form, groups=groups,
                           group_labels=GROUP_LABELS, suggested=len(suggested), sample=sample,
                           column_names=column_names(headers), required=REQUIRED_TARGETS,
                           action_form=ActionForm(formdata=None)), (
        422 if request.method == "POST" else 200)


@bp.route("/<int:job_id>")
def job(job_id: int):
    job = _job_or_404(job_id)
    stale = jobs.stale(_app(), job)
    return render_template(
        "imports/job.html", job=job, stale=stale, running=job.status in RUNNING and not stale,
        import_form=ImportForm(formdata=None, include_duplicates=job.include_duplicates),
        action_form=ActionForm(formdata=None), statuses=STATUSES)


@bp.route("/<int:job_id>/importeren", methods=["POST"])
def run_import(job_id: int):
    job = _job_or_404(job_id)
    form = ImportForm()
    if not form.validate_on_submit():
        abort(400)
    # only one thread may take a checked job: the status changes once
    taken = db.session.execute(
        update(ImportJob).where(ImportJob.id == job.id, ImportJob.status == CHECKED)
        .values(status=IMPORTING, include_duplicates=bool(form.include_duplicates.data),
                language=_language()))
    db.session.commit()
    if taken.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult
        db.session.refresh(job)
        _start_import(job, current_user.id)
    return redirect(url_for("imports.job", job_id=job.id))


@bp.route("/<int:job_id>/opnieuw", methods=["POST"])
def resume(job_id: int):
    """Start the step of a job whose thread was lost (see ``jobs.stale``) again."""
    job = _job_or_404(job_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if jobs.stale(_app(), job):
        job.updated_at = utcnow()
        db.session.commit()
        if job.status == CHECKING:
            _start_check(job)
        else:
            _start_import(job, current_user.id)
    return redirect(url_for("imports.job", job_id=job.id))


@bp.route("/<int:job_id>/verwijderen", methods=["POST"])
def discard(job_id: int):
    """Throw away a job that was not imported: its file and checked rows are deleted."""
    job = _job_or_404(job_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if job.status in (MAPPING, CHECKED, FAILED) or jobs.stale(_app(), job):
        job.status = DISCARDED
        job.report = {}
        db.session.commit()
        services.remove_job_files(job.id)
    return redirect(url_for("imports.index"))

