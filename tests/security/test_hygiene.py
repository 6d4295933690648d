"""Unit tests for the input-hygiene helpers."""
from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from wtforms import StringField

from registry.security.hygiene import (
    CleanInputMixin,
    bad_characters,
    mark_bad_characters,
    sanitize_html,
)


# chr(0xD800): a lone surrogate; ruff reads the literal "\ud800" as U+FFFD and reports a
# duplicate case (PT014)
@pytest.mark.parametrize("text", ["a\x00b", "\u202e", "\x1b", "\x7f", "\x85", "\u2066",
                                  chr(0xD800), "\ufffd", "\uffff", "\x0b"])
def test_bad_characters_are_found(text):
    assert bad_characters(text)
    assert not bad_characters(mark_bad_characters(text).replace("\ufffd", ""))


@pytest.mark.parametrize("text", ["gewone tekst", "regel 1\nregel 2\r\n\tinspringen",
                                  "🎓👩🏽‍🏫", "مدرسة \u200f", "Café", "Школа 学校"])
def test_ordinary_text_is_clean(text):
    assert bad_characters(text) == []


def test_sanitize_html_keeps_simple_markup_and_drops_the_rest():
    dirty = ('<p onclick="x()">Hoi <strong>daar</strong><script>alert(1)</script>'
             '<a href="javascript:alert(1)">a</a> <a href="https://school.nl">b</a>'
             '<img src=x onerror=alert(1)><style>body{}</style></p>')
    clean = sanitize_html(dirty)
    assert "<strong>daar</strong>" in clean
    assert "script" not in clean
    assert "onclick" not in clean
    assert "onerror" not in clean
    assert "javascript:" not in clean
    assert "<img" not in clean
    assert "<style" not in clean
    assert 'href="https://school.nl"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert sanitize_html(None) == ""


class _Form(CleanInputMixin, FlaskForm):
    class Meta:
        csrf = False

    name = StringField()


def test_mixin_flags_the_field_and_marks_the_characters(app):
    from werkzeug.datastructures import MultiDict

    with app.test_request_context(method="POST"):
        form = _Form(formdata=MultiDict({"name": "Anne\u202e de Vries\x00"}))
        assert not form.validate()
        assert "niet zijn toegestaan" in str(form.name.errors[0])
        assert form.name.data == "Anne\ufffd de Vries\ufffd"
        form = _Form(formdata=MultiDict({"name": "x" * 20_001}))
        assert not form.validate()
        assert "20000" in str(form.name.errors[0])
        assert _Form(formdata=MultiDict({"name": "Anne 🎓"})).validate()
