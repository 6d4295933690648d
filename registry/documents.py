"""Rendered documents and exports, made once per canonical request and data version (issue 17).

The summary's PDF, DOCX and XLSX (``/knelpunten/knelpuntenoverzicht.*``) and the exports
(``/export/<dataset>.<format>``) cost seconds of CPU each. Anyone could ask for them over and
over, with a new spelling of the same filter each time. Now:

- ``request_filter`` refuses a query parameter the route does not read with a 400 and a
  Dutch page. The filter comes back canonical: unknown codes are left out, lists are sorted,
  ``q`` is folded the way the search folds it. Two spellings of one selection are one
  document.
- ``serve`` keeps each rendered file on disk (``DOCUMENT_CACHE_DIR``), shared by every worker
  on the machine. The key holds the kind and format, the canonical filter, the snapshot, the
  public data version (``registry.cache``), the language, whether the viewer sees exact
  figures (advisors and up), the host and the settings the output shows, and, per
  namespace, the database and the code. A repeat is sent from the file with an ETag. It never
  renders anything and is not counted against the limit. Files are written to a temporary
  name and moved into place with ``os.replace``. Directories of other data versions are
  removed after a minute, and a size cap bounds what is kept.
- A lock file per key (``fcntl.flock``) means that two requests for the same missing
  document render it once: the second waits and then sends the file.
- Only the requests that must render a new file count against the per-IP limit
  ``DOCUMENT_RATE_LIMIT``, which uses the Flask-Limiter storage. The answer after the limit
  is a 429 with a Dutch page and Retry-After; documents already on disk are still sent.
- While the session holds uncommitted public changes, or without a data version (table
  missing), or with an empty ``DOCUMENT_CACHE_DIR``, the document is rendered and sent
  without being kept, and that still counts against the limit.
"""
from __future__ import annotations

import fcntl  # POSIX only, like gunicorn: the registry is deployed on Linux
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    request,
    send_file,
    stream_with_context,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from limits import parse_many

from registry.cache import has_pending_public_changes, public_data_version
from registry.errors import render_error
from registry.extensions import db, limiter
from registry.published.filters import InitiativeFilter
from registry.published.sources import Source
from registry.published.web import sees_exact_figures

logger = logging.getLogger(__name__)

# Parameters every document route reads besides the filter.
COMMON_PARAMS = ("snapshot", "lang")
# At most this many bytes of documents are kept for the current data version; the oldest go
# first.
MAX_BYTES = 1024 * 1024 * 1024
# A directory of another data version is removed once it has not changed for this long (a
# request that read the version just before a change may still be writing there); one of
# another database or code (a deployment: workers of the old code may still be finishing)
# after an hour.
STALE_SECONDS = 60
OTHER_NAMESPACE_SECONDS = 3600
# How long a request waits for another one that renders the same document.
LOCK_TIMEOUT = 300.0
LOCK_POLL = 0.05
_VERSION = re.compile(r"[0-9A-Za-z]{1,64}")
_TMP = ".tmp"


@dataclass
class Rendered:
    """A rendered document: the body as bytes, as chunks, or as a rewound file."""

    name: str
    mimetype: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    chunks: Iterator[bytes] | None = None
    file: IO[bytes] | None = None


# -- the request --------------------------------------------------------------------------------

def request_filter(*, extra: Iterable[str] = ()) -> InitiativeFilter:
    """The canonical filter of this request. Query parameters other than the filter's,
    ``snapshot``, ``lang`` and ``extra`` are refused (400). Unknown values are left out, as
    on the pages (the filter only keeps known codes): they cannot make a second document."""
    allowed = (*InitiativeFilter.PARAMS, *COMMON_PARAMS, *extra)
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        abort(make_response(render_error(400, _(
            "Deze download kent de parameter %(name)s niet. Toegestaan zijn: %(allowed)s.",
            name=unknown[0][:50], allowed=", ".join(allowed)))))
    return InitiativeFilter.from_args(request.args).canonical()


# -- the limit ----------------------------------------------------------------------------------

def _wait_before_generating() -> int | None:
    """None when this address may render a new document now, else the seconds to wait.
    A render takes one unit of every limit in ``DOCUMENT_RATE_LIMIT``."""
    value = current_app.config["DOCUMENT_RATE_LIMIT"]
    if not (value and limiter.enabled and limiter.initialized):
        return None
    address = get_remote_address()
    try:
        items = parse_many(value)
        strategy = limiter.limiter
        for item in items:
            if not strategy.test(item, "documents", address):
                reset = strategy.get_window_stats(item, "documents", address).reset_time
                return max(1, int(reset - time.time()) + 1)
        for item in items:
            strategy.hit(item, "documents", address)
    except Exception:  # storage unreachable: render (and say so) rather than refuse everyone
        logger.exception("Document rate limit could not be checked")
    return None


def _too_many(retry: int) -> Response:
    response = make_response(render_error(429, _(
        "Vanaf uw internetadres zijn kort na elkaar veel nieuwe documenten en exports "
        "aangevraagd. Documenten die al eens zijn gemaakt kunt u gewoon downloaden; probeer "
        "het voor dit document over een paar minuten opnieuw.")))
    response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- where files go -----------------------------------------------------------------------------

@functools.cache
def _code_stamp(*folders: str) -> str:
    """Changes with every deployment: sizes and times of the code, templates, styles and
    catalogues the documents are made from (read once per process)."""
    digest = hashlib.sha256()
    for folder in folders:
        base = Path(folder)
        for pattern in ("*.py", "*.html", "*.css", "*.mo"):
            for path in sorted(base.rglob(pattern)):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                digest.update(f"{path.relative_to(base)}:{stat.st_size}:{stat.st_mtime_ns}\n"
                              .encode())
    return digest.hexdigest()


def _namespace() -> str:
    app = current_app
    folders = [app.root_path, app.static_folder or "",
               os.path.join(app.root_path, app.template_folder or "")]
    url = db.engine.url.render_as_string(hide_password=True)
    raw = f"{url}|{_code_stamp(*sorted(f for f in folders if f))}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _key(kind: str, fmt: str, flt: InitiativeFilter, src: Source,
         extra: dict[str, str]) -> str:
    config = current_app.config
    parts = {
        "kind": kind, "format": fmt, "filter": flt.cache_key(), "snapshot": src.code or "",
        "language": str(get_locale()), "exact": sees_exact_figures(), "extra": extra,
        # what else the output shows: links (host, BASE_URL) and the suppression threshold
        "host": request.host_url, "base_url": config["BASE_URL"],
        "threshold": config["SMALL_NUMBER_THRESHOLD"],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


@dataclass
class _Place:
    root: Path
    namespace: str
    version: str
    key: str
    fmt: str

    @property
    def folder(self) -> Path:
        return self.root / self.namespace / self.version

    @property
    def data(self) -> Path:
        return self.folder / f"{self.key}.{self.fmt}"

    @property
    def meta(self) -> Path:
        return self.folder / f"{self.key}.headers"

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.key}.lock"

    @property
    def tmp(self) -> Path:
        return self.root / _TMP


def _place(kind: str, fmt: str, flt: InitiativeFilter, src: Source,
           extra: dict[str, str]) -> _Place | None:
    """Where this document is kept, or None when it must not be kept."""
    root = current_app.config["DOCUMENT_CACHE_DIR"]
    if not root or has_pending_public_changes(db.session):
        return None
    version = public_data_version()
    if version is None:
        return None
    if not _VERSION.fullmatch(version):
        version = hashlib.sha256(version.encode()).hexdigest()[:32]
    return _Place(Path(root), _namespace(), version, _key(kind, fmt, flt, src, extra), fmt)


# -- sending ------------------------------------------------------------------------------------

def _disposition(name: str) -> str:
    return f"attachment; filename=\"{name}\""


def _send_kept(place: _Place) -> Response | None:
    """The kept file with its name and headers, or None when it is not there (any more)."""
    try:
        meta = json.loads(place.meta.read_text(encoding="utf-8"))
        response = send_file(place.data, mimetype=meta["mimetype"], as_attachment=True,
                             download_name=meta["name"], conditional=True, etag=True,
                             max_age=None)
    except (OSError, ValueError, KeyError):
        return None
    response.headers.update(meta["headers"])
    response.headers["Content-Disposition"] = _disposition(meta["name"])
    response.headers["Cache-Control"] = "no-store"
    return response


def _send_rendered(doc: Rendered) -> Response:
    """A document that is not kept, sent as it comes."""
    headers = {**doc.headers, "Content-Disposition": _disposition(doc.name),
               "Cache-Control": "no-store"}
    if doc.file is not None:
        response = send_file(doc.file, mimetype=doc.mimetype, as_attachment=True,
                             download_name=doc.name)
        response.headers.update(headers)
        return response
    if doc.body is not None:
        return Response(doc.body, mimetype=doc.mimetype, headers=headers)
    return Response(stream_with_context(doc.chunks or iter(())), mimetype=doc.mimetype,
                    headers=headers)


def _send_temporary(path: Path, doc: Rendered) -> Response:
    """A rendered file that could not be kept: sent, then removed."""
    response = send_file(path, mimetype=doc.mimetype, as_attachment=True,
                         download_name=doc.name, max_age=None)
    response.headers.update({**doc.headers, "Content-Disposition": _disposition(doc.name),
                             "Cache-Control": "no-store"})
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


# -- writing ------------------------------------------------------------------------------------

def _write_body(doc: Rendered, out: IO[bytes]) -> None:
    if doc.body is not None:
        out.write(doc.body)
    elif doc.file is not None:
        try:
            shutil.copyfileobj(doc.file, out, 1024 * 1024)
        finally:
            doc.file.close()
    else:
        for chunk in doc.chunks or ():
            out.write(chunk)


def _temporary(folder: Path, suffix: str) -> tuple[IO[bytes], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="doc-", suffix=suffix)
    return os.fdopen(fd, "wb"), Path(name)


def _keep(place: _Place, doc: Rendered) -> Response:
    """Write the document to a temporary file (memory stays flat for streamed exports), move
    it into place, and send it."""
    out, body = _temporary(place.tmp, f".{place.fmt}")
    try:
        with out:
            _write_body(doc, out)
    except BaseException:
        body.unlink(missing_ok=True)
        raise
    meta = {"name": doc.name, "mimetype": doc.mimetype, "headers": doc.headers}
    try:
        _prune(place)
        place.folder.mkdir(parents=True, exist_ok=True)
        meta_out, meta_tmp = _temporary(place.tmp, ".headers")
        with meta_out:
            meta_out.write(json.dumps(meta).encode())
        # The body is the sign that the document is complete: its name comes last.
        os.replace(meta_tmp, place.meta)
        os.replace(body, place.data)
    except OSError:
        logger.exception("Could not keep document %s", place.data)
        return _send_temporary(body, doc)
    response = _send_kept(place)
    if response is None:  # pragma: no cover - removed in the very same instant
        raise RuntimeError(f"document {place.data} vanished")
    return response


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        return list(os.scandir(folder))
    except OSError:
        return []


def _prune(place: _Place) -> None:
    """Remove other data versions (and namespaces) once they are stale, and the oldest
    documents of this version beyond ``MAX_BYTES``."""
    now = time.time()

    def remove_stale(parent: Path, keep: str, age: float) -> None:
        for entry in _entries(parent):
            try:
                if (entry.name != keep and not entry.name.startswith(".")
                        and entry.is_dir(follow_symlinks=False)
                        and now - entry.stat(follow_symlinks=False).st_mtime > age):
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                continue

    remove_stale(place.root / place.namespace, place.version, STALE_SECONDS)
    remove_stale(place.root, place.namespace, OTHER_NAMESPACE_SECONDS)
    for entry in _entries(place.tmp):  # left behind by a worker that was killed
        try:
            if now - entry.stat().st_mtime > OTHER_NAMESPACE_SECONDS:
                os.unlink(entry.path)
        except OSError:
            continue
    files = []
    for entry in _entries(place.folder):
        if entry.name.endswith((".headers", ".lock")) or entry.name.startswith(place.key):
            continue
        try:
            stat = entry.stat()
        except OSError:
            continue
        files.append((stat.st_mtime, stat.st_size, Path(entry.path)))
    total = sum(size for _mtime, size, _path in files)
    for _mtime, size, path in sorted(files):
        if total <= MAX_BYTES:
            break
        path.unlink(missing_ok=True)
        path.with_suffix(".headers").unlink(missing_ok=True)
        total -= size


# -- locking ------------------------------------------------------------------------------------

def _acquire(fd: int, timeout: float = LOCK_TIMEOUT) -> str:
    """Take the key's lock: ``"free"`` at once, ``"waited"`` after another request let go,
    ``"timeout"`` when it did not within ``timeout`` seconds (then we go on without it)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return "free"
    except BlockingIOError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return "waited"
        except BlockingIOError:
            continue
    return "timeout"


# -- the entry point ----------------------------------------------------------------------------

def serve(kind: str, fmt: str, flt: InitiativeFilter, src: Source,
          render: Callable[[], Rendered], *, extra: dict[str, str] | None = None) -> Response:
    """Send the document ``kind`` in ``fmt`` for ``flt`` on ``src``, from the shared cache
    when it is there; ``render`` makes it otherwise (see the module docstring). ``extra``:
    further options that change the output (the CSV separator)."""
    place = _place(kind, fmt, flt, src, extra or {})
    if place is None:
        retry = _wait_before_generating()
        return _too_many(retry) if retry is not None else _send_rendered(render())
    kept = _send_kept(place)
    if kept is not None:
        return kept
    try:
        place.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(place.lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # not writable: render without keeping
        logger.exception("Document cache %s is not writable", place.folder)
        retry = _wait_before_generating()
        return _too_many(retry) if retry is not None else _send_rendered(render())
    try:
        _acquire(fd)
        kept = _send_kept(place)  # made by the request we waited for
        if kept is not None:
            return kept
        retry = _wait_before_generating()
        if retry is not None:
            return _too_many(retry)
        return _keep(place, render())
    finally:
        os.close(fd)  # releases the lock
