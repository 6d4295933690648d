"""The cookie-less fast path in front of Flask (registry.cache.AnonymousFastPath, issue 11).

A visitor without a session answers from memory without entering Flask; everybody else, and
everything that is not a vouched-for public page, goes through the app as before.
"""
from __future__ import annotations

import gzip
from contextlib import contextmanager

from flask import request_started

from tests.factories import make_initiative
from tests.fixtures.limits import rate_limited_app


@contextmanager
def flask_requests(app):
    """Count the requests that entered Flask (the fast path never does)."""
    seen: list[str] = []

    def started(sender, **extra):
        from flask import request

        seen.append(request.full_path)

    with request_started.connected_to(started, app):
        yield seen


def test_second_anonymous_visit_does_not_enter_flask(app, client, db):
    make_initiative(title="Leren zonder jaarklassen")
    with flask_requests(app) as seen:
        first = client.get("/initiatieven")
        second = client.get("/initiatieven")
    assert len(seen) == 1
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert "Leren zonder jaarklassen" in second.get_data(as_text=True)


def test_fast_answers_keep_the_security_and_cache_headers(client, db):
    item = make_initiative()
    first = client.get(f"/initiatieven/{item.id}")
    second = client.get(f"/initiatieven/{item.id}")
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Frame-Options", "ETag", "Vary", "Content-Type"):
        assert second.headers[name] == first.headers[name], name
    assert "Cookie" in second.headers["Vary"]
    assert "Accept-Encoding" in second.headers["Vary"]
    assert "Set-Cookie" not in second.headers
    assert int(second.headers["Content-Length"]) == len(second.get_data())


def test_conditional_request_gets_304_without_a_body(client, db):
    make_initiative()
    etag = client.get("/initiatieven").headers["ETag"]
    again = client.get("/initiatieven", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_gzip_for_clients_that_accept_it(client, db):
    make_initiative(title="Maatwerkdiploma in de praktijk")
    plain = client.get("/initiatieven").get_data()
    zipped = client.get("/initiatieven", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain
    again = client.get("/initiatieven")  # a client without gzip still gets plain bytes
    assert "Content-Encoding" not in again.headers
    assert again.get_data() == plain


def test_a_change_is_visible_on_the_next_fast_request(app, client, db):
    item = make_initiative(title="Leerlab voor iedereen")
    client.get(f"/initiatieven/{item.id}")
    client.get(f"/initiatieven/{item.id}")  # now served from memory
    item.title = "Leerlab voor iedereen, vernieuwd"
    db.session.commit()
    with flask_requests(app) as seen:
        page = client.get(f"/initiatieven/{item.id}").get_data(as_text=True)
    assert "Leerlab voor iedereen, vernieuwd" in page
    assert len(seen) == 1  # re-rendered once, by the app


def test_visitors_with_a_session_always_go_through_the_app(app, client, db):
    make_initiative()
    client.get("/initiatieven")
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    with flask_requests(app) as seen:
        english = client.get("/initiatieven")
        client.get("/initiatieven")
    assert len(seen) == 2
    assert 'lang="en"' in english.get_data(as_text=True)  # not the cached Dutch copy


def test_remember_cookie_is_not_anonymous(app, client, db):
    make_initiative()
    client.get("/initiatieven")
    client.set_cookie("remember_token", "1|abc")
    with flask_requests(app) as seen:
        client.get("/initiatieven")
    assert len(seen) == 1


def test_unrelated_cookies_still_take_the_fast_path(app, client, db):
    make_initiative()
    client.get("/initiatieven")
    client.set_cookie("consent_banner", "seen")
    with flask_requests(app) as seen:
        assert client.get("/initiatieven").status_code == 200
    assert seen == []


def test_query_and_language_are_part_of_the_key(client, db):
    make_initiative(title="Flexibel examineren")
    dutch = client.get("/initiatieven").get_data(as_text=True)
    english = client.get("/initiatieven?lang=en").get_data(as_text=True)
    assert 'lang="nl"' in dutch
    assert 'lang="en"' in english
    assert client.get("/initiatieven").get_data(as_text=True) == dutch


def test_https_and_http_are_kept_apart(client, db):
    make_initiative()
    plain = client.get("/initiatieven")
    secure = client.get("/initiatieven", base_url="https://localhost")
    secure_again = client.get("/initiatieven", base_url="https://localhost")
    assert "Strict-Transport-Security" not in plain.headers
    assert "Strict-Transport-Security" in secure.headers
    assert "Strict-Transport-Security" in secure_again.headers
    assert "Strict-Transport-Security" not in client.get("/initiatieven").headers


def test_rate_limited_api_is_never_answered_from_the_fast_path(app, db):
    make_initiative()
    with rate_limited_app(app, API_RATE_LIMIT="3/minute") as limited:
        client = limited.test_client()
        with flask_requests(limited) as seen:
            statuses = [client.get("/api/v1/initiatives").status_code for _ in range(4)]
    assert len(seen) == 4  # every request met the limiter
    assert statuses == [200, 200, 200, 429]


def test_without_limits_the_api_list_takes_the_fast_path(app, client, db):
    make_initiative()
    with flask_requests(app) as seen:
        first = client.get("/api/v1/initiatives")
        second = client.get("/api/v1/initiatives")
    assert len(seen) == 1
    assert second.get_data() == first.get_data()


def test_missing_pages_and_other_methods_go_through_the_app(app, client, db):
    with flask_requests(app) as seen:
        assert client.get("/initiatieven/999999").status_code == 404
        assert client.get("/initiatieven/999999").status_code == 404
        client.head("/initiatieven")
        client.head("/initiatieven")
    assert len(seen) == 4


def test_switched_off_cache_goes_through_the_app(app, client, db):
    make_initiative()
    client.get("/initiatieven")
    app.config["PAGE_CACHE"] = False
    with flask_requests(app) as seen:
        response = client.get("/initiatieven")
    assert len(seen) == 1
    assert "ETag" not in response.headers


def test_home_map_and_province_pages_are_cached_and_follow_changes(app, client, db):
    make_initiative(title="Eerste initiatief")
    pages = ("/", "/kaart", "/kaart/provincies")
    before = {path: client.get(path).get_data(as_text=True) for path in pages}
    with flask_requests(app) as seen:
        for path in pages:
            assert client.get(path).get_data(as_text=True) == before[path]
    assert seen == []
    make_initiative(title="Tweede initiatief in Zeeland")
    after = {path: client.get(path).get_data(as_text=True) for path in pages}
    assert all(after[path] != before[path] for path in pages)
    assert "Tweede initiatief in Zeeland" in after["/kaart"]
