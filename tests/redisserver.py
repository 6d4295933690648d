"""A Redis server for the test suite (hooks and fixture: tests/fixtures/redis_server.py).

Production keeps its rate limits in Redis (``RATELIMIT_STORAGE_URI=redis://...``: one count
for all workers and instances), so the rate-limit tests run on a real Redis too
(``tests.fixtures.limits.rate_limited_app``), and ``tests/security/test_rate_limit_workers.py``
proves with two gunicorn workers that one limit holds across both.

Where the URL comes from, in this order:

1. ``TEST_REDIS_URL`` (any Redis URL; the suite deletes the rate-limit keys in it);
2. a throwaway server this test run starts itself with Debian's ``redis-server``
   (``apt-get install redis-server``): a free port on 127.0.0.1, no persistence, its directory
   under /tmp, stopped at the end of the session (``pytest_unconfigure``, ``atexit``, and the
   kernel's parent-death signal should the test run be killed).

In a parallel run (pytest-xdist, tests/workers.py) each worker starts a server of its own; on a
given ``TEST_REDIS_URL`` worker N uses databases 2N (rate_limited_app) and 2N+1 (gunicorn, see
:func:`database_numbers`) instead of 0 and 1, so workers never empty each other's counts.

``TEST_REDIS=0`` turns Redis off (the rate-limit tests then use ``memory://``);
``TEST_REQUIRE_PARTS=1`` (set by .ci/run) turns a missing Redis into an error instead.
The server is only started when a test needs it.

Fixture: ``redis_url`` (session) - the URL, or a skip (an error with TEST_REQUIRE_PARTS=1).
"""
from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.workers import worker_id, worker_index

_UNSET = object()
_state: dict = {"url": _UNSET, "reason": "", "proc": None, "base": None, "shared": False}
OFF = {"0", "no", "false", "off"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_binary() -> str | None:
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)


def wanted() -> bool:
    return os.environ.get("TEST_REDIS", "").strip().lower() not in OFF


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test run dies (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def with_database(url: str, number: int) -> str:
    """``url`` pointing at Redis database ``number``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def database_numbers() -> tuple[int, int]:
    """The databases of (rate_limited_app, gunicorn): 0 and 1 on this run's own server,
    2N and 2N+1 for xdist worker N on a shared TEST_REDIS_URL."""
    if _state["shared"] and worker_id():
        return 2 * worker_index(), 2 * worker_index() + 1
    return 0, 1


def _start_server(binary: str) -> str:
    base = Path(tempfile.mkdtemp(prefix="registry-test-redis-"))
    atexit.register(stop_server)
    _state.update(base=base)
    # A free port can be taken by a parallel worker's server before ours binds it: try another.
    attempts = 3
    for attempt in range(1, attempts + 1):
        port = _free_port()
        proc = subprocess.Popen(  # noqa: S603 - our own redis-server, fixed arguments
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(base), "--logfile", str(base / "redis.log"), "--daemonize", "no",
             "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        _state.update(proc=proc)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_ready(url, proc, base)
        except RuntimeError:
            if attempt == attempts or proc.poll() is None:  # not a lost race for the port
                raise
            continue
        return url
    raise RuntimeError("redis-server did not start")


def _wait_ready(url: str, proc: subprocess.Popen | None = None, base: Path | None = None) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        for _attempt in range(100):
            if proc is not None and proc.poll() is not None:
                log = (base / "redis.log").read_text() if base else ""
                raise RuntimeError(f"redis-server exited ({proc.returncode}): {log[-1000:]}")
            try:
                # our own server, not a parallel worker's that won the race for the port
                if client.ping() and (proc is None
                                      or client.info("server").get("process_id") == proc.pid):
                    return
                time.sleep(0.05)
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on {url}")
    finally:
        client.close()


def known_missing() -> str | None:
    """Why this run can have no Redis, when that is clear without starting anything (the
    xdist controller checks TEST_REQUIRE_PARTS with it before any worker starts)."""
    if not wanted():
        return "TEST_REDIS=0"
    if not os.environ.get("TEST_REDIS_URL") and redis_binary() is None:
        return "no Redis: set TEST_REDIS_URL or install Debian's redis-server"
    return None


def redis_url() -> str | None:
    """The Redis URL for this run, starting a throwaway server once if needed."""
    if _state["url"] is not _UNSET:
        return _state["url"]
    url, reason = None, ""
    if not wanted():
        reason = "TEST_REDIS=0"
    elif os.environ.get("TEST_REDIS_URL"):
        _state["shared"] = True
        url = os.environ["TEST_REDIS_URL"]
        if worker_id():
            url = with_database(url, database_numbers()[0])
        try:
            _wait_ready(url)
        except Exception as exc:
            url, reason = None, f"TEST_REDIS_URL does not answer: {exc}"
    else:
        binary = redis_binary()
        if binary is None:
            reason = "no Redis: set TEST_REDIS_URL or install Debian's redis-server"
        else:
            try:
                url = _start_server(binary)
            except Exception as exc:  # a broken local install must not break the rest
                reason = f"could not start a throwaway Redis: {exc}"
                stop_server()
                url = None
    _state.update(url=url, reason=reason)
    return url


def stop_server() -> None:
    """Stop and remove the throwaway server (idempotent)."""
    proc, base = _state.get("proc"), _state.get("base")
    _state.update(proc=None, base=None)
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if base:
        shutil.rmtree(base, ignore_errors=True)
