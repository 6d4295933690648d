"""School lookup (JSON), the moderators' location page and linking an entry to a DUO school."""
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
from flask_login import current_user

from registry.audit.services import record
from registry.auth.decorators import role_required
from registry.extensions import db, limiter
from registry.geo import linking
from registry.geo.directory import School, directory
from registry.geo.forms import LinkSchoolForm, LocationForm
from registry.geo.lookup import fold_words
from registry.geo.services import clear_manual_location, search_schools, set_manual_location
from registry.history.labels import GEO_PRECISION_LABELS, GEO_SOURCE_LABELS, GEO_STATUS_LABELS
from registry.moderation.services import StaleEntryError
from registry.submissions.models import Initiative, Organisation

bp = Blueprint("geo", __name__)

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
    found = search_schools(query, limit=limit)
    # partial: no school matched every word; these are the closest (the form says so)
    response = jsonify({"query": query, "results": [s.as_dict() for s in found.schools],
                        "partial": found.partial})
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
                           GEO_SOURCES=GEO_SOURCE_LABELS, GEO_PRECISIONS=GEO_PRECISION_LABELS,
                           GEO_STATUSES=GEO_STATUS_LABELS), status


# --- linking an entry to a DUO school (registry.geo.linking) -------------------------------

LINK_RESULTS = 10


@bp.app_template_global()
def duo_school(org: Organisation) -> School | None:
    """The DUO school location an entry is linked to (None: not linked, or not found)."""
    return linking.linked_school(org)


@bp.app_template_global()
def duo_linked(org: Organisation) -> bool:
    """Whether an entry is linked to a DUO school (``brin`` filled in)."""
    return linking.is_linked(org)


@bp.app_template_global("duo_search_text")
def default_link_query(org: Organisation) -> str:
    """What the school typed, as the first search: its name and place (the place left out
    when the name already says it, "Agora Roermond")."""
    name, city = (org.name or "").strip(), (org.city or "").strip()
    if not city or set(fold_words(city)) <= set(fold_words(name)):
        return name
    return f"{name} {city}".strip()


def _render_link(initiative: Initiative, form: LinkSchoolForm, query: str, status: int = 200,
                 stale: str | None = None):
    org = initiative.organisation
    found = search_schools(query, limit=LINK_RESULTS)
    current = linking.linked_school(org)
    return render_template(
        "geo/link_school.html", initiative=initiative, org=org, form=form, query=query,
        results=found.schools, partial=found.partial, current=current, stale=stale,
        chosen=(form.code.data or "").strip().upper(),
    ), status


@bp.route("/moderatie/<int:initiative_id>/school", methods=["GET", "POST"])
@role_required("moderator")
def link_school(initiative_id: int):
    """Search DUO's directory and link the entry to a school location (no JavaScript
    needed: the search is a GET form, the results a list of radio buttons)."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    form = LinkSchoolForm()
    if request.method == "GET":
        query = request.args.get("q")
        query = default_link_query(initiative.organisation) if query is None else query
        form.q.data = query.strip()[:100]
        form.version_id.data = str(initiative.version_id)
        return _render_link(initiative, form, form.q.data)
    query = (form.q.data or "").strip()[:100]
    if not form.validate_on_submit():
        return _render_link(initiative, form, query, 422)
    version = form.version_id.data or ""
    code = (form.code.data or "").strip().upper()
    try:
        changes = linking.link_school(
            initiative, code, actor=current_user._get_current_object(),
            expected_version=int(version) if version.isdigit() else None,
            keep_name=form.keep_name.data, keep_pin=form.keep_pin.data,
            reason=form.reason.data or "")
    except StaleEntryError as exc:
        db.session.rollback()
        initiative = db.session.get(Initiative, initiative_id)
        if initiative is None:
            abort(404)
        form.version_id.data = str(initiative.version_id)
        return _render_link(initiative, form, query, 409, stale=str(exc))
    db.session.commit()
    school = directory().school_by_vestigingscode(code)
    if changes and school is not None:
        flash(_("De aanmelding is gekoppeld aan %(name)s (%(code)s, %(city)s).",
                name=school.name, code=school.code, city=school.city), "success")
    else:
        flash(_("De aanmelding was al aan deze school gekoppeld; er is niets veranderd."),
              "success")
    return redirect(url_for("moderation.entry", initiative_id=initiative.id,
                            _anchor="duo-school"))
