"""HTML- and JSON-aware error pages; rollback on server errors."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from registry.extensions import db

logger = logging.getLogger(__name__)


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def error_message(code: int) -> tuple[str, str]:
    messages = {
        400: (_("Ongeldig verzoek"), _("Het verzoek kon niet worden verwerkt.")),
        403: (_("Geen toegang"), _("U heeft geen toegang tot deze pagina.")),
        404: (_("Pagina niet gevonden"), _("Deze pagina bestaat niet (meer).")),
        405: (_("Methode niet toegestaan"), _("Deze actie is hier niet toegestaan.")),
        413: (_("Te veel gegevens"), _("Het formulier bevat te veel gegevens.")),
        429: (
            _("Te veel verzoeken"),
            _("U heeft te veel verzoeken gedaan. Wacht even en probeer het opnieuw."),
        ),
        500: (
            _("Er ging iets mis"),
            _("Er ging aan onze kant iets mis. Probeer het later opnieuw."),
        ),
    }
    return messages.get(code, (str(code), ""))


def render_error(code: int, detail: str | None = None):
    title, text = error_message(code)
    if wants_json():
        body = {"type": "about:blank", "title": title, "status": code, "detail": detail or text}
        response = jsonify(body)
        response.status_code = code
        response.mimetype = "application/problem+json"
        return response
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            _(
                "Uw sessie is verlopen of het formulier is niet geldig verstuurd. "
                "Ga terug, vernieuw de pagina en verstuur het formulier opnieuw."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        response = make_response(render_error(code))
        # Keep the headers the exception carries (Allow on 405, Retry-After on 429...).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return http_error(error)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
