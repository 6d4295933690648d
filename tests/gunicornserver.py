"""The documented production setup under gunicorn, for tests that need real workers.

``documented_gunicorn(tmp_path, ...)`` runs exactly the command of README.md and
docs/deployment.md, ``gunicorn -c gunicorn.conf.py 'registry:create_app()'`` from the checkout,
with ``REGISTRY_CONFIG=production`` and the environment a deployment sets (a random 64-hex
``SECRET_KEY``, ``BASE_URL``, ``DATABASE_URL``, ``RATELIMIT_STORAGE_URI``), on a free port of
127.0.0.1 and a migrated SQLite file. The settings of gunicorn.conf.py that a deployment
chooses (bind, workers, threads, access log) are given through its environment variables
(``GUNICORN_BIND`` ...); ``extra_args`` are appended to the command line. Over plain http
(no TLS here) ``SESSION_COOKIE_SECURE=false``.

Rate limits are kept in the suite's Redis (``tests.redisserver``), in a database of their own
(1, while ``rate_limited_app`` uses 0; on a shared TEST_REDIS_URL this xdist worker's, see
``tests.redisserver.database_numbers``), emptied at the start, unless ``settings`` says
otherwise; without Redis in ``memory://`` with ``RATELIMIT_ALLOW_MEMORY=true`` (what
production demands to accept it).

``seed_app(server)`` is an app on the same database and ``SECRET_KEY`` (``testing``
configuration, no limits) to store data and make tokens before the requests.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from flask import Flask

from tests.redisserver import database_numbers, redis_url, with_database

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED_COMMAND = ["-c", "gunicorn.conf.py", "registry:create_app()"]
# Settings of the environment that would leak from the test run into the server
_DROP = ("TEST_DATABASE_URL", "DATABASE_URL", "REGISTRY_CONFIG", "SECRET_KEY", "BASE_URL",
         "RATELIMIT_STORAGE_URI", "RATELIMIT_ALLOW_MEMORY", "RATELIMIT_ENABLED",
         "TRUSTED_HOSTS", "GUNICORN_CMD_ARGS", "PROXY_FIX_X_FOR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, proc: subprocess.Popen, port: int, env: dict, access_log: Path,
                 error_log: Path, database_url: str):
        self.proc, self.port, self.env = proc, port, env
        self.base = f"http://127.0.0.1:{port}"
        self.access_log, self.error_log, self.database_url = access_log, error_log, database_url

    def url(self, path: str) -> str:
        return self.base + path

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in children.split()]

    def stop(self) -> None:
        """Graceful stop: the workers finish and flush their logs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def logs(self) -> str:
        """The access log and the error log (stdout and stderr: mail, app log) together."""
        parts = []
        for path in (self.access_log, self.error_log):
            parts.append(path.read_text(errors="replace") if path.exists() else "")
        return "\n".join(parts)


def fresh_redis(url: str, number: int | None = None) -> str:
    """``url`` pointing at Redis database ``number`` (default: gunicorn's, 1, or this xdist
    worker's on a shared server, ``tests.redisserver.database_numbers``), emptied."""
    import redis

    url = with_database(url, database_numbers()[1] if number is None else number)
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


def limit_settings() -> dict[str, str]:
    """Rate limits in the suite's Redis; memory:// (allowed explicitly) without one."""
    url = redis_url()
    if url:
        return {"RATELIMIT_STORAGE_URI": fresh_redis(url)}
    return {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ALLOW_MEMORY": "true"}


def _migrate(database_url: str, secret_key: str) -> None:
    """The schema and the seeded taxonomies, as ``flask db upgrade`` gives a deployment."""
    from flask_migrate import upgrade

    from registry import create_app
    from registry.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=secret_key)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


def seed_app(server: Gunicorn) -> Flask:
    """An app on the server's database, SECRET_KEY and BASE_URL (limits off), to store data."""
    from registry import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=server.database_url,
                      SECRET_KEY=server.env["SECRET_KEY"], BASE_URL=server.base,
                      WTF_CSRF_ENABLED=True)


@contextmanager
def documented_gunicorn(tmp_path: Path, *, workers: int = 2, threads: int = 2,
                        settings: dict[str, str] | None = None,
                        extra_args: tuple[str, ...] = ()) -> Iterator[Gunicorn]:
    """gunicorn with gunicorn.conf.py and the production configuration (see the module)."""
    database_url = f"sqlite:///{tmp_path / 'registry.db'}"
    secret_key = secrets.token_hex(32)
    _migrate(database_url, secret_key)
    port = free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update({
        "REGISTRY_CONFIG": "production", "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url, "BASE_URL": f"http://127.0.0.1:{port}",
        "SESSION_COOKIE_SECURE": "false", "MAIL_BACKEND": "console", "LOG_LEVEL": "INFO",
        "DOCUMENT_CACHE_DIR": str(tmp_path / "documents"),
        "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads), "GUNICORN_ACCESS_LOG": str(access_log),
    })
    env.update(settings if settings and "RATELIMIT_STORAGE_URI" in settings
               else {**limit_settings(), **(settings or {})})
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with error_log.open("wb") as errors:
        proc = subprocess.Popen([str(gunicorn), *DOCUMENTED_COMMAND, *extra_args], env=env,  # noqa: S603
                                cwd=ROOT, stdout=errors, stderr=subprocess.STDOUT)
    server = Gunicorn(proc, port, env, access_log, error_log, database_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + server.logs()[-3000:])
            try:
                if requests.get(server.url("/privacy"), timeout=10).status_code == 200 \
                        and len(server.worker_pids()) == workers:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + server.logs()[-3000:])
            time.sleep(0.1)
        yield server
    finally:
        server.stop()
