"""Exports of published data: /export/<dataset>.<format>, the data dictionary and the
moderator export with contact details."""
from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_login import current_user

from registry.auth.decorators import role_required
from registry.documents import Rendered, request_filter
from registry.documents import serve as serve_document
from registry.exports import datasets, services
from registry.exports.forms import ContactExportForm
from registry.extensions import db
from registry.published.snapshots import list_snapshots, withdrawn_since
from registry.published.sources import PUBLISHED
from registry.published.web import (
    current_filter,
    current_source,
    detail_link,
)
from registry.taxonomy.services import current as current_taxonomy
from registry.urls import absolute_url

bp = Blueprint("exports", __name__, url_prefix="/export")


def _headers(meta: dict) -> dict[str, str]:
    """Where the data of an export comes from."""
    if "source" not in meta:
        return {}
    return {
        "X-Data-Source": meta["source"] + (f" {meta['snapshot']}" if meta["snapshot"] else ""),
        "X-Data-Date": meta["data_date"] or "",
        "X-Data-Filter": quote(meta["filter"], safe="=;+,"),
    }


def _send(export: datasets.Export) -> Response:
    """The export as a download, saying where its data comes from (not kept: the contact
    export)."""
    headers = {
        "Content-Disposition": f"attachment; filename=\"{export.name}\"",
        "Cache-Control": "no-store",
        **_headers(export.meta),
    }
    if export.file is not None:
        response = send_file(export.file, mimetype=export.mimetype, as_attachment=True,
                             download_name=export.name)
        response.headers.update({k: v for k, v in headers.items()
                                 if k != "Content-Disposition"})
        return response
    return Response(stream_with_context(export.chunks or iter(())), mimetype=export.mimetype,
                    headers=headers)


@bp.route("/<any(initiatieven, knelpunten, themas):dataset>.<any(csv, xlsx, json, geojson):fmt>")
def export(dataset: str, fmt: str):
    """A dataset as a file: rendered once per canonical filter and data version, kept for
    every worker (``registry.documents``); unknown parameters are refused."""
    flt = request_filter(extra=("sep",) if fmt == "csv" else ())
    src = current_source()
    sep = ";" if request.args.get("sep") in (";", "semicolon", "puntkomma") else ","

    def render() -> Rendered:
        meta = {**src.meta(flt), "dataset": dataset,
                "reports": "public",
                "withdrawn_since": (withdrawn_since(src.snapshot) if src.snapshot is not None
                                    else 0),
                "dictionary": absolute_url("exports.dictionary"),
                "licence": "CC BY 4.0"}
        out = datasets.export_dataset(dataset, fmt, src, flt, current_taxonomy(),
                                      link=detail_link(), meta=meta, sep=sep)
        return Rendered(out.name, out.mimetype, _headers(out.meta), chunks=out.chunks,
                        file=out.file)

    return serve_document(f"export-{dataset}", fmt, flt, src, render,
                          extra={"sep": sep} if fmt == "csv" else None)


@bp.route("/")
@bp.route("/woordenboek")
def dictionary():
    flt = current_filter()
    return render_template(
        "exports/dictionary.html", datasets=services.datasets(current_taxonomy()), flt=flt,
        column_types=services.TYPE_LABELS, args=flt.to_args(), snapshots=list_snapshots(),
        snapshot=(request.args.get("snapshot") or "").strip(),
    )


@bp.route("/contact", methods=["GET", "POST"])
@role_required("moderator")
def contacts():
    """Contact details for a stated purpose; every export is written to the audit log."""
    flt = current_filter()
    form = ContactExportForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("exports/contacts.html", form=form, flt=flt,
                               count=datasets.contact_count(flt)), status
    export = datasets.export_contacts(flt, purpose=form.purpose.data or "",
                                      fmt=form.format.data or "csv",
                                      actor_email=current_user.email, meta=PUBLISHED.meta(flt))
    db.session.commit()
    return _send(export)
