"""The obstacle summary (/knelpunten) with its downloads, and snapshots for advisors."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from registry.auth.decorators import role_required
from registry.cache import cached_page
from registry.exports.views import current_filter, current_source, detail_link, sees_exact_figures
from registry.extensions import db
from registry.moderation.models import Theme
from registry.submissions.services import area_choices, dimension_list
from registry.summary import documents, services
from registry.summary.forms import SnapshotForm
from registry.summary.labels import chart_items, template_helpers

bp = Blueprint("summary", __name__, url_prefix="/knelpunten")

MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.app_context_processor
def _helpers():
    return template_helpers()


def _summary():
    flt = current_filter()
    source = current_source()
    summary = services.compute_summary(flt, snapshot=source.snapshot,
                                       exact=sees_exact_figures())
    return flt, summary


@bp.route("")
@cached_page
def summary():
    flt, data = _summary()
    themes = db.session.scalars(select(Theme).order_by(Theme.area_code, Theme.title)).all()
    return render_template(
        "summary/summary.html", s=data, flt=flt, areas=area_choices(),
        dimensions=dimension_list(), themes=themes, snapshots=services.list_snapshots(),
        snapshot=data["meta"]["snapshot"] or "", link=detail_link(), **_extras(data),
    )


def _extras(data: dict) -> dict:
    return {"charts": chart_items(data), "changes": documents.change_lines(data),
            "source_line": documents.source_line(data),
            "annex": data["entries"][:documents.ANNEX_LIMIT],
            "annex_note": documents.annex_note(data)}


@bp.route("/knelpuntenoverzicht.<any(docx, pdf, xlsx):fmt>")
def download(fmt: str):
    from registry.exports.services import file_name

    flt, data = _summary()
    title = _("Knelpuntenoverzicht gepersonaliseerd leren")
    if fmt == "docx":
        body = documents.to_docx(data, title=title, link=detail_link())
    elif fmt == "pdf":
        html = render_template("summary/report.html", s=data, flt=flt, title=title,
                               link=detail_link(),
                               method=documents.method_paragraphs(data), **_extras(data))
        body = documents.to_pdf(html, base_url=request.url_root)
    else:
        body = documents.to_xlsx(data)
    name = file_name("knelpuntenoverzicht", data["meta"], fmt)
    return Response(body, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"",
        "Cache-Control": "no-store",
    })


@bp.route("/momentopnamen", methods=["GET", "POST"])
@role_required("advisor")
def snapshots():
    form = SnapshotForm()
    if form.validate_on_submit():
        snap = services.create_snapshot(note=form.note.data or "", actor=current_user)
        db.session.commit()
        flash(_("Momentopname %(code)s is gemaakt.", code=snap.code), "success")
        return redirect(url_for("summary.snapshots"))
    status = 422 if request.method == "POST" else 200
    return render_template("summary/snapshots.html", form=form,
                           snapshots=services.list_snapshots(),
                           threshold=current_app.config["SMALL_NUMBER_THRESHOLD"]), status
