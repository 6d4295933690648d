"""Time one export and read its peak memory, in a process of its own.

    python -m bench.export_probe DATABASE_URL PATH

Creates the app (production settings from the environment), requests PATH through the test
client, consumes the streamed body and prints one JSON line: status, bytes, seconds, the peak
resident memory of the whole process (ru_maxrss) and the growth over the baseline measured
after the app was created and warmed up with a tiny request.
"""
from __future__ import annotations

import json
import resource
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str]) -> int:
    url, path = argv[0], argv[1]
    from registry import create_app

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url)
    client = app.test_client()
    client.get("/privacy")  # import templates, open the database
    baseline = _rss_mb()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    print(json.dumps({
        "path": path, "status": response.status_code, "bytes": size,
        "content_type": response.headers.get("Content-Type", ""),
        "seconds": round(seconds, 3), "peak_rss_mb": round(_rss_mb(), 1),
        "baseline_rss_mb": round(baseline, 1), "growth_mb": round(_rss_mb() - baseline, 1),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
