"""Exports of published data: /export/<dataset>.<format>, the data dictionary and the
moderator export with contact details."""
from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
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
from registry.exports.records import DataSource
from registry.extensions import db
from registry.filters import InitiativeFilter
from registry.submissions.models import Contact, Initiative
from registry.submissions.services import area_choices, dimension_list

bp = Blueprint("exports", __name__, url_prefix="/export")

FORMATS = {
    "csv": "text/csv",
    "json": "application/json",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def current_filter() -> InitiativeFilter:
    return InitiativeFilter.from_args(
        request.args, areas={c for c, _ in area_choices()},
        dimensions={d.code for d in dimension_list()},
    )


def current_source() -> DataSource:
    """Live data, or the snapshot named in ``?snapshot=`` (404 when it does not exist)."""
    from registry.summary.services import get_snapshot

    code = (request.args.get("snapshot") or "").strip()
    if not code:
        return DataSource()
    snapshot = get_snapshot(code)
    if snapshot is None:
        abort(404)
    return DataSource(snapshot)


def sees_exact_figures() -> bool:
    return bool(current_user.is_authenticated and current_user.has_role("advisor"))


def detail_link():
    base = current_app.config["BASE_URL"].rstrip("/")
    prefix = url_for("public.initiative", initiative_id=0)[:-1]
    return lambda initiative_id: f"{base}{prefix}{initiative_id}"


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
    source = current_source()
    exact = sees_exact_figures()
    threshold = int(current_app.config["SMALL_NUMBER_THRESHOLD"])
    meta = {**source.meta(flt), "dataset": dataset, "exact": exact,
            "dictionary": url_for("exports.dictionary", _external=True),
            "licence": "CC BY 4.0"}
    link = detail_link()
    themes = source.themes()

    def rows_for(name: str):
        if name == "initiatieven":
            return services.initiative_rows(source.initiatives(flt), flt, link)
        if name == "knelpunten":  # obstacle rows never read the dimensions
            return services.obstacle_rows(source.initiatives(flt, dimensions=False), flt,
                                          themes, link)
        return iter(services.theme_rows(source.initiatives(flt), flt, themes, exact, threshold))

    name = services.file_name(dataset, meta, fmt)
    headers = _headers(name, meta)
    if fmt == "xlsx":
        order = [dataset] + [d for d in services.DATASETS if d != dataset]
        out = services.datasets_to_xlsx(
            order, source.initiatives(flt), flt, themes, link, exact, threshold, meta,
            title=f"Register gepersonaliseerd leren: {dataset}")
        response = send_file(out, mimetype=FORMATS[fmt], as_attachment=True, download_name=name)
        for key in ("X-Data-Source", "X-Data-Date", "X-Data-Filter", "Cache-Control"):
            response.headers[key] = headers[key]
        return response
    if fmt == "csv":
        sep = ";" if request.args.get("sep") in (";", "semicolon", "puntkomma") else ","
        body = services.to_csv(rows_for(dataset), services.DATASETS[dataset], sep=sep)
    elif fmt == "json":
        body = services.to_json(rows_for(dataset), meta)
    else:
        if dataset == "initiatieven":
            features = services.point_features(rows_for(dataset), "initiatief_id")
        elif dataset == "knelpunten":
            features = _obstacle_features(source, flt, themes, link)
        else:
            features = services.theme_features(list(rows_for(dataset)),
                                               _theme_locations(source, flt))
        body = services.to_geojson(features, meta)
    return Response(stream_with_context(body), mimetype=FORMATS[fmt], headers=headers)


def _obstacle_features(source: DataSource, flt: InitiativeFilter, themes, link):
    """Obstacles sit at their school: one pass over the records, coordinates included."""
    for rec in source.initiatives(flt, dimensions=False):
        lat, lon = rec["school"]["latitude"], rec["school"]["longitude"]
        rows = services.obstacle_rows([rec], flt, themes, link)
        yield from services.point_features(
            ({**row, "breedtegraad": lat, "lengtegraad": lon} for row in rows), "knelpunt_id")


def _theme_locations(source: DataSource, flt: InitiativeFilter) -> dict[int, list[list[float]]]:
    from registry.exports.records import obstacle_in_scope

    out: dict[int, list[list[float]]] = {}
    for rec in source.initiatives(flt):
        lat, lon = rec["school"]["latitude"], rec["school"]["longitude"]
        if lat is None or lon is None:
            continue
        point = [round(lon, 6), round(lat, 6)]
        for o in rec["obstacles"]:
            if o["theme_id"] is not None and obstacle_in_scope(flt, o):
                points = out.setdefault(o["theme_id"], [])
                if point not in points:
                    points.append(point)
    return out


@bp.route("/")
@bp.route("/woordenboek")
def dictionary():
    flt = current_filter()
    from registry.summary.services import list_snapshots

    return render_template(
        "exports/dictionary.html", datasets=services.DATASETS, flt=flt,
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
        flt.apply(select(func.count(Initiative.id)))
        .where(Initiative.id == Contact.initiative_id, Contact.erased_at.is_(None))
    ) or 0
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("exports/contacts.html", form=form, flt=flt, count=count), status
    fmt = form.format.data
    record("export.contacts", target_type="export", reason=form.purpose.data,
           after={"filter": flt.describe(), "count": count, "format": fmt})
    db.session.commit()
    rows = services.contact_rows(_with_contacts(flt))
    meta = {**DataSource().meta(flt), "dataset": "contactgegevens", "purpose": form.purpose.data,
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
        flt.apply(select(Initiative))
        .options(selectinload(Initiative.contact), selectinload(Initiative.organisation))
        .order_by(Initiative.id).execution_options(yield_per=500)
    )
