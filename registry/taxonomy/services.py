"""The taxonomy as read by every read path: form choices, filters, exports, the summary, the
API, labels and charts.

The rows live in the tables of ``registry.taxonomy.models`` (seeded by migrations, changed by
migrations or an administrator). ``current()`` reads all four tables in one query and keeps
the result per process for as long as the public data version (``registry.cache``) is
unchanged; a taxonomy change is a public change, so it is seen on the next request in every
worker.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app, g
from flask_babel import get_locale
from sqlalchemy import literal, select, union_all

from registry.cache import has_pending_public_changes, public_data_version
from registry.extensions import db
from registry.taxonomy.models import Dimension, ObstacleArea, Phase, Sector

KINDS = ("areas", "dimensions", "sectors", "phases")


def english() -> bool:
    """Whether the interface language is English (Dutch outside a request)."""
    try:
        return str(get_locale() or "nl").startswith("en")
    except RuntimeError:  # no application or request context
        return False


@dataclass(frozen=True)
class Term:
    """One code of a vocabulary with its Dutch and English texts."""

    code: str
    label_nl: str
    label_en: str
    description_nl: str = ""
    description_en: str = ""
    short_nl: str = ""
    short_en: str = ""

    @property
    def label(self) -> str:
        """The label in the interface language."""
        return self.label_en if english() else self.label_nl

    @property
    def short(self) -> str:
        """The short label (sectors; the label for the other vocabularies)."""
        if english():
            return self.short_en or self.label_en
        return self.short_nl or self.label_nl

    @property
    def description(self) -> str:
        return self.description_en if english() else self.description_nl


@dataclass(frozen=True)
class Taxonomy:
    """The four vocabularies, each in its display order."""

    areas: tuple[Term, ...]
    dimensions: tuple[Term, ...]
    sectors: tuple[Term, ...]
    phases: tuple[Term, ...]
    _index: dict[tuple[str, str], Term] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for kind in KINDS:
            for term in getattr(self, kind):
                self._index[(kind, term.code)] = term

    def codes(self, kind: str) -> list[str]:
        return [t.code for t in getattr(self, kind)]

    def term(self, kind: str, code: str | None) -> Term | None:
        return self._index.get((kind, code or ""))

    def label(self, kind: str, code: str | None) -> str:
        """The label of ``code`` in the interface language (the code itself if unknown)."""
        term = self.term(kind, code)
        return term.label if term is not None else (code or "")

    def short(self, kind: str, code: str | None) -> str:
        term = self.term(kind, code)
        return term.short if term is not None else (code or "")

    def choices(self, kind: str) -> list[tuple[str, str]]:
        """(code, label) pairs in display order and the interface language."""
        return [(t.code, t.label) for t in getattr(self, kind)]


def load() -> Taxonomy:
    """Read the four tables in one query (the form is built on every GET and POST)."""
    empty = literal("")
    rows = db.session.execute(union_all(
        select(literal("areas").label("kind"), ObstacleArea.code, ObstacleArea.label_nl,
               ObstacleArea.label_en, ObstacleArea.description_nl,
               ObstacleArea.description_en, empty.label("short_nl"),
               empty.label("short_en"), ObstacleArea.position),
        select(literal("dimensions"), Dimension.code, Dimension.label_nl, Dimension.label_en,
               empty, empty, empty, empty, Dimension.position),
        select(literal("sectors"), Sector.code, Sector.label_nl, Sector.label_en, empty, empty,
               Sector.short_nl, Sector.short_en, Sector.position),
        select(literal("phases"), Phase.code, Phase.label_nl, Phase.label_en, empty, empty,
               empty, empty, Phase.position),
    )).all()
    grouped: dict[str, list[tuple[int, str, Term]]] = {kind: [] for kind in KINDS}
    for kind, code, label_nl, label_en, dnl, den, snl, sen, position in rows:
        grouped[kind].append((position, code, Term(code, label_nl, label_en, dnl or "",
                                                   den or "", snl or "", sen or "")))

    def ordered(kind: str) -> tuple[Term, ...]:
        return tuple(t for _p, _c, t in sorted(grouped[kind]))

    return Taxonomy(areas=ordered("areas"), dimensions=ordered("dimensions"),
                    sectors=ordered("sectors"), phases=ordered("phases"))


_lock = threading.Lock()
_cache: dict[tuple[int, str], tuple[str, Taxonomy]] = {}


_MEMO = "_registry_taxonomy"  # flask.g: (transaction, taxonomy)


def current() -> Taxonomy:
    """The taxonomy, read once per public data version in each process.

    Templates ask for labels many times per page: within one database transaction the
    answer is kept in ``g``, so only the first call reads the data version."""
    transaction = db.session().get_transaction()
    memo = g.get(_MEMO)
    if memo is not None and transaction is not None and memo[0] is transaction:
        return memo[1]
    taxonomy = _current()
    if not has_pending_public_changes(db.session):
        setattr(g, _MEMO, (db.session().get_transaction(), taxonomy))
    return taxonomy


def _current() -> Taxonomy:
    version = public_data_version()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    key = (id(app), str(db.engine.url))
    if version is not None:
        with _lock:
            hit = _cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
    taxonomy = load()
    if version is not None and not has_pending_public_changes(db.session):
        with _lock:
            _cache[key] = (version, taxonomy)
    return taxonomy


def forget() -> None:
    """Drop the cached taxonomies (tests that change the tables without a commit)."""
    with _lock:
        _cache.clear()
