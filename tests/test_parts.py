"""The suite really runs on the production parts when they are installed (no silent skips)."""
from __future__ import annotations

import glob
import os

from registry.extensions import db
from tests.dbs import database_urls
from tests.fixtures.browser import CHROMEDRIVER, CHROMIUM, browser_missing
from tests.redisserver import redis_binary, redis_url, wanted


def test_postgresql_is_in_the_run_when_installed():
    wanted = os.environ.get("TEST_POSTGRES", "") not in {"0", "no", "false", "off"}
    available = bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")
                     or os.environ.get("TEST_POSTGRES_URL"))
    names = [name for name, _url in database_urls()]
    assert names[0] == "sqlite"
    assert ("postgresql" in names) == (wanted and available)


def test_each_database_param_really_is_that_database(database, app):
    name, _url = database
    assert db.engine.dialect.name == name


def test_browser_is_found_when_installed():
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER):
        assert browser_missing() is None
    else:
        assert "apt-get install" in browser_missing()


def test_redis_is_in_the_run_when_installed():
    available = bool(redis_binary() or os.environ.get("TEST_REDIS_URL"))
    assert (redis_url() is not None) == (wanted() and available)
    if redis_url():
        import redis

        assert redis.Redis.from_url(redis_url()).ping()


def test_a_run_that_requires_every_part_fails_without_redis(monkeypatch):
    """TEST_REQUIRE_PARTS=1 (.ci/run): no Redis is an error, not a skip."""
    import pytest

    from tests import redisserver
    from tests.fixtures import redis_server

    monkeypatch.setenv("TEST_REQUIRE_PARTS", "1")
    monkeypatch.setitem(redisserver._state, "url", None)
    monkeypatch.setitem(redisserver._state, "reason", "no Redis: install redis-server")
    with pytest.raises(pytest.UsageError, match="Redis is not available"):
        redis_server.pytest_collection_finish(None)
