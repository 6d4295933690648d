"""Strict reading of API query parameters: anything unknown is a 400, never ignored silently."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from registry.published.filters import FilterError, InitiativeFilter
from registry.taxonomy import constants
from registry.taxonomy.services import Taxonomy

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_Q = 200
MAX_PAGE = 100_000
MAX_THEME_ID = 999_999_999
MAX_ID = 2_147_483_647  # 32-bit integer columns

LIST_PARAMS = ("sector", "area", "province", "phase", "theme")
_INT = re.compile(r"[0-9]{1,9}")


@dataclass
class InvalidParam(Exception):
    """One query parameter with a value the API does not accept."""

    name: str
    reason: str


@dataclass
class ListArgs:
    flt: InitiativeFilter
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    severity: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)


def _int(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    values = args.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise InvalidParam(name, _("Geef deze parameter maar één keer mee."))
    raw = values[0]
    if not _INT.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidParam(name, _("Verwacht een geheel getal van %(low)d tot en met %(high)d.",
                                   low=low, high=high))
    return int(raw)


def _exact(args: MultiDict, name: str, allowed: set[str]) -> None:
    """Each value must be one known code (repeat the parameter for several values)."""
    for raw in args.getlist(name):
        if raw not in allowed:
            raise InvalidParam(name, _("Onbekende waarde %(value)r.", value=raw[:50]))


def _single(args: MultiDict, name: str) -> None:
    if len(args.getlist(name)) > 1:
        raise InvalidParam(name, _("Geef deze parameter maar één keer mee."))


def parse_filter(args: MultiDict, taxonomy: Taxonomy) -> InitiativeFilter:
    """The shared initiative filter, read strictly (as documented in the OpenAPI document)."""
    for name, values in args.lists():
        if any("\x00" in v for v in values):
            raise InvalidParam(name, _("Ongeldig teken in de waarde."))
    _exact(args, "sector", set(taxonomy.codes("sectors")))
    _exact(args, "area", set(taxonomy.codes("areas")))
    _exact(args, "province", set(constants.PROVINCES))
    _exact(args, "phase", set(taxonomy.codes("phases")))
    for raw in args.getlist("theme"):
        if not _INT.fullmatch(raw) or not 1 <= int(raw) <= MAX_THEME_ID:
            raise InvalidParam("theme", _("Verwacht het nummer van een thema."))
    for name in ("dimension", "min_level", "q"):
        _single(args, name)
    if "dimension" in args:
        _exact(args, "dimension", set(taxonomy.codes("dimensions")))
    if "min_level" in args:
        _int(args, "min_level", 1, 0, 3)
    if len(args.get("q", "")) > MAX_Q:
        raise InvalidParam("q", _("Gebruik maximaal %(max)d tekens.", max=MAX_Q))
    try:
        return InitiativeFilter.from_args(args, strict=True, taxonomy=taxonomy)
    except FilterError as error:  # pragma: no cover - the checks above are stricter
        raise InvalidParam(error.param, _("Onbekende waarde %(value)r.",
                                          value=error.value[:50])) from error


def parse_list(args: MultiDict, taxonomy: Taxonomy, *, obstacles: bool = False) -> ListArgs:
    flt = parse_filter(args, taxonomy)
    out = ListArgs(
        flt=flt,
        page=_int(args, "page", 1, 1, MAX_PAGE),
        per_page=_int(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
    )
    if obstacles:
        _exact(args, "severity", {str(k) for k in constants.SEVERITIES})
        _exact(args, "status", set(constants.OBSTACLE_STATUSES))
        out.severity = sorted({int(v) for v in args.getlist("severity")})
        out.status = list(dict.fromkeys(args.getlist("status")))
    return out


def parse_snapshot(args: MultiDict) -> str | None:
    _single(args, "snapshot")
    value = args.get("snapshot")
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[a-z]{1,3}", value):
        raise InvalidParam("snapshot", _("Onbekende momentopname."))
    return value
