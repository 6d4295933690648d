"""Curated texts that exist in Dutch and optionally in English (issue 19).

A theme's title, description and ask, and a rule's title and existing room, are written in
Dutch by a moderator, with an optional English version in ``<field>_en`` (``Theme.title_en``,
``ThemeRule.existing_room_en``; the theme records of ``registry.published`` carry the same
keys). Everything that shows such a text (pages, documents, the pilot dossier, exports) asks
``localized(item, "title")``: the English text in the English interface when there is one,
otherwise the Dutch text. The result is a ``str`` that knows its language, so a template
marks a Dutch fallback in the English interface with ``lang="nl"``:

    {{ localized(theme, "title")|lang_span }}        <span lang="nl">...</span> or the text
    <p{{ localized(theme, "ask")|lang_attr }}>...    ' lang="nl"' or nothing

User content that is only ever Dutch (reports, workarounds, school names) uses
``lang_attr``/``lang_span`` with the text's language too (``as_language(text, "nl")``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from registry.taxonomy.services import english

# The texts that have an optional English version, per kind of item.
THEME_FIELDS: tuple[str, ...] = ("title", "description", "ask")
RULE_FIELDS: tuple[str, ...] = ("title", "existing_room")


class LocalText(str):
    """A text with the language it is written in (``lang``: "nl" or "en")."""

    lang: str

    def __new__(cls, text: str, lang: str) -> LocalText:
        obj = super().__new__(cls, text)
        obj.lang = lang
        return obj


def interface_language() -> str:
    return "en" if english() else "nl"


def _value(item: Any, name: str) -> str:
    if isinstance(item, Mapping):
        value = item.get(name)
    else:
        value = getattr(item, name, None)
    return value or ""


def localized(item: Any, field: str) -> LocalText:
    """``item``'s ``field`` in the interface language: its ``<field>_en`` in the English
    interface when that is filled in, otherwise the Dutch ``field``. ``item``: an ORM object
    or a record dict."""
    if english():
        text = _value(item, f"{field}_en").strip()
        if text:
            return LocalText(text, "en")
    return LocalText(_value(item, field), "nl")


def as_language(text: str | None, lang: str = "nl") -> LocalText:
    """A text known to be written in ``lang`` (user content without a translation)."""
    return LocalText(text or "", lang)


def text_language(text: Any) -> str:
    """The language of ``text``: a LocalText's own, the interface language otherwise."""
    return getattr(text, "lang", None) or interface_language()


def lang_attr(text: Any) -> Markup:
    """`` lang="nl"`` when ``text`` is in another language than the interface, else ''."""
    lang = text_language(text)
    if lang == interface_language():
        return Markup("")
    return Markup(' lang="%s"') % lang


def lang_span(text: Any) -> Markup:
    """The text, escaped, in a ``<span lang=..>`` when it is in another language than the
    interface (a Dutch fallback in the English interface)."""
    attr = lang_attr(text)
    if not attr:
        return escape(text)
    return Markup("<span%s>%s</span>") % (attr, text)


def mark_parts(text: Any, parts: Any) -> Markup:
    """``text`` (a sentence of the interface, e.g. the filter in words) escaped, with each of
    ``parts`` in it that is in another language than the interface in a ``<span lang=..>``:
    a Dutch theme title in an English sentence."""
    marked = {str(escape(p)): lang_span(p) for p in parts if p and lang_attr(p)}
    escaped = str(escape(text))
    if not marked:
        return Markup(escaped)  # noqa: S704 - escaped above
    pattern = re.compile("|".join(re.escape(k) for k in sorted(marked, key=len, reverse=True)))
    return Markup(pattern.sub(lambda m: str(marked[m.group()]), escaped))  # noqa: S704


def english_texts(item: Any, fields: tuple[str, ...]) -> dict[str, str]:
    """The ``<field>_en`` values of ``item`` ("" when absent): to carry them along when a
    record is copied into another shape (summary rows, dossiers)."""
    return {f"{name}_en": _value(item, f"{name}_en") for name in fields}


def missing_english(theme: Any) -> bool:
    """Whether a theme (ORM object or record) has a Dutch text without its English version,
    among its own texts and its rules' (the staff theme page says so)."""
    items: list[tuple[Any, tuple[str, ...]]] = [(theme, THEME_FIELDS)]
    items += [(rule, RULE_FIELDS) for rule in _rules_of(theme)]
    return any(_value(item, name).strip() and not _value(item, f"{name}_en").strip()
               for item, fields in items for name in fields)


def _rules_of(theme: Any) -> list[Any]:
    if isinstance(theme, Mapping):
        return list(theme.get("rules") or [])
    return list(getattr(theme, "rules", None) or [])


# Word's language codes of the texts (w:lang): proofing and read-aloud in the right language.
DOCX_LANGUAGES = {"nl": "nl-NL", "en": "en-GB"}


def docx_language(block: Any, text: Any) -> Any:
    """Mark a python-docx paragraph, heading or run with ``text``'s language when it is not
    the interface language (a Dutch fallback in an English document). Returns ``block``."""
    lang = text_language(text)
    if lang == interface_language():
        return block
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for run in getattr(block, "runs", [block]):
        mark = OxmlElement("w:lang")
        mark.set(qn("w:val"), DOCX_LANGUAGES.get(lang, lang))
        run._r.get_or_add_rPr().append(mark)
    return block
