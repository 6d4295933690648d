"""Input hygiene: forbidden characters, a length safety net, HTML sanitising.

* ``bad_characters(text)`` finds control characters, bidirectional overrides, lone surrogates,
  the replacement character (what invalid UTF-8 decodes to) and non-characters.
* ``CleanInputMixin`` for WTForms forms: every text field (also in nested forms and lists) is
  checked; offending fields get a Dutch message and the page re-renders with what was typed
  (the bad characters shown as U+FFFD so the user can find them).
* Query strings with such characters, or with TAB, CR or LF, are refused with 400 before any
  view runs (they would otherwise reach the database, where PostgreSQL refuses NUL in text,
  or a response header such as a redirect's Location).
* ``sanitize_html`` (nh3) for any rich text that is ever rendered as markup.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import nh3
from flask import Flask, Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import SecurityError
from wtforms import Form
from wtforms.fields import FieldList, FormField

from registry.errors import render_error

# C0 controls except TAB, LF, CR; DEL and C1 controls; bidi embeddings/overrides/isolates;
# lone surrogates; U+FFFD; the non-characters U+FFFE/U+FFFF and U+FDD0-U+FDEF.
_BAD = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffd\ufffe\uffff\ufdd0-\ufdef]"
)
REPLACEMENT = "\ufffd"

BAD_CHARACTERS_MESSAGE = _l(
    "Dit veld bevat tekens die niet zijn toegestaan, zoals besturingstekens of tekens die de "
    "leesrichting omdraaien. Ze zijn gemarkeerd met \ufffd. Verwijder ze en verstuur het "
    "formulier opnieuw."
)
TOO_LONG_MESSAGE = _l("Gebruik maximaal %(max)d tekens.")


def bad_characters(text: str) -> list[str]:
    """The forbidden characters in ``text`` (empty list when the text is clean)."""
    return _BAD.findall(text) if isinstance(text, str) else []


def mark_bad_characters(text: str) -> str:
    """Replace every forbidden character by U+FFFD (safe to render and encode)."""
    return _BAD.sub(REPLACEMENT, text)


def _text_fields(form: Form):
    for field in form:
        if isinstance(field, FormField):
            yield from _text_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from _text_fields(entry.form)
                else:
                    yield entry
        else:
            yield field


if TYPE_CHECKING:
    # To the type checker a form mixin extends what it is mixed into, so that super() and the
    # form's attributes are known; at run time it stays a plain mixin.
    from wtforms.meta import DefaultMeta

    _FormBase = Form
    _MetaBase = DefaultMeta
else:
    _FormBase = _MetaBase = object


class CleanInputMixin(_FormBase):
    """Reject forbidden characters and absurdly long values in every field of a form.

    Put it before the form base class: ``class MyForm(CleanInputMixin, FlaskForm)``.
    ``max_field_length`` is the safety net for fields without their own Length validator.
    """

    max_field_length = 20_000

    class Meta(_MetaBase):
        def wrap_formdata(self, form, formdata):
            """Only real form bodies: Flask-WTF would also read a JSON body as form data, whose
            numbers, lists and nulls crash text validators. A JSON post counts as empty."""
            from flask_wtf.form import _Auto

            if formdata is _Auto and request.is_json and not request.form:
                from werkzeug.datastructures import ImmutableMultiDict

                return ImmutableMultiDict()
            return super().wrap_formdata(form, formdata)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_input_hygiene() and valid

    def check_input_hygiene(self) -> bool:
        clean = True
        for field in _text_fields(self):
            raw = field.raw_data or []
            values = [v for v in raw if isinstance(v, str)]
            if isinstance(field.data, str):
                values.append(field.data)
            if any(bad_characters(v) for v in values):
                clean = False
                if isinstance(field.data, str):
                    field.data = mark_bad_characters(field.data)
                if field.raw_data:
                    field.raw_data = [
                        mark_bad_characters(v) if isinstance(v, str) else v
                        for v in field.raw_data
                    ]
                _replace_errors(field, BAD_CHARACTERS_MESSAGE)
            elif any(len(v) > self.max_field_length for v in values):
                clean = False
                _replace_errors(field, TOO_LONG_MESSAGE % {"max": self.max_field_length})
        return clean


def _replace_errors(field, message) -> None:
    """Show our message first (it explains the real problem), keep other messages after it."""
    errors = list(field.errors) if isinstance(field.errors, (list, tuple)) else []
    field.errors = [message] + [e for e in errors if e != message]


# --- rich text -----------------------------------------------------------------------------
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitize_html(html: str) -> str:
    """Clean user-supplied HTML: a small set of tags, http(s)/mailto links only, no scripts,
    no styles, no event handlers. Links get rel="noopener noreferrer nofollow"."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


# --- query strings ---------------------------------------------------------------------------
# In a query string no control character is ordinary text: besides what forms refuse, also
# TAB, LF and CR (a CR/LF in ?next= once reached a Location header and gave a 500).
_BAD_IN_QUERY = re.compile(f"[\t\n\r]|{_BAD.pattern}")


def bad_query_characters(text: str) -> list[str]:
    """The characters ``text`` may not have in a query parameter name or value."""
    return _BAD_IN_QUERY.findall(text) if isinstance(text, str) else []


def _bad_query() -> bool:
    for key, values in request.args.lists():
        if bad_query_characters(key) or any(bad_query_characters(v) for v in values):
            return True
    return False


# --- hosts ---------------------------------------------------------------------------------------
# Flask refuses a Host header outside TRUSTED_HOSTS (production: the host of BASE_URL, see
# registry._check_production_safety) with werkzeug's SecurityError. Such a request has no URL
# adapter, so nothing may build a URL for it, not even the error page: it gets a plain 400
# before any other before-request function runs.
UNTRUSTED_HOST_TEXT = (
    "400 Bad Request: unknown host name.\n"
    "Onbekende hostnaam: gebruik het adres van het register.\n"
)


def untrusted_host_response() -> Response:
    return Response(UNTRUSTED_HOST_TEXT, status=400, mimetype="text/plain",
                    headers={"Cache-Control": "no-store"})


def _refuse_untrusted_host():
    if isinstance(request.routing_exception, SecurityError):
        return untrusted_host_response()
    return None


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)

    @app.errorhandler(SecurityError)
    def untrusted_host(_error: SecurityError):
        return untrusted_host_response()

    @app.before_request
    def limit_urlencoded_fields():
        """Werkzeug limits the number of parts of a multipart body (MAX_FORM_PARTS); apply the
        same limit to url-encoded bodies, where thousands of tiny fields cost a lot of work."""
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype == (
            "application/x-www-form-urlencoded"
        ):
            from werkzeug.exceptions import RequestEntityTooLarge

            limit = app.config["MAX_FORM_PARTS"]
            if sum(len(values) for values in request.form.listvalues()) > limit:
                raise RequestEntityTooLarge()
        return None

    @app.before_request
    def refuse_bad_query_strings():
        if request.args and _bad_query():
            return render_error(400, _(
                "Het webadres bevat tekens die niet zijn toegestaan (zoals besturingstekens). "
                "Pas het adres aan en probeer het opnieuw."
            ))
        return None
