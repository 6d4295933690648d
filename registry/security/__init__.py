"""Security: response headers, input hygiene, abuse resistance, backups.

``init_app(app)`` is called from the app factory.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from registry.security import antispam, cli, headers, hygiene

    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies > 0:
        # Behind N trusted reverse proxies: the client address (rate limits) and HTTPS (HSTS,
        # secure cookies) come from X-Forwarded-For / X-Forwarded-Proto.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    headers.init_app(app)
    hygiene.init_app(app)
    antispam.init_app(app)
    cli.register(app)
