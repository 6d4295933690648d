"""Compile the translation catalogues (``python -m registry.i18n compile``).

Every domain keeps its strings in ``registry/<domain>/translations/en/LC_MESSAGES/messages.po``
(or ``registry/translations/...``); Flask-Babel merges all of them at run time.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parent


def catalog_files() -> list[Path]:
    return sorted(PACKAGE.rglob("translations/*/LC_MESSAGES/*.po"))


def compile_all() -> int:
    count = 0
    for po_path in catalog_files():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog)
        count += 1
    return count


if __name__ == "__main__":
    if sys.argv[1:] != ["compile"]:
        sys.exit("usage: python -m registry.i18n compile")
    compiled = compile_all()
    if compiled:
        print(f"Compiled {compiled} translation catalogue(s).")
