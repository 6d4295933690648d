"""A PostgreSQL server for the test suite (hooks and fixture: tests/fixtures/postgres.py).

The whole suite runs on SQLite and, when PostgreSQL is available, on PostgreSQL too: the
session-scoped ``database`` fixture in tests/conftest.py is parametrised over
``tests.dbs.database_urls()``, which asks :func:`postgres_url` here.

In a parallel run (pytest-xdist, tests/workers.py) no two workers share a database: each
starts its own throwaway server (own data directory and port), and with a given URL each
works in its own database ``<name>_gw0``, ``<name>_gw1`` ... on that server, created when
missing. The xdist controller runs no tests and starts nothing.

Where the URL comes from, in this order:

1. ``TEST_POSTGRES_URL`` (any PostgreSQL URL; the suite creates and drops its tables in it);
2. ``DATABASE_URL`` when it points at PostgreSQL and its database name contains "test" (the
   suite drops all tables: a developer's real database is never used);
3. a throwaway server this test run starts itself with Debian's ``initdb``/``pg_ctl``
   (``/usr/lib/postgresql/*/bin``): data directory under /tmp, a free port on 127.0.0.1
   (another one if a parallel worker took it first), run as the ``postgres`` user via
   ``runuser`` when the tests run as root, stopped and removed at the end of the session
   (``pytest_unconfigure``, with ``atexit`` as a safety net).

``TEST_POSTGRES=0`` turns PostgreSQL off (a quick SQLite-only run); ``TEST_REQUIRE_PARTS=1``
(set by .ci/run) turns a missing PostgreSQL or browser into an error instead of a skip.
When none of the above is available, PostgreSQL is skipped with a message in the test summary
header; a plain SQLite run costs nothing extra (one ``glob`` for the binaries).

Fixture: ``pg_url`` (session) - the URL, or a skip when there is no PostgreSQL.
Tests that need PostgreSQL specifically can be marked ``@pytest.mark.postgres``.
"""
from __future__ import annotations

import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.workers import worker_id

_UNSET = object()
_state: dict = {"url": _UNSET, "reason": "", "base": None, "pg_ctl": None, "user": None}


def _normalise(url: str) -> str:
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def _reap_orphans(bindir: Path, user: str | None) -> None:
    """Stop throwaway servers left behind by test runs that were killed (owner pid gone)."""
    for base in Path(tempfile.gettempdir()).glob("registry-test-pg-*"):
        try:
            owner = int((base / "owner.pid").read_text())
            os.kill(owner, 0)
            continue  # still running: another test run's server
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue
        if (base / "pgdata" / "postmaster.pid").exists():
            subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(base / "pgdata"), "-m",
                                     "immediate", "-w", "stop"], user),
                           capture_output=True, timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _start_server(bindir: Path) -> str:
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres"
        if shutil.which("runuser") is None:
            raise RuntimeError("running as root but `runuser` is missing")
    _reap_orphans(bindir, user)
    base = Path(tempfile.mkdtemp(prefix="registry-test-pg-"))
    (base / "owner.pid").write_text(str(os.getpid()))
    datadir = base / "pgdata"
    if user:
        shutil.chown(base, user=user)
    _state.update(base=base, user=user, pg_ctl=str(bindir / "pg_ctl"))
    subprocess.run(
        _as_user([str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync"], user),
        check=True, capture_output=True, timeout=120,
    )
    # A free port can be taken by a parallel worker's server before ours binds it: try another.
    for attempt in range(3):
        port = _free_port()
        options = (f"-p {port} -k {base} -h 127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        started = subprocess.run(
            _as_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l",
                      str(base / "server.log"), "-w", "-t", "60", "start"], user),
            check=attempt == 2, capture_output=True, timeout=90,
        )
        if started.returncode == 0:
            break
    atexit.register(stop_server)
    _stop_on_sigterm()
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def _stop_on_sigterm() -> None:
    """`timeout`/CI cancelling the run sends SIGTERM, which skips atexit: stop the server."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, frame):
        stop_server()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


def _wait_ready(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        for attempt in range(50):
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:
                if attempt == 49:
                    raise
                time.sleep(0.1)
    finally:
        engine.dispose()


def _is_test_database(url: str) -> bool:
    """DATABASE_URL is only used when it is PostgreSQL AND its database name says 'test':
    the suite drops every table, and a developer's DATABASE_URL may be their real data."""
    if not url.startswith(("postgres://", "postgresql")):
        return False
    from sqlalchemy.engine import make_url

    try:
        return "test" in (make_url(_normalise(url)).database or "").lower()
    except Exception:
        return False


def _own_database(url: str) -> str:
    """In an xdist worker, a database of its own on the given server (created if missing):
    the suite drops every table, so two workers must never share one."""
    wid = worker_id()
    if not wid:
        return url
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    given = make_url(url)
    name = f"{given.database or 'postgres'}_{wid}"
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": name}).scalar() is None:
                quoted = conn.dialect.identifier_preparer.quote_identifier(name)
                conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


def require_parts() -> bool:
    """TEST_REQUIRE_PARTS=1: PostgreSQL and the browser must be there (CI), no skipping."""
    return os.environ.get("TEST_REQUIRE_PARTS", "").strip().lower() in {"1", "yes", "true", "on"}


def known_missing() -> str | None:
    """Why this run can have no PostgreSQL, when that is clear without starting anything
    (the xdist controller checks TEST_REQUIRE_PARTS with it before any worker starts)."""
    if os.environ.get("TEST_POSTGRES", "").strip().lower() in {"0", "no", "false", "off"}:
        return "TEST_POSTGRES=0"
    if _given_url() is None and _binaries() is None:
        return ("no PostgreSQL: set TEST_POSTGRES_URL or install Debian's postgresql "
                "(initdb under /usr/lib/postgresql/*/bin)")
    return None


def _given_url() -> str | None:
    if os.environ.get("TEST_POSTGRES_URL"):
        return os.environ["TEST_POSTGRES_URL"]
    if _is_test_database(os.environ.get("DATABASE_URL", "")):
        return os.environ["DATABASE_URL"]
    return None


def postgres_url() -> str | None:
    """The PostgreSQL URL for this run, starting a throwaway server once if needed."""
    if _state["url"] is not _UNSET:
        return _state["url"]
    url, reason = None, known_missing() or ""
    given, bindir = _given_url(), _binaries()
    if not reason and given:
        try:
            url = _own_database(_normalise(given))
        except Exception as exc:
            reason = f"could not create this worker's database: {exc}"
    elif not reason and bindir is not None:
        try:
            url = _start_server(bindir)
            _wait_ready(url)
        except Exception as exc:  # a broken local install must not break the SQLite run
            detail = getattr(exc, "stderr", b"") or b""
            if isinstance(detail, bytes):
                detail = detail.decode(errors="replace")
            reason = f"could not start a throwaway PostgreSQL: {exc} {detail}".strip()
            stop_server()
            url = None
    _state.update(url=url, reason=reason)
    return url


def stop_server() -> None:
    """Stop and remove the throwaway server (idempotent)."""
    base, pg_ctl = _state.get("base"), _state.get("pg_ctl")
    if not base:
        return
    _state["base"] = None
    if (Path(base) / "pgdata" / "postmaster.pid").exists():
        subprocess.run(
            _as_user([pg_ctl, "-D", str(Path(base) / "pgdata"), "-m", "immediate", "-w", "stop"],
                     _state.get("user")),
            capture_output=True, timeout=60, check=False,
        )
    shutil.rmtree(base, ignore_errors=True)
