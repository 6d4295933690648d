"""The filters shared by the list, the map, the exports, the summary and the API.

All of them take the same query parameters, so a filtered view can be shared as a URL and
its export links carry the same filter.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import Select, and_, exists, or_, select
from werkzeug.datastructures import MultiDict

from registry.submissions.models import Initiative, InitiativeDimension, Obstacle, Organisation
from registry.taxonomy import constants
from registry.taxonomy.constants import InitiativeState


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
                  areas: set[str] | None = None, dimensions: set[str] | None = None
                  ) -> InitiativeFilter:
        """Read filters from query parameters.

        Unknown values are ignored (web pages) or raise FilterError (``strict``, for the API).
        """
        def pick(name: str, allowed) -> list[str]:
            out = []
            for raw in args.getlist(name):
                for value in (v.strip() for v in raw.split(",")):
                    if not value:
                        continue
                    if allowed is None or value in allowed:
                        if value not in out:
                            out.append(value)
                    elif strict:
                        raise FilterError(name, value)
            return out

        theme_ids = []
        for value in pick("theme", None):
            if value.isdigit() and len(value) < 10:
                theme_ids.append(int(value))
            elif strict:
                raise FilterError("theme", value)
        dimension = (args.get("dimension") or "").strip() or None
        if dimension is not None and dimensions is not None and dimension not in dimensions:
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
        q = (args.get("q") or "").strip()[:200]
        return cls(
            sector=pick("sector", set(constants.SECTORS)),
            area=pick("area", areas),
            province=pick("province", set(constants.PROVINCES)),
            phase=pick("phase", set(constants.PHASES)),
            theme=theme_ids,
            dimension=dimension,
            min_level=min_level,
            q=q,
        )

    def is_empty(self) -> bool:
        return not (self.sector or self.area or self.province or self.phase or self.theme
                    or self.dimension or self.q)

    def to_args(self) -> dict[str, list[str] | str]:
        """Query parameters that reproduce this filter (for links and file names)."""
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

    def describe(self) -> str:
        """A short human-readable description, e.g. for file names and metadata."""
        parts = []
        for key, value in self.to_args().items():
            parts.append(f"{key}={'+'.join(value) if isinstance(value, list) else value}")
        return ";".join(parts) or "alle"

    def apply(self, stmt: Select, *, published_only: bool = True) -> Select:
        """Restrict a select that includes Initiative (joined to Organisation when needed)."""
        if published_only:
            stmt = stmt.where(Initiative.state == InitiativeState.PUBLISHED)
        needs_org = bool(self.sector or self.province or self.q)
        if needs_org:
            stmt = stmt.where(Initiative.organisation_id == Organisation.id)
        if self.sector:
            stmt = stmt.where(Organisation.sector.in_(self.sector))
        if self.province:
            stmt = stmt.where(Organisation.province.in_(self.province))
        if self.phase:
            stmt = stmt.where(Initiative.phase.in_(self.phase))
        if self.area:
            stmt = stmt.where(exists().where(
                Obstacle.initiative_id == Initiative.id, Obstacle.area_code.in_(self.area)
            ))
        if self.theme:
            stmt = self._apply_theme(stmt)
        if self.dimension:
            stmt = stmt.where(exists().where(
                InitiativeDimension.initiative_id == Initiative.id,
                InitiativeDimension.dimension_code == self.dimension,
                or_(InitiativeDimension.current_level >= self.min_level,
                    InitiativeDimension.ambition_level >= self.min_level),
            ))
        if self.q:
            like = f"%{_escape_like(self.q)}%"
            stmt = stmt.where(or_(
                Initiative.title.ilike(like, escape="\\"),
                Initiative.summary.ilike(like, escape="\\"),
                Organisation.name.ilike(like, escape="\\"),
                Organisation.city.ilike(like, escape="\\"),
                exists().where(and_(Obstacle.initiative_id == Initiative.id,
                                    Obstacle.title.ilike(like, escape="\\"))),
            ))
        return stmt

    def _apply_theme(self, stmt: Select) -> Select:
        """Theme filter; themes live in the moderation domain (obstacle.theme_id)."""
        theme_col = getattr(Obstacle, "theme_id", None)
        if theme_col is None:
            return stmt.where(False)
        return stmt.where(exists().where(
            Obstacle.initiative_id == Initiative.id, theme_col.in_(self.theme)
        ))

    def initiative_ids(self) -> Select:
        """A select of the ids of matching initiatives (for use in subqueries)."""
        return self.apply(select(Initiative.id))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
