"""Consistent backups and restores of the registry database.

SQLite: the online backup API (a consistent copy while the app keeps running).
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    pass


def default_backup_path(url: URL, directory: str | Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if url.get_backend_name() == "sqlite" else "dump"
    return Path(directory) / f"registry-{stamp}.{suffix}"


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return url.database


def _pg_env_and_args(url: URL) -> tuple[dict, list[str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    return env, args


def backup(database_url: str, path: str | Path) -> Path:
    """Write a consistent backup of the database to ``path``; returns the path."""
    url = make_url(database_url)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        tmp = path.with_name(path.name + ".part")
        try:
            target = sqlite3.connect(tmp)
            with target:
                source.backup(target)
            target.close()
        finally:
            source.close()
        os.replace(tmp, path)  # never leave a half-written file under the final name
        return path
    if backend == "postgresql":
        if not shutil.which("pg_dump"):
            raise BackupError("pg_dump is not installed.")
        env, args = _pg_env_and_args(url)
        tmp = path.with_name(path.name + ".part")
        result = subprocess.run(  # noqa: S603 - fixed executable, arguments from our config
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(tmp), *args],
            env=env, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        os.replace(tmp, path)
        return path
    raise BackupError(f"Backups of {backend} databases are not supported.")


def restore(database_url: str, path: str | Path) -> None:
    """Replace the database's contents by the backup at ``path``."""
    url = make_url(database_url)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    backend = url.get_backend_name()
    if backend == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.execute("PRAGMA schema_version").fetchone()
            check = source.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a SQLite database: {exc}") from None
        if check != "ok":
            source.close()
            raise BackupError(f"{path} failed the integrity check: {check}")
        target = sqlite3.connect(_sqlite_path(url))
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    if backend == "postgresql":
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not installed.")
        env, args = _pg_env_and_args(url)
        result = subprocess.run(  # noqa: S603
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
             *args, str(path)],
            env=env, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        return
    raise BackupError(f"Restoring {backend} databases is not supported.")
