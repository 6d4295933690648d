"""Timings of the map's GeoJSON at national scale (issues 6 and 20), in one command.

    python -m bench.map_probe --size 100000            # in-process and over HTTP
    python -m bench.map_probe --size 10000 --no-http   # in-process only
    python -m bench.map_probe --database registry.db   # another SQLite file (copied)

Uses the cached synthetic registry of bench.generate (a copy, so nothing is changed).

In-process (the real app and its test client; CPU seconds beside wall seconds):

- ``after_change``: the first GeoJSON after a public change: the data-version stamp is
  replaced (as every public change does) and the document is built, gzipped and stored in
  ``shared_result`` for every worker;
- ``other_worker``: the same document in a worker that has not built it (its per-process
  cache emptied): read from the database;
- ``warm`` (memory), ``warm_plain`` (a client without gzip: decompressed as it is sent),
  ``not_modified`` (304), ``filtered_after_change``, the /kaart page and the province view.

Over HTTP (gunicorn, 2 sync workers, production settings): after each replaced stamp the
first request (builds) and the next ones (served by whichever worker takes them), then each
worker's peak memory (VmHWM). Each measurement is repeated ``--repeat`` times; the best and
the median are printed with the load average, as one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.export_probe import _rss_mb
from bench.generate import generate_sqlite
from bench.run import app_env, free_port, gunicorn_cmd, http_get, wait_until_up

URL = "/kaart/initiatieven.geojson"
GZIP = {"Accept-Encoding": "gzip"}


def summary(walls: list[float], cpus: list[float] | None = None) -> dict:
    out = {"best_ms": round(min(walls) * 1000, 1),
           "median_ms": round(statistics.median(walls) * 1000, 1)}
    if cpus:
        out["cpu_best_ms"] = round(min(cpus) * 1000, 1)
    return out


def timed(fn, repeat: int, before=None) -> dict:
    walls, cpus = [], []
    for _ in range(repeat):
        if before is not None:
            before()
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return summary(walls, cpus)


def bump(db_file: Path) -> None:
    """Replace the data-version stamp, as a public change does."""
    with sqlite3.connect(db_file) as conn:
        conn.execute("INSERT INTO data_version (name, token, changed_at) "
                     "VALUES ('public', ?, CURRENT_TIMESTAMP) ON CONFLICT (name) DO UPDATE "
                     "SET token = excluded.token", (uuid.uuid4().hex,))


def in_process(db_file: Path, repeat: int) -> dict:
    from registry import create_app
    from registry.maps.services import geojson_cache

    app = create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}",
                     SECRET_KEY=secrets.token_hex(32), RATELIMIT_ENABLED=False,
                     RATELIMIT_ALLOW_MEMORY=True, BASE_URL="http://localhost")
    client = app.test_client()
    client.get("/privacy")  # import templates, open the database
    baseline = _rss_mb()

    def get(path: str = URL, headers: dict | None = None, status: int = 200) -> bytes:
        response = client.get(path, headers=GZIP if headers is None else headers)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data()

    first = get(headers={})
    zipped = get()
    etag = client.get(URL, headers=GZIP).headers["ETag"]

    def change() -> None:
        bump(db_file)

    out = {
        # counted without parsing, so the probe's own memory stays out of peak_rss_mb
        "features": first.count(b'{"type":"Feature",'),
        "bytes": len(first),
        "gzip_bytes": len(zipped),
        "after_change": timed(get, repeat, before=change),
        "other_worker": timed(get, repeat, before=geojson_cache.clear),
        "warm": timed(get, repeat),
        "warm_plain": timed(lambda: get(headers={}), repeat),
        "filtered_after_change": timed(
            lambda: get(URL + "?province=Utrecht&area=examineren"), repeat, before=change),
        "map_page": timed(lambda: get("/kaart", headers={}), repeat),
        "province_view": timed(lambda: get("/kaart/provincies", headers={}), repeat),
    }
    etag = client.get(URL, headers=GZIP).headers["ETag"]
    out["not_modified"] = timed(lambda: get(headers={"If-None-Match": etag}, status=304),
                                repeat)
    out["baseline_rss_mb"] = round(baseline, 1)
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    return out


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


def _peak_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def over_http(db_file: Path, repeat: int, workdir: Path) -> dict:
    env = app_env(f"sqlite:///{db_file}")
    port = free_port()
    cmd = [part.replace("{port}", str(port))
           for part in gunicorn_cmd("registry:create_app()", 2)]
    with open(workdir / "gunicorn.log", "ab") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parent.parent,  # noqa: S603
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(port, "/privacy", proc)
        for _ in range(4):
            http_get(port, "/privacy")  # both workers up and connected

        def fetch(headers: dict) -> float:
            started = time.perf_counter()
            status, _headers, _body = http_get(port, URL, headers=headers, timeout=120)
            assert status == 200, status
            return time.perf_counter() - started

        firsts, nexts, plains = [], [], []
        for _ in range(repeat):
            bump(db_file)
            firsts.append(fetch(GZIP))
            nexts.extend(fetch(GZIP) for _ in range(4))
            plains.append(fetch({}))
        workers = _children(proc.pid)
        return {
            "workers": len(workers),
            "first_after_change": summary(firsts),
            "next_requests": summary(nexts),
            "plain_client": summary(plains),
            "worker_peak_rss_mb": [_peak_mb(pid) for pid in workers],
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-http", action="store_true", help="in-process timings only")
    parser.add_argument("--database", type=Path,
                        help="a SQLite file to copy instead of the generated data set")
    args = parser.parse_args(argv)

    source = args.database or generate_sqlite(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "registry.db"
        shutil.copyfile(source, db_file)
        out: dict = {"size": args.size, "repeat": args.repeat,
                     "load_average": os.getloadavg()}
        out["in_process"] = in_process(db_file, args.repeat)
        if not args.no_http:
            out["http"] = over_http(db_file, args.repeat, Path(tmp))
        out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
