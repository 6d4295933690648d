"""The text the ``q`` filter searches, folded the same way on every database.

``Initiative.search_text`` holds the initiative's title, summary, school name, place and the
titles of its public obstacles (a confidential one must not make its school findable),
folded by ``fold`` (Unicode-decomposed, accents removed, case-folded, whitespace collapsed)
and separated by newlines. The filter folds the query the same way and matches with
``LIKE``, so "ecole", "École" and "ÉCOLE" find the same entries on SQLite (whose own
case-insensitive LIKE only folds ASCII) and on PostgreSQL, in live data and in snapshots
(which copy the column).

The column is kept up to date by a ``before_flush`` hook on the Flask-SQLAlchemy session: any
new or changed initiative, school or obstacle recomputes the text of the initiatives it
belongs to, whichever service made the change.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import event

from registry.extensions import db
from registry.submissions.models import Initiative, Obstacle, Organisation
from registry.taxonomy.constants import CONFIDENTIAL

SEPARATOR = "\n"  # never in a folded query (whitespace collapses to single spaces)


def fold(text: str | None) -> str:
    """``"  École  Één "`` -> ``"ecole een"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def like_pattern(folded: str) -> str:
    """A LIKE pattern for a folded query (``\\`` escapes ``%`` and ``_``)."""
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_text(title: str | None, summary: str | None, school: str | None, city: str | None,
                obstacle_titles: Iterable[str | None]) -> str:
    """The folded text of one initiative (also used by bulk loaders that bypass the ORM)."""
    parts = [title, summary, school, city, *obstacle_titles]
    return SEPARATOR.join(fold(p) for p in parts if p)


def initiative_search_text(initiative: Initiative, gone: frozenset[int] = frozenset(),
                           extra: tuple[Obstacle, ...] = ()) -> str:
    """``gone``: ids (``id()``) of obstacles deleted in this flush (a loaded collection may
    still hold them); ``extra``: new obstacles attached by foreign key only (not in the
    collection yet)."""
    org = initiative.organisation
    obstacles = [o for o in initiative.obstacles if id(o) not in gone]
    obstacles += [o for o in extra if o not in obstacles]
    return search_text(initiative.title, initiative.summary, org.name if org else "",
                       org.city if org else "",
                       (o.title for o in obstacles if o.visibility != CONFIDENTIAL))


def _initiative_of(session, obstacle: Obstacle) -> Initiative | None:
    if obstacle.initiative is not None:
        return obstacle.initiative
    if obstacle.initiative_id is not None:  # created or moved by foreign key
        return session.get(Initiative, obstacle.initiative_id)
    return None


@event.listens_for(db.session, "before_flush")
def _refresh_search_text(session, _flush_context, _instances) -> None:
    touched: dict[int, Initiative] = {}
    extra: dict[int, list[Obstacle]] = {}
    gone = frozenset(id(o) for o in session.deleted if isinstance(o, Obstacle))
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Initiative):
            touched[id(obj)] = obj
        elif isinstance(obj, Obstacle):
            initiative = _initiative_of(session, obj)
            if initiative is not None:
                touched[id(initiative)] = initiative
                if obj in session.new and obj.initiative is None:
                    extra.setdefault(id(initiative), []).append(obj)
        elif isinstance(obj, Organisation) and obj not in session.deleted:
            for initiative in obj.initiatives:
                touched[id(initiative)] = initiative
    for key, initiative in touched.items():
        if initiative in session.deleted:
            continue
        text = initiative_search_text(initiative, gone, tuple(extra.get(key, ())))
        if initiative.search_text != text:
            initiative.search_text = text
