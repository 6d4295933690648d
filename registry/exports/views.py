"""Exports of published data: /export/<dataset>.<format>, the data dictionary and the
moderator export with contact details."""
from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.audit.services import record
from registry.auth.decorators import role_required
from registry.exports import services
from registry.exports.forms import ContactExportForm
from registry.extensions import db
from registry.published import records
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import list_snapshots
from registry.published.sources import PUBLISHED, Source
from registry.published.web import (
    current_filter,
    current_source,
    detail_link,
    sees_exact_figures,
)
from registry.submissions.models import Contact, Initiative, Organisation
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("exports", __name__, url_prefix="/export")

FORMATS = {
    "csv": "text/csv",
    "json": "application/json",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _headers(name: str, meta: dict) -> dict[str, str]:
    return {
        "Content-Disposition": f"attachment; filename=\"{name}\"",
        "X-Data-Source": meta["source"] + (f" {meta['snapshot']}" if meta["snapshot"] else ""),
        "X-Data-Date": meta["data_date"] or "",
        "X-Data-Filter": quote(meta["filter"], safe="=;+,"),
        "Cache-Control": "no-store",
    }


@bp.route("/<any(initiatieven, knelpunten, themas):dataset>.<any(csv, xlsx, json, geojson):fmt>")
def export(dataset: str, fmt: str):
    flt = current_filter()
    src = current_source()
    tax = current_taxonomy()
    exact = sees_exact_figures()
    threshold = int(current_app.config["SMALL_NUMBER_THRESHOLD"])
    meta = {**src.meta(flt), "dataset": dataset, "exact": exact,
            "dictionary": url_for("exports.dictionary", _external=True),
            "licence": "CC BY 4.0"}
    link = detail_link()
    themes = records.themes(src)
    rows = services.Rows(tax, themes, link)
    columns = services.datasets(tax)[dataset]
    name = services.file_name(dataset, meta, fmt)
    headers = _headers(name, meta)
    if fmt == "xlsx":
        order = [dataset] + [d for d in services.DATASET_NAMES if d != dataset]
        out = services.datasets_to_xlsx(
            order, records.initiatives(src, flt), flt, tax, themes, link, exact, threshold,
            meta, title=f"Register gepersonaliseerd leren: {dataset}")
        response = send_file(out, mimetype=FORMATS[fmt], as_attachment=True, download_name=name)
        for key in ("X-Data-Source", "X-Data-Date", "X-Data-Filter", "Cache-Control"):
            response.headers[key] = headers[key]
        return response

    def dataset_rows():
        if dataset == "initiatieven":
            return rows.initiatives(records.initiatives(src, flt))
        if dataset == "knelpunten":  # obstacle rows never read the dimensions
            return rows.obstacles(records.initiatives(src, flt, dimensions=False))
        return iter(services.theme_rows(records.initiatives(src, flt, dimensions=False), flt,
                                        tax, themes, exact, threshold))

    if fmt == "csv":
        sep = ";" if request.args.get("sep") in (";", "semicolon", "puntkomma") else ","
        body = services.to_csv(dataset_rows(), columns, sep=sep)
    elif fmt == "json":
        body = services.to_json(dataset_rows(), meta)
    else:
        if dataset == "initiatieven":
            features = services.point_features(dataset_rows(), "initiatief_id")
        elif dataset == "knelpunten":
            features = _obstacle_features(src, flt, rows)
        else:
            features = services.theme_features(list(dataset_rows()),
                                               _theme_locations(src, flt))
        body = services.to_geojson(features, meta)
    return Response(stream_with_context(body), mimetype=FORMATS[fmt], headers=headers)


def _obstacle_features(src: Source, flt: InitiativeFilter, rows: services.Rows):
    """Obstacles sit at their school: one pass over the records, coordinates included."""
    for rec in records.initiatives(src, flt, dimensions=False):
        lat, lon = rec["school"]["latitude"], rec["school"]["longitude"]
        yield from services.point_features(
            ({**row, "breedtegraad": lat, "lengtegraad": lon} for row in rows.obstacles_of(rec)),
            "knelpunt_id")


def _theme_locations(src: Source, flt: InitiativeFilter) -> dict[int, list[list[float]]]:
    out: dict[int, list[list[float]]] = {}
    for rec in records.initiatives(src, flt, fields=("id", "latitude", "longitude"),
                                   obstacle_fields=("theme_id",), dimensions=False):
        lat, lon = rec["school"]["latitude"], rec["school"]["longitude"]
        if lat is None or lon is None:
            continue
        point = [round(lon, 6), round(lat, 6)]
        for o in rec["obstacles"]:
            if o["theme_id"] is not None:
                points = out.setdefault(o["theme_id"], [])
                if point not in points:
                    points.append(point)
    return out


@bp.route("/")
@bp.route("/woordenboek")
def dictionary():
    flt = current_filter()
    return render_template(
        "exports/dictionary.html", datasets=services.datasets(current_taxonomy()), flt=flt,
        args=flt.to_args(), snapshots=list_snapshots(),
        snapshot=(request.args.get("snapshot") or "").strip(),
    )


@bp.route("/contact", methods=["GET", "POST"])
@role_required("moderator")
def contacts():
    """Contact details for a stated purpose; every export is written to the audit log."""
    flt = current_filter()
    form = ContactExportForm()
    count = db.session.scalar(
        select(func.count(Initiative.id)).join(Organisation).join(Contact)
        .where(PUBLISHED.scope, *flt.where(PUBLISHED), Contact.erased_at.is_(None))
    ) or 0
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("exports/contacts.html", form=form, flt=flt, count=count), status
    fmt = form.format.data
    record("export.contacts", target_type="export", reason=form.purpose.data or "",
           after={"filter": flt.describe(), "count": count, "format": fmt})
    db.session.commit()
    rows = services.contact_rows(_with_contacts(flt))
    meta = {**PUBLISHED.meta(flt), "dataset": "contactgegevens", "purpose": form.purpose.data,
            "exported_by": current_user.email}
    name = services.file_name("contactgegevens", meta, fmt)
    if fmt == "xlsx":
        out = services.to_xlsx([("contactgegevens", services.CONTACT_COLUMNS, rows)], meta,
                               title="Contactgegevens (vertrouwelijk)")
        return send_file(out, mimetype=FORMATS["xlsx"], as_attachment=True, download_name=name)
    body = services.to_csv(rows, services.CONTACT_COLUMNS, sep=";")
    return Response(stream_with_context(body), mimetype=FORMATS["csv"],
                    headers={"Content-Disposition": f"attachment; filename=\"{name}\"",
                             "Cache-Control": "no-store"})


def _with_contacts(flt: InitiativeFilter):
    """Lazily (the query runs when the response body is produced), in batches."""
    yield from db.session.scalars(
        select(Initiative).join(Organisation).where(PUBLISHED.scope, *flt.where(PUBLISHED))
        .options(selectinload(Initiative.contact), selectinload(Initiative.organisation))
        .order_by(Initiative.id).execution_options(yield_per=500)
    )
