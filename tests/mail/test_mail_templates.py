"""Plain-text mail templates are not covered by tests/test_i18n.py (it scans *.html)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from tests.test_i18n import english_catalog

MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"


def test_every_mail_template_string_has_an_english_translation():
    english = english_catalog()
    found = {
        message: f"{filename}:{lineno}"
        for filename, lineno, message, _c, _ctx in extract_from_dir(
            str(MAIL_TEMPLATES), method_map=[("**.txt", "jinja2")],
            options_map={"**.txt": {"extensions": "jinja2.ext.i18n"}}, keywords={"_": None},
        )
    }
    assert found
    missing = {m: where for m, where in found.items() if m not in english}
    assert not missing, missing


def test_mail_templates_start_with_a_subject_line():
    for path in MAIL_TEMPLATES.glob("*.txt"):
        assert path.read_text(encoding="utf-8").startswith("Subject: "), path.name
