"""Shared fixtures: an app on a fresh database per test, a client, CSRF-aware form posting.

`make test` runs the suite in parallel (pytest-xdist, ``-n auto``): every worker is a process
with parts of its own (tests/workers.py): its own PostgreSQL, Redis, SMTP servers, Chromium,
live server and temporary folders, and the folders the app writes to by default
(``_worker_folders``). Nothing here may depend on the order of tests across workers.
"""
from __future__ import annotations

import contextvars
import itertools
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask import globals as flask_globals
from flask.testing import FlaskClient
from flask_migrate import upgrade

from registry import create_app
from registry.extensions import db as _db
from registry.extensions import limiter
from tests import factories
from tests.dbs import database_urls, drop_everything, reset_database

pytest_plugins = [
    "tests.fixtures.mail",
    "tests.fixtures.auth",
    "tests.fixtures.browser",
    "tests.fixtures.postgres",
    "tests.fixtures.redis_server",
    "tests.fixtures.workers",
]


def pytest_generate_tests(metafunc) -> None:
    """Every test that uses the ``database`` fixture runs once per database.

    Parametrised while collecting rather than when this file is imported: the xdist
    controller imports it too but collects nothing, so it starts no PostgreSQL of its own.
    """
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", database_urls(), ids=lambda p: p[0], indirect=True,
                             scope="session")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items) -> None:
    """A module-scoped fixture that seeds the worker's live server (tests/a11y/test_axe.py's
    ``site``) is meant to be made once: its tests are one ``xdist_group`` (``--dist
    loadgroup``). pytest-xdist 3.8 does not apply groups under pytest 9.2 yet (it renames
    ``item._nodeid``, which pytest 9.2 no longer reads): until it does, loadgroup hands out one
    test at a time and each worker that gets one of these tests builds the fixture itself."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        for defs in (info.name2fixturedefs.values() if info else ()):
            if defs and defs[-1].scope == "module" \
                    and "_live_server_session" in defs[-1].argnames:
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
                break


@pytest.fixture(scope="session")
def database(request) -> tuple[str, str]:
    """(name, URL) of each database the suite runs on: SQLite, and PostgreSQL when available."""
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _worker_folders(tmp_path_factory) -> Iterator[None]:
    """The folders an app writes to unless told otherwise (``instance/documents``,
    ``instance/imports``) are this test process's own: no two xdist workers (nor a test run
    and ``make run``) share a file. Apps made by the tests start from these defaults."""
    import config

    names = ("DOCUMENT_CACHE_DIR", "IMPORT_DIR")
    saved = {name: getattr(config.Config, name) for name in names}
    for name in names:
        setattr(config.Config, name, str(tmp_path_factory.mktemp(name.lower())))
    yield
    for name, value in saved.items():
        setattr(config.Config, name, value)


class IsolatedClient(FlaskClient):
    """A test client whose requests get their own app context, as in production.

    The ``app`` fixture keeps an app context open for the test body (so tests can use
    ``db.session``); without this, Flask would reuse that context for every request and
    leak ``g`` (the logged-in user, the chosen locale) and the SQLAlchemy session from one
    request to the next.
    """

    def open(self, *args, **kwargs):
        # Read streamed bodies inside the request's own context (exports stream).
        kwargs.setdefault("buffered", True)

        def run():
            flask_globals._cv_app.set(None)
            return super(IsolatedClient, self).open(*args, **kwargs)

        response = contextvars.copy_context().run(run)
        if flask_globals._cv_app.get(None) is not None:
            _db.session.expire_all()  # the test sees what the request committed
        return response


@pytest.fixture(autouse=True)
def _limiter_switch() -> Iterator[None]:
    """Flask-Limiter's on/off switch is global (``registry.extensions.limiter``, set by
    ``init_app`` from each new app's RATELIMIT_ENABLED): a test that makes a development or
    production app must not leave limits on for whichever tests its worker runs next."""
    enabled = limiter.enabled
    yield
    limiter.enabled = enabled


@pytest.fixture(autouse=True)
def _fresh_factory_numbers() -> None:
    """tests.factories numbers its default schools, titles, contacts and institution codes
    (``NNAB``) from a counter: start it at 1 in every test, so that what a test gets does not
    depend on which tests its worker happened to run before it (a default code could
    otherwise equal one a test spells out, e.g. ``30AB``)."""
    factories._seq = itertools.count(1)


@pytest.fixture(scope="session")
def _session_app(database, tmp_path_factory, _worker_folders) -> Iterator[Flask]:
    name, url = database
    if url == "sqlite-file":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url,
                     DOCUMENT_CACHE_DIR=str(tmp_path_factory.mktemp("documents")))
    # `flask backup` writes to instance/backups by default: this process's own instead
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        drop_everything()
        upgrade()  # the schema and the seeded taxonomies, exactly as a deployment gets them
    yield app
    with app.app_context():
        _db.session.remove()
        drop_everything()
        _db.engine.dispose()


@pytest.fixture
def app(_session_app: Flask) -> Iterator[Flask]:
    """The app with an empty database (taxonomies seeded) and a clean config per test."""
    saved = dict(_session_app.config)
    with _session_app.app_context():
        reset_database()
        yield _session_app
        _db.session.remove()
    _session_app.config.clear()
    _session_app.config.update(saved)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def csrf_client(app: Flask) -> FlaskClient:
    """A client for tests that exercise real CSRF protection on public forms."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()
