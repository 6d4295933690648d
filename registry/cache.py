"""A cheap version stamp of the public data, and a page cache keyed by it (issue 11).

Every commit that changed public data (initiatives, schools, obstacles, dimensions, contacts,
themes and their rules, taxonomies, snapshots) writes a new random token to the one-row table
``data_version`` in the same transaction. Reading the token is one primary-key lookup, so
pages, the GeoJSON and the summary can be cached per process and validated with an ETag
without re-reading the data on every request. Writes that bypass the ORM session (raw SQL on
a connection) do not bump the stamp: use the session.

``@cached_page`` caches a view's 200 response for anonymous visitors (no logged-in user, no
flashed messages), keyed by app, database, full path, interface language and data version.
Conditional requests get 304. Responses that contain a CSRF token or change the session are
never stored.
"""
from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from datetime import datetime
from functools import wraps

from flask import current_app, request, session
from sqlalchemy import String, event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.database import utcnow
from registry.extensions import db

# Tables whose contents can appear on public pages, in exports, the API or the summary.
PUBLIC_TABLES = frozenset({
    "initiative", "organisation", "obstacle", "initiative_dimension", "contact", "theme",
    "theme_rule", "obstacle_area", "dimension", "snapshot",
})
_CHANGED = "registry.cache.public_changed"
NAME = "public"


class DataVersion(db.Model):
    """One row per stamp (``public``): a random token replaced on every change."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- bumping ------------------------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in PUBLIC_TABLES:
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in PUBLIC_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # commit would flush next; do it now so its changes are noted
    if not session.info.pop(_CHANGED, False):
        return
    bind = session.get_bind()
    if not _has_table(bind):
        return
    token = uuid.uuid4().hex
    values = {"name": NAME, "token": token, "changed_at": utcnow()}
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif bind.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases: update, insert when missing
        updated = session.execute(
            DataVersion.__table__.update().where(DataVersion.name == NAME)
            .values(token=token, changed_at=values["changed_at"]))
        if not updated.rowcount:
            session.execute(DataVersion.__table__.insert().values(**values))
        return
    stmt = insert(DataVersion.__table__).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"token": token, "changed_at": values["changed_at"]}))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)


_tables: dict[str, bool] = {}


def _has_table(bind) -> bool:
    """Whether the database has the data_version table (a database migrated before it was
    added simply runs without the cache)."""
    key = str(getattr(bind, "url", bind))
    if key not in _tables:
        from sqlalchemy import inspect

        try:
            engine = getattr(bind, "engine", bind)
            _tables[key] = inspect(engine).has_table(DataVersion.__tablename__)
        except SQLAlchemyError:  # pragma: no cover
            return False
    return _tables[key]


def reset_table_check() -> None:
    """Forget which databases have the table (after create_all/drop_all in tests)."""
    _tables.clear()


def public_data_version() -> str | None:
    """The current token, '0' before the first change, None when the table is missing."""
    if not _has_table(db.engine):
        return None
    try:
        token = db.session.scalar(select(DataVersion.token).where(DataVersion.name == NAME))
    except SQLAlchemyError:
        db.session.rollback()
        _tables.pop(str(db.engine.url), None)
        return None
    return token or "0"


# -- the page cache -------------------------------------------------------------------------------

class PageCache:
    """A per-process LRU of rendered responses, bounded by total size in bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[bytes, int, list]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, item: tuple[bytes, int, list]) -> None:
        size = len(item[0])
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = item
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _key, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped[0])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


page_cache = PageCache()
_SKIP_HEADERS = {"set-cookie", "etag", "content-length", "date", "vary", "cache-control"}


def _anonymous_get() -> bool:
    if request.method not in ("GET", "HEAD") or not current_app.config.get("PAGE_CACHE", True):
        return False
    return not any(key in session for key in ("_user_id", "_flashes"))


def cached_page(view):
    """Serve the view's response from the page cache for anonymous visitors (see module)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _anonymous_get():
            return view(*args, **kwargs)
        version = public_data_version()
        if version is None:
            return view(*args, **kwargs)
        from flask_babel import get_locale

        raw = "|".join((str(id(current_app)), str(db.engine.url), request.full_path,
                        str(get_locale()), version))
        key = hashlib.sha256(raw.encode()).hexdigest()[:32]
        cache_headers = {"ETag": f'W/"{key}"', "Cache-Control": "no-cache",
                         "Vary": "Cookie, Accept-Encoding"}
        if request.if_none_match.contains_weak(key):
            return current_app.response_class(status=304, headers=cache_headers)
        item = page_cache.get(key)
        if item is None:
            response = current_app.make_response(view(*args, **kwargs))
            if (response.status_code != 200 or response.is_streamed
                    or response.direct_passthrough or session.modified):
                return response
            body = response.get_data()
            if b'name="csrf_token"' in body:
                return response
            headers = [(k, v) for k, v in response.headers.items()
                       if k.lower() not in _SKIP_HEADERS]
            item = (body, response.status_code, headers)
            page_cache.put(key, item)
        body, status, headers = item
        response = current_app.response_class(body, status=status, headers=headers)
        response.headers.update(cache_headers)
        return response

    return wrapper
