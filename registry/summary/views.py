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

from registry.audit.services import record
from registry.auth.decorators import role_required
from registry.cache import cached_page
from registry.documents import Rendered, request_filter
from registry.documents import serve as serve_document
from registry.exports.services import file_name
from registry.extensions import db
from registry.moderation.models import Theme
from registry.published import records
from registry.published.snapshots import create_snapshot, list_snapshots, withdrawn_counts
from registry.published.web import (
    current_filter,
    current_source,
    detail_link,
    sees_exact_figures,
)
from registry.summary import documents, services, texts
from registry.summary.forms import SnapshotForm
from registry.summary.labels import chart_items
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("summary", __name__, url_prefix="/knelpunten")

MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _summary():
    flt, src = current_filter(), current_source()
    return flt, _localized(services.compute_summary(flt, src, exact=sees_exact_figures()), src,
                           flt)


def _localized(summary: dict, src, flt) -> dict:
    """The summary with its theme texts in the interface language (``summary.texts``)."""
    return texts.localize(summary, records.themes(src), flt)


@bp.route("")
@cached_page
def summary():
    flt, data = _summary()
    themes = db.session.scalars(select(Theme).order_by(Theme.area_code, Theme.title)).all()
    tax = current_taxonomy()
    return render_template(
        "summary/summary.html", s=data, flt=flt, areas=tax.choices("areas"),
        dimensions=tax.dimensions, themes=themes, snapshots=list_snapshots(),
        snapshot=data["meta"]["snapshot"] or "", link=detail_link(), **_extras(data),
    )


def _extras(data: dict) -> dict:
    return {"charts": chart_items(data), "changes": documents.change_lines(data),
            "source_line": documents.source_line(data),
            "annex": data["entries"][:documents.ANNEX_LIMIT],
            "annex_note": documents.annex_note(data), "notices": documents.notices(data),
            "national_method": documents.national_paragraphs(data)}


@bp.route("/knelpuntenoverzicht.<any(docx, pdf, xlsx):fmt>")
def download(fmt: str):
    """The summary as a document: rendered once per canonical filter and data version, kept
    for every worker (``registry.documents``); unknown parameters are refused."""
    flt = request_filter()
    src = current_source()

    def render() -> Rendered:
        data = _localized(services.compute_summary(flt, src, exact=sees_exact_figures()), src,
                          flt)
        title = _("Knelpuntenoverzicht gepersonaliseerd leren")
        if fmt == "docx":
            body = documents.to_docx(data, title=title, link=detail_link())
        elif fmt == "pdf":
            html = render_template("summary/report.html", s=data, flt=flt, title=title,
                                   link=detail_link(), toc=documents.toc_entries(),
                                   method=documents.method_paragraphs(data), **_extras(data))
            # links resolve under BASE_URL, never the request's Host header (issue 17)
            body = documents.to_pdf(html, base_url=current_app.config["BASE_URL"])
        else:
            body = documents.to_xlsx(data)
        return Rendered(file_name("knelpuntenoverzicht", data["meta"], fmt), MIMETYPES[fmt],
                        body=body)

    return serve_document("knelpuntenoverzicht", fmt, flt, src, render)


@bp.route("/vertrouwelijk")
@role_required("advisor")
def confidential():
    """Confidential reports without their schools, for advisors; each view is logged."""
    reports = services.confidential_reports()
    html = render_template("summary/confidential.html", reports=reports,
                           threshold=current_app.config["SMALL_NUMBER_THRESHOLD"])
    if reports:
        record("obstacle.confidential_view", target_type="obstacle", actor=current_user,
               after={"obstacles": [r["id"] for r in reports]}, reason=request.path)
        db.session.commit()
    return Response(html, headers={"Cache-Control": "no-store"})


@bp.route("/momentopnamen", methods=["GET", "POST"])
@role_required("advisor")
def snapshots():
    form = SnapshotForm()
    if form.validate_on_submit():
        snap = create_snapshot(note=form.note.data or "", actor=current_user)
        db.session.commit()
        flash(_("Momentopname %(code)s is gemaakt.", code=snap.code), "success")
        return redirect(url_for("summary.snapshots"))
    status = 422 if request.method == "POST" else 200
    return render_template("summary/snapshots.html", form=form,
                           snapshots=list_snapshots(), withdrawn=withdrawn_counts(),
                           threshold=current_app.config["SMALL_NUMBER_THRESHOLD"]), status
