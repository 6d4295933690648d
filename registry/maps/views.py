"""The public map (/kaart), its GeoJSON, the province view and the Leaflet files."""
from __future__ import annotations

import importlib
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import select

from registry.cache import cached_page, public_versions
from registry.extensions import db
from registry.maps import context as map_context
from registry.maps import services
from registry.moderation.models import Theme
from registry.public import services as public_services
from registry.published.filters import InitiativeFilter
from registry.published.web import current_filter
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("maps", __name__)

VENDOR_PACKAGES = {
    "leaflet": "xstatic.pkg.leaflet",
    "markercluster": "xstatic.pkg.leaflet_markercluster",
}
VENDOR_SUFFIXES = (".js", ".css", ".png")
MAX_PAGE = 100_000  # beyond any real list; keeps absurd ?page= values out of SQL


def _filter_context() -> dict:
    themes = list(db.session.scalars(select(Theme).order_by(Theme.title)))
    return {"flt": current_filter(), "areas": current_taxonomy().choices("areas"),
            "themes": themes}


def _query(flt: InitiativeFilter) -> str:
    args = flt.to_args()
    return ("?" + urlencode(args, doseq=True)) if args else ""


@bp.route("/kaart")
@cached_page
def map():  # endpoint name 'maps.map' is part of the interface
    ctx = _filter_context()
    flt = ctx["flt"]
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    pagination = public_services.list_published(flt, page=page)
    query = _query(flt)
    # The script fetches a URL that names the data version, so a browser never shows an old
    # cached GeoJSON after a change (the download link stays clean).
    version = services.GeoJSONCache.etag_for(services.data_version(), flt, "")[:12]
    data_url = url_for("maps.geojson") + (query + "&" if query else "?") + f"v={version}"
    return render_template(
        "maps/map.html",
        data_url=data_url,
        pagination=pagination,
        area_counts=public_services.area_counts([i.id for i in pagination.items]),
        counts=services.map_counts(flt),
        geojson_url=url_for("maps.geojson") + query,
        provinces_url=url_for("maps.provinces") + query,
        export_csv_url=f"{request.script_root}/export/initiatieven.csv{query}",
        tile_url=current_app.config["MAP_TILE_URL"],
        tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
        **ctx,
    )


def _accepts_gzip() -> bool:
    """Whether the client takes gzip: named with a quality above 0, or ``*`` when gzip is
    not named."""
    named: float | None = None
    wildcard: float | None = None
    for value, quality in request.accept_encodings:
        if value.lower() in ("gzip", "x-gzip"):
            named = quality
        elif value == "*":
            wildcard = quality
    return bool(named if named is not None else wildcard)


@bp.route("/kaart/initiatieven.geojson")
def geojson():
    """The published initiatives with a location as GeoJSON, made once per data version and
    filter for every worker (``services.geojson``); gzipped to clients that accept it. The
    ETag names the data version the document shows (while another worker builds the
    newest one, that can be the previous version: ``registry.cache.SharedResults``)."""
    flt = current_filter()
    prefix = url_for("public.initiative", initiative_id=0)[:-1]
    versions = public_versions()
    version = versions.public if versions is not None else services.data_version()
    # no-cache: shared caches revalidate on every request (ETag, 304), so a withdrawn entry
    # never stays on the map from a cache (issue 17, item 11)
    headers = {
        "ETag": f'W/"{services.etag_for(version, flt, prefix)}"',
        "Cache-Control": "public, no-cache",
        "Vary": "Accept-Encoding",
    }
    if request.if_none_match.contains_weak(services.etag_for(version, flt, prefix)):
        return current_app.response_class(status=304, headers=headers)
    found = services.geojson(flt, prefix, versions)
    headers["ETag"] = f'W/"{services.etag_for(found.version, flt, prefix)}"'
    gzipped = found.value
    if _accepts_gzip():
        headers["Content-Encoding"] = "gzip"
        return current_app.response_class(gzipped, mimetype="application/geo+json",
                                          headers=headers)
    headers["Content-Length"] = str(services.gunzipped_size(gzipped))
    return current_app.response_class(services.gunzip_chunks(gzipped),
                                      mimetype="application/geo+json", headers=headers)


@bp.route("/kaart/provincies")
@cached_page
def provinces():
    ctx = _filter_context()
    flt = ctx["flt"]
    rows = services.province_table(flt)
    totals = services.area_totals(rows)
    links = {row.province: url_for("maps.map", **{**flt.to_args(), "province": row.province})
             for row in rows if row.province}
    return render_template(
        "maps/provinces.html",
        rows=rows, totals=totals, links=links,
        map_url=url_for("maps.map") + _query(flt),
        **ctx,
    )


@bp.route("/kaart/context.geojson")
def context():
    """Municipality and province outlines with label points (CBS), for maps without tiles.

    The file only changes with a new release or data folder: a strong ETag per encoding,
    ``immutable`` under the versioned URL the pages use, a day under any other."""
    layer = map_context.context_layer()
    gzip_ok = "gzip" in request.accept_encodings
    etag = layer.etag + ("-gzip" if gzip_ok else "")
    versioned = request.args.get("v") == layer.version
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": ("public, max-age=31536000, immutable" if versioned
                          else "public, max-age=86400"),
        "Vary": "Accept-Encoding",
    }
    for known in (layer.etag, layer.etag + "-gzip"):
        if request.if_none_match.contains_weak(known):
            headers["ETag"] = f'"{known}"'
            return current_app.response_class(status=304, headers=headers)
    if gzip_ok:
        headers["Content-Encoding"] = "gzip"
    return current_app.response_class(layer.gzipped if gzip_ok else layer.body,
                                      mimetype="application/geo+json", headers=headers)


@bp.app_template_global()
def map_context_url() -> str:
    """The context layer's URL, naming its version (templates: maps, pin picker)."""
    return url_for("maps.context", v=map_context.context_layer().version)


@bp.app_template_global()
def map_municipality_zoom() -> int:
    return map_context.MUNICIPALITY_MIN_ZOOM


@bp.app_template_global()
def pin_start(form) -> dict | None:
    """Where the pin picker opens when no pin is set yet: the school chosen in ``form``."""
    return map_context.school_point(
        name=_field_data(form, "school_name"), brin=_field_data(form, "brin"),
        location_number=_field_data(form, "location_number"),
        postcode=_field_data(form, "postcode"))


def _field_data(form, name: str) -> str:
    field = getattr(form, name, None)
    return str(getattr(field, "data", None) or "").strip()


@bp.route("/kaart/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    """Leaflet and Leaflet.markercluster from their PyPI xstatic packages (no CDN)."""
    module_name = VENDOR_PACKAGES.get(package)
    if module_name is None or not filename.endswith(VENDOR_SUFFIXES):
        abort(404)
    base_dir = importlib.import_module(module_name).BASE_DIR
    return send_from_directory(base_dir, filename, max_age=86400)
