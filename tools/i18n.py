"""Developer helper for translations.

    python tools/i18n.py missing              # list untranslated msgids as JSON (msgid -> where)
    python tools/i18n.py add FILE.po JSON     # append {"msgid": "translation", ...} to FILE.po

Plural entries: give the translation as a list [singular, plural] and the msgid as
"singular|plural".
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from babel.messages.pofile import read_po, write_po  # noqa: E402

from tests.test_i18n import english_catalog, extracted_messages  # noqa: E402


def missing() -> None:
    english = english_catalog()
    out = {m: w for m, w in extracted_messages().items() if m not in english}
    print(json.dumps(out, ensure_ascii=False, indent=1))


def add(po_file: str, json_file: str) -> None:
    path = Path(po_file)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="en")
    else:
        from babel.messages.catalog import Catalog

        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale="en")
    entries = json.loads(Path(json_file).read_text(encoding="utf-8"))
    for msgid, translation in entries.items():
        if isinstance(translation, list):
            singular, plural = msgid.split("|", 1)
            catalog.add((singular, plural), tuple(translation))
        else:
            catalog.add(msgid, translation)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["missing"]:
        missing()
    elif sys.argv[1:2] == ["add"] and len(sys.argv) == 4:
        add(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
