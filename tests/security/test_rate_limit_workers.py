"""Issue 17, item 9: one rate limit for all gunicorn workers (Redis), not one per worker.

The attack: with the default ``memory://`` storage every worker counts on its own, so with N
workers every limit (submissions, login, API) lets N times as many requests through, and which
request is refused depends on which worker answers. Production now keeps the counts in Redis
(``RATELIMIT_STORAGE_URI=redis://...``; it refuses ``memory://`` unless
``RATELIMIT_ALLOW_MEMORY`` says there is one process).

The proof: the documented gunicorn setup (gunicorn.conf.py, production configuration) with two
sync workers on one SQLite file, ``API_RATE_LIMIT="5 per minute"``, and 12 requests with
``Connection: close``. To be sure both workers answer (without anything in the app telling
which one did), the first request is sent only half: the worker that accepted it waits for
the rest, so the next three requests can only be answered by the other worker; then the first
request is completed. The access log (with the worker pid, ``%(p)s``) shows who answered what.
With Redis exactly 5 of the 12 get 200, whichever worker answers; with ``memory://`` the same
run lets more through, each worker allowing 5 of its own.
"""
from __future__ import annotations

import re
import socket
import time
from collections import Counter

import pytest
import requests

from tests.gunicornserver import documented_gunicorn, fresh_redis

pytestmark = pytest.mark.slow
LIMIT = 5
REQUESTS = 12
PATH = "/api/v1/taxonomies"
LOG_FORMAT = "%(p)s %(s)s %(m)s %(U)s"


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def _burst(server) -> list[int]:
    """REQUESTS requests, answered by both workers (see the module docstring)."""
    host = f"127.0.0.1:{server.port}"
    held = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    held.sendall(f"GET {PATH} HTTP/1.1\r\nHost: {host}\r\n".encode())  # not finished yet
    time.sleep(0.5)  # one worker has accepted it and waits for the rest of the headers
    statuses = []
    for _ in range(3):  # the other worker answers these
        statuses.append(requests.get(server.url(PATH), headers={"Connection": "close"},
                                     timeout=20).status_code)
    held.sendall(b"Connection: close\r\n\r\n")
    statuses.append(_status(held))
    held.close()
    for _ in range(REQUESTS - 4):
        statuses.append(requests.get(server.url(PATH), headers={"Connection": "close"},
                                     timeout=20).status_code)
    return statuses


def _answered_by(server) -> Counter:
    """(pid, status) of every request to PATH in the access log."""
    server.stop()
    lines = re.findall(rf"^<(\d+)> (\d+) GET {re.escape(PATH)}$",
                       server.access_log.read_text(), re.M)
    return Counter((int(pid), int(status)) for pid, status in lines)


def _run(tmp_path, settings: dict[str, str]) -> tuple[list[int], Counter]:
    with documented_gunicorn(
            tmp_path, workers=2, threads=1,
            settings={"API_RATE_LIMIT": f"{LIMIT} per minute", **settings},
            extra_args=("--access-logformat", LOG_FORMAT)) as server:
        statuses = _burst(server)
        answered = _answered_by(server)
    return statuses, answered


def test_one_limit_holds_across_two_workers_with_redis(tmp_path, redis_url):
    statuses, answered = _run(tmp_path, {"RATELIMIT_STORAGE_URI": fresh_redis(redis_url)})
    pids = {pid for pid, _status in answered}
    assert len(pids) == 2, answered  # both workers answered
    assert sum(answered.values()) == REQUESTS
    assert Counter(statuses) == {200: LIMIT, 429: REQUESTS - LIMIT}, statuses
    # Both workers refused requests once the shared count was reached.
    assert {pid for (pid, status) in answered if status == 429} <= pids


def test_with_memory_storage_each_worker_counts_on_its_own(tmp_path):
    """Why production refuses memory://: the same run lets more than the limit through."""
    statuses, answered = _run(tmp_path, {"RATELIMIT_STORAGE_URI": "memory://",
                                         "RATELIMIT_ALLOW_MEMORY": "true"})
    per_worker = Counter(pid for pid, _status in answered.elements())
    assert len(per_worker) == 2, answered
    allowed = Counter(statuses)[200]
    assert allowed == sum(min(n, LIMIT) for n in per_worker.values())
    assert allowed > LIMIT


def test_production_refuses_memory_storage_without_the_explicit_allowance(tmp_path):
    with pytest.raises(RuntimeError, match="memory://"):
        with documented_gunicorn(tmp_path, workers=1,
                                 settings={"RATELIMIT_STORAGE_URI": "memory://"}):
            pass


def test_the_rate_limit_tests_count_in_redis(app, redis_url):
    """rate_limited_app (submission, API, login limits...) keeps its counts in Redis."""
    import redis

    from tests.fixtures.limits import rate_limited_app

    with rate_limited_app(app, API_RATE_LIMIT="2 per minute") as limited:
        assert limited.config["RATELIMIT_STORAGE_URI"] == redis_url
        client = limited.test_client()
        assert [client.get(PATH).status_code for _ in range(3)] == [200, 200, 429]
        keys = redis.Redis.from_url(redis_url).keys("*")
        assert keys, "no rate-limit counter in Redis"
