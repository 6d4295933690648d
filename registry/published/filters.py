"""The one filter: query parameters -> SQL, for live data and snapshots alike.

The list, the map, the exports, the summary, its documents, the API and the staff screens
read the same query parameters (sector, area, theme, dimension + min_level, province, phase,
q), so a filtered view can be shared as a URL and its downloads carry the same filter. Every
read path selects through ``InitiativeFilter.where`` (initiatives) and
``InitiativeFilter.obstacle_where`` (the obstacles of a matching initiative that count), on a
``registry.published.sources.Source``; there is no second implementation in Python.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, exists, or_, select
from werkzeug.datastructures import MultiDict

from registry.extensions import db
from registry.localized import localized
from registry.moderation.models import Theme
from registry.published.sources import Source
from registry.submissions.search import fold, like_pattern
from registry.taxonomy.constants import PROVINCES
from registry.taxonomy.services import Taxonomy
from registry.taxonomy.services import current as current_taxonomy

MAX_QUERY_LENGTH = 200


class FilterError(ValueError):
    """A filter parameter has a value we do not know; ``param`` names it."""

    def __init__(self, param: str, value: str):
        super().__init__(f"{param}={value!r} is not a valid value")
        self.param = param
        self.value = value


@dataclass
class InitiativeFilter:
    sector: list[str]
    area: list[str]
    province: list[str]
    phase: list[str]
    theme: list[int]
    dimension: str | None = None
    min_level: int = 1
    q: str = ""

    PARAMS = ("sector", "area", "province", "phase", "theme", "dimension", "min_level", "q")

    @classmethod
    def empty(cls) -> InitiativeFilter:
        return cls(sector=[], area=[], province=[], phase=[], theme=[])

    @classmethod
    def from_args(cls, args: MultiDict, *, strict: bool = False,
                  taxonomy: Taxonomy | None = None) -> InitiativeFilter:
        """Read filters from query parameters; codes are checked against the taxonomy.

        Unknown values are ignored (web pages) or raise FilterError (``strict``, for the API).
        Values are kept in a canonical order (sorted), so equal filters are equal objects
        and give equal cache keys and file names.
        """
        tax = taxonomy or current_taxonomy()

        def pick(name: str, allowed) -> list[str]:
            out: list[str] = []
            for raw in args.getlist(name):
                for value in (v.strip() for v in raw.split(",")):
                    if not value:
                        continue
                    if allowed is None or value in allowed:
                        if value not in out:
                            out.append(value)
                    elif strict:
                        raise FilterError(name, value)
            return sorted(out)

        theme_ids = []
        for value in pick("theme", None):
            if value.isdigit() and len(value) < 10:
                theme_ids.append(int(value))
            elif strict:
                raise FilterError("theme", value)
        dimension = (args.get("dimension") or "").strip() or None
        if dimension is not None and dimension not in tax.codes("dimensions"):
            if strict:
                raise FilterError("dimension", dimension)
            dimension = None
        raw_level = (args.get("min_level") or "").strip()
        min_level = 1
        if raw_level:
            if raw_level in {"0", "1", "2", "3"}:
                min_level = int(raw_level)
            elif strict:
                raise FilterError("min_level", raw_level)
        q = " ".join((args.get("q") or "").split())[:MAX_QUERY_LENGTH]
        return cls(
            sector=pick("sector", set(tax.codes("sectors"))),
            area=pick("area", set(tax.codes("areas"))),
            province=pick("province", set(PROVINCES)),
            phase=pick("phase", set(tax.codes("phases"))),
            theme=sorted(set(theme_ids)),
            dimension=dimension,
            min_level=min_level,
            q=q,
        )

    def is_empty(self) -> bool:
        return not (self.sector or self.area or self.province or self.phase or self.theme
                    or self.dimension or self.q)

    def to_args(self) -> dict[str, list[str] | str]:
        """Query parameters that reproduce this filter (for links, cache keys, file names)."""
        out: dict[str, list[str] | str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "min_level":
                if self.dimension and value != 1:
                    out["min_level"] = str(value)
            elif isinstance(value, list):
                if value:
                    out[f.name] = [str(v) for v in value]
            elif value:
                out[f.name] = str(value)
        return out

    def canonical(self) -> InitiativeFilter:
        """The same selection in one spelling: ``q`` folded as the search folds it (case,
        accents, spacing), ``min_level`` only with a dimension. Equal selections give equal
        canonical filters, whatever the order or spelling of the query parameters."""
        return replace(self, q=fold(self.q),
                       min_level=self.min_level if self.dimension else 1)

    def cache_key(self) -> str:
        """A string that names the selection (for caches of rendered documents)."""
        return json.dumps(self.canonical().to_args(), sort_keys=True, ensure_ascii=False)

    def describe(self) -> str:
        """A short machine-readable description, e.g. for file names and metadata (pages
        show ``words()``)."""
        parts = []
        for key, value in self.to_args().items():
            parts.append(f"{key}={'+'.join(value) if isinstance(value, list) else value}")
        return ";".join(parts) or "alle"

    def words(self, theme_titles: Mapping[int, str] | None = None) -> str:
        """The filter in words, in the interface language: "Provincie: Limburg; Sector:
        mbo", "alle initiatieven" without a filter. ``theme_titles``: titles of the filter's
        themes (looked up when not given; a theme without one is named by its number)."""
        tax = current_taxonomy()
        titles = theme_titles if theme_titles is not None else self._theme_titles()
        parts = []
        if self.province:
            parts.append(_("Provincie: %(values)s", values=", ".join(self.province)))
        if self.sector:
            parts.append(_("Sector: %(values)s",
                           values=", ".join(tax.short("sectors", c) for c in self.sector)))
        if self.area:
            parts.append(_("Gebied: %(values)s",
                           values=", ".join(tax.label("areas", c) for c in self.area)))
        if self.theme:
            parts.append(_("Thema: %(values)s", values=", ".join(
                titles.get(tid) or _("thema %(id)d", id=tid) for tid in self.theme)))
        if self.phase:
            parts.append(_("Fase: %(values)s",
                           values=", ".join(tax.label("phases", c) for c in self.phase)))
        if self.dimension:
            parts.append(_("Dimensie: %(dimension)s, niveau %(level)d of hoger (nu of als "
                           "ambitie)", dimension=tax.label("dimensions", self.dimension),
                           level=self.min_level))
        if self.q:
            parts.append(_("Zoekterm: “%(q)s”", q=self.q))
        return "; ".join(parts) or _("alle initiatieven")

    def _theme_titles(self) -> dict[int, str]:
        if not self.theme:
            return {}
        themes = db.session.scalars(select(Theme).where(Theme.id.in_(self.theme)))
        return {t.id: str(localized(t, "title")) for t in themes}

    # -- SQL -----------------------------------------------------------------------------------
    def where(self, src: Source) -> list[ColumnElement[bool]]:
        """Conditions on initiative rows of ``src`` (to be used with ``src.select_from()``
        or a statement that joins the same tables)."""
        conditions: list[ColumnElement[bool]] = []
        if self.sector:
            conditions.append(src.col("sector").in_(self.sector))
        if self.province:
            conditions.append(src.col("province").in_(self.province))
        if self.phase:
            conditions.append(src.col("phase").in_(self.phase))
        initiative_id = src.col("id")
        ob = src.obstacle.c
        if self.area:
            conditions.append(exists().where(
                ob.initiative_id == initiative_id, src.obstacle_scope(),
                ob.area_code.in_(self.area)))
        if self.theme:
            conditions.append(exists().where(
                ob.initiative_id == initiative_id, src.obstacle_scope(),
                ob.theme_id.in_(self.theme)))
        if self.dimension:
            dim = src.dimension.c
            conditions.append(exists().where(
                dim.initiative_id == initiative_id, src.dimension_scope(),
                dim.dimension_code == self.dimension,
                or_(dim.current_level >= self.min_level, dim.ambition_level >= self.min_level),
            ))
        if self.q:
            folded = fold(self.q)
            if folded:
                conditions.append(src.col("search_text").like(like_pattern(folded),
                                                               escape="\\"))
        return conditions

    def obstacle_where(self, src: Source) -> list[ColumnElement[bool]]:
        """Which obstacles of a matching initiative count: those in the filtered areas and
        themes (all of them when no area or theme is given)."""
        ob = src.obstacle.c
        conditions: list[ColumnElement[bool]] = [src.obstacle_scope()]
        if self.area:
            conditions.append(ob.area_code.in_(self.area))
        if self.theme:
            conditions.append(ob.theme_id.in_(self.theme))
        return conditions

    def select_ids(self, src: Source) -> Select[Any]:
        """The ids of the matching initiatives of ``src`` (for ``IN`` subqueries)."""
        return (select(src.col("id")).select_from(src.select_from())
                .where(src.scope, *self.where(src)))
