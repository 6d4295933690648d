"""Declarative base, naming convention and shared column helpers."""
from __future__ import annotations

import fcntl  # POSIX only, like gunicorn: the registry is deployed on Linux
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, DateTime, MetaData, String, event, func, literal
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware current time in UTC (callable default, evaluated per row)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True)},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now(), nullable=False
    )


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; treat them as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def joined_text(expr: ColumnElement[Any], sep: str, *, postgresql: bool
                ) -> ColumnElement[str]:
    """SQL: the values of ``expr`` over a group joined by ``sep`` (``string_agg`` on
    PostgreSQL, ``group_concat`` on SQLite; in no promised order)."""
    if postgresql:
        return func.string_agg(expr, literal(sep, String))
    return func.group_concat(expr, literal(sep, String))


BUSY_TIMEOUT_S = 15.0
GATE_TIMEOUT_S = BUSY_TIMEOUT_S  # how long a writer waits for its turn (see _WriteGate)


def init_app(app) -> None:
    """Tune the app's own SQLite engines (call right after ``db.init_app(app)``).

    Every SQLite engine gets the pragmas below; the write gate only with SQLITE_WRITE_GATE.
    Nothing is attached to other databases (PostgreSQL) nor to SQLAlchemy's global Engine and
    Pool classes, so engines made elsewhere (scripts, other apps in the same process) are left
    alone."""
    with app.app_context():
        engines = list(app.extensions["sqlalchemy"].engines.values())
    for engine in engines:
        configure_engine(engine, write_gate=app.config["SQLITE_WRITE_GATE"])


def configure_engine(engine: Engine, *, write_gate: bool = False) -> None:
    """Attach the SQLite listeners to ``engine`` (a no-op for other databases, and when they
    are attached already)."""
    if engine.dialect.name != "sqlite":
        return
    if not event.contains(engine, "connect", _sqlite_settings):
        event.listen(engine, "connect", _sqlite_settings)
    if write_gate and not event.contains(
            engine, "before_cursor_execute", _take_write_gate):
        event.listen(engine, "before_cursor_execute", _take_write_gate)
        event.listen(engine, "commit", _transaction_ends)
        event.listen(engine, "rollback", _transaction_ends)
        event.listen(engine, "reset", _connection_reset)  # a pool event, on the engine's pool


def _sqlite_settings(dbapi_connection, _record) -> None:
    """SQLite as a web server's database (issue 11). WAL lets readers work while one worker
    writes, and with synchronous=NORMAL a commit needs no fsync (about 0.2 ms instead of 15 ms
    here; the database stays consistent after a crash, only the last commits can be lost on
    power failure). Writers wait up to 15 s for the lock instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


# -- SQLite writers take turns (SQLITE_WRITE_GATE) -----------------------------------------------
#
# Opt-in (SQLITE_WRITE_GATE=true), for SQLite with many concurrent writers, such as the
# submission burst of the benchmark; attached to the app's engine only (``configure_engine``).
# SQLite lets one transaction write at a time. A writer that finds the lock taken sleeps in
# SQLite's busy handler in growing steps (1, 2, 5, 10, 15, 20, 25 ms...), so in a burst of
# submissions the lock was often free while every waiter was still asleep (issue 11). Here a
# writer first takes an exclusive file lock (``flock`` on ``<database>-writers``) when its
# transaction issues its first write statement, and lets go when the transaction ends; a
# waiter checks every 0.5 ms, so the next writer starts almost as soon as the lock is free.
# Readers never wait (WAL). Threads of one process take turns through a threading lock in
# front of the file lock.

_held = threading.local()
_gates: dict[tuple[int, str], _WriteGate] = {}
_gates_lock = threading.Lock()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC", "CREATE", "DROP", "ALTER")


class _WriteGate:
    """One file lock per database, held by at most one thread of this process at a time.
    Waiting is bounded by SQLite's own busy timeout: after that the writer goes on without
    the gate and SQLite decides, exactly as without it (so a writer can never hang here)."""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, timeout: float | None = None) -> bool:
        timeout = GATE_TIMEOUT_S if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=timeout):
            return False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.lock.release()
                    return False
                time.sleep(0.0005)  # the holder needs a few ms; wake up well within that
            except OSError:
                self.lock.release()
                return False

    def release(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()


def _gate_for(database: str) -> _WriteGate:
    key = (os.getpid(), database)  # a forked worker opens its own lock file descriptor
    gate = _gates.get(key)
    if gate is None:
        with _gates_lock:
            gate = _gates.get(key)
            if gate is None:
                gate = _gates[key] = _WriteGate(database + "-writers")
    return gate


def _release_for(dbapi_connection) -> None:
    """Let the next writer go: the transaction that took the gate on this connection ends."""
    if getattr(_held, "connection", None) is dbapi_connection:
        gate = _held.gate
        _held.gate = _held.connection = None
        gate.release()


def _take_write_gate(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if getattr(_held, "gate", None) is not None:
        return
    if not statement.lstrip()[:6].upper().startswith(_WRITES):
        return
    database = conn.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    gate = _gate_for(os.path.abspath(database))
    if gate.acquire():
        _held.gate, _held.connection = gate, conn.connection.dbapi_connection


# The transaction ends: SQLAlchemy's commit/rollback events come just before the driver's
# commit or rollback (which takes well under a millisecond in WAL mode); a connection that
# goes back to the pool is reset. Only the connection that took the gate releases it: other
# connections of the same thread (the page cache's version read, say) come and go meanwhile.
def _transaction_ends(conn) -> None:
    if getattr(_held, "gate", None) is not None and not conn.in_nested_transaction():
        _release_for(conn.connection.dbapi_connection)


def _connection_reset(dbapi_connection, _record, _state=None) -> None:
    if getattr(_held, "gate", None) is not None:
        _release_for(dbapi_connection)
