"""The summary's curated theme texts in the interface language (issue 19).

``compute_summary`` is language-neutral and cached once per data version: its theme titles,
descriptions, asks and rules are the Dutch texts the moderators curate. What a reader sees
(the page, the DOCX, PDF and XLSX) goes through ``localize``: a copy in which each of those
texts is ``registry.localized.localized`` of its theme (the English text in the English
interface when the moderator wrote one, else the Dutch text, which knows it is Dutch so the
templates mark it ``lang="nl"``). The API's statistics keep the neutral summary; the English
texts are in /api/v1/themes.
"""
from __future__ import annotations

from typing import Any

from registry.localized import LocalText, as_language, localized
from registry.published.filters import InitiativeFilter
from registry.summary.labels import filter_words


def _rule(rule: dict[str, Any], english: dict[str, Any] | None) -> dict[str, Any]:
    source = english if english is not None else rule
    return {**rule, "title": localized(source, "title"),
            "existing_room": localized(source, "existing_room")}


def _rules(rules: list[dict[str, Any]], theme: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rules of a theme row, with the theme record's rule at the same position (the
    record carries the English texts; the rows copy its rules in order)."""
    known = theme["rules"] if theme is not None else []
    return [_rule(r, known[i] if i < len(known) and known[i]["title"] == r["title"] else None)
            for i, r in enumerate(rules)]


def _title(item: dict[str, Any], themes: dict[int, dict[str, Any]], key: str = "id"
           ) -> LocalText | None:
    theme = themes.get(item.get(key))  # type: ignore[arg-type]
    if item.get("title") is None:
        return None
    return localized(theme, "title") if theme is not None else as_language(item["title"])


def localize(summary: dict[str, Any], themes: list[dict[str, Any]],
             flt: InitiativeFilter) -> dict[str, Any]:
    """A copy of ``summary`` with its curated theme texts in the interface language.

    ``themes``: the theme records of the summary's source (``records.themes``), which carry
    the optional English texts (a snapshot has none: its Dutch texts are shown)."""
    by_id = {t["id"]: t for t in themes}
    out = dict(summary)

    def theme_row(row: dict[str, Any]) -> dict[str, Any]:
        theme = by_id.get(row["id"])
        source = theme if theme is not None else row
        new = {**row, "title": localized(source, "title")}
        if "description" in row:
            new["description"] = localized(source, "description")
        if "problem" in row:
            new["problem"] = localized(source, "description")
        if "ask" in row:
            new["ask"] = localized(source, "ask")
        if "rules" in row:
            new["rules"] = _rules(row["rules"], theme)
        return new

    out["themes"] = [theme_row(t) for t in summary["themes"]]
    key = summary["key_message"]
    out["key_message"] = {**key, "themes": [theme_row(t) for t in key["themes"]],
                          "new_themes": [theme_row(t) for t in key["new_themes"]]}
    out["changes"] = {**summary["changes"],
                      "new_themes": [theme_row(t) for t in summary["changes"]["new_themes"]]}
    if "policy_asks" in summary:
        out["policy_asks"] = [{**group, "title": _title(group, by_id, "theme_id")}
                              for group in summary["policy_asks"]]
    national = summary["national"]
    out["national"] = {**national, "rows": [
        {**row, "title": _title(row, by_id, "theme_id")} if row.get("theme_id") else row
        for row in national["rows"]]}
    titles = {tid: localized(by_id[tid], "title") for tid in flt.theme if tid in by_id}
    out["meta"] = {**summary["meta"], "filter_words": filter_words(flt, titles)}
    return out
