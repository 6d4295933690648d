"""Throwaway PostgreSQL and Redis servers for the benchmark, and loading a data set into
PostgreSQL (issue 20).

The same parts as the test suite uses (tests/pgserver.py, tests/redisserver.py: Debian's
``initdb``/``pg_ctl`` and ``redis-server`` on a free port of 127.0.0.1, data under /tmp,
``runuser -u postgres`` when running as root), but PostgreSQL keeps its production settings:
``fsync`` and ``synchronous_commit`` stay on (the tests switch them off for speed; a benchmark
of writes must not).

``copy_sqlite_to_postgres`` puts the very rows of a cached SQLite data set
(bench.generate) into a migrated PostgreSQL database with ``COPY``, so SQLite and PostgreSQL
are measured on the same data and 100,000 initiatives load in about a minute instead of the
minutes of generating them again.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# Settings of the benchmark's PostgreSQL: durable commits as in production, room for two
# app instances' pools, and a buffer cache that holds the 100,000 data set.
PG_SETTINGS = {
    "max_connections": "200",
    "shared_buffers": "512MB",
    "effective_cache_size": "2GB",
    "work_mem": "16MB",
}
SKIP_TABLES = {"alembic_version", "sqlite_stat1", "sqlite_sequence"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bindir() -> Path | None:
    """Debian's PostgreSQL binaries (the newest major version), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def redis_binary() -> str | None:
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server")


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextlib.contextmanager
def postgres_server(bindir: Path | None = None) -> Iterator[str]:
    """Start a throwaway PostgreSQL server; yield the URL of its ``postgres`` database."""
    bindir = bindir or pg_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL: apt-get install postgresql")
    user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    base = Path(tempfile.mkdtemp(prefix="registry-bench-pg-"))
    datadir = base / "pgdata"
    if user:
        shutil.chown(base, user=user)
    started = False
    try:
        subprocess.run(_as_user([str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres",
                                 "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], user),
                       check=True, capture_output=True, timeout=120)
        port = free_port()
        options = f"-p {port} -k {base} -h 127.0.0.1 " + " ".join(
            f"-c {name}={value}" for name, value in PG_SETTINGS.items())
        subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options,
                                 "-l", str(base / "server.log"), "-w", "-t", "60", "start"],
                                user), check=True, capture_output=True, timeout=90)
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast",
                                     "-w", "stop"], user),
                           capture_output=True, timeout=120, check=False)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start a throwaway Redis (no persistence); yield its URL."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("no Redis: apt-get install redis-server")
    base = Path(tempfile.mkdtemp(prefix="registry-bench-redis-"))
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(base), "--logfile", str(base / "redis.log"), "--daemonize", "no",
         "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq/psycopg takes it."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name."""
    head, _sep, _old = url.rpartition("/")
    return f"{head}/{name}"


def create_database(server_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server; return its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def copy_sqlite_to_postgres(sqlite_file: Path, url: str) -> dict[str, int]:
    """Copy every row of ``sqlite_file`` into the migrated (empty) PostgreSQL database at
    ``url``: the seeded rows of the migrations are replaced, sequences continue after the
    copied ids, statistics are refreshed. Returns the rows copied per table.

    Values travel in COPY's text format: SQLite's 0/1 are valid booleans, its timestamp text
    is read in UTC, JSON text stays JSON."""
    import psycopg

    src = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute("SET session_replication_role = replica")  # no FK checks while loading
            pg_tables = [r[0] for r in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'public' and table_type = 'BASE TABLE'")]
            tables = [t for t in pg_tables if t not in SKIP_TABLES]
            if tables:
                conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
            sqlite_tables = {r[0] for r in src.execute(
                "select name from sqlite_master where type = 'table'")}
            for table in tables:
                if table not in sqlite_tables:
                    continue
                pg_cols = [r[0] for r in conn.execute(
                    "select column_name from information_schema.columns where "
                    "table_schema = 'public' and table_name = %s order by ordinal_position",
                    (table,))]
                have = {r[1] for r in src.execute(f'PRAGMA table_info("{table}")')}
                cols = [c for c in pg_cols if c in have]
                col_list = ", ".join(f'"{c}"' for c in cols)
                n = 0
                with conn.cursor().copy(f'COPY "{table}" ({col_list}) FROM STDIN') as copy:
                    for row in src.execute(f'SELECT {col_list} FROM "{table}"'):
                        copy.write_row(row)
                        n += 1
                expected = src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                if n != expected:
                    raise RuntimeError(f"{table}: read {n} of {expected} rows from SQLite")
                counts[table] = n
            for table, column in conn.execute(
                    "select table_name, column_name from information_schema.columns "
                    "where table_schema = 'public' and (column_default like 'nextval%%' "
                    "or is_identity = 'YES')").fetchall():
                conn.execute(
                    f"select setval(pg_get_serial_sequence(%s, %s), "
                    f'coalesce((select max("{column}") from "{table}"), 0) + 1, false)',
                    (table, column))
            conn.commit()
            for table, n in counts.items():  # every row arrived
                stored = conn.execute(f'select count(*) from "{table}"').fetchone()
                if not stored or stored[0] != n:
                    raise RuntimeError(f"{table}: {stored} rows in PostgreSQL, {n} copied")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    finally:
        src.close()
    return counts


def migrate(url: str, env: dict, cwd: Path) -> None:
    """Apply the app's migrations to ``url`` (``flask db upgrade``, as a deployment does)."""
    exe = str(Path(sys.executable).parent / "flask")
    subprocess.run([exe, "--app", "registry", "db", "upgrade"], env=dict(env, DATABASE_URL=url),
                   cwd=cwd, check=True, capture_output=True, timeout=600)


def load_postgres(server_url: str, sqlite_file: Path, name: str, env: dict,
                  cwd: Path) -> tuple[str, dict[str, int], float]:
    """A fresh database ``name`` with the schema and the rows of ``sqlite_file``:
    (its URL, rows per table, seconds taken)."""
    started = time.perf_counter()
    url = create_database(server_url, name)
    migrate(url, env, cwd)
    counts = copy_sqlite_to_postgres(sqlite_file, url)
    return url, counts, time.perf_counter() - started
