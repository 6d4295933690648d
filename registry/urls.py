"""Absolute URLs under the configured BASE_URL (mail links, exports, API), also outside a
request (CLI commands, the mail worker).

Absolute URLs are never built from the request's ``Host`` header (``url_for(...,
_external=True)``, ``request.url_root``, ``request.host_url``): a response cached for one
visitor would otherwise carry whatever host an attacker sent (issue 17, item 1).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def _adapter() -> MapAdapter:
    base = urlsplit(current_app.config["BASE_URL"])
    return current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )


def absolute_url(endpoint: str, /, **values) -> str:
    """An absolute URL for ``endpoint`` under config BASE_URL. A list value becomes a
    repeated query parameter (``q=a&q=b``); None values are left out."""
    values = {k: v for k, v in values.items() if v is not None}
    return _adapter().build(endpoint, values, force_external=True)


def base_host(base_url: str) -> str | None:
    """The host name of a BASE_URL, without port (what Flask's TRUSTED_HOSTS compares)."""
    return urlsplit(base_url).hostname or None
