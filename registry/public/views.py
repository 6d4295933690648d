"""Public pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from registry.cache import cached_page
from registry.public import services
from registry.published.web import current_filter

bp = Blueprint("public", __name__)


@bp.route("/")
@cached_page
def home():
    return render_template("public/home.html", counts=services.site_counts())


@bp.route("/initiatieven")
@cached_page
def initiatives():
    flt = current_filter()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    pagination = services.list_published(flt, page=page)
    counts = services.area_counts([i.id for i in pagination.items])
    return render_template("public/list.html", pagination=pagination, counts=counts, flt=flt)


@bp.route("/initiatieven/<int:initiative_id>")
@cached_page(lag="DETAIL_PAGE_LAG_SECONDS")
def initiative(initiative_id: int):
    item = services.get_published(initiative_id)
    if item is None:
        abort(404)
    return render_template("public/detail.html", initiative=item,
                           obstacles=services.public_obstacles(item),
                           contact_name=services.public_contact_name(item.id))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the SVG icon, cached a day."""
    response = current_app.send_static_file("favicon.svg")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.route("/privacy")
def privacy():
    return render_template("public/privacy.html")


@bp.route("/over")
def about():
    return render_template("public/about.html")


@bp.route("/toegankelijkheid")
def accessibility():
    """Accessibility statement (Dutch public-sector model: status, tests, limits, contact)."""
    return render_template(
        "public/accessibility.html",
        contact_email=current_app.config["ACCESSIBILITY_CONTACT_EMAIL"]
        or "toegankelijkheid@example.org",
    )


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after switching language (no open redirect)."""
    if not target:
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("public.home")
    return target


@bp.route("/taal/<lang>")
def set_language(lang: str):
    """Remember the interface language in the session and go back to where the user was."""
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_safe_next(request.args.get("next")))
