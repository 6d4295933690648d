"""Issue 20: reads while the data changes, on SQLite and PostgreSQL, and two app servers on one
PostgreSQL + Redis. Called by bench.run (parts ``churn`` and ``two-servers``).

- ``run_churn(size, database, ...)``: one gunicorn (the same settings as the steady-state
  benchmark) on a fresh copy of the cached data set, SQLite or PostgreSQL (the same rows,
  copied), a moderator created with the CLI and logged in through the app, then the churn
  benchmark of bench.churn: the first request after a publication per endpoint ("cold"),
  and every endpoint under wrk without and with a session cookie while one submission per
  second and one publication per 5 seconds go through the app.
- ``run_two_servers(size, ...)``: PostgreSQL and Redis, two gunicorn instances on two
  loopback ports with the same ``DATABASE_URL``, ``SECRET_KEY`` and
  ``RATELIMIT_STORAGE_URI=redis://...`` (rate limits on, as in production), and: the burst of
  submissions spread over both (each visitor loads the form from one and posts it to the
  other; rows counted in PostgreSQL), a publication on A visible on the very next request
  to B (detail page, API and map), one rate limit across both (requests alternating, exactly
  the limit passes), and the churn figures with the load spread over both.
"""
from __future__ import annotations

import gzip
import html
import json
import shutil
import time
from pathlib import Path

from bench import churn as ch
from bench.generate import generate_sqlite
from bench.run import (
    ROOT,
    app_env,
    burst,
    count_rows,
    gunicorn_cmd,
    log,
    published_ids,
    server,
    worker_memory,
)
from bench.services import load_postgres

RATE_LIMIT_CHECK = 20  # per minute, on the school lookup, across both servers
RATE_LIMIT_PATH = "/geo/scholen?q=amsterdam"


def _paths(routes: dict, detail_paths: list[str]) -> dict[str, str]:
    paths = {k: routes.get(k) for k in ch.ENDPOINTS}
    paths["detail"] = detail_paths[0] if detail_paths else None
    return {k: v for k, v in paths.items() if v}


def _database(size: int, database: str, args, workdir: Path, pg_url: str | None,
              name: str) -> tuple[str, Path, dict]:
    """A fresh working copy of the data set: (SQLAlchemy URL, the SQLite source, info)."""
    source = generate_sqlite(size, args.seed)
    if database == "sqlite":
        db_file = workdir / f"{name}.db"
        shutil.copyfile(source, db_file)
        return f"sqlite:///{db_file}", source, {}
    if pg_url is None:
        raise RuntimeError("PostgreSQL is not running")
    log(f"  loading {size:,} initiatives into PostgreSQL")
    url, counts, seconds = load_postgres(pg_url, source, name, app_env("sqlite://"), ROOT)
    log(f"    {counts.get('initiative')} initiatives, {sum(counts.values())} rows in "
        f"{seconds:.1f} s")
    return url, source, {"load_seconds": round(seconds, 1), "rows": sum(counts.values())}


def _detail_file(source: Path, routes: dict, args, workdir: Path, tag: str) -> tuple[Path,
                                                                                   list[str]]:
    ids = published_ids(source, args.detail_pages + 5)
    paths = [routes["detail"].format(id=i) for i in ids] if routes.get("detail") else []
    ids_file = workdir / f"churn-detail-{tag}.txt"
    ids_file.write_text("\n".join(paths[5:]))
    return ids_file, paths


def _measure(ports: list[int], routes: dict, args, env: dict, db_url: str, ids_file: Path,
             detail_paths: list[str], result: dict) -> None:
    moderator = ch.log_in_moderator(ports[0], env)
    pending = ch.pending_ids(db_url)
    churn = ch.Churn(ports, moderator, pending, submit_every=args.submit_every,
                     publish_every=args.publish_every, submit_path=routes["submit"])
    paths = _paths(routes, detail_paths)
    result["cold_after_publication"] = ch.cold_after_publish(churn, ports, paths)
    cookie = ch.session_cookie(ports[0], routes["submit"])
    with churn:
        result["reads"] = ch.measure_churn(
            ports, paths, churn, duration=args.churn_duration, warmup=args.churn_warmup,
            connections=args.connections, repeat=args.repeat, detail_file=ids_file,
            cookie=cookie)
    result["writes"] = churn.totals()
    result["pending_left"] = len(churn.pending)


def run_churn(size: int, database: str, args, workdir: Path, routes: dict,
              pg_url: str | None = None) -> dict:
    log(f"== churn: {size:,} initiatives on {database}")
    result: dict = {"size": size, "database": database, "workers": args.workers}
    try:
        db_url, source, info = _database(size, database, args, workdir, pg_url,
                                         f"churn_{size}_{database}")
    except Exception as exc:  # reported in the table, the run goes on
        return {**result, "status": f"n/a ({exc})"}
    result.update(info)
    env = app_env(db_url)
    result["snapshot"] = ch.create_snapshot(env)
    ids_file, detail_paths = _detail_file(source, routes, args, workdir, f"{size}-{database}")
    with server(gunicorn_cmd("registry:create_app()", args.workers), env, "/privacy",
                workdir / f"churn-{size}-{database}.log") as port:
        _measure([port], routes, args, env, db_url, ids_file, detail_paths, result)
        result["worker_memory"] = worker_memory(port)
    result["status"] = "ok"
    if database == "sqlite":
        Path(db_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    return result


# -- two app servers ----------------------------------------------------------------------------

def _get(port: int, path: str) -> tuple[int, bytes]:
    visitor = ch.Visitor(port)
    status, headers, body = visitor.get(path)
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body


def visible_on_other(churn: ch.Churn, a: int, b: int, routes: dict, db_url: str,
                     times: int, workers: int) -> dict:
    """Publish on A; the very next requests to B (one per worker of B, so whichever worker
    answers) must show the entry: its detail page (200 with its title), its API record and
    its point on the map. B's caches are warm before each publication."""
    checks = []
    for _ in range(times):
        for path in (routes["geojson"], routes["list"]):
            _get(b, path)  # warm B's caches on the old data version
        if not churn.pending:
            break
        candidate = churn.pending[0]
        before, _body = _get(b, routes["detail"].format(id=candidate))
        started = time.perf_counter()
        published = churn.publish_next(a)
        if published is None:
            checks.append({"id": candidate, "ok": False, "why": "publication failed"})
            continue
        title = ""
        from sqlalchemy import create_engine, text

        engine = create_engine(db_url)
        with engine.connect() as conn:
            title = conn.execute(text("select title from initiative where id = :i"),
                                 {"i": published}).scalar_one()
        engine.dispose()
        seen = []
        for _w in range(workers):
            status, body = _get(b, routes["detail"].format(id=published))
            page = body.decode(errors="replace")
            detail_ok = status == 200 and (html.escape(title, quote=False) in page
                                           or html.escape(title) in page)
            api_status, _api = _get(b, f"/api/v1/initiatives/{published}")
            _s, geo = _get(b, routes["geojson"])
            on_map = any(f.get("id") == published or f.get("properties", {}).get("id")
                         == published for f in json.loads(geo).get("features", []))
            seen.append(detail_ok and api_status == 200 and on_map)
        seconds = time.perf_counter() - started
        checks.append({"id": published, "detail_before": before, "ok": all(seen),
                       "requests_to_b": len(seen), "publish_to_all_seen_s": round(seconds, 2)})
        log(f"    published {published} on A ({before} on B before): seen on B "
            f"{sum(seen)}/{len(seen)} times")
    return {"status": "ok", "checks": checks, "all_seen": all(c["ok"] for c in checks),
            "published": len(checks)}


def rate_limit_across(a: int, b: int, limit: int, requests: int) -> dict:
    """``requests`` lookups alternating between A and B; the limit is counted in Redis, so
    exactly ``limit`` must pass, whichever server answers."""
    statuses: dict[str, list[int]] = {"A": [], "B": []}
    for i in range(requests):
        name, port = ("A", a) if i % 2 == 0 else ("B", b)
        status, _body = _get(port, RATE_LIMIT_PATH)
        statuses[name].append(status)
    passed = {k: sum(1 for s in v if s == 200) for k, v in statuses.items()}
    refused = {k: sum(1 for s in v if s == 429) for k, v in statuses.items()}
    total = sum(passed.values())
    out = {"status": "ok", "limit": f"{limit} per minute", "path": RATE_LIMIT_PATH,
           "requests": requests, "passed": total, "passed_per_server": passed,
           "refused_per_server": refused, "exactly_limit": total == limit}
    log(f"    rate limit {limit}/min over A and B: {total} of {requests} passed {passed}")
    return out


def run_two_servers(size: int, args, workdir: Path, routes: dict, pg_url: str,
                    redis_url: str) -> dict:
    workers = max(1, args.workers // 2)
    log(f"== two app servers ({workers} workers each) on one PostgreSQL + Redis, "
        f"{size:,} initiatives")
    result: dict = {"size": size, "workers_per_server": workers}
    db_url, source, info = _database(size, "postgresql", args, workdir, pg_url,
                                     f"two_servers_{size}")
    result.update(info)
    env = app_env(db_url)
    env.update({  # rate limits on, counted in Redis: the production setup
        "RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_ALLOW_MEMORY": "false",
        # the load comes from one address: the limits the benchmark crosses are raised or
        # off, one is set low to be checked across both servers
        "API_RATE_LIMIT": "1000000 per minute", "SUBMISSION_RATE_LIMIT": "",
        "DOCUMENT_RATE_LIMIT": "", "SCHOOL_LOOKUP_RATE_LIMIT": f"{RATE_LIMIT_CHECK} per minute",
    })
    result["snapshot"] = ch.create_snapshot(env)
    ids_file, detail_paths = _detail_file(source, routes, args, workdir, f"two-{size}")
    cmd = gunicorn_cmd("registry:create_app()", workers)
    with server(cmd, env, "/privacy", workdir / "two-servers-a.log") as a, \
            server(cmd, env, "/privacy", workdir / "two-servers-b.log") as b:
        result["ports"] = [a, b]
        result["rate_limit"] = rate_limit_across(a, b, RATE_LIMIT_CHECK, 2 * RATE_LIMIT_CHECK + 10)
        log("  burst over both servers")
        result["burst"] = burst([a, b], routes["submit"], db_url, args.submissions, args.threads)
        result["burst"]["rows_counted_in"] = "PostgreSQL"
        moderator = ch.log_in_moderator(a, env)
        churn = ch.Churn([a, b], moderator, ch.pending_ids(db_url),
                         submit_every=args.submit_every, publish_every=args.publish_every,
                         submit_path=routes["submit"])
        log("  a publication on A, read on B")
        result["visibility"] = visible_on_other(churn, a, b, routes, db_url, times=3,
                                                workers=workers)
        log("  churn over both servers")
        paths = _paths(routes, detail_paths)
        result["cold_after_publication"] = ch.cold_after_publish(churn, [a, b], paths)
        cookie = ch.session_cookie(a, routes["submit"])
        with churn:
            result["reads"] = ch.measure_churn(
                [a, b], paths, churn, duration=args.churn_duration, warmup=args.churn_warmup,
                connections=args.connections, repeat=args.repeat, detail_file=ids_file,
                cookie=cookie)
        result["writes"] = churn.totals()
    result["rows_in_postgresql"] = count_rows(db_url, "select count(*) from initiative")
    result["status"] = "ok"
    return result
