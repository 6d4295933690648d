"""Time one export and read its peak memory, in a process of its own.

    python -m bench.export_probe DATABASE_URL PATH
    python -m bench.export_probe --size 100000 [--repeat 3] [--database FILE] [PATH ...]

The first form (used by bench.run) creates the app (production settings from the
environment), requests PATH through the test client, consumes the streamed body and prints
one JSON line: status, bytes, seconds, the peak resident memory of the whole process (VmHWM,
see ``_rss_mb``), the growth over the baseline measured after the app was created and warmed
up with a tiny request, and ``cached_seconds``: the same request again, now answered from the
document cache (``DOCUMENT_CACHE_DIR``) when the settings keep documents.

The second form is the one command for a figure: it copies the cached synthetic registry of
bench.generate, points ``DOCUMENT_CACHE_DIR`` at an empty folder and runs the first form
``--repeat`` times per PATH (default: the XLSX and CSV of all obstacles), each in a fresh
process (a cold render each time), and prints the best and median seconds, the peak memory
and the load average as one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PATHS = ("/export/knelpunten.xlsx", "/export/knelpunten.csv")


def _rss_mb() -> float:
    """Peak resident memory of this process's own address space, in MB.

    Linux: ``VmHWM`` from /proc/self/status. Not ``ru_maxrss``: the kernel carries the peak
    RSS of the address space replaced by ``execve`` over into it, so a probe started by a
    large parent (bench.run at 100,000 initiatives: ~320 MB) reported the parent's memory as
    its own "baseline". Elsewhere ``ru_maxrss`` is the best available.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024  # bytes on macOS


def _get(client, path: str, base_url: str) -> tuple[int, int, str, float, float]:
    """(status, bytes, content type, wall seconds, CPU seconds) of one request."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path, buffered=False, base_url=base_url)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    return (response.status_code, size, response.headers.get("Content-Type", ""),
            time.perf_counter() - started, time.process_time() - cpu)


def probe(url: str, path: str) -> int:
    from registry import create_app

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url)
    client = app.test_client()
    # the host the settings trust (production answers any other Host header with 400)
    base_url = app.config.get("BASE_URL") or "http://localhost"
    client.get("/privacy", base_url=base_url)  # import templates, open the database
    baseline = _rss_mb()
    status, size, content_type, seconds, cpu = _get(client, path, base_url)
    peak = _rss_mb()
    cached = _get(client, path, base_url)
    print(json.dumps({
        "path": path, "status": status, "bytes": size, "content_type": content_type,
        "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
        "peak_rss_mb": round(peak, 1), "baseline_rss_mb": round(baseline, 1),
        "growth_mb": round(peak - baseline, 1), "cached_seconds": round(cached[3], 3),
    }))
    return 0


def _run(url: str, path: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.export_probe", url, path],  # noqa: S603
                          env=env, capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    lines = [li for li in proc.stdout.splitlines() if li.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"probe of {path} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(lines[-1])


def figures(size: int, paths: list[str], repeat: int, database: Path | None = None) -> dict:
    from bench.generate import generate_sqlite
    from bench.run import app_env

    source = database or generate_sqlite(size)
    out: dict = {"size": size, "repeat": repeat, "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "registry.db"
        shutil.copyfile(source, db_file)
        url = f"sqlite:///{db_file}"
        for path in paths:
            runs = []
            for i in range(repeat):
                documents = Path(tmp) / f"documents-{i}"  # empty: a cold render each time
                env = dict(app_env(url), DOCUMENT_CACHE_DIR=str(documents))
                runs.append(_run(url, path, env))
                shutil.rmtree(documents, ignore_errors=True)
            seconds = [r["seconds"] for r in runs]
            out[path] = {
                "status": runs[-1]["status"], "bytes": runs[-1]["bytes"],
                "best_s": min(seconds), "median_s": statistics.median(seconds),
                "cpu_best_s": min(r["cpu_seconds"] for r in runs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "growth_mb": max(r["growth_mb"] for r in runs),
                "from_cache_s": min(r["cached_seconds"] for r in runs),
            }
    out["load_average_after"] = os.getloadavg()
    return out


def main(argv: list[str]) -> int:
    if argv and not argv[0].startswith("-"):
        return probe(argv[0], argv[1])
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", type=Path,
                        help="a SQLite file to copy instead of the generated data set")
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    args = parser.parse_args(argv)
    print(json.dumps(figures(args.size, args.paths, args.repeat, args.database), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
