"""Benchmarks at national scale, side by side with the framework ceiling and Datasette.

    python -m bench.run                       # 1,000 / 10,000 / 100,000 initiatives
    python -m bench.run --size 10000 --duration 5
    make bench BENCH_ARGS="--size 1000"

For each size: the cached synthetic registry (bench.generate) is copied to a working file;
the app runs under gunicorn on 127.0.0.1 (production config, sync workers,
--no-control-socket); wrk loads each read endpoint; a burst of real form submissions (GET the
form, parse the CSRF token, POST) counts accepted submissions and checks the database holds
exactly that many; CSV/XLSX/DOCX exports are timed in a subprocess that reports its peak
memory; a minimal Flask app under the same gunicorn settings gives the framework ceiling and
Datasette serves the same rows from the same SQLite file. Results go to
bench/results/latest.json and docs/benchmarks.md (between the results markers).
"""
from __future__ import annotations

import argparse
import html.parser
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.generate import BURST_MARKER, SIZES, generate_sqlite

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
DOC = ROOT / "docs" / "benchmarks.md"
VENV_BIN = Path(sys.executable).parent
START, END = "<!-- results:start -->", "<!-- results:end -->"
MISSING = "n/a (endpoint missing)"

# Targets of issue 11 at 10,000 initiatives.
TARGET_P95_MS = 100.0
TARGET_PAGE_CEILING_SHARE = 0.40
TARGET_SUBMISSIONS_PER_S = 100.0
TARGET_CSV_S, TARGET_XLSX_S, TARGET_MEMORY_MB = 2.0, 10.0, 300.0

# What a browser sends; the GeoJSON endpoint compresses when asked (Datasette never does).
BROWSER_HEADERS = "Accept-Encoding: gzip, deflate|Accept-Language: nl"

# The rows behind the map, as plain SQL for Datasette (same rows as /kaart/initiatieven.geojson).
MAP_SQL = (
    "select i.id, i.title, i.summary, i.phase, i.start_year, o.name as school, o.sector, "
    "o.city, o.province, o.latitude, o.longitude from initiative i "
    "join organisation o on o.id = i.organisation_id "
    "where i.state = 'published' and o.latitude is not null order by i.id"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 120.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), body
    finally:
        conn.close()


def wait_until_up(port: int, path: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see its log")
        try:
            http_get(port, path, timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer within {timeout} s")


SERVER_PIDS: dict[int, int] = {}  # port -> pid of the server process (gunicorn's master)


def worker_memory(port: int) -> dict:
    """Resident memory of the server's worker processes (children of the master on
    ``port``), from /proc: the largest current RSS and the largest peak (VmHWM), in MB."""
    pid = SERVER_PIDS.get(port)
    if pid is None:
        return {}
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    rss, peak = [], []
    for child in children:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss.append(int(fields["VmRSS"].split()[0]) / 1024)
        peak.append(int(fields["VmHWM"].split()[0]) / 1024)
    if not rss:
        return {}
    return {"workers": len(rss), "rss_mb": round(max(rss), 1), "peak_mb": round(max(peak), 1)}


@contextmanager
def server(cmd: list[str], env: dict, probe: str, logfile: Path, timeout: float = 60.0):
    """Run a server process (own process group) until the block ends; yield its port."""
    port = free_port()
    cmd = [part.replace("{port}", str(port)) for part in cmd]
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    SERVER_PIDS[port] = proc.pid
    try:
        wait_until_up(port, probe, proc, timeout)
        yield port
    finally:
        SERVER_PIDS.pop(port, None)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def gunicorn_cmd(app_spec: str, workers: int) -> list[str]:
    return [str(VENV_BIN / "gunicorn"), "--no-control-socket", "-w", str(workers),
            "-k", "sync", "-b", "127.0.0.1:{port}", "--timeout", "120",
            "--log-level", "warning", app_spec]


def app_env(db_url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "REGISTRY_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": db_url,
        "RATELIMIT_ENABLED": "false",
        "RATELIMIT_ALLOW_MEMORY": "true",  # limits are off; nothing is counted
        # The benchmark talks plain HTTP on 127.0.0.1: cookies must not be HTTPS-only.
        "SESSION_COOKIE_SECURE": "false",
        # The burst posts right after loading the form; anti-spam timing is not measured here.
        "MIN_FILL_SECONDS": "0",
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "console"),
        # The deployment docs/deployment.md recommends: web workers only write the outbox,
        # one mail worker (`flask send-mail`) sends it; timed separately after the burst.
        "MAIL_SEND_IMMEDIATELY": "false",
        # The tuned SQLite setup for many concurrent writers (README, docs/decisions.md 16):
        # writers take turns through a file lock instead of SQLite's sleeping busy handler.
        # Off by default in the app; the benchmark always runs on SQLite, so it is on here.
        "SQLITE_WRITE_GATE": "true",
        "GEOCODER_ONLINE": "false",
        "SEED_DEMO_ON_EMPTY": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def wrk(port: int, path: str, duration: int, connections: int, *,
        paths_file: Path | None = None, headers: str = "") -> dict:
    env = dict(os.environ, BENCH_PATHS=str(paths_file or ""), BENCH_HEADERS=headers)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
           "-s", str(BENCH_DIR / "report.lua"), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(li for li in out.splitlines() if li.startswith("BENCH_JSON "))
    data = json.loads(line[len("BENCH_JSON "):])
    seconds = data["duration_us"] / 1e6
    errors = sum(v for k, v in data.items() if k.startswith("errors_"))
    data["rps"] = round((data["requests"] - errors) / seconds, 1) if seconds else 0.0
    data["errors"] = errors
    return data


def measure(port: int, path: str, args, *, paths_file: Path | None = None,
            headers: str = BROWSER_HEADERS, expect: tuple = (200,)) -> dict:
    """Probe once (missing endpoint -> n/a), then load with wrk."""
    if path is None:
        return {"status": MISSING}
    first = paths_file.read_text().split()[0] if paths_file else path
    header_dict = dict(h.split(": ", 1) for h in headers.split("|") if h)
    started = time.perf_counter()
    status, resp_headers, body = http_get(port, first, header_dict)
    cold_ms = round(1000 * (time.perf_counter() - started), 1)
    if status == 404 or status not in expect:
        return {"status": MISSING if status == 404 else f"n/a (HTTP {status})", "path": path}
    if args.warmup:  # every worker renders (and caches) what it will serve; not counted
        wrk(port, path, args.warmup, args.connections, paths_file=paths_file, headers=headers)
    result = wrk(port, path, args.duration, args.connections, paths_file=paths_file,
                 headers=headers)
    result.update(path=path, status="ok", body_bytes=len(body), cold_ms=cold_ms,
                  content_encoding=resp_headers.get("Content-Encoding", ""),
                  items=_count_items(body, resp_headers))
    log(f"    {path[:60]:<60} p50 {result['p50_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms"
        f"  {result['rps']:8.1f} req/s  errors {result['errors']}  cold {cold_ms} ms")
    return result


def cold_renders(port: int, paths: list[str]) -> float | None:
    """Median latency of pages no worker has rendered yet (one at a time, no other load)."""
    times = []
    for path in paths:
        started = time.perf_counter()
        status, _h, _b = http_get(port, path)
        if status == 200:
            times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 1) if times else None


# -- routes of the app (found in its URL map, so a renamed route is not silently skipped) ------

def discover_routes(db_url: str) -> dict[str, str | None]:
    from registry import create_app

    app = create_app("development", SQLALCHEMY_DATABASE_URI=db_url)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}

    def path(endpoint: str, **values) -> str | None:
        if endpoint not in rules:
            return None
        with app.test_request_context():
            from flask import url_for
            try:
                return url_for(endpoint, **values)
            except Exception:  # a route with other parameters
                return None

    def first_rule(pattern: str) -> str | None:
        for rule in app.url_map.iter_rules():
            if re.search(pattern, rule.rule) and "GET" in rule.methods and not rule.arguments:
                return rule.rule
        return None

    export = rules.get("exports.export") or rules.get("exports.download")
    routes = {
        "geojson": first_rule(r"^/kaart/.*\.geojson$"),
        "list": path("public.initiatives"),
        "detail": "/initiatieven/{id}" if "public.initiative" in rules else None,
        "knelpunten": path("summary.summary"),
        "api_list": first_rule(r"^/api/v1/initiatives/?$"),
        "submit": path("submissions.submit"),
        "csv": None, "xlsx": None, "docx": None,
    }
    if export is not None:
        for fmt in ("csv", "xlsx"):
            routes[fmt] = path(export.endpoint, dataset="knelpunten", fmt=fmt)
    routes["csv"] = routes["csv"] or first_rule(r"knelpunten\.csv$")
    routes["xlsx"] = routes["xlsx"] or first_rule(r"knelpunten\.xlsx$")
    routes["docx"] = path("summary.download", fmt="docx") or first_rule(r"\.docx$")
    return routes


# -- the submission burst ---------------------------------------------------------------------

class _HiddenInputs(html.parser.HTMLParser):
    """Collects the hidden inputs of the submission form (CSRF token, anti-spam fields)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def _form_body(n: int) -> dict[str, str]:
    from tests.factories import form_post

    data = form_post(obstacles=2, title=f"{BURST_MARKER} {n}")
    data["contact-email"] = f"burst{n}@example.org"
    return data


def fetch_form(port: int, path: str, n: int) -> tuple[list[str], dict[str, str], float]:
    """GET the form like a browser: keep its cookies, parse the CSRF token and hidden fields."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Accept-Language": "nl"})
    response = conn.getresponse()
    page = response.read().decode()
    cookies = [c.split(";", 1)[0] for k, c in response.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    parser = _HiddenInputs()
    parser.feed(page)
    body = dict(parser.fields)
    body.update(_form_body(n))
    return cookies, body, time.perf_counter() - started


def post_form(port: int, path: str, cookies: list[str], body: dict) -> tuple[bool, float, int]:
    """POST one filled-in form. (accepted, seconds, HTTP status)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=urllib.parse.urlencode(body), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies),
        "Referer": f"http://127.0.0.1:{port}{path}",
    })
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status in (302, 303), time.perf_counter() - started, response.status


def _in_threads(func, items: list, threads: int) -> tuple[list, float]:
    """Run func(item) for every item on `threads` client threads; (results, seconds)."""
    results: list = [None] * len(items)
    lock = threading.Lock()
    todo = iter(range(len(items)))

    def worker():
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            try:
                results[i] = func(items[i])
            except OSError as exc:
                results[i] = exc

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results, time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    values = sorted(values) or [0.0]
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


def count_rows(db_url: str, sql: str, **params) -> int:
    """One count from the database (SQLite or PostgreSQL), on a connection of its own."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def burst(port: int | list[int], path: str | None, db_url: str, count: int,
          threads: int) -> dict:
    """Phase 1: `count` visitors load the form (GET, CSRF token). Phase 2, the burst: all of
    them submit at once from `threads` client threads. Then the database must hold exactly
    as many burst rows as were accepted. With several ports (app servers) the visitors are
    spread over them, and each POSTs to another server than the one that served its form."""
    if path is None:
        return {"status": MISSING}
    ports = port if isinstance(port, list) else [port]

    def burst_rows() -> int:
        return count_rows(db_url, "select count(*) from initiative where title like :p",
                          p=f"{BURST_MARKER} %")

    def get_port(n: int) -> int:
        return ports[n % len(ports)]

    def post_port(n: int) -> int:
        return ports[(n + 1) % len(ports)]

    before = burst_rows()  # an earlier burst on the same file
    warm = [(-1 - n, fetch_form(get_port(n), path, -1 - n)) for n in range(threads)]
    _in_threads(lambda f: post_form(post_port(-1 - f[0]), path, f[1][0], f[1][1]), warm,
                threads)  # warm workers
    forms, get_seconds = _in_threads(lambda n: (n, fetch_form(get_port(n), path, n)),
                                     list(range(count)), threads)
    forms = [f for f in forms if isinstance(f, tuple)]
    posts, post_seconds = _in_threads(
        lambda f: post_form(post_port(f[0]), path, f[1][0], f[1][1]), forms, threads)
    forms = [f[1] for f in forms]
    done = [p for p in posts if isinstance(p, tuple)]
    accepted = sum(1 for ok, *_ in done if ok)
    stored = burst_rows() - before
    statuses: dict[str, int] = {}
    for _ok, _s, status in done:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    errors = len(posts) - len(done)
    if errors:
        statuses["connection error"] = errors
    total_accepted = accepted + len(warm)  # the warm-up submissions are real rows too
    out = {
        "status": "ok", "attempted": count, "accepted": accepted,
        "seconds": round(post_seconds, 2),
        "accepted_per_s": round(accepted / post_seconds, 1) if post_seconds else 0.0,
        "form_get_per_s": round(len(forms) / get_seconds, 1) if get_seconds else 0.0,
        "form_get_p50_ms": _pct([f[2] for f in forms], 0.5),
        "form_get_p95_ms": _pct([f[2] for f in forms], 0.95),
        "get_and_post_per_s": round(accepted / (get_seconds + post_seconds), 1),
        "stored_in_db": stored, "accepted_incl_warmup": total_accepted,
        "lost": total_accepted - stored,
        "p50_ms": _pct([s for ok, s, _ in done if ok], 0.5),
        "p95_ms": _pct([s for ok, s, _ in done if ok], 0.95),
        "statuses": statuses,
    }
    log(f"    burst: {accepted}/{count} accepted, {out['accepted_per_s']} /s (POST phase), "
        f"forms {out['form_get_per_s']} /s, stored {stored} of {total_accepted}, "
        f"lost {out['lost']}, statuses {statuses}")
    return out


def mail_worker(env: dict, db_url: str) -> dict:
    """Run the mail worker once (`flask send-mail`, what the systemd timer runs) over the
    outbox the burst filled; time it and check every burst submission's confirmation mail
    went out."""
    def unsent() -> int:
        return count_rows(db_url, "select count(*) from outbox_message where kind = 'confirm' "
                                  "and to_address like 'burst%' and status != 'sent'")

    queued = unsent()
    started = time.perf_counter()
    proc = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "registry", "send-mail", "--limit", "100000"],
        env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    left = unsent()
    out = {"status": "ok" if proc.returncode == 0 else f"exit {proc.returncode}",
           "queued": queued, "sent": queued - left, "left": left, "seconds": round(seconds, 2),
           "per_s": round((queued - left) / seconds, 1) if seconds else 0.0}
    log(f"    mail worker: sent {out['sent']} of {queued} in {out['seconds']} s")
    return out


# -- exports ------------------------------------------------------------------------------------

def export_probe(db_url: str, path: str | None, env: dict) -> dict:
    if path is None:
        return {"status": MISSING}
    proc = subprocess.run([sys.executable, "-m", "bench.export_probe", db_url, path],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    lines = [li for li in proc.stdout.splitlines() if li.startswith("{")]
    if proc.returncode or not lines:
        return {"status": f"n/a (probe failed: {proc.stderr.strip().splitlines()[-1:]})"}
    data = json.loads(lines[-1])
    data["status"] = "ok" if data["status"] == 200 else f"n/a (HTTP {data['status']})"
    log(f"    export {path}: {data['status']} {data.get('seconds')} s, "
        f"peak {data.get('peak_rss_mb')} MB, growth {data.get('growth_mb')} MB, "
        f"{data.get('bytes')} bytes")
    return data


def timed_download(port: int, path: str, repeat: int = 3) -> dict:
    """Median wall time of downloading a whole response over HTTP."""
    times, size, status = [], 0, 0
    for _ in range(repeat):
        started = time.perf_counter()
        status, _headers, body = http_get(port, path, timeout=600)
        times.append(time.perf_counter() - started)
        size = len(body)
    if status != 200:
        return {"status": MISSING if status == 404 else f"n/a (HTTP {status})", "path": path}
    return {"status": "ok", "path": path, "seconds": round(statistics.median(times), 3),
            "bytes": size}


# -- one size -------------------------------------------------------------------------------------

def published_ids(db_file: Path, limit: int, seed: int = 11) -> list[int]:
    """A reproducible random sample of published initiative ids."""
    with sqlite3.connect(db_file) as conn:
        ids = [row[0] for row in conn.execute(
            "select id from initiative where state = 'published' order by id")]
    return random.Random(seed).sample(ids, min(limit, len(ids)))


def run_size(size: int, args, workdir: Path, routes: dict, ceiling: dict) -> dict:
    log(f"== {size:,} initiatives")
    source = generate_sqlite(size, args.seed)
    db_file = workdir / f"registry-{size}.db"
    shutil.copyfile(source, db_file)
    db_url = f"sqlite:///{db_file}"
    env = app_env(db_url)
    ids_file = workdir / f"detail-{size}.txt"
    ids = published_ids(db_file, args.detail_pages + 5)
    detail_paths = [routes["detail"].format(id=i) for i in ids] if routes["detail"] else []
    ids_file.write_text("\n".join(detail_paths[5:]))
    result: dict = {"size": size, "ours": {}, "datasette": {}, "exports": {}}
    ours = result["ours"]
    only = args.only
    if only & {"reads", "burst"}:
        with server(gunicorn_cmd("registry:create_app()", args.workers), env, "/privacy",
                    workdir / "gunicorn.log") as port:
            if "reads" in only:
                measure_reads(port, routes, args, ours, ids_file, detail_paths, size)
            if "burst" in only:
                result["burst"] = burst(port, routes["submit"], db_url, args.submissions,
                                        args.threads)
        if "burst" in only and result["burst"].get("status") == "ok":
            result["burst"]["mail_worker"] = mail_worker(env, db_url)
    if "burst" in only:
        # The same burst on a single box that sends each confirmation mail from the web
        # worker right after the response (MAIL_SEND_IMMEDIATELY=true, the default setting).
        immediate = dict(env, MAIL_SEND_IMMEDIATELY="true")
        with server(gunicorn_cmd("registry:create_app()", args.workers), immediate, "/privacy",
                    workdir / "gunicorn-immediate.log") as port:
            result["burst_immediate"] = burst(port, routes["submit"], db_url,
                                              args.submissions, args.threads)
    if "exports" in only:
        for fmt in ("csv", "xlsx", "docx"):
            result["exports"][fmt] = export_probe(db_url, routes[fmt], env)
    if args.datasette and "datasette" in only:
        result["datasette_default"] = run_datasette(db_file, args, workdir, result,
                                                    tuned=False)
        result["datasette"] = run_datasette(db_file, args, workdir, result, tuned=True)
    result["ceiling"] = ceiling
    db_file.unlink(missing_ok=True)
    return result


def measure_reads(port: int, routes: dict, args, ours: dict, ids_file: Path,
                  detail_paths: list[str], size: int) -> None:
    log("  ours (gunicorn)")
    ours["geojson"] = measure(port, routes["geojson"], args)
    ours["list"] = measure(port, routes["list"], args)
    ours["detail"] = measure(port, routes["detail"] and "/", args,
                             paths_file=ids_file if routes["detail"] else None)
    if ours["detail"].get("path") == "/":
        ours["detail"]["path"] = routes["detail"]
        ours["detail"]["cold_ms"] = cold_renders(port, detail_paths[:5])
    ours["knelpunten"] = measure(port, routes["knelpunten"], args)
    ours["api_list"] = measure(port, routes["api_list"], args)
    repeat = 3 if size < 100_000 else 1
    ours["csv_http"] = timed_download(port, routes["csv"], repeat) if routes["csv"] else {
        "status": MISSING}


def run_datasette(db_file: Path, args, workdir: Path, result: dict, *,
                  tuned: bool = True) -> dict:
    """Datasette on the same SQLite file: the rows behind our map, the page of our API list,
    the obstacle CSV. ``tuned``: as its documentation recommends for a published read-only
    file ("Performance and caching": immutable mode ``-i``, which also counts each table's
    rows once at start-up) and with facet suggestions off (otherwise computed on every table
    page): the fair peer. Otherwise its defaults (``datasette serve FILE``). Both with the
    settings that let it return the same rows (all map rows in one answer, our page size)."""
    exe = shutil.which("datasette", path=str(VENV_BIN)) or shutil.which("datasette")
    if exe is None:
        return {"status": "n/a (datasette not installed: pip install -e '.[bench]')"}
    log(f"  datasette ({'tuned: immutable, no facet suggestions' if tuned else 'defaults'})")
    name = db_file.stem
    api_size = 20
    api = result["ours"].get("api_list", {})
    if api.get("status") == "ok":
        api_size = _api_page_size(api)
    settings = ["--setting", "max_returned_rows", "200000",  # every map row in one answer
                "--setting", "sql_time_limit_ms", "120000",
                "--setting", "default_page_size", str(api_size),
                "--setting", "allow_download", "off"]
    tuning = ["--setting", "suggest_facets", "off"] if tuned else []
    cmd = [exe, "serve", *(["-i"] if tuned else []), str(db_file), *tuning,
           "-h", "127.0.0.1", "-p", "{port}", *settings]
    out: dict = {"command": " ".join(["datasette", "serve", *(["-i"] if tuned else []),
                                      "FILE", *tuning, *settings])}
    log_name = "datasette-tuned.log" if tuned else "datasette.log"
    with server(cmd, dict(os.environ), "/-/versions.json", workdir / log_name,
                timeout=600) as port:
        sql = urllib.parse.urlencode({"sql": MAP_SQL, "_shape": "array"})
        out["geojson"] = measure(port, f"/{name}.json?{sql}", args)
        out["api_list"] = measure(
            port, f"/{name}/initiative.json?state=published&_sort=id&_size={api_size}"
            "&_shape=objects", args)
        out["csv_http"] = timed_download(port, f"/{name}/obstacle.csv?_stream=on&_size=max",
                                         3 if result["size"] < 100_000 else 1)
        log(f"    csv {out['csv_http']}")
    return out


def _count_items(body: bytes, headers: dict) -> int | None:
    """Number of records in a JSON response (a top-level list, or the first list value)."""
    if headers.get("Content-Encoding") or body[:1] not in (b"{", b"["):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, list):
        return len(data)
    for key in ("data", "items", "results", "initiatives", "features"):
        if isinstance(data.get(key), list):
            return len(data[key])
    return next((len(v) for v in data.values() if isinstance(v, list)), None)


def _api_page_size(api: dict) -> int:
    return api.get("items") or 20


def run_ceiling(args, workdir: Path) -> dict:
    log("== framework ceiling (minimal Flask app, same gunicorn settings)")
    with server(gunicorn_cmd("bench.ceiling_app:create_app()", args.workers), dict(os.environ),
                "/", workdir / "ceiling.log") as port:
        return measure(port, "/", args)


# -- report ---------------------------------------------------------------------------------------

def fmt_ms(r: dict, key: str) -> str:
    return f"{r[key]:.1f}" if r.get("status") == "ok" else "-"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}"


def status_text(r: dict) -> str | None:
    return None if r.get("status") == "ok" else str(r.get("status", MISSING))


def render(results: list[dict], meta: dict) -> str:
    lines = [
        f"Run: {meta['date']} · command `{meta['command']}` · {meta['workers']} gunicorn sync "
        f"workers · wrk {meta['connections']} connections × {meta['duration']} s per endpoint "
        f"(`Accept-Encoding: gzip`) · {meta['nproc']} cores, {meta['memory']} RAM · "
        f"Python {meta['python']} · SQLite {meta['sqlite']} · {meta['datasette']}",
        "",
        "Ratios: *vs ceiling* = our req/s ÷ the minimal Flask app's req/s (higher is better; "
        "target ≥ 0.40 for list and detail). *vs Datasette* = our p95 ÷ Datasette's p95 for the "
        "same rows (lower is better; target ≤ 1.0 for map and API), Datasette run as its docs "
        "recommend for a read-only file (`-i`, `suggest_facets off`; its defaults are in the "
        "issue 20 section). Each endpoint gets "
        f"{meta['warmup']} s of uncounted load first (caches warm, as in steady use); *cold ms* "
        "is the first request after the server started (detail: median of 5 pages no worker "
        "had rendered), i.e. what the first visitor after a change waits.",
        "",
    ]
    for res in results:
        ceiling = res["ceiling"]
        c_rps = ceiling.get("rps") if ceiling.get("status") == "ok" else None
        lines += [f"### {res['size']:,} initiatives", "",
                  "| endpoint | p50 ms | p95 ms | req/s | vs ceiling (req/s) | Datasette p95 ms "
                  "| Datasette req/s | vs Datasette (p95) | cold ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        lines.append(f"| minimal Flask app (ceiling) `/` | {fmt_ms(ceiling, 'p50_ms')} | "
                     f"{fmt_ms(ceiling, 'p95_ms')} | {c_rps or '-'} | 1.00 | | | | |")
        labels = {"geojson": "map GeoJSON", "list": "list page", "detail": "detail page",
                  "knelpunten": "obstacle summary", "api_list": "API list"}
        for key, label in labels.items():
            r = res["ours"].get(key, {"status": MISSING})
            d = res.get("datasette", {}).get(key, {})
            text = status_text(r)
            if text:
                lines.append(f"| {label} | {text} | | | | | | | |")
                continue
            if d.get("status") == "ok" and not d.get("requests"):
                # not one response within the measured seconds (each took longer)
                theirs = f"> {d.get('duration_us', 0) / 1e6:.0f} s | 0 | < 0.01"
            else:
                theirs = (f"{d['p95_ms']:.1f} | {d['rps']} | {ratio(r['p95_ms'], d['p95_ms'])}"
                          if d.get("status") == "ok" else " | | ")
            lines.append(
                f"| {label} `{r['path']}` | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                f"{r['rps']} | {ratio(r['rps'], c_rps)} | {theirs} | {r.get('cold_ms') or ''} |")
        b = res.get("burst", {})
        lines.append("")
        if b.get("status") == "ok":
            lines.append(
                f"Submission burst ({b['attempted']} visitors each GET the form and parse its "
                f"CSRF token, then all POST at once from {args_threads(res)} client threads): "
                f"**{b['accepted_per_s']} accepted/s** in the POST burst "
                f"({b['accepted']} of {b['attempted']} accepted in {b['seconds']} s; POST "
                f"p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms). Loading the form: "
                f"{b['form_get_per_s']} forms/s (p50 {b['form_get_p50_ms']} ms, p95 "
                f"{b['form_get_p95_ms']} ms); GET and POST together "
                f"{b['get_and_post_per_s']} submissions/s. Rows in the database "
                f"{b['stored_in_db']} = accepted {b['accepted_incl_warmup']} (incl. "
                f"{args_threads(res)} warm-up): **{b['lost']} lost**. Statuses: "
                f"{b['statuses']}. Web workers only queue the confirmation mail "
                f"(`MAIL_SEND_IMMEDIATELY=false`, the recommended deployment); SQLite "
                f"writers take turns (`SQLITE_WRITE_GATE=true`, the tuned SQLite setup).")
            m = b.get("mail_worker", {})
            if m.get("status") == "ok":
                lines.append("")
                lines.append(
                    f"Mail worker afterwards (`flask send-mail`, one run): {m['sent']} of "
                    f"{m['queued']} confirmation mails sent in {m['seconds']} s "
                    f"({m['per_s']} /s, console backend), {m['left']} left.")
            bi = res.get("burst_immediate", {})
            if bi.get("status") == "ok":
                lines.append("")
                lines.append(
                    f"The same burst with each mail sent by the web worker right after the "
                    f"response (`MAIL_SEND_IMMEDIATELY=true`, one box without a mail worker): "
                    f"{bi['accepted_per_s']} accepted/s (POST p50 {bi['p50_ms']} ms, p95 "
                    f"{bi['p95_ms']} ms), {bi['lost']} lost.")
        else:
            lines.append(f"Submission burst: {b.get('status', MISSING)}")
        lines += ["", "| export (all published obstacles) | status | seconds | peak RSS MB "
                  "(growth) | size | Datasette CSV s | vs Datasette (time) |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for fmt in ("csv", "xlsx", "docx"):
            e = res["exports"].get(fmt, {"status": MISSING})
            d = res.get("datasette", {}).get("csv_http", {}) if fmt == "csv" else {}
            ours_http = res["ours"].get("csv_http", {}) if fmt == "csv" else {}
            if e.get("status") != "ok":
                lines.append(f"| {fmt.upper()} | {e.get('status')} | | | | | |")
                continue
            dcell = f"{d['seconds']}" if d.get("status") == "ok" else ""
            rcell = ratio(ours_http.get("seconds"), d.get("seconds")) if dcell else ""
            http_note = (f" (HTTP {ours_http['seconds']} s)"
                         if ours_http.get("status") == "ok" else "")
            lines.append(
                f"| {fmt.upper()} `{e['path']}` | ok | {e['seconds']}{http_note} | "
                f"{e['peak_rss_mb']} ({e['growth_mb']:+}) | {e['bytes'] / 1e6:.1f} MB | "
                f"{dcell} | {rcell} |")
        lines.append("")
    lines += targets(results)
    return "\n".join(lines)


def args_threads(res: dict) -> int:
    return res.get("threads", 0)


def targets(results: list[dict]) -> list[str]:
    res = next((r for r in results if r["size"] == 10_000), None)
    if res is None:
        return ["Targets: not evaluated (the 10,000 size was not run)."]
    out = ["### Targets at 10,000 initiatives", "", "| target | measured | met |", "|---|---|---|"]
    c_rps = res["ceiling"].get("rps")

    def row(name, measured, ok):
        out.append(f"| {name} | {measured} | {'yes' if ok else 'NO'} |")

    for key, label in (("geojson", "map GeoJSON"), ("api_list", "API list")):
        r, d = res["ours"].get(key, {}), res.get("datasette", {}).get(key, {})
        if r.get("status") != "ok":
            row(f"{label}: p95 < 100 ms, ≤ Datasette", r.get("status", MISSING), False)
            continue
        ok = r["p95_ms"] < TARGET_P95_MS and (d.get("status") != "ok"
                                              or r["p95_ms"] <= d["p95_ms"])
        theirs = f"{d['p95_ms']:.1f} ms" if d.get("status") == "ok" else "n/a"
        row(f"{label}: p95 < 100 ms and p95 ≤ Datasette's",
            f"p95 {r['p95_ms']:.1f} ms; Datasette {theirs}", ok)
    for key, label in (("list", "list page"), ("detail", "detail page")):
        r = res["ours"].get(key, {})
        if r.get("status") != "ok" or not c_rps:
            row(f"{label}: ≥ 40% of ceiling req/s", r.get("status", MISSING), False)
            continue
        share = r["rps"] / c_rps
        row(f"{label}: ≥ 40% of ceiling req/s", f"{share:.0%} ({r['rps']} of {c_rps})",
            share >= TARGET_PAGE_CEILING_SHARE)
    b = res.get("burst", {})
    row("submissions: ≥ 100 accepted/s, 0 lost",
        f"{b.get('accepted_per_s', '-')} /s, {b.get('lost', '-')} lost"
        if b.get("status") == "ok" else b.get("status", MISSING),
        b.get("status") == "ok" and b["accepted_per_s"] >= TARGET_SUBMISSIONS_PER_S
        and b["lost"] == 0)
    for fmt, limit in (("csv", TARGET_CSV_S), ("xlsx", TARGET_XLSX_S)):
        e = res["exports"].get(fmt, {})
        row(f"{fmt.upper()} export of all obstacles < {limit:g} s",
            f"{e['seconds']} s" if e.get("status") == "ok" else e.get("status", MISSING),
            e.get("status") == "ok" and e["seconds"] < limit)
    big = next((r for r in results if r["size"] == 100_000), None)
    if big is not None:
        peaks = {f: e.get("peak_rss_mb") for f, e in big["exports"].items()
                 if e.get("status") == "ok"}
        row("export memory < 300 MB at 100,000 (peak RSS of the whole process)",
            ", ".join(f"{f.upper()} {v} MB" for f, v in peaks.items()) or "n/a",
            bool(peaks) and all(v < TARGET_MEMORY_MB for v in peaks.values()))
    out.append("")
    return out


def machine() -> dict:
    def cmd(*c):
        try:
            return subprocess.run(c, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    try:
        from importlib.metadata import version
        ds = f"Datasette {version('datasette')}"
    except Exception:
        ds = "Datasette not installed"
    mem = cmd("free", "-h").splitlines()
    return {
        "nproc": cmd("nproc"), "memory": mem[1].split()[1] if len(mem) > 1 else "?",
        "free_h": "\n".join(mem), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "datasette": ds, "platform": platform.platform(),
        "cpu": next((li.split(":", 1)[1].strip() for li in
                     Path("/proc/cpuinfo").read_text().splitlines()
                     if li.startswith("model name")), "?"),
    }


def write_doc(text: str) -> None:
    block = f"{START}\n{text}\n{END}"
    if DOC.exists() and START in DOC.read_text():
        old = DOC.read_text()
        new = old[:old.index(START)] + block + old[old.index(END) + len(END):]
    else:
        DOC.parent.mkdir(exist_ok=True)
        new = ("# Benchmarks\n\nProduced by `python -m bench.run` (see bench/run.py).\n\n"
               f"## Latest results\n\n{block}\n")
    DOC.write_text(new)


PARTS = ("reads", "burst", "exports", "datasette", "churn", "two-servers")
STEADY_PARTS = {"reads", "burst", "exports", "datasette"}
DATABASES = ("sqlite", "postgresql")
CHURN_SIZES = (10_000, 100_000)  # the churn table (issue 20) without --size
TWO_SERVER_SIZES = (10_000,)


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(
        description="Benchmarks at national scale (issues 11 and 20). Without --only: every "
                    "part; without --size: 1,000, 10,000 and 100,000 for the steady-state "
                    "parts, 10,000 and 100,000 for churn, 10,000 for two-servers.")
    parser.add_argument("--size", type=int, action="append", help="repeatable; default all")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=4,
                        help="gunicorn workers (2-4); two-servers: half of them on each")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=5,
                        help="seconds of uncounted load per endpoint first (0: none)")
    parser.add_argument("--detail-pages", type=int, default=50,
                        help="distinct detail pages the detail load rotates over")
    parser.add_argument("--submissions", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8, help="client threads for the burst")
    parser.add_argument("--no-datasette", dest="datasette", action="store_false")
    parser.add_argument("--no-doc", dest="doc", action="store_false",
                        help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to measure ({', '.join(PARTS)}); a run "
                             "without every steady-state part leaves the issue 11 tables "
                             "alone; the issue 20 section keeps the figures of parts not run")
    parser.add_argument("--database", default=",".join(DATABASES),
                        help="churn on: sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="churn: measure each endpoint this many times (median and best)")
    parser.add_argument("--churn-duration", type=int, default=None,
                        help="churn: seconds of wrk per endpoint and visitor (default "
                             "--duration)")
    parser.add_argument("--churn-warmup", type=int, default=3,
                        help="churn: seconds of uncounted load first")
    parser.add_argument("--submit-every", type=float, default=1.0,
                        help="churn: seconds between two submissions of the writer")
    parser.add_argument("--publish-every", type=float, default=5.0,
                        help="churn: seconds between two publications of the moderator")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: rewrite the issue 20 section of "
                             "docs/benchmarks.md from bench/results/issue20.json")
    args = parser.parse_args(argv)
    args.only = {part.strip() for part in args.only.split(",") if part.strip()}
    if unknown := args.only - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    args.databases = [d.strip() for d in args.database.split(",") if d.strip()]
    if unknown := set(args.databases) - set(DATABASES):
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    if args.churn_duration is None:
        args.churn_duration = args.duration
    return args


def main(argv: list[str] | None = None) -> int:
    from bench import scale, scale_report
    from bench.services import pg_bindir, postgres_server, redis_binary, redis_server

    args = parse_args(argv)
    # a stopped run (timeout, Ctrl-C) still stops the servers it started (finally blocks)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    if args.render_only:
        section = scale_report.render(json.loads((RESULTS / "issue20.json").read_text()))
        print(section)
        if args.doc:
            scale_report.write_section(DOC, section)
        return 0
    partial = not STEADY_PARTS <= args.only
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    steady_sizes = (args.size or list(SIZES)) if args.only & STEADY_PARTS else []
    churn_sizes = (args.size or list(CHURN_SIZES)) if "churn" in args.only else []
    two_sizes = (args.size or list(TWO_SERVER_SIZES)) if "two-servers" in args.only else []
    needs_pg = bool(two_sizes) or (bool(churn_sizes) and "postgresql" in args.databases)
    if needs_pg and pg_bindir() is None:
        log("PostgreSQL is not installed (apt-get install postgresql): skipping its parts")
        args.databases = [d for d in args.databases if d != "postgresql"]
        two_sizes, needs_pg = [], False
    if two_sizes and redis_binary() is None:
        log("Redis is not installed (apt-get install redis-server): skipping two-servers")
        two_sizes = []
    # generate first, so generation never overlaps a measurement
    for size in sorted(set(steady_sizes) | set(churn_sizes) | set(two_sizes)):
        generate_sqlite(size, args.seed)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = machine()
    meta.update(date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                command=command.strip(), workers=args.workers, connections=args.connections,
                duration=args.duration, warmup=args.warmup, detail_pages=args.detail_pages,
                churn_duration=args.churn_duration, churn_warmup=args.churn_warmup,
                repeat=args.repeat, submit_every=args.submit_every,
                publish_every=args.publish_every, loadavg_start=os.getloadavg())
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    results: list[dict] = []
    churn_results: list[dict] = []
    two_results: list[dict] = []
    try:
        routes = discover_routes(f"sqlite:///{workdir / 'routes.db'}")
        log(f"routes: {routes}")
        for size in steady_sizes:
            # the ceiling right before, in the same conditions
            ceiling = run_ceiling(args, workdir) if "reads" in args.only else {}
            res = run_size(size, args, workdir, routes, ceiling)
            res["threads"] = args.threads
            results.append(res)
        for size in churn_sizes:
            if "sqlite" in args.databases:
                churn_results.append(scale.run_churn(size, "sqlite", args, workdir, routes))
        if needs_pg:
            with postgres_server() as pg_url:
                for size in churn_sizes:
                    if "postgresql" in args.databases:
                        churn_results.append(scale.run_churn(size, "postgresql", args,
                                                             workdir, routes, pg_url))
                if two_sizes:
                    with redis_server() as redis_url:
                        for size in two_sizes:
                            two_results.append(scale.run_two_servers(
                                size, args, workdir, routes, pg_url, redis_url))
    finally:
        logs = {p.name: p.read_text(errors="replace")[-4000:] for p in workdir.glob("*.log")}
        shutil.rmtree(workdir, ignore_errors=True)
    meta["loadavg_end"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    raw = {"meta": meta, "routes": routes, "results": results, "churn": churn_results,
           "two_servers": two_results, "server_logs": logs}
    (RESULTS / f"run-{stamp}.json").write_text(json.dumps(raw, indent=2, default=str))
    store = scale_report.update(RESULTS / "issue20.json", raw)
    section = scale_report.render(store)
    print(section)
    if not partial:
        text = render(results, meta)
        print(text)
        (RESULTS / "latest.json").write_text(json.dumps(raw, indent=2, default=str))
    if args.doc:
        if not partial:
            write_doc(text)
        scale_report.write_section(DOC, section)
    return 0


def rerender() -> None:
    """Rewrite docs/benchmarks.md from bench/results/latest.json (after changing the layout)."""
    data = json.loads((RESULTS / "latest.json").read_text())
    write_doc(render(data["results"], data["meta"]))


if __name__ == "__main__":
    raise SystemExit(main())
