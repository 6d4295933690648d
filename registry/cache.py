"""A cheap version stamp of the public data, and a page cache keyed by it (issue 11).

Every commit that changed what the public can see writes a new random token to the one-row
table ``data_version`` in the same transaction. Reading the token is one primary-key lookup,
so pages, the GeoJSON, the taxonomy and the summary can be cached per process and validated
with an ETag without re-reading the data on every request.

What the public can see is decided from the rows a flush writes (``_public_row``), whichever
service wrote them: themes, their rules, the taxonomies and snapshots always; an entry's
initiative, school, obstacles, dimensions and contact only when the entry is published, or
was before this change (a withdrawal leaves the public pages too). A new unconfirmed
submission, a pending entry, a rejected one, a staff note or an audit row changes nothing
public and keeps every cache warm. Bulk statements (``session.execute(insert/update/delete)``)
on public tables always count. Writes that bypass the session (raw SQL on a connection) do
not bump the stamp; loaders that do so call ``mark_public_change``.

``@cached_page`` caches a view's 200 response for anonymous visitors (no logged-in user, no
flashed messages), keyed by app, database, scheme, host, full path, interface language and
data version.
Conditional requests get 304. Responses that contain a CSRF token or change the session are
never stored.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta
from functools import wraps
from typing import cast

from flask import current_app, request, session
from sqlalchemy import (
    CursorResult,
    Engine,
    LargeBinary,
    String,
    Table,
    delete,
    event,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session
from werkzeug.sansio.utils import host_is_trusted

from registry.database import utcnow
from registry.extensions import Model, db, limiter
from registry.submissions.models import Initiative
from registry.taxonomy.constants import InitiativeState

# Tables whose every row can appear on public pages, in exports, the API or the summary.
ALWAYS_PUBLIC = frozenset({
    "theme", "theme_rule", "obstacle_area", "dimension", "sector", "phase", "snapshot",
    "snapshot_initiative", "snapshot_obstacle", "snapshot_dimension", "snapshot_theme",
    "snapshot_theme_rule",
})
# Tables of an entry: public while the entry (initiative) is published.
ENTRY_TABLES = frozenset({"initiative", "organisation", "obstacle", "initiative_dimension",
                          "contact"})
PUBLIC_TABLES = ALWAYS_PUBLIC | ENTRY_TABLES
_CHANGED = "registry.cache.public_changed"
logger = logging.getLogger(__name__)
NAME = "public"


class DataVersion(Model):
    """One row per stamp (``public``): a random token replaced on every change."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedResult(Model):
    """A computed result (the summary, the GeoJSON) stored once per data version for every
    worker and every app server on the database (issue 20). ``key`` names what was computed
    (kind, filter, code); ``version`` is the public data version it was computed from."""

    __tablename__ = "shared_result"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[bytes] = mapped_column(LargeBinary)


# -- bumping ------------------------------------------------------------------------------------

def mark_public_change(session: Session | None = None) -> None:
    """Note that this transaction changes public data (for writers that bypass the ORM)."""
    (session or db.session).info[_CHANGED] = True


def _was_or_is_published(session: Session, initiative: Initiative | None) -> bool:
    if initiative is None:
        return False
    if initiative.state == InitiativeState.PUBLISHED:
        return True
    history = inspect(initiative).attrs.state.history
    return InitiativeState.PUBLISHED in (history.deleted or ())


def _initiative_of(session: Session, obj) -> Initiative | None:
    """The entry an obstacle, dimension or contact row belongs to (also when it was just
    removed from the entry's collection)."""
    initiative = getattr(obj, "initiative", None)
    if initiative is not None:
        return initiative
    history = inspect(obj).attrs.initiative_id.history
    initiative_id = obj.initiative_id if obj.initiative_id is not None else next(
        (v for v in history.deleted or () if v is not None), None)
    return session.get(Initiative, initiative_id) if initiative_id is not None else None


def _public_row(session: Session, obj) -> bool:
    """Whether writing ``obj`` changes what the public can see (see the module docstring)."""
    table = getattr(obj, "__tablename__", None)
    if table in ALWAYS_PUBLIC:
        return True
    if table == "initiative":
        return _was_or_is_published(session, obj)
    if table == "organisation":
        return any(_was_or_is_published(session, i) for i in obj.initiatives)
    if table in ENTRY_TABLES:
        return _was_or_is_published(session, _initiative_of(session, obj))
    return False


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if _public_row(session, obj):
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
    table = cast(Table, DataVersion.__table__)  # typed as a FromClause; a model's is a Table
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif bind.dialect.name == "sqlite":
        # a different Insert class with the same on_conflict_do_update() as PostgreSQL's
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - other databases: update, insert when missing
        updated = cast(CursorResult, session.execute(
            table.update().where(DataVersion.name == NAME)
            .values(token=token, changed_at=values["changed_at"])))
        if not updated.rowcount:
            session.execute(table.insert().values(**values))
        return
    stmt = insert(table).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"token": token, "changed_at": values["changed_at"]}))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """The transaction's changes are gone. A savepoint's rollback keeps the flag: the outer
    transaction may still commit a public change (an extra new version is harmless)."""
    if not session.in_nested_transaction():
        session.info.pop(_CHANGED, None)


def has_pending_public_changes(session: Session | scoped_session) -> bool:
    """Whether ``session`` holds changes to public data that are not committed yet (the stamp
    is only replaced on commit, so results computed now must not be cached under it)."""
    return bool(session.new or session.dirty or session.deleted or session.info.get(_CHANGED))


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


# -- results shared by all workers -----------------------------------------------------------------

# Rows of an older data version are deleted once they are this old (a worker that read the
# version just before a change may still be storing its result).
SHARED_STALE_SECONDS = 60


def shared_key(*parts: object) -> str:
    """A key for ``shared_get``/``shared_put`` from the parts that decide the result."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def shared_get(key: str, version: str) -> bytes | None:
    """The stored result for ``key`` computed from data ``version``, or None. Read on a
    connection of its own, so the caller's session and transaction are untouched."""
    table = cast(Table, SharedResult.__table__)
    try:
        with db.engine.connect() as conn:
            body = conn.execute(select(table.c.body).where(
                table.c.key == key, table.c.version == version)).scalar()
    except SQLAlchemyError:
        return None  # e.g. a database migrated before the table existed
    return bytes(body) if body is not None else None


def shared_put(key: str, version: str, body: bytes) -> None:
    """Store ``body`` for ``key`` and ``version`` (replacing another version's) and forget
    stale rows of other versions. In a transaction of its own; failures only mean the next
    worker computes the result again."""
    table = cast(Table, SharedResult.__table__)
    now = utcnow()
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key))
            conn.execute(table.insert().values(key=key, version=version, created_at=now,
                                               body=body))
            conn.execute(delete(table).where(
                table.c.version != version,
                table.c.created_at < now - timedelta(seconds=SHARED_STALE_SECONDS)))
    except SQLAlchemyError:
        logger.warning("could not store a shared result", exc_info=True)


def clear_shared_results() -> None:
    """Forget every stored result (tests, and after changing settings that results show)."""
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(cast(Table, SharedResult.__table__)))
    except SQLAlchemyError:
        logger.warning("could not clear shared results", exc_info=True)


# -- the page cache -------------------------------------------------------------------------------

class PageCache:
    """A per-process LRU of rendered responses, bounded by total size in bytes. An item is
    any object; its size is ``len(item[0])`` (a body first) unless given."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry[0]

    def put(self, key: str, item, size: int | None = None) -> None:
        size = len(item[0]) if size is None else size
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (item, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _key, (_dropped, dropped_size) = self._items.popitem(last=False)
                self._bytes -= dropped_size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


page_cache = PageCache()
_SKIP_HEADERS = {"set-cookie", "etag", "content-length", "date", "vary", "cache-control"}


def _anonymous_get() -> bool:
    if request.method not in ("GET", "HEAD") or not current_app.config["PAGE_CACHE"]:
        return False
    return not any(key in session for key in ("_user_id", "_flashes"))


def _rate_limited() -> bool:
    """Whether rate limits applied to this request: then every request must reach the
    limiter, so the response may not be answered from the fast path."""
    return bool(limiter.enabled and limiter.current_limits)


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

        # The scheme and host are part of the key: a page built for one Host header is never
        # served to a request for another (issue 17, item 1; absolute URLs come from
        # BASE_URL anyway, registry.urls).
        raw = "|".join((str(id(current_app)), str(db.engine.url), request.scheme, request.host,
                        request.full_path, str(get_locale()), version))
        key = hashlib.sha256(raw.encode()).hexdigest()[:32]
        cache_headers = {"ETag": f'W/"{key}"', "Cache-Control": "no-cache",
                         "Vary": "Cookie, Accept-Encoding"}
        if request.if_none_match.contains_weak(key):
            return current_app.response_class(status=304, headers=cache_headers)
        if _FAST_ELIGIBLE in request.environ and not _rate_limited():
            request.environ[_FAST_VERSION] = version  # AnonymousFastPath may keep the response
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


# -- the fast path for cookie-less visitors -----------------------------------------------------

_FAST_ELIGIBLE = "registry.fast_path"
_FAST_VERSION = "registry.fast_path.version"
_UNCACHEABLE_HEADERS = ("set-cookie", "content-encoding", "x-ratelimit-limit", "ratelimit-limit",
                        "retry-after")
_COMPRESSIBLE = ("text/html",)  # JSON clients (API) keep what the app sends them


class _FastItem:
    __slots__ = ("version", "status", "headers", "body", "gzipped", "etag")

    def __init__(self, version, status, headers, body, gzipped, etag):
        self.version, self.status, self.headers = version, status, headers
        self.body, self.gzipped, self.etag = body, gzipped, etag


class AnonymousFastPath:
    """WSGI middleware in front of Flask: a cookie-less GET of a ``@cached_page`` page is
    answered from memory without entering Flask (no request context, session, login, locale
    or template work), after one primary-key read of the data-version stamp (issue 11).

    Only visitors without a session or remember cookie take this path: they are anonymous by
    definition, see no flashed messages and get the default language unless the query says
    otherwise (the query is part of the key). A response is kept only when ``@cached_page``
    vouched for it (200, no CSRF token, no session change) and it sets no cookie and carries
    no rate-limit headers; the security headers the app added are kept with it. Keys hold
    the scheme, host and full path (a Host outside TRUSTED_HOSTS never takes this path);
    entries are only served while the stamp is unchanged, so a change is visible on the very
    next request, in every worker. Bodies of text responses
    pages are also kept gzipped and served that way to clients that accept it.
    """

    def __init__(self, app, wsgi_app, max_bytes: int = 32 * 1024 * 1024):
        self.app = app
        self.wsgi_app = wsgi_app
        self.store = PageCache(max_bytes)
        self._engine: Engine | None = None
        self._cookies = (app.config["SESSION_COOKIE_NAME"], app.config["REMEMBER_COOKIE_NAME"])

    # the decision -------------------------------------------------------------------------------
    def _eligible(self, environ) -> bool:
        if environ.get("REQUEST_METHOD") != "GET" or not self.app.config["PAGE_CACHE"]:
            return False
        cookie = environ.get("HTTP_COOKIE")
        if cookie:
            names = {part.split("=", 1)[0].strip() for part in cookie.split(";")}
            if names.intersection(self._cookies):
                return False
        trusted = self.app.config["TRUSTED_HOSTS"]
        if trusted and not host_is_trusted(environ.get("HTTP_HOST"), trusted):
            return False  # Flask answers it with 400 (registry.security.hygiene)
        return True

    def _version(self) -> str | None:
        engine = self._engine
        if engine is None:
            with self.app.app_context():
                if not _has_table(db.engine):
                    return None
                engine = self._engine = db.engine
        try:
            with engine.connect() as conn:
                token = conn.exec_driver_sql(
                    "SELECT token FROM data_version WHERE name = 'public'").scalar()
        except SQLAlchemyError:
            return None
        return token or "0"

    # WSGI ---------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if not self._eligible(environ):
            return self.wsgi_app(environ, start_response)
        key = "|".join((environ.get("wsgi.url_scheme", ""),
                        environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
                        environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
                        environ.get("QUERY_STRING", "")))
        item = self.store.get(key)
        if item is not None and item.version == self._version():
            return self._serve(item, environ, start_response)
        environ[_FAST_ELIGIBLE] = True
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers, exc_info]
            return lambda data: None  # Flask never uses write()

        app_iter = self.wsgi_app(environ, capture)
        version = environ.get(_FAST_VERSION)
        status, headers, exc_info = captured
        if version is None or not status.startswith("200 ") or not self._storable(headers):
            start_response(status, headers, exc_info)
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        item = self._make_item(version, status, headers, body)
        self.store.put(key, item, len(body) + len(item.gzipped or b""))
        return self._serve(item, environ, start_response)

    @staticmethod
    def _storable(headers) -> bool:
        return not any(name.lower() in _UNCACHEABLE_HEADERS for name, _value in headers)

    @staticmethod
    def _make_item(version, status, headers, body) -> _FastItem:
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        gzipped = None
        if len(body) > 1024 and content_type.startswith(_COMPRESSIBLE):
            gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        return _FastItem(version, status, kept, body, gzipped, etag)

    def _serve(self, item: _FastItem, environ, start_response):
        if item.etag and item.etag.removeprefix("W/") in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 NOT MODIFIED", [
                (k, v) for k, v in item.headers if k.lower() in ("etag", "cache-control", "vary")])
            return [b""]
        body = item.body
        headers = list(item.headers)
        if item.gzipped is not None and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = item.gzipped
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response(item.status, headers)
        return [body]


def clear_page_caches(app) -> None:
    """Forget every cached page of this process (after changing settings that pages show;
    data changes need no call: they change the stamp)."""
    page_cache.clear()
    fast = app.wsgi_app
    while fast is not None and not isinstance(fast, AnonymousFastPath):
        fast = getattr(fast, "app", None)  # through ProxyFix
    if fast is not None:
        fast.store.clear()


def init_app(app) -> None:
    """Put the fast path in front of the app (called by the factory before any proxy fix, so
    that ProxyFix runs first and the scheme in the key is the client's)."""
    app.wsgi_app = AnonymousFastPath(app, app.wsgi_app)
