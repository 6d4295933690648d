"""Shared fixtures: an app on a fresh database per test, a client, CSRF-aware form posting."""
from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask import globals as flask_globals
from flask.testing import FlaskClient
from flask_migrate import upgrade

from registry import create_app
from registry.extensions import db as _db
from tests.dbs import database_urls, drop_everything, reset_database

pytest_plugins = [
    "tests.fixtures.mail",
    "tests.fixtures.auth",
    "tests.fixtures.browser",
    "tests.fixtures.postgres",
    "tests.fixtures.redis_server",
]


@pytest.fixture(scope="session", params=database_urls(), ids=lambda p: p[0])
def database(request) -> tuple[str, str]:
    """(name, URL) of each database the suite runs on: SQLite, and PostgreSQL when available."""
    return request.param


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


@pytest.fixture(scope="session")
def _session_app(database, tmp_path_factory) -> Iterator[Flask]:
    name, url = database
    if url == "sqlite-file":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url,
                     DOCUMENT_CACHE_DIR=str(tmp_path_factory.mktemp("documents")))
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
