"""Security headers on every response (CSP without inline script, HSTS over HTTPS, ...)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def tile_origin(url: str) -> str | None:
    """'https://{s}.tile.example.org/{z}/{x}/{y}.png' -> 'https://*.tile.example.org'."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    host = parts.netloc.replace("{s}.", "*.")
    if "{" in host or "}" in host:  # another placeholder in the host: allow the scheme only
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(app: Flask) -> str:
    img = ["'self'", "data:"]
    origin = tile_origin(app.config["MAP_TILE_URL"])
    if origin:
        img.append(origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": img,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_app(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(app))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
