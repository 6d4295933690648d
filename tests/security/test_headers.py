"""Security headers on every route, HSTS only over HTTPS, production refuses the default key."""
from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from config import DEFAULT_SECRET_KEY
from registry import create_app
from registry.cache import clear_page_caches


def _url_for_rule(rule: Rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.lower().replace("converter", "")
        if kind == "any":
            values[name] = sorted(converter.items)[0]
        elif kind in ("integer", "int", "float"):
            values[name] = 1
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def all_get_urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint == "static":
            urls.append("/static/css/app.css")
            continue
        urls.append(_url_for_rule(rule))
    return sorted(set(urls))


def assert_security_headers(response, path: str) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp, path
    assert "'unsafe-inline'" not in csp, path
    assert "style-src 'self'" in csp, path
    assert "frame-ancestors 'none'" in csp, path
    assert "base-uri 'self'" in csp, path
    assert "form-action 'self'" in csp, path
    assert "object-src 'none'" in csp, path
    assert h.get("X-Content-Type-Options") == "nosniff", path
    # pages with secret tokens in the URL may set the stricter no-referrer themselves
    assert h.get("Referrer-Policy") in {
        "strict-origin-when-cross-origin", "same-origin", "no-referrer"}, path
    assert "camera=()" in h.get("Permissions-Policy", ""), path
    assert h.get("X-Frame-Options") == "DENY", path


def test_every_route_sends_the_security_headers(app, client):
    urls = all_get_urls(app)
    assert "/aanmelden" in urls
    assert len(urls) > 5
    server_errors = []
    for path in urls:
        response = client.get(path, buffered=True)  # streamed exports read in their context
        if response.status_code >= 500:
            server_errors.append(path)
        assert_security_headers(response, path)
        assert "Strict-Transport-Security" not in response.headers, path
        response.close()
    assert not server_errors


def test_error_pages_and_posts_also_have_headers(client):
    for response in (client.get("/bestaat-niet"), client.post("/aanmelden", data={}),
                     client.delete("/aanmelden")):
        assert_security_headers(response, "error")


def test_hsts_only_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_hsts_behind_a_trusted_proxy(app):
    proxied = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         PROXY_FIX_X_FOR=1)
    client = proxied.test_client()
    response = client.get("/privacy", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    # without the proxy setting the header is not trusted
    plain = app.test_client().get("/privacy", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers


def test_csp_allows_the_configured_tile_host(client, app):
    app.config["MAP_TILE_URL"] = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    clear_page_caches(app)  # settings are read at start-up in production
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tile.example.org" in csp
    app.config["MAP_TILE_URL"] = ""
    clear_page_caches(app)
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp


def test_pages_have_no_inline_script_or_style(client):
    import re

    for path in ("/", "/aanmelden", "/initiatieven", "/privacy", "/over"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.delenv("REGISTRY_CONFIG", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=DEFAULT_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY="")
    monkeypatch.setenv("REGISTRY_CONFIG", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(SECRET_KEY=DEFAULT_SECRET_KEY)


def test_production_starts_with_a_real_key_and_secure_cookies(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app("production", SECRET_KEY="a-long-random-value-" * 3,
                     SQLALCHEMY_DATABASE_URI="sqlite://", RATELIMIT_ALLOW_MEMORY=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
