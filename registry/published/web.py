"""Request helpers shared by the views that read published data (list, map, exports,
summary, API): the filter and the source named in the query string, who sees exact figures,
and the public link of an initiative."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, request, url_for
from flask_login import current_user

from registry.published.filters import InitiativeFilter
from registry.published.snapshots import source_for
from registry.published.sources import Source


def current_filter(*, strict: bool = False) -> InitiativeFilter:
    """The filter in the query string (unknown values ignored, or refused when ``strict``)."""
    return InitiativeFilter.from_args(request.args, strict=strict)


def current_source() -> Source:
    """Live data, or the snapshot named in ``?snapshot=`` (404 when it does not exist)."""
    source = source_for((request.args.get("snapshot") or "").strip())
    if source is None:
        abort(404)
    return source


def sees_exact_figures() -> bool:
    """Advisors and up see exact figures; the public sees small numbers suppressed."""
    return bool(current_user.is_authenticated and current_user.has_role("advisor"))


def detail_link() -> Callable[[int], str]:
    """``initiative id -> absolute URL of its public page`` under BASE_URL."""
    base = current_app.config["BASE_URL"].rstrip("/")
    prefix = url_for("public.initiative", initiative_id=0)[:-1]
    return lambda initiative_id: f"{base}{prefix}{initiative_id}"
