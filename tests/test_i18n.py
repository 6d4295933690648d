"""Every user-facing string has an English translation (Dutch is the source language)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from registry.i18n import catalog_files

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [("registry", [("**.py", "python")], {}),
           ("templates", [("**.html", "jinja2")], {"**.html": {"extensions": "jinja2.ext.i18n"}})]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2)}


def english_catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in catalog_files():
        if "/en/" not in str(path):
            continue
        with path.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    merged[key] = message.string if isinstance(message.string, str) \
                        else message.string[0]
    return merged


def extracted_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder, method_map, options in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), method_map=method_map, options_map=options, keywords=KEYWORDS,
            directory_filter=lambda path: not Path(path).name.startswith((".", "__pycache__")),
        ):
            key = message if isinstance(message, str) else message[0]
            found.setdefault(key, f"{folder}/{filename}:{lineno}")
    return found


def test_every_string_has_an_english_translation():
    english = english_catalog()
    missing = {msg: where for msg, where in extracted_messages().items() if msg not in english}
    assert not missing, "Untranslated strings:\n" + "\n".join(
        f"{where}: {msg!r}" for msg, where in sorted(missing.items(), key=lambda x: x[1])
    )
