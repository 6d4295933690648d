"""Checking and importing a file in a background thread, so that the page answers at once.

The thread runs in the process that received the request, in an app and request context of
its own (the form's built-in WTForms messages are translated only inside a request) with the
moderator's language. Its progress lives in the job's row, so any worker can show the page
that polls it (``<meta http-equiv="refresh">``, no JavaScript needed). A job whose row has
not been touched for ``STALE_AFTER`` while it says it is running lost its thread (the worker
was restarted): the page offers to start that step again, which is safe, since rows that
were already imported are recognised by their key.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask_babel import force_locale

from registry.database import as_utc, utcnow
from registry.extensions import db
from registry.imports.models import RUNNING, ImportJob

logger = logging.getLogger(__name__)

EXTENSION = "registry.imports.threads"
STALE_AFTER = timedelta(minutes=2)


def _threads(app: Flask) -> dict[int, threading.Thread]:
    return app.extensions.setdefault(EXTENSION, {})


def start(app: Flask, job_id: int, language: str, work: Callable[[], None]) -> threading.Thread:
    """Run ``work`` for the job in a daemon thread (after the caller's commit)."""
    def run() -> None:
        try:
            with app.test_request_context("/moderatie/import/", base_url=app.config["BASE_URL"]):
                with force_locale(language):
                    try:
                        work()
                    finally:
                        db.session.remove()
        except Exception:  # the step marks its own failures; this is anything else
            logger.exception("Import job %s stopped unexpectedly", job_id)
        finally:
            _threads(app).pop(job_id, None)

    thread = threading.Thread(target=run, name=f"import-job-{job_id}", daemon=True)
    _threads(app)[job_id] = thread
    thread.start()
    return thread


def running_here(app: Flask, job_id: int) -> bool:
    thread = _threads(app).get(job_id)
    return thread is not None and thread.is_alive()


def wait(app: Flask, job_id: int, timeout: float = 60.0) -> None:
    """Wait for the job's thread in this process (tests and the benchmark)."""
    thread = _threads(app).get(job_id)
    if thread is not None:
        thread.join(timeout)


def stale(app: Flask, job: ImportJob) -> bool:
    """A running job whose thread is gone: no thread here and no sign of life for a while."""
    if job.status not in RUNNING or running_here(app, job.id):
        return False
    return as_utc(job.updated_at) < utcnow() - STALE_AFTER
