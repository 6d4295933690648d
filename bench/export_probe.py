"""Time one export and read its peak memory, in a process of its own.

    python -m bench.export_probe DATABASE_URL PATH

Creates the app (production settings from the environment), requests PATH through the test
client, consumes the streamed body and prints one JSON line: status, bytes, seconds, the peak
resident memory of the whole process (VmHWM, see ``_rss_mb``) and the growth over the
baseline measured after the app was created and warmed up with a tiny request.
"""
from __future__ import annotations

import json
import resource
import sys
import time


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
