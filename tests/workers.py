"""Which process of a parallel run this is (pytest-xdist; `make test` runs ``-n auto``).

Under xdist the controller only hands out tests; every worker (``gw0``, ``gw1`` ...) is a
process of its own that collects and runs them, and starts its own parts: a throwaway
PostgreSQL (tests/pgserver.py), Redis (tests/redisserver.py), Chromium and live server
(tests/fixtures/browser.py), SMTP servers (tests/fixtures/mail.py) and temporary folders
(``tmp_path_factory`` is per worker). Parts given from outside (``TEST_POSTGRES_URL``,
``TEST_REDIS_URL``) are shared, so each worker takes a database of its own in them.
Tests that share a module-scoped fixture seeding the live server are one ``xdist_group``
(tests/conftest.py; not yet applied by xdist 3.8 under pytest 9.2).
tests/fixtures/workers.py reports the workers' parts in the controller's summary.
"""
from __future__ import annotations

import os

import pytest


def worker_id() -> str | None:
    """``gw0``, ``gw1`` ... in an xdist worker; None in a run without workers."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def worker_index() -> int:
    """0, 1 ... per worker (0 without workers)."""
    name = worker_id() or "gw0"
    digits = name.lstrip("gw")
    return int(digits) if digits.isdigit() else 0


def is_controller(config: pytest.Config) -> bool:
    """The xdist controller: it runs no tests, so it starts no parts."""
    return (not hasattr(config, "workerinput")
            and getattr(config.option, "dist", "no") != "no"
            and bool(getattr(config.option, "tx", None)))
