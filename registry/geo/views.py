"""School lookup (JSON) and the moderators' location page."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.audit.services import record
from registry.auth.decorators import role_required
from registry.extensions import db, limiter
from registry.geo.directory import directory
from registry.geo.forms import LocationForm
from registry.geo.services import clear_manual_location, set_manual_location
from registry.submissions.models import Initiative

bp = Blueprint("geo", __name__)

GEO_SOURCES = {
    "school": _l("scholenregister DUO"), "mbo": _l("mbo-instellingen DUO"),
    "postcode": _l("postcodegebied"), "online": _l("online geocoder"), "manual": _l("met de hand"),
}
GEO_PRECISIONS = {
    "address": _l("adres"), "postcode": _l("postcode"), "place": _l("plaats"),
    "manual": _l("met de hand"),
}
GEO_STATUSES = {
    "todo": _l("nog niet bepaald"), "resolved": _l("bepaald"), "failed": _l("niet gevonden"),
}

LOCATION_FIELDS = ("latitude", "longitude", "municipality", "province", "geo_source",
                   "geo_precision", "geo_status")


def _lookup_limit() -> str:
    return current_app.config["SCHOOL_LOOKUP_RATE_LIMIT"]


@bp.route("/geo/scholen")
@limiter.limit(_lookup_limit)
def schools():
    """Schools from the offline DUO directory matching a name, BRIN/vestiging or postcode."""
    query = (request.args.get("q") or "").strip()[:100]
    limit = min(max(request.args.get("limit", 10, type=int) or 10, 1), 25)
    results = [s.as_dict() for s in directory().search(query, limit=limit)] if query else []
    response = jsonify({"query": query, "results": results})
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/geo/provincies.geojson")
def province_outlines():
    """Province outlines (CBS, generalised) for maps without a tile server."""
    response = current_app.response_class(directory().province_outlines,
                                          mimetype="application/geo+json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _snapshot(org) -> dict:
    return {name: getattr(org, name) for name in LOCATION_FIELDS}


@bp.route("/moderatie/locatie/<int:initiative_id>", methods=["GET", "POST"])
@role_required("moderator")
def edit_location(initiative_id: int):
    """Move an initiative's pin by hand or correct its province (audit-logged)."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    org = initiative.organisation
    form = LocationForm()
    if request.method == "GET":
        form.latitude.data = "" if org.latitude is None else f"{org.latitude:.6f}"
        form.longitude.data = "" if org.longitude is None else f"{org.longitude:.6f}"
        form.province.data = ""
    status = 200
    if request.method == "POST":
        before = _snapshot(org)
        if request.form.get("action") == "reset":
            # CSRF is checked for every POST by CSRFProtect; no coordinates are needed here.
            clear_manual_location(org, online=False)
            record("geo.location_reset", target_type="initiative", target_id=initiative.id,
                   before=before, after=_snapshot(org), reason=form.reason.data or "")
            db.session.commit()
            flash(_("De locatie is opnieuw bepaald uit het adres."), "success")
            return redirect(url_for("geo.edit_location", initiative_id=initiative.id))
        elif form.validate_on_submit():
            lat, lon = form.point
            set_manual_location(org, lat, lon, province=form.province.data or None)
            record("geo.location_changed", target_type="initiative", target_id=initiative.id,
                   before=before, after=_snapshot(org), reason=form.reason.data or "")
            db.session.commit()
            flash(_("De locatie is opgeslagen."), "success")
            return redirect(url_for("geo.edit_location", initiative_id=initiative.id))
        status = 422
    return render_template("geo/location.html", initiative=initiative, org=org, form=form,
                           tile_url=current_app.config["MAP_TILE_URL"],
                           tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
                           GEO_SOURCES=GEO_SOURCES, GEO_PRECISIONS=GEO_PRECISIONS,
                           GEO_STATUSES=GEO_STATUSES), status
