"""Security: response headers, input hygiene, abuse resistance, backups.

``init_app(app)`` is called from the app factory.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from registry.security import antispam, cli, headers, hygiene


def init_app(app: Flask) -> None:
    proxies = int(app.config["PROXY_FIX_X_FOR"])
    if proxies > 0:
        # Behind N trusted reverse proxies: the client address (rate limits) and HTTPS (HSTS,
        # secure cookies) come from X-Forwarded-For / X-Forwarded-Proto. (Wrapping wsgi_app is
        # how Flask adds WSGI middleware; mypy sees it as assigning to a method.)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    headers.init_app(app)
    hygiene.init_app(app)
    antispam.init_app(app)
    cli.register(app)
