"""Issue 17, items 1, 7, 8 and 11: the attacks as an attacker ran them, now refused.

1. Host-header cache poisoning: a request with ``Host: attacker.example`` must not leave
   anything behind that the next visitor gets (absolute URLs come from BASE_URL, every cache
   key holds the host, and with TRUSTED_HOSTS - production's default - the request gets 400).
7. Control characters (CR/LF, NUL, DEL) in a query string: 400 on every route, never 500.
8. Production refuses a weak SECRET_KEY (and per-worker ``memory://`` rate limits).
11. Cached API and GeoJSON responses are revalidated every time (``no-cache`` + ETag).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from registry import create_app
from registry.cache import clear_page_caches
from registry.extensions import db as _db
from registry.extensions import limiter
from tests.factories import make_initiative
from tests.perf.test_fast_path import flask_requests
from tests.security.test_headers import all_get_urls

ATTACKER = "attacker.example"
GOOD_KEY = "k" * 32
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


@contextmanager
def production_app(app: Flask, **config) -> Iterator[Flask]:
    """``create_app("production")`` on ``app``'s database; the shared limiter is left as it
    was (Flask-Limiter's ``enabled`` belongs to the one limiter of every app)."""
    was_enabled = limiter.enabled
    settings = {"SECRET_KEY": GOOD_KEY, "RATELIMIT_ALLOW_MEMORY": True,
                "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **config}
    try:
        prod = create_app("production", **settings)
        yield prod
        with prod.app_context():
            _db.session.remove()
            _db.engine.dispose()  # this app has its own connection pool
    finally:
        limiter.enabled = was_enabled


@pytest.fixture(autouse=True)
def _not_production(monkeypatch):
    monkeypatch.delenv("REGISTRY_CONFIG", raising=False)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)


# --- 1. host-header cache poisoning --------------------------------------------------------------

def _two_pages():
    make_initiative(title="Leren in de wijk")
    make_initiative(title="Studio-onderwijs zonder jaarklassen")


def test_attacker_host_does_not_poison_the_api_list_without_trusted_hosts(app, client, db):
    """The reported attack: without a trusted-hosts setting the attacker's request is
    answered, but its links name BASE_URL, and the next visitor gets a clean response."""
    _two_pages()
    url = "/api/v1/initiatives?per_page=1"
    attacked = client.get(url, headers={"Host": ATTACKER})
    assert attacked.status_code == 200
    assert ATTACKER not in attacked.get_data(as_text=True)
    assert ATTACKER not in attacked.headers["Link"]
    assert 'http://localhost/api/v1/initiatives?per_page=1&page=2>; rel="next"' in (
        attacked.headers["Link"])
    for _ in range(2):  # the app's page cache, then the fast path
        normal = client.get(url)
        assert normal.status_code == 200
        assert ATTACKER not in normal.get_data(as_text=True)
        assert ATTACKER not in normal.headers["Link"]
        links = normal.get_json()["links"]
        assert links["next"] == "http://localhost/api/v1/initiatives?per_page=1&page=2"
        assert normal.get_json()["data"][0]["url"].startswith("http://localhost/api/v1/")


def test_every_api_url_comes_from_base_url(app, client, db):
    _two_pages()
    app.config["BASE_URL"] = "https://register.example.nl"
    clear_page_caches(app)
    for path in ("/api/v1/", "/api/v1/openapi.json", "/api/v1/initiatives?per_page=1",
                 "/api/v1/initiatives/1", "/api/v1/obstacles?per_page=1", "/api/v1/themes",
                 "/api/v1/initiatives?page=x"):
        response = client.get(path, headers={"Host": ATTACKER})
        body = response.get_data(as_text=True) + response.headers.get("Link", "")
        assert ATTACKER not in body, path
        assert "localhost" not in body, path
    links = client.get("/api/v1/initiatives?per_page=1").headers["Link"]
    assert "<https://register.example.nl/api/v1/initiatives?per_page=1&page=2>" in links
    index = client.get("/api/v1/").get_json()
    assert index["links"]["initiatives"] == "https://register.example.nl/api/v1/initiatives"


def test_page_cache_key_holds_the_host(app, client, db):
    """Through the app's page cache (a session cookie keeps the request off the fast path):
    another Host is another entry, so nothing built for it reaches anybody else."""
    _two_pages()
    client.set_cookie("session", "not-a-valid-session")
    for path in ("/initiatieven", "/kaart", "/api/v1/initiatives?per_page=1"):
        with flask_requests(app) as seen:
            attacked = client.get(path, headers={"Host": ATTACKER})
            normal = client.get(path)
        assert len(seen) == 2, path  # both went through the app
        assert attacked.status_code == normal.status_code == 200, path
        assert attacked.headers["ETag"] != normal.headers["ETag"], path
        assert ATTACKER not in normal.get_data(as_text=True), path


def test_fast_path_keeps_hosts_apart_for_html_pages(app, client, db):
    _two_pages()
    for path in ("/initiatieven", "/kaart"):
        attacked = client.get(path, headers={"Host": ATTACKER})
        assert attacked.status_code == 200
        with flask_requests(app) as seen:
            normal = client.get(path)
        assert len(seen) == 1, path  # not answered with what the attacker request stored
        assert ATTACKER not in normal.get_data(as_text=True)


def test_with_trusted_hosts_the_attacker_gets_400_and_nothing_is_cached(app, client, db):
    _two_pages()
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    for path in ("/api/v1/initiatives?per_page=1", "/initiatieven", "/kaart", "/",
                 "/kaart/initiatieven.geojson", "/bestaat-niet", "/api/v1/bestaat-niet"):
        for _ in range(2):  # the second would come from a cache if the first was stored
            attacked = client.get(path, headers={"Host": ATTACKER})
            assert attacked.status_code == 400, path
            assert "unknown host" in attacked.get_data(as_text=True), path
            assert attacked.headers["Cache-Control"] == "no-store"
            assert attacked.headers["X-Frame-Options"] == "DENY"  # security headers as usual
        normal = client.get(path)
        assert normal.status_code in (200, 404), path
        assert ATTACKER not in normal.get_data(as_text=True) + normal.headers.get("Link", "")
    # other methods too, before CSRF or any other check can build an error page
    assert client.post("/aanmelden", data={}, headers={"Host": ATTACKER}).status_code == 400
    # the port is not part of the check (Flask compares host names)
    assert client.get("/privacy", headers={"Host": "localhost:8000"}).status_code == 200


def test_trusted_host_entry_on_the_fast_path_is_not_served_to_other_hosts(app, client, db):
    """A page stored on the fast path before TRUSTED_HOSTS was set is not served to an
    untrusted host afterwards (the fast path checks the host before its store)."""
    _two_pages()
    client.get("/initiatieven", headers={"Host": ATTACKER})
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    assert client.get("/initiatieven", headers={"Host": ATTACKER}).status_code == 400


def test_production_answers_only_to_the_host_of_base_url(app, db):
    _two_pages()
    with production_app(app, BASE_URL="https://register.example.nl") as prod:
        assert prod.config["TRUSTED_HOSTS"] == ["register.example.nl"]
        client = prod.test_client()
        url = "/api/v1/initiatives?per_page=1"
        assert client.get(url, headers={"Host": ATTACKER}).status_code == 400
        assert client.get(url).status_code == 400  # "localhost" is not the registry either
        good = client.get(url, base_url="https://register.example.nl")
        assert good.status_code == 200
        assert "<https://register.example.nl/api/v1/initiatives?per_page=1&page=2>" in (
            good.headers["Link"])
        assert client.get("/initiatieven", headers={"Host": ATTACKER}).status_code == 400


def test_production_keeps_explicit_trusted_hosts(app):
    with production_app(app, BASE_URL="https://register.example.nl",
                        TRUSTED_HOSTS=["register.example.nl", "www.register.example.nl"]) as prod:
        assert prod.config["TRUSTED_HOSTS"] == ["register.example.nl", "www.register.example.nl"]


def test_development_and_tests_answer_any_host(app):
    assert app.config["TRUSTED_HOSTS"] is None
    dev = create_app("development", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert dev.config["TRUSTED_HOSTS"] is None
    with dev.app_context():
        _db.engine.dispose()


# --- 7. control characters in query strings ----------------------------------------------------

CONTROL = ("%0d%0a", "%0a", "%0d", "%00", "%7f", "%09", "%1b", "%c2%85")
# every query parameter some public route reads, and one nobody reads
PARAMS = ("q", "page", "per_page", "next", "lang", "sector", "area", "province", "phase", "theme",
          "dimension", "min_level", "severity", "status", "snapshot", "sep", "limit", "from",
          "to", "v", "token", "nieuw")


def test_crlf_in_next_is_refused(client):
    response = client.get("/taal/en?next=/%0d%0ax")
    assert response.status_code == 400
    assert "tekens die niet zijn toegestaan" in response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert client.get("/taal/en?next=/kaart").status_code == 302  # an ordinary next still works


def test_control_characters_in_any_query_parameter_give_400_on_every_route(app, client, db):
    make_initiative()
    urls = all_get_urls(app)
    assert len(urls) > 50
    failures = []
    for i, path in enumerate(urls):
        for j, bad in enumerate(CONTROL):
            param = PARAMS[(i + j) % len(PARAMS)]
            queries = (
                f"{param}=a{bad}b",                                  # a value the route reads
                "&".join(f"{p}=1{bad}" for p in PARAMS),             # all of them at once
                f"q=ok&{param}=1&nieuw{bad}=1",                      # in a parameter name
                f"{bad}",                                            # a bare name
                f"page=1&{param}={bad}&{param}=ok",                  # a second value
            )
            for query in queries:
                response = client.get(f"{path}?{query}")
                if response.status_code != 400:
                    failures.append((path, query, response.status_code))
    assert not failures, failures[:20]


def test_api_gets_a_problem_document_for_crlf(client):
    response = client.get("/api/v1/initiatives?q=a%0d%0ab")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_ordinary_queries_still_work(client, db):
    make_initiative(title="Flexibel examineren")
    assert client.get("/initiatieven?q=examineren&page=1").status_code == 200
    assert client.get("/initiatieven?q=caf%C3%A9+%F0%9F%8E%93").status_code == 200
    assert client.get("/api/v1/initiatives?q=examineren").status_code == 200


# --- 8. production settings ------------------------------------------------------------------

@pytest.mark.parametrize("key", ["a", "k" * 31, "é" * 15])  # "é" is two bytes: 30 in all
def test_production_refuses_a_weak_secret_key(app, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY") as refused:
        with production_app(app, SECRET_KEY=key):
            pass
    message = str(refused.value)
    assert "32 are needed" in message
    assert MAKE_A_KEY in message


def test_production_refuses_the_default_key_and_says_how_to_make_one(app):
    for key in ("", None, "dev-only-not-secret"):
        with pytest.raises(RuntimeError, match="SECRET_KEY") as refused:
            with production_app(app, SECRET_KEY=key):
                pass
        assert MAKE_A_KEY in str(refused.value)


@pytest.mark.parametrize("key", ["k" * 32, "é" * 16, b"\x00" * 32])
def test_production_starts_with_a_key_of_32_bytes(app, key):
    with production_app(app, SECRET_KEY=key) as prod:
        assert prod.config["SECRET_KEY"] == key


def test_production_refuses_memory_rate_limits_unless_allowed(app):
    for storage in ("memory://", "memory://?x=1", ""):
        with pytest.raises(RuntimeError, match="redis://") as refused:
            with production_app(app, RATELIMIT_STORAGE_URI=storage,
                                RATELIMIT_ALLOW_MEMORY=False):
                pass
        assert "RATELIMIT_ALLOW_MEMORY" in str(refused.value)
    with production_app(app, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ALLOW_MEMORY=True):
        pass
    # shared storage is accepted (Flask-Limiter connects on the first limited request)
    with production_app(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                        RATELIMIT_ALLOW_MEMORY=False):
        pass


def test_weak_key_is_fine_outside_production(app):
    dev = create_app("development", SECRET_KEY="a",
                     SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert dev.config["SECRET_KEY"] == "a"
    with dev.app_context():
        _db.engine.dispose()


# --- 11. revalidation of cached API and GeoJSON responses -------------------------------------

def _assert_revalidated(client, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200, path
    cache_control = first.headers["Cache-Control"]
    assert "no-cache" in cache_control, (path, cache_control)
    assert "max-age" not in cache_control, (path, cache_control)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304, path
    assert again.get_data() == b"", path
    assert "no-cache" in again.headers.get("Cache-Control", ""), path


def test_api_and_geojson_are_revalidated_every_time(client, db):
    item = make_initiative(title="Leren in de wijk")
    for path in ("/api/v1/initiatives", "/api/v1/initiatives?per_page=1",
                 f"/api/v1/initiatives/{item.id}", "/api/v1/obstacles", "/api/v1/themes",
                 "/api/v1/statistics", "/api/v1/taxonomies", "/kaart/initiatieven.geojson"):
        _assert_revalidated(client, path)
        _assert_revalidated(client, path)  # also when answered from the fast path


def test_a_withdrawn_entry_is_gone_on_revalidation(client, db):
    item = make_initiative(title="Vraaggestuurd leren in de regio")
    for path in (f"/api/v1/initiatives/{item.id}", "/api/v1/initiatives",
                 "/kaart/initiatieven.geojson"):
        assert "Vraaggestuurd leren" in client.get(path).get_data(as_text=True)
    etags = {path: client.get(path).headers["ETag"]
             for path in ("/api/v1/initiatives", "/kaart/initiatieven.geojson")}
    item.state = "withdrawn"
    db.session.commit()
    assert client.get(f"/api/v1/initiatives/{item.id}").status_code == 404
    for path, etag in etags.items():
        fresh = client.get(path, headers={"If-None-Match": etag})
        assert fresh.status_code == 200, path
        assert "Vraaggestuurd leren" not in fresh.get_data(as_text=True), path
