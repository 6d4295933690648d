"""The public JSON API (/api/v1): read-only, published data only, no personal data.

The URL map (every route is GET and documented in openapi.py):

    /api/v1/                      index with links
    /api/v1/openapi.json          OpenAPI 3.1 document
    /api/v1/docs                  the same, as an HTML page
    /api/v1/initiatives           published initiatives (map filters, paginated by id)
    /api/v1/initiatives/<id>      one initiative with dimensions and obstacles
    /api/v1/obstacles             obstacles of published initiatives (paginated by id)
    /api/v1/themes[/<id>]         curated themes (knelpunten) with their rules
    /api/v1/taxonomies[/<name>]   vocabularies
    /api/v1/statistics            the figures of the obstacle summary
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, json, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, NotFound

from registry.api import params, serializers, services
from registry.api.openapi import build_spec, pattern_words
from registry.api.statistics import statistics
from registry.cache import cached_page
from registry.errors import error_message
from registry.extensions import csrf, limiter
from registry.published.snapshots import source_for
from registry.taxonomy.services import current as current_taxonomy
from registry.urls import absolute_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


# One budget per IP address for the whole API (not one per route).
limiter.shared_limit(_rate_limit, scope="api")(bp)


# --- responses ---

def _json(data, status: int = 200, mimetype: str = "application/json"):
    body = json.dumps(data, ensure_ascii=False, sort_keys=False, indent=None)
    return current_app.response_class(body + "\n", status=status, mimetype=mimetype)


def problem(status: int, detail: str = "", *, type_: str = "about:blank", title: str = "",
            headers=None, **extra):
    """An RFC 9457 problem details response."""
    body = {"type": type_, "title": title or error_message(status)[0], "status": status,
            "detail": detail or error_message(status)[1], "instance": request.path, **extra}
    response = _json(body, status, "application/problem+json")
    for name, value in headers or []:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(params.InvalidParam)
def invalid_param(error: params.InvalidParam):
    return problem(
        400, _("Parameter %(name)s: %(reason)s", name=error.name, reason=error.reason),
        type_=absolute_url("api.docs") + "#problem-invalid-parameter",
        title=_("Ongeldige parameter"),
        invalid_params=[{"name": error.name, "reason": error.reason}],
    )


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException):
    return problem(error.code or 500, headers=error.get_headers())


@bp.after_app_request
def api_headers(response):
    """CORS, ETag and caching for everything under /api/ (also the app's 404/405 pages).

    ``no-cache``: a shared cache may keep a response but must revalidate it (ETag, 304) on
    every request, so a withdrawn entry is never served from it (issue 17, item 11)."""
    if not request.path.startswith("/api/"):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = (
        "ETag, Link, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.method == "OPTIONS":  # CORS preflight (e.g. a browser sending If-None-Match)
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Accept, Accept-Language, If-None-Match")
        response.headers["Access-Control-Max-Age"] = "86400"
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.headers["Cache-Control"] = "public, no-cache"
        response.vary.add("Accept-Language")
        response.add_etag()
        response.make_conditional(request)
    return response


def _page_links(endpoint: str, page: services.Page, **values) -> dict[str, str | None]:
    args: dict[str, Any] = request.args.to_dict(flat=False)
    args.pop("page", None)

    def link(number: int) -> str:
        return absolute_url(endpoint, **values, **args, page=number)

    return {
        "self": link(page.page),
        "first": link(1),
        "last": link(page.pages),
        "prev": link(min(page.page - 1, page.pages)) if page.page > 1 else None,
        "next": link(page.page + 1) if page.page < page.pages else None,
    }


def _paged(endpoint: str, page: services.Page, data: list):
    links = _page_links(endpoint, page)
    response = _json({
        "data": data,
        "meta": {"total": page.total, "page": page.page, "per_page": page.per_page,
                 "pages": page.pages},
        "links": links,
    })
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self"
    )
    return response


def _initiative_urls(initiative_id: int) -> tuple[str, str]:
    return (absolute_url("api.initiative", initiative_id=initiative_id),
            absolute_url("public.initiative", initiative_id=initiative_id))


# --- documents ---

def current_spec() -> dict:
    return build_spec(current_taxonomy(),
                      server_url=absolute_url("api.index").rstrip("/"))


@bp.route("/")
def index():
    return _json({
        "title": "Register gepersonaliseerd leren - open data API",
        "openapi": absolute_url("api.openapi"),
        "docs": absolute_url("api.docs"),
        "links": {name: absolute_url(f"api.{name}")
                  for name in ("initiatives", "obstacles", "themes", "taxonomies",
                               "statistics")},
    })


@bp.route("/openapi.json")
def openapi():
    """The machine-readable document, always in English (whatever the caller's language)."""
    with force_locale("en"):
        return _json(current_spec())


@bp.route("/docs")
def docs():
    """The same document as a page, in the interface language only."""
    return render_template("api/docs.html", spec=current_spec(),
                           openapi_url=absolute_url("api.openapi"),
                           pattern_words=pattern_words(),
                           places={"query": _("querystring"), "path": _("in het pad")})


# --- data ---

@bp.route("/initiatives")
@cached_page
def initiatives():
    args = params.parse_list(request.args, current_taxonomy())
    page = services.list_initiatives(args.flt, args.page, args.per_page)
    return _paged("api.initiatives", page, [
        serializers.initiative_summary(rec, *_initiative_urls(rec["id"])) for rec in page.items
    ])


@bp.route("/initiatives/<int:initiative_id>")
def initiative(initiative_id: int):
    rec = (services.get_initiative(initiative_id, current_taxonomy())
           if initiative_id <= params.MAX_ID else None)
    if rec is None:
        raise NotFound()
    return _json(serializers.initiative_detail(rec, *_initiative_urls(rec["id"])))


@bp.route("/obstacles")
def obstacles():
    args = params.parse_list(request.args, current_taxonomy(), obstacles=True)
    page = services.list_obstacles(args.flt, args.page, args.per_page,
                                   severity=args.severity, status=args.status)
    return _paged("api.obstacles", page, [serializers.obstacle(o) for o in page.items])


def _theme_url(theme_id: int) -> str:
    return absolute_url("api.theme", theme_id=theme_id)


@bp.route("/themes")
def themes():
    return _json({"data": [serializers.theme(t, _theme_url(t["id"]))
                           for t in services.list_themes()]})


@bp.route("/themes/<int:theme_id>")
def theme(theme_id: int):
    item = services.get_theme(theme_id) if theme_id <= params.MAX_ID else None
    if item is None:
        raise NotFound()
    return _json(serializers.theme(item, _theme_url(item["id"])))


@bp.route("/taxonomies")
def taxonomies():
    tax = current_taxonomy()
    return _json({name: services.taxonomy(name, tax) for name in services.TAXONOMY_NAMES})


@bp.route("/taxonomies/<name>")
def taxonomy(name: str):
    if name not in services.TAXONOMY_NAMES:
        raise NotFound()
    return _json({"name": name, "data": services.taxonomy(name, current_taxonomy())})


@bp.route("/statistics", endpoint="statistics")
def statistics_view():
    flt = params.parse_filter(request.args, current_taxonomy())
    src = source_for(params.parse_snapshot(request.args))
    if src is None:
        raise NotFound()
    return _json(statistics(flt, src))
