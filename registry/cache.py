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

A second stamp, the *lineage* (``data_version`` row ``lineage``), is replaced only by public
changes that may take something away: anything but the publication of entries that were
not public before (an edit, a withdrawal, an erasure, a merge, a theme or a snapshot). A
result computed at an older public version with the current lineage therefore shows
nothing the public may no longer see; it only lacks the newest publications. Such a result
may be served while one worker computes the fresh one (``SharedResults``); after a
retraction nothing older is ever served, and the stored results are deleted in the
retracting transaction itself (withdrawal and erasure reach that copy).

``@cached_page`` caches a view's 200 response for anonymous visitors (no logged-in user, no
flashed messages), keyed by app, database, scheme, host, full path and interface language,
one entry per page holding the data version it was made at.
Conditional requests get 304. Responses that contain a CSRF token or change the session are
never stored.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, Generic, NamedTuple, TypeVar, cast

from flask import current_app, has_request_context, request, session
from sqlalchemy import (
    CursorResult,
    Engine,
    LargeBinary,
    String,
    Table,
    delete,
    event,
    inspect,
    or_,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session
from werkzeug.sansio.utils import host_is_trusted

from registry.database import utcnow
from registry.extensions import Model, db, limiter
from registry.memory import release_free_memory
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
_RETRACTS = "registry.cache.public_retracts"  # a public change that is not only additions
_NEW = "registry.cache.newly_published"  # ids of entries published in this transaction
logger = logging.getLogger(__name__)
NAME = "public"
LINEAGE = "lineage"


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

    key: Mapped[str] = mapped_column(String(72), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), index=True)
    # the lineage stamp read with ``version`` (a result may be served stale while it holds)
    lineage: Mapped[str] = mapped_column(String(32), default="0", server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[bytes] = mapped_column(LargeBinary)


# -- bumping ------------------------------------------------------------------------------------

def mark_public_change(session: Session | None = None) -> None:
    """Note that this transaction changes public data (for writers that bypass the ORM)."""
    info = (session or db.session).info
    info[_CHANGED] = info[_RETRACTS] = True


def _was_or_is_published(session: Session, initiative: Initiative | None) -> bool:
    if initiative is None:
        return False
    if initiative.state == InitiativeState.PUBLISHED:
        return True
    history = inspect(initiative).attrs.state.history
    return InitiativeState.PUBLISHED in (history.deleted or ())


def _newly_published(session: Session, initiative: Initiative, newly: set[int]) -> bool:
    """Whether ``initiative`` became public in this transaction (it was not before)."""
    if initiative.id in newly:
        return True
    if initiative.state != InitiativeState.PUBLISHED or initiative in session.deleted:
        return False
    if initiative in session.new:
        return True
    history = inspect(initiative).attrs.state.history
    return bool(history.deleted) and InitiativeState.PUBLISHED not in history.deleted


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


ADDS, RETRACTS = "adds", "retracts"


def _public_row(session: Session, obj, newly: set[int]) -> str | None:
    """Whether writing ``obj`` changes what the public can see (see the module docstring):
    None, ``ADDS`` (a row of an entry that becomes public in this transaction) or
    ``RETRACTS`` (anything else public: it may take something away)."""
    table = getattr(obj, "__tablename__", None)
    if table in ALWAYS_PUBLIC:
        return RETRACTS
    if table == "initiative":
        entries = [obj]
    elif table == "organisation":
        entries = list(obj.initiatives)
    elif table in ENTRY_TABLES:
        entries = [_initiative_of(session, obj)]
    else:
        return None
    public = [i for i in entries if i is not None and _was_or_is_published(session, i)]
    if not public:
        return None
    return ADDS if all(i.id in newly for i in public) else RETRACTS


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    if session.info.get(_RETRACTS):
        return
    with session.no_autoflush:
        written = (*session.new, *session.dirty, *session.deleted)
        newly: set[int] = session.info.get(_NEW, set())
        for obj in written:
            if (getattr(obj, "__tablename__", None) == "initiative"
                    and _newly_published(session, obj, newly)):
                newly.add(obj.id)
        if newly:
            session.info[_NEW] = newly
        for obj in written:
            kind = _public_row(session, obj, newly)
            if kind is not None:
                session.info[_CHANGED] = True
            if kind == RETRACTS:
                session.info[_RETRACTS] = True
                return


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in PUBLIC_TABLES:
            state.session.info[_CHANGED] = state.session.info[_RETRACTS] = True


def _upsert_stamp(session: Session, bind, name: str, token: str) -> None:
    values = {"name": name, "token": token, "changed_at": utcnow()}
    table = cast(Table, DataVersion.__table__)  # typed as a FromClause; a model's is a Table
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif bind.dialect.name == "sqlite":
        # a different Insert class with the same on_conflict_do_update() as PostgreSQL's
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - other databases: update, insert when missing
        updated = cast(CursorResult, session.execute(
            table.update().where(DataVersion.name == name)
            .values(token=token, changed_at=values["changed_at"])))
        if not updated.rowcount:
            session.execute(table.insert().values(**values))
        return
    stmt = insert(table).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"token": token, "changed_at": values["changed_at"]}))


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # commit would flush next; do it now so its changes are noted
    session.info.pop(_NEW, None)
    retracts = session.info.pop(_RETRACTS, False)
    if not session.info.pop(_CHANGED, False):
        return
    bind = session.get_bind()
    if not _has_table(bind):
        return
    _upsert_stamp(session, bind, NAME, uuid.uuid4().hex)
    if retracts:
        _upsert_stamp(session, bind, LINEAGE, uuid.uuid4().hex)
        # Every stored result is older than this change and may show what it took away.
        session.execute(delete(cast(Table, SharedResult.__table__)))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """The transaction's changes are gone. A savepoint's rollback keeps the flag: the outer
    transaction may still commit a public change (an extra new version is harmless)."""
    if not session.in_nested_transaction():
        for name in (_CHANGED, _RETRACTS, _NEW):
            session.info.pop(name, None)


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


class Versions(NamedTuple):
    """The two stamps: ``public`` changes with every public change, ``lineage`` only with
    those that may take something away (see the module docstring)."""

    public: str
    lineage: str


def public_versions() -> Versions | None:
    """Both stamps in one read ('0' before the first change), None when the table is
    missing."""
    if not _has_table(db.engine):
        return None
    try:
        rows = dict(db.session.execute(
            select(DataVersion.name, DataVersion.token)
            .where(DataVersion.name.in_((NAME, LINEAGE)))).all())
    except SQLAlchemyError:
        db.session.rollback()
        _tables.pop(str(db.engine.url), None)
        return None
    return Versions(rows.get(NAME) or "0", rows.get(LINEAGE) or "0")


def public_data_version() -> str | None:
    """The current public token, '0' before the first change, None when the table is
    missing."""
    versions = public_versions()
    return versions.public if versions is not None else None


# -- results shared by all workers -----------------------------------------------------------------

# Rows of an older data version are deleted once they are this old (a worker that read the
# version just before a change may still be storing its result).
SHARED_STALE_SECONDS = 60
# Rows kept per lineage (the summary's facts, snapshot bases: one per filter, and a search
# is a filter) are deleted once they are this old; a worker without them reads anew.
PER_LINEAGE_SECONDS = 3600
# A worker computing a result holds a claim row ("claim:" + key): the others serve the
# previous result meanwhile (same lineage) or wait for it, at most WAIT_SECONDS, then
# compute it themselves. A claim older than CLAIM_SECONDS is taken over (its worker died).
CLAIM_SECONDS = 120
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
_CLAIM = "claim:"
_STALE = "registry.cache.stale"
# A page made from such an older result is kept this long (then made again: by then the
# claimant has usually stored the new result).
STALE_PAGE_SECONDS = 1.0


def shared_key(*parts: object) -> str:
    """A key for ``shared_get``/``shared_put`` from the parts that decide the result."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def _shared_table() -> Table:
    return cast(Table, SharedResult.__table__)


def shared_get(key: str, version: str) -> bytes | None:
    """The stored result for ``key`` computed from data ``version``, or None. Read on a
    connection of its own, so the caller's session and transaction are untouched."""
    table = _shared_table()
    try:
        with db.engine.connect() as conn:
            body = conn.execute(select(table.c.body).where(
                table.c.key == key, table.c.version == version)).scalar()
    except SQLAlchemyError:
        return None  # e.g. a database migrated before the table existed
    return bytes(body) if body is not None else None


def _stamps_now(conn) -> dict[str, str]:
    """The public and lineage tokens as committed."""
    return dict(conn.execute(select(DataVersion.name, DataVersion.token).where(
        DataVersion.name.in_((NAME, LINEAGE)))).all())


def _locked_lineage(conn) -> str:
    """The lineage token, with a share lock on its row on PostgreSQL: a retracting
    transaction replaces it before deleting the stored rows, so it waits for this one, or
    this one for it."""
    return conn.execute(select(DataVersion.token).where(DataVersion.name == LINEAGE)
                        .with_for_update(read=True)).scalar() or "0"


def shared_put(key: str, version: str, body: bytes, lineage: str | None = None) -> None:
    """Store ``body`` for ``key`` and ``version`` (replacing another version's) and forget
    stale rows. In a transaction of its own; failures only mean the next worker computes the
    result again. With ``lineage`` (read with ``version``), nothing is stored once a
    retraction replaced it: the result may show what was taken away.

    Rows of other versions go once ``SHARED_STALE_SECONDS`` old; rows of the current public
    version stay; rows kept per lineage (``version`` = the lineage token: the summary's facts
    and snapshot bases) stay ``PER_LINEAGE_SECONDS``. The lineage is compared twice: under a
    share lock before writing (PostgreSQL: a retraction in progress is waited for) and after
    the first write (SQLite: the write lock is held from there, so no retraction can commit
    in between). A retraction deletes every row in its own transaction, so nothing it took
    away survives in this table."""
    table = _shared_table()
    now = utcnow()
    try:
        with db.engine.begin() as conn:
            if lineage is not None and _locked_lineage(conn) != lineage:
                return
            conn.execute(delete(table).where(table.c.key == key))
            stamps = _stamps_now(conn)
            if lineage is not None and stamps.get(LINEAGE, "0") != lineage:
                return
            conn.execute(table.insert().values(key=key, version=version, created_at=now,
                                               lineage=lineage or "0", body=body))
            current = [version, stamps.get(NAME, "0"), stamps.get(LINEAGE, "0")]
            conn.execute(delete(table).where(
                table.c.version.not_in(current),
                table.c.created_at < now - timedelta(seconds=SHARED_STALE_SECONDS)))
            conn.execute(delete(table).where(
                table.c.version == stamps.get(LINEAGE, "0"),
                table.c.created_at < now - timedelta(seconds=PER_LINEAGE_SECONDS)))
    except SQLAlchemyError:
        logger.warning("could not store a shared result", exc_info=True)


def clear_shared_results() -> None:
    """Forget every stored result (tests, and after changing settings that results show)."""
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(_shared_table()))
    except SQLAlchemyError:
        logger.warning("could not clear shared results", exc_info=True)


class _Stamp(NamedTuple):
    version: str
    lineage: str
    created_at: datetime | None


def _stamps(key: str) -> tuple[_Stamp | None, _Stamp | None]:
    """The stored result's stamp and its claim's (each None when missing), bodies unread."""
    table = _shared_table()
    found: dict[str, _Stamp] = {}
    try:
        with db.engine.connect() as conn:
            for row in conn.execute(select(table.c.key, table.c.version, table.c.lineage,
                                           table.c.created_at)
                                    .where(table.c.key.in_((key, _CLAIM + key)))):
                found[row.key] = _Stamp(row.version, row.lineage, row.created_at)
    except SQLAlchemyError:
        return None, None
    return found.get(key), found.get(_CLAIM + key)


def _claim(key: str, version: str) -> bool:
    """Claim computing ``key`` at ``version`` for this worker: True when no other worker
    holds a live claim for that version (one statement, atomic on both databases)."""
    table = _shared_table()
    now = utcnow()
    values = {"key": _CLAIM + key, "version": version, "lineage": "", "created_at": now,
              "body": b""}
    try:
        with db.engine.begin() as conn:
            dialect = conn.dialect.name
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            elif dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
            else:  # pragma: no cover - other databases compute without claims
                return True
            stmt = insert(table).values(**values)
            # RETURNING names the row only when it was inserted or taken over (rowcount is
            # not reliable for upserts with every driver)
            return conn.execute(stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={"version": version, "created_at": now},
                where=or_(table.c.version != version,
                          table.c.created_at < now - timedelta(seconds=CLAIM_SECONDS)))
                .returning(table.c.key)).first() is not None
    except SQLAlchemyError:
        logger.warning("could not claim a shared result", exc_info=True)
        return True  # compute it: a missing claim only costs work


def _release(key: str, version: str) -> None:
    table = _shared_table()
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == _CLAIM + key,
                                             table.c.version == version))
    except SQLAlchemyError:
        logger.warning("could not release a claim", exc_info=True)


def note_stale() -> None:
    """This request shows a result of an older data version (same lineage): its response
    must not be cached under the current version (``cached_page`` checks)."""
    if has_request_context():
        request.environ[_STALE] = True


def served_stale() -> bool:
    return has_request_context() and bool(request.environ.get(_STALE))


T = TypeVar("T")


class Found(NamedTuple, Generic[T]):
    value: T
    version: str  # the public data version it was computed from
    fresh: bool  # False: an older version's result (same lineage) served meanwhile


_computing = threading.local()  # depth of SharedResults computations in this thread


class Local(NamedTuple):
    """A value kept in this process: the versions it was computed from, its weight."""

    version: str
    lineage: str
    value: Any
    weight: int


class LocalResults:
    """A per-process LRU of ``Local`` values, the latest per key (and app and database),
    bounded by their total weight."""

    def __init__(self, max_weight: int) -> None:
        self.max_weight = max_weight
        self._items: OrderedDict[tuple, Local] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    @staticmethod
    def _local_key(key: Hashable) -> tuple:
        return (id(current_app), str(db.engine.url), key)

    def get(self, key: Hashable) -> Local | None:
        local = self._local_key(key)
        with self._lock:
            item = self._items.get(local)
            if item is not None:
                self._items.move_to_end(local)
            return item

    def put(self, key: Hashable, item: Local) -> None:
        local = self._local_key(key)
        with self._lock:
            old = self._items.pop(local, None)
            if old is not None:
                self._weight -= old.weight
            if item.weight > self.max_weight:
                return
            self._items[local] = item
            self._weight += item.weight
            while self._weight > self.max_weight:
                _key, dropped = self._items.popitem(last=False)
                self._weight -= dropped.weight

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0


class SharedResults:
    """A result computed once per public data version for every worker and app server.

    In front: a per-process LRU (``LocalResults``, bounded by ``weight``) holding the latest
    value per key. Behind it: ``shared_result`` in the database. On a miss one worker claims
    the key and computes (``_claim``); meanwhile the others serve the previous result when
    the lineage still holds (only new publications since: nothing to hide; ``note_stale``
    marks the response) and otherwise wait for the claimant's result. So a change costs one
    computation, not one per worker, and readers never queue behind it while the change
    only added entries. ``stale_ok=False`` (staff figures) always waits for the fresh one,
    and so does every lookup made while computing a result (it is stored as fresh).
    """

    def __init__(self, max_weight: int) -> None:
        self.local = LocalResults(max_weight)

    def clear(self) -> None:
        self.local.clear()

    def cached(self, key: str, version: str) -> Any | None:
        """This process's value for ``key`` at ``version``, if it has it."""
        item = self.local.get(key)
        return item.value if item is not None and item.version == version else None

    def _read_stored(self, key: str, stored: _Stamp, decode: Callable[[bytes], T],
                     weight: Callable[[T], int]) -> T | None:
        """The stored result ``stored`` names, kept in this process too (None: gone)."""
        body = shared_get(key, stored.version)
        if body is None:
            return None
        value = decode(body)
        self.local.put(key, Local(stored.version, stored.lineage, value, weight(value)))
        return value

    def get(self, key: str, versions: Versions, compute: Callable[[], T], *,
            encode: Callable[[T], bytes], decode: Callable[[bytes], T],
            weight: Callable[[T], int], stale_ok: bool = True) -> Found[T]:
        mine = self.local.get(key)
        if mine is not None and mine.version == versions.public:
            return Found(mine.value, mine.version, True)
        # A result computed now is stored as fresh: nothing older may go into it (the
        # national table inside a summary, the public texts inside the staff summary).
        stale_ok = stale_ok and not getattr(_computing, "depth", 0)
        deadline = time.monotonic() + WAIT_SECONDS
        claimed = False
        while True:
            stored, claim = _stamps(key)
            if stored is not None and stored.version == versions.public:
                value = self._read_stored(key, stored, decode, weight)
                if value is not None:
                    return Found(value, stored.version, True)
            live = (claim is not None and claim.version == versions.public
                    and claim.created_at is not None
                    and _aware(claim.created_at) > utcnow() - timedelta(seconds=CLAIM_SECONDS))
            if not live and _claim(key, versions.public):
                claimed = True
                break
            if stale_ok:
                if mine is not None and mine.lineage == versions.lineage:
                    note_stale()
                    return Found(mine.value, mine.version, False)
                if stored is not None and stored.lineage == versions.lineage:
                    value = self._read_stored(key, stored, decode, weight)
                    if value is not None:
                        note_stale()
                        return Found(value, stored.version, False)
            if time.monotonic() > deadline:
                break  # the claimant takes too long: compute it here too
            time.sleep(POLL_SECONDS)
        _computing.depth = getattr(_computing, "depth", 0) + 1
        try:
            value = compute()
            shared_put(key, versions.public, encode(value), lineage=versions.lineage)
        finally:
            _computing.depth -= 1
            if claimed:
                _release(key, versions.public)
            release_free_memory()  # a computation frees ~100 MB at 100,000 entries
        self.local.put(key, Local(versions.public, versions.lineage, value, weight(value)))
        return Found(value, versions.public, True)


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back without a time zone; they are UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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


def cached_page(view=None, *, lag: str | None = None):
    """Serve the view's response from the page cache for anonymous visitors (see module).

    ``lag``: the name of a setting in seconds (a detail page). Such a page is keyed by the
    lineage instead of the public version: a publication elsewhere does not make it stale
    at once, it is rendered again within that many seconds (what it shows of other entries,
    its similar initiatives, lags at most that long), and at once after any change that may
    take something away (an edit of the entry itself, a withdrawal, an erasure, a merge).
    A response made from a stale shared result (``note_stale``) is never stored."""
    if view is None:
        return lambda inner: cached_page(inner, lag=lag)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _anonymous_get():
            return view(*args, **kwargs)
        versions = public_versions()
        if versions is None:
            return view(*args, **kwargs)
        from flask_babel import get_locale

        seconds = float(current_app.config[lag]) if lag else 0.0
        stamp = f"L:{versions.lineage}" if seconds > 0 else versions.public
        # The scheme and host are part of the key: a page built for one Host header is never
        # served to a request for another (issue 17, item 1; absolute URLs come from
        # BASE_URL anyway, registry.urls).
        # One entry per page: a newer version replaces the older one (no old versions
        # pile up in memory while the data changes).
        raw = "|".join((str(id(current_app)), str(db.engine.url), request.scheme, request.host,
                        request.full_path, str(get_locale())))
        key = hashlib.sha256(raw.encode()).hexdigest()[:32]
        versioned = hashlib.sha256(f"{key}|{stamp}".encode()).hexdigest()[:32]
        now = time.monotonic()
        item = page_cache.get(key)
        if item is not None and (item[5] != stamp or (item[4] is not None and item[4] <= now)):
            item = None  # another version, or a lagging or stale page kept long enough
        etag = item[3] if item is not None else versioned
        cache_headers = {"Cache-Control": "no-cache", "Vary": "Cookie, Accept-Encoding"}
        if (etag is not None and (item is not None or not seconds)
                and request.if_none_match.contains_weak(etag)):
            return current_app.response_class(status=304,
                                              headers={**cache_headers, "ETag": f'W/"{etag}"'})
        if _FAST_ELIGIBLE in request.environ and not _rate_limited():
            # AnonymousFastPath may keep the response
            request.environ[_FAST_VERSION] = stamp
            request.environ[_FAST_EXPIRES] = item[4] if item is not None else None
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
            expires = now + seconds if seconds else None
            if served_stale():
                # Made from an older result while another worker computes the new one:
                # kept a moment only (readers meanwhile cost no rendering), never validated.
                etag, expires = None, now + STALE_PAGE_SECONDS
            elif seconds:
                etag = versioned + hashlib.sha256(body).hexdigest()[:8]
            if _FAST_VERSION in request.environ:
                request.environ[_FAST_EXPIRES] = expires
            item = (body, response.status_code, headers, etag, expires, stamp)
            page_cache.put(key, item)
        body, status, headers, etag = item[:4]
        response = current_app.response_class(body, status=status, headers=headers)
        if etag is None:
            response.headers.update({"Cache-Control": "no-store",
                                     "Vary": "Cookie, Accept-Encoding"})
        else:
            response.headers.update({**cache_headers, "ETag": f'W/"{etag}"'})
        return response

    return wrapper


# -- the fast path for cookie-less visitors -----------------------------------------------------

_FAST_ELIGIBLE = "registry.fast_path"
_FAST_VERSION = "registry.fast_path.version"
_FAST_EXPIRES = "registry.fast_path.expires"
_UNCACHEABLE_HEADERS = ("set-cookie", "content-encoding", "x-ratelimit-limit", "ratelimit-limit",
                        "retry-after")
_COMPRESSIBLE = ("text/html",)  # JSON clients (API) keep what the app sends them


class _FastItem:
    __slots__ = ("version", "status", "headers", "body", "gzipped", "etag", "expires")

    def __init__(self, version, status, headers, body, gzipped, etag, expires=None):
        self.version, self.status, self.headers = version, status, headers
        self.body, self.gzipped, self.etag = body, gzipped, etag
        self.expires = expires  # time.monotonic() after which a lagging page is rendered again

    def valid(self, versions: Versions | None) -> bool:
        """Whether the item may be served at ``versions`` (see ``cached_page``)."""
        if versions is None:
            return False
        if self.expires is not None and time.monotonic() >= self.expires:
            return False
        if self.version.startswith("L:"):
            return self.version[2:] == versions.lineage
        return self.version == versions.public


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

    def _versions(self) -> Versions | None:
        engine = self._engine
        if engine is None:
            with self.app.app_context():
                if not _has_table(db.engine):
                    return None
                engine = self._engine = db.engine
        try:
            with engine.connect() as conn:
                rows: dict[str, str] = dict(conn.exec_driver_sql(
                    "SELECT name, token FROM data_version WHERE name IN ('public', "
                    "'lineage')").all())
        except SQLAlchemyError:
            return None
        return Versions(rows.get(NAME) or "0", rows.get(LINEAGE) or "0")

    # WSGI ---------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if not self._eligible(environ):
            return self.wsgi_app(environ, start_response)
        key = "|".join((environ.get("wsgi.url_scheme", ""),
                        environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
                        environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
                        environ.get("QUERY_STRING", "")))
        item = self.store.get(key)
        if item is not None and item.valid(self._versions()):
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
        item.expires = environ.get(_FAST_EXPIRES)
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
