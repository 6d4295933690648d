"""Reads while the data changes (issue 20): the churn benchmark and its helpers.

During the read load a *writer* submits one complete form per second through the app (GET
``/aanmelden``, parse the CSRF token and the hidden anti-spam fields, POST; the entry stays
unconfirmed) and a *moderator*, logged in through the app, publishes a pending entry every
5 seconds (GET the entry page, parse the publish form, POST it). Every publication is a new
public data version: every cached page, summary and GeoJSON is stale from then on.

The read load is wrk (``bench/report.lua``) as in the steady-state benchmark, once without
cookies (a first-time visitor: the cookie-less fast path) and once with a session cookie
(a visitor who loaded a form before: the app's own cache), per endpoint. With two app
servers one wrk per server runs at the same time and their latency distributions are merged
(``merge_quantiles``).
"""
from __future__ import annotations

import bisect
import html.parser
import http.client
import json
import math
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
CHURN_MARKER = "BENCH-CHURN"  # title prefix of the writer's submissions
# What a browser sends (the GeoJSON and pages compress when asked).
BROWSER_HEADERS = "Accept-Encoding: gzip, deflate|Accept-Language: nl"
# The endpoints of the churn table, in its order.
ENDPOINTS = ("knelpunten", "geojson", "list", "detail", "api_list")
WARM_REQUESTS = 12  # per page and server before the first-request-after-a-publication figures
LABELS = {"knelpunten": "obstacle summary", "geojson": "map GeoJSON", "list": "list page",
          "detail": "detail page", "api_list": "API list"}
VISITORS = ("anonymous", "session")
QUANTILE_STEP = 0.1  # report.lua prints the latency at every 0.1 percentile (BENCH_QUANTILES)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- statistics ------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``q`` (0-100) percent of
    the values at or below it. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def merge_quantiles(parts: Sequence[tuple[int, Sequence[float]]], q: float) -> float | None:
    """The ``q`` percentile of several latency distributions together.

    Each part is (number of requests, its latency at the percentiles 0, step, 2*step ... 100,
    as report.lua prints them). The merged distribution weighs each part by its requests:
    F(x) = sum(n_i * F_i(x)) / sum(n_i), with F_i read from the part's quantile table; the
    answer is the smallest table value x with F(x) >= q/100."""
    parts = [(n, sorted(t)) for n, t in parts if n > 0 and t]
    if not parts:
        return None
    total = sum(n for n, _ in parts)

    def cdf(x: float) -> float:
        share = 0.0
        for n, table in parts:
            # the fraction of the part at or below x: its position in the quantile table
            below = bisect.bisect_right(table, x) - 1
            share += n * max(below, 0) / (len(table) - 1)
        return share / total

    candidates = sorted({x for _, t in parts for x in t})
    target = q / 100 - 1e-9
    lo, hi = 0, len(candidates) - 1
    while lo < hi:  # the smallest candidate whose cdf reaches the target
        mid = (lo + hi) // 2
        if cdf(candidates[mid]) >= target:
            hi = mid
        else:
            lo = mid + 1
    return candidates[lo]


def summarise_runs(runs: list[dict]) -> dict:
    """Several runs of one measurement: the median of each figure, the best p95, and the
    runs themselves."""
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        return runs[-1] if runs else {"status": "n/a"}
    out = dict(ok[0]) if len(ok) == 1 else {
        "status": "ok", "path": ok[0].get("path"),
        **{k: round(statistics.median(r[k] for r in ok), 1)
           for k in ("p50_ms", "p95_ms", "p99_ms", "rps")},
        "writes": {k: round(statistics.median(r["writes"][k] for r in ok), 1)
                   for k in ok[0].get("writes", {})},
    }
    out["best_p95_ms"] = min(r["p95_ms"] for r in ok)
    out["runs"] = [{k: r.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "rps", "requests",
                                          "errors", "writes", "loadavg")} for r in ok]
    return out


# -- wrk -------------------------------------------------------------------------------------------

def parse_wrk(output: str) -> dict:
    """The figures report.lua prints: the BENCH_JSON line, plus the BENCH_Q quantile table
    when asked for. Adds req/s (2xx/3xx responses only) and the error count."""
    data: dict = {}
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            data.update(json.loads(line[len("BENCH_JSON "):]))
        elif line.startswith("BENCH_Q "):
            data["quantiles"] = json.loads(line[len("BENCH_Q "):])
    if "requests" not in data:
        raise ValueError("no BENCH_JSON line in the output of wrk")
    seconds = data["duration_us"] / 1e6
    errors = sum(v for k, v in data.items() if k.startswith("errors_"))
    data["errors"] = errors
    data["rps"] = round((data["requests"] - errors) / seconds, 1) if seconds else 0.0
    return data


def _wrk_cmd(port: int, path: str, duration: float, connections: int) -> list[str]:
    return ["wrk", "-t1", f"-c{max(connections, 1)}", f"-d{duration}s", "--timeout", "30s",
            "-s", str(BENCH_DIR / "report.lua"), f"http://127.0.0.1:{port}{path}"]


def wrk_spread(ports: Sequence[int], path: str, duration: float, connections: int, *,
               paths_file: Path | None = None, headers: str = BROWSER_HEADERS) -> dict:
    """wrk against every port at once (the connections shared out), figures merged."""
    env = dict(os.environ, BENCH_PATHS=str(paths_file or ""), BENCH_HEADERS=headers,
               BENCH_QUANTILES="1")
    share = [connections // len(ports) + (1 if i < connections % len(ports) else 0)
             for i in range(len(ports))]
    procs = [subprocess.Popen(_wrk_cmd(port, path, duration, c), env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for port, c in zip(ports, share, strict=True)]
    outs = []
    for proc in procs:
        stdout, _stderr = proc.communicate(timeout=duration + 120)
        outs.append(parse_wrk(stdout))
    if len(outs) == 1:
        one = outs[0]
        one.pop("quantiles", None)
        return one
    parts = [(o["requests"] - o["errors"], o["quantiles"]) for o in outs]
    merged = {
        "requests": sum(o["requests"] for o in outs), "errors": sum(o["errors"] for o in outs),
        "rps": round(sum(o["rps"] for o in outs), 1),
        "p50_ms": merge_quantiles(parts, 50), "p95_ms": merge_quantiles(parts, 95),
        "p99_ms": merge_quantiles(parts, 99), "max_ms": max(o["max_ms"] for o in outs),
        "per_server": [{k: o[k] for k in ("requests", "rps", "p50_ms", "p95_ms", "p99_ms")}
                       for o in outs],
    }
    return merged


# -- a minimal browser: cookies kept, no redirects followed ---------------------------------------

class Visitor:
    """One visitor of the app over plain HTTP on 127.0.0.1, keeping its cookies."""

    def __init__(self, port: int, timeout: float = 120.0):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, data: dict | None = None, *,
                port: int | None = None) -> tuple[int, dict[str, str], bytes]:
        port = port or self.port
        headers = {"Accept-Language": "nl"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{port}{path}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for key, value in response.getheaders():
                if key.lower() == "set-cookie":
                    name, _sep, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), content
        finally:
            conn.close()

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict, **kw):
        return self.request("POST", path, data, **kw)


class _Forms(html.parser.HTMLParser):
    """The hidden inputs of every <form>, by the form's action."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._current: dict[str, str] | None = None
        self.outside: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms.append((a.get("action") or "", self._current))
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            target = self._current if self._current is not None else self.outside
            target[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def hidden_fields(page: str, action: str | None = None) -> dict[str, str]:
    """The hidden inputs of the form whose action ends with ``action`` (of every form when
    None). Empty when there is no such form."""
    parser = _Forms()
    parser.feed(page)
    if action is None:
        fields = dict(parser.outside)
        for _action, inputs in parser.forms:
            fields.update(inputs)
        return fields
    for form_action, inputs in parser.forms:
        if urllib.parse.urlsplit(form_action).path.endswith(action):
            return dict(inputs)
    return {}


def _location_path(headers: dict[str, str]) -> str:
    location = headers.get("Location") or headers.get("location") or ""
    return urllib.parse.urlsplit(location).path


# -- the moderator ---------------------------------------------------------------------------------

def create_moderator(env: dict, email: str) -> str:
    """Create a moderator account with the CLI (as an administrator would); return the path
    of its one-time set-password link."""
    proc = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "registry", "create-user", email, "--role",
         "moderator"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode:
        raise RuntimeError(f"create-user failed: {proc.stderr.strip()[-500:]}")
    links = re.findall(r"https?://\S+/wachtwoord/\S+", proc.stdout)
    if not links:
        raise RuntimeError(f"create-user printed no link: {proc.stdout[-500:]}")
    return urllib.parse.urlsplit(links[-1]).path


def create_snapshot(env: dict) -> str:
    """Freeze the published data as a snapshot with the CLI (as a policy advisor's team does
    before a meeting): a registry in use has one, and every summary compares with the
    latest. Returns what the CLI printed."""
    proc = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "registry", "snapshot", "create", "--note",
         "benchmark"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"snapshot create failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


def log_in_moderator(port: int, env: dict) -> Visitor:
    """A moderator created with the CLI who set a password through the link and logged in
    through the login form: a Visitor with a staff session."""
    email = f"bench-moderator-{secrets.token_hex(4)}@example.org"
    password = secrets.token_urlsafe(18)
    link = create_moderator(env, email)
    visitor = Visitor(port)
    _status, _h, page = visitor.get(link)
    fields = hidden_fields(page.decode())
    status, _h, _b = visitor.post(link, {**fields, "password": password, "confirm": password})
    if status not in (302, 303):
        raise RuntimeError(f"setting the moderator's password answered {status}")
    visitor.cookies.clear()
    _status, _h, page = visitor.get("/login")
    fields = hidden_fields(page.decode(), "/login") or hidden_fields(page.decode())
    status, headers, _b = visitor.post("/login", {**fields, "email": email,
                                                  "password": password})
    if status not in (302, 303) or _location_path(headers).startswith("/login"):
        raise RuntimeError(f"the moderator's login answered {status}")
    return visitor


def publish(visitor: Visitor, initiative_id: int, port: int | None = None) -> tuple[bool, float]:
    """Publish one pending entry as a moderator does: open the entry, send its publish form.
    (published, seconds)."""
    started = time.perf_counter()
    entry = f"/moderatie/{initiative_id}"
    status, _h, page = visitor.get(entry, port=port)
    if status != 200:
        return False, time.perf_counter() - started
    action = f"{entry}/publiceren"
    fields = hidden_fields(page.decode(), action)
    if not fields:
        return False, time.perf_counter() - started
    status, _h, _b = visitor.post(action, fields, port=port)
    return status in (302, 303), time.perf_counter() - started


# -- the writer ------------------------------------------------------------------------------------

def form_body(n: int, marker: str = CHURN_MARKER) -> dict[str, str]:
    """A complete submission (the same shape as the test suite's, two obstacles)."""
    from tests.factories import form_post

    data = form_post(obstacles=2, title=f"{marker} {n}")
    data["contact-email"] = f"churn{n}@example.org"
    return data


def submit(port: int, n: int, path: str = "/aanmelden", post_port: int | None = None,
           marker: str = CHURN_MARKER) -> tuple[bool, float]:
    """GET the form, parse its hidden fields, POST a complete submission (possibly to
    another app server: the session cookie is signed with the shared key)."""
    started = time.perf_counter()
    visitor = Visitor(port)
    status, _h, page = visitor.get(path)
    if status != 200:
        return False, time.perf_counter() - started
    fields = hidden_fields(page.decode(), path) or hidden_fields(page.decode())
    status, _h, _b = visitor.post(path, {**fields, **form_body(n, marker)},
                                  port=post_port or port)
    return status in (302, 303), time.perf_counter() - started


class Churn:
    """The writer (one submission every ``submit_every`` s) and the moderator (one
    publication every ``publish_every`` s) as two background threads, spread over ``ports``.
    Every accepted write is recorded with its time, so each measurement can count the writes
    made while it ran."""

    def __init__(self, ports: Sequence[int], moderator: Visitor, pending: list[int], *,
                 submit_every: float = 1.0, publish_every: float = 5.0,
                 submit_path: str = "/aanmelden"):
        self.ports = list(ports)
        self.moderator, self.pending = moderator, list(pending)
        self.submit_every, self.publish_every = submit_every, publish_every
        self.submit_path = submit_path
        self.submitted: list[float] = []
        self.published: list[float] = []
        self.submit_seconds: list[float] = []
        self.publish_seconds: list[float] = []
        self.failures = {"submit": 0, "publish": 0}
        self.published_ids: list[int] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one publication at a time (also publish_now)
        self._threads: list[threading.Thread] = []
        self._n = 0

    def start(self) -> Churn:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._loop, args=(self.submit_every,
                                                                   self._submit_one),
                                          daemon=True),
                         threading.Thread(target=self._loop, args=(self.publish_every,
                                                                   self.publish_next),
                                          daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=180)
        self._threads = []

    def __enter__(self) -> Churn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self, every: float, action: Callable[[], object]) -> None:
        """Run ``action`` on a fixed schedule (a late one starts at once, none doubled)."""
        due = time.monotonic()
        while not self._stop.is_set():
            try:
                action()
            except OSError:
                pass
            due += every
            wait = due - time.monotonic()
            if wait < 0:
                due = time.monotonic()
            elif self._stop.wait(wait):
                return

    def _submit_one(self) -> None:
        self._n += 1
        port = self.ports[self._n % len(self.ports)]
        post_port = self.ports[(self._n + 1) % len(self.ports)]
        ok, seconds = submit(port, self._n, self.submit_path, post_port)
        if ok:
            self.submitted.append(time.monotonic())
            self.submit_seconds.append(seconds)
        else:
            self.failures["submit"] += 1

    def publish_next(self, port: int | None = None) -> int | None:
        """Publish the next pending entry now; its id, or None."""
        with self._lock:
            if not self.pending:
                return None
            initiative_id = self.pending.pop(0)
            port = port or self.ports[len(self.published_ids) % len(self.ports)]
            ok, seconds = publish(self.moderator, initiative_id, port)
            if ok:
                self.published.append(time.monotonic())
                self.publish_seconds.append(seconds)
                self.published_ids.append(initiative_id)
                return initiative_id
            self.failures["publish"] += 1
            return None

    def writes_between(self, start: float, end: float) -> dict[str, int]:
        def count(times: list[float]) -> int:
            return bisect.bisect_right(times, end) - bisect.bisect_left(times, start)

        return {"submissions": count(self.submitted), "publications": count(self.published)}

    def totals(self) -> dict:
        return {
            "submissions": len(self.submitted), "publications": len(self.published),
            "failures": dict(self.failures),
            "submit_p50_ms": _ms(percentile(self.submit_seconds, 50)),
            "submit_p95_ms": _ms(percentile(self.submit_seconds, 95)),
            "publish_p50_ms": _ms(percentile(self.publish_seconds, 50)),
            "publish_p95_ms": _ms(percentile(self.publish_seconds, 95)),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)


# -- the measurement -------------------------------------------------------------------------------

def pending_ids(db_url: str, limit: int = 5000) -> list[int]:
    """Pending entries to publish, oldest id first."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text(
                "select id from initiative where state = 'pending' order by id limit :n"),
                {"n": limit})]
    finally:
        engine.dispose()


def session_cookie(port: int, path: str = "/aanmelden") -> str:
    """The cookie header of a visitor who opened the form once (an anonymous session)."""
    visitor = Visitor(port)
    visitor.get(path)
    if not visitor.cookies:
        raise RuntimeError(f"{path} set no cookie")
    return visitor.cookie_header()


def _timed_get(port: int, path: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip", "Accept-Language": "nl"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def cold_after_publish(churn: Churn, ports: Sequence[int], paths: dict[str, str]) -> dict:
    """For each endpoint: publish one entry, then time the first request (no cookie) to it,
    on the other server when there are two: what the first visitor after a change waits.
    Every page is requested ``WARM_REQUESTS`` times per server first, so that the workers
    are past their start-up (the cold figures measure that)."""
    out = {}
    for port in ports:  # every worker has served every page once: steady state, not start-up
        for _ in range(WARM_REQUESTS):
            for path in paths.values():
                _timed_get(port, path)
    for i, key in enumerate(ENDPOINTS):
        path = paths.get(key)
        if not path:
            continue
        publish_port = ports[i % len(ports)]
        if churn.publish_next(publish_port) is None:
            out[key] = {"status": "n/a (nothing to publish)"}
            continue
        read_port = ports[(i + 1) % len(ports)]
        status, seconds = _timed_get(read_port, path)
        out[key] = {"status": "ok" if status == 200 else f"HTTP {status}", "path": path,
                    "ms": round(1000 * seconds, 1)}
        log(f"    cold after a publication {path[:50]:<50} {out[key]['ms']} ms")
    return out


def measure_churn(ports: Sequence[int], paths: dict[str, str], churn: Churn, *,
                  duration: float, warmup: float, connections: int, repeat: int = 1,
                  detail_file: Path | None = None, detail_label: str = "/initiatieven/{id}",
                  cookie: str = "") -> dict:
    """Every endpoint, without and with a session cookie, under the read load while the
    churn threads write. Returns {endpoint: {visitor: figures}} (figures summarised over
    ``repeat`` runs, each with the writes made while it ran). The detail load rotates over
    the pages in ``detail_file``."""
    results: dict[str, dict] = {}
    for key in ENDPOINTS:
        path = paths.get(key)
        results[key] = {}
        for visitor in VISITORS:
            if not path:
                results[key][visitor] = {"status": "n/a (endpoint missing)"}
                continue
            headers = BROWSER_HEADERS + (f"|Cookie: {cookie}" if visitor == "session" else "")
            target = "/" if key == "detail" and detail_file else path
            pfile = detail_file if key == "detail" else None
            label = detail_label if key == "detail" and detail_file else path
            if warmup:
                wrk_spread(ports, target, warmup, connections, paths_file=pfile,
                           headers=headers)
            runs = []
            for _ in range(max(repeat, 1)):
                start = time.monotonic()
                load_before = os.getloadavg()[0]
                data = wrk_spread(ports, target, duration, connections, paths_file=pfile,
                                  headers=headers)
                end = time.monotonic()
                answered = data["requests"] - data["errors"]
                data.update(status="ok" if answered else f"none answered within {duration} s",
                            path=label, writes=churn.writes_between(start, end),
                            loadavg=round(max(load_before, os.getloadavg()[0]), 2))
                runs.append(data)
                log(f"    {visitor:<9} {label[:44]:<44} p50 {data['p50_ms']:7.1f}  "
                    f"p95 {data['p95_ms']:7.1f}  p99 {data['p99_ms']:7.1f} ms  "
                    f"{data['rps']:7.1f} req/s  err {data['errors']}  writes "
                    f"{data['writes']}  load {data['loadavg']}")
            results[key][visitor] = summarise_runs(runs)
    return results
