"""Abuse resistance for public forms: honeypot, minimum fill time, rate limits, proof of work.

Usage (see registry/submissions for a complete example)::

    class MyForm(AntiSpamMixin, FlaskForm): ...

    @bp.route("/x", methods=["GET", "POST"])
    @rate_limit("CONTACT_RATE_LIMIT", render=lambda message: rerender_with(message))
    def view(): ...

    {% include "security/_antispam_fields.html" %}   {# inside the <form> #}

Every rejection is a Dutch message on the re-rendered form, which keeps what was typed.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, make_response
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError

from registry.errors import render_error
from registry.extensions import limiter
from registry.security import pow as pow_
from registry.security.hygiene import CleanInputMixin

HONEYPOT_MESSAGE = _l(
    "Het veld 'Laat dit veld leeg' is ingevuld. Dat veld is een controle tegen spam: "
    "maak het leeg en verstuur het formulier opnieuw."
)
TOO_FAST_MESSAGE = _l(
    "Het formulier werd erg snel na het openen verstuurd; dat doen vooral spamprogramma's. "
    "Controleer uw gegevens en verstuur het formulier opnieuw."
)
POW_MESSAGE = _l(
    "De automatische controle tegen spam is niet gelukt. Wacht tot de controle klaar is "
    "(hiervoor is JavaScript nodig) en verstuur het formulier opnieuw."
)
RATE_LIMIT_MESSAGE = _l(
    "Vanaf uw internetadres zijn kort na elkaar erg veel formulieren verstuurd. Uw gegevens "
    "zijn bewaard in dit formulier, maar nog niet verstuurd. Wacht een paar minuten en "
    "verstuur het formulier dan opnieuw."
)

_SALT = "registry.form-started"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_timestamp() -> str:
    """A signed token holding the time the form was shown."""
    return _serializer().dumps(int(time.time()))


def read_timestamp(token: str | None) -> float | None:
    """The time a token was issued, or None when it is missing or tampered with."""
    if not token:
        return None
    try:
        _value, issued = _serializer().loads(token, return_timestamp=True)
    except (BadSignature, UnicodeError, ValueError, TypeError):
        return None
    return issued.timestamp()


class AntiSpamMixin(CleanInputMixin):
    """Honeypot, minimum fill time and (optional) proof of work for a public FlaskForm.

    Put it first in the bases: ``class ContactForm(AntiSpamMixin, FlaskForm)``.
    """

    # The honeypot has an attractive name for bots; humans never see it (visually hidden,
    # tabindex -1, autocomplete off, labelled "leave empty" for screen readers).
    homepage_url = StringField(_l("Laat dit veld leeg"))
    form_started = HiddenField()
    pow_solution = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.form_started.data or read_timestamp(self.form_started.data) is None:
            self.form_started.data = issue_timestamp()
        self.spam_rejected = False

    @property
    def pow_enabled(self) -> bool:
        return bool(current_app.config["POW_ENABLED"])

    def validate_homepage_url(self, field):
        if field.data:
            self.spam_rejected = True
            raise ValidationError(HONEYPOT_MESSAGE)

    def validate_form_started(self, field):
        minimum = current_app.config["MIN_FILL_SECONDS"]
        if minimum <= 0:
            return
        issued = read_timestamp((field.raw_data or [None])[0])
        if issued is None or time.time() - issued < minimum:
            self.spam_rejected = True
            if issued is None:
                field.data = issue_timestamp()
            raise ValidationError(TOO_FAST_MESSAGE)

    def validate_pow_solution(self, field):
        if not self.pow_enabled:
            return
        if not pow_.verify_solution(field.data or ""):
            self.spam_rejected = True
            field.data = ""
            raise ValidationError(POW_MESSAGE)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # The hidden fields have no visible place: show their messages at the top of the form.
        for name in ("form_started", "pow_solution"):
            for message in getattr(self, name).errors:
                self.form_errors.append(message)
            getattr(self, name).errors = []
        return valid


def _repeated_breach(config_key: str, ttl: int) -> bool:
    """True once this address has been refused more than RATE_LIMIT_RERENDER_MAX times."""
    from flask_limiter.util import get_remote_address

    maximum = int(current_app.config["RATE_LIMIT_RERENDER_MAX"])
    try:
        hits = limiter.storage.incr(f"breach/{config_key}/{get_remote_address()}", ttl)
    except Exception:  # storage unavailable: always show the form
        return False
    return hits > maximum


def rate_limit_value(config_key: str) -> Callable[[], str]:
    # An empty setting switches the limit off.
    return lambda: current_app.config[config_key] or "1000000 per day"


def rate_limit(config_key: str, render: Callable[[str], object],
               methods: tuple[str, ...] = ("POST",),
               exempt_when: Callable[[], bool] | None = None):
    """Per-IP Flask-Limiter limit read from config ``config_key`` (e.g. "5 per minute;20 per
    hour"). When it is exceeded, ``render(message)`` re-renders the form with the message; the
    response gets status 429 and a Retry-After header."""

    def on_breach(request_limit):
        try:
            retry = max(1, int(request_limit.reset_at - time.time()))
        except (TypeError, ValueError):
            retry = 60
        if _repeated_breach(config_key, retry):
            # Re-rendering a big form is costly: a client that keeps posting after being told
            # to wait (a bot) gets the short 429 page instead.
            response = make_response(render_error(429))
        else:
            response = make_response(render(str(RATE_LIMIT_MESSAGE)))
        response.status_code = 429
        response.headers["Retry-After"] = str(retry)
        return response

    def decorator(view):
        limited = limiter.limit(
            rate_limit_value(config_key), methods=list(methods), on_breach=on_breach,
            exempt_when=exempt_when,
        )(view)
        return wraps(view)(limited)

    return decorator


def add_form_error(form, message) -> None:
    form.form_errors.append(message)


def init_app(app: Flask) -> None:
    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        # A form view passes a re-rendered form (see ``rate_limit``); anything else gets the
        # generic page or problem+json.
        if error.response is not None:
            return error.response
        return render_error(429)

    pow_.init_app(app)

    @app.context_processor
    def antispam_globals():
        return {"pow_enabled": bool(app.config["POW_ENABLED"])}
