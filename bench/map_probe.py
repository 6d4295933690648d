"""In-process timings of the map's data path at national scale (issue 6).

    python -m bench.map_probe --size 10000

Uses the cached synthetic registry of bench.generate (a copy, so nothing is changed) and times,
through the real app and test client: the GeoJSON cold (SQL + JSON, cache empty), warm
(per-process cache hit), gzip, the 304 answer to a conditional request, a filtered GeoJSON,
the /kaart page and the province view. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.generate import generate_sqlite


def timed(fn, repeat: int) -> dict:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 1),
            "max_ms": round(max(samples), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from registry import create_app
    from registry.maps.services import geojson_cache

    source = generate_sqlite(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.db"
        shutil.copyfile(source, path)
        app = create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                         SECRET_KEY=secrets.token_hex(32), RATELIMIT_ENABLED=False,
                         RATELIMIT_ALLOW_MEMORY=True, BASE_URL="http://localhost")
        client = app.test_client()
        url = "/kaart/initiatieven.geojson"
        first = client.get(url)
        features = len(json.loads(first.data)["features"])
        etag = first.headers["ETag"]
        gz = client.get(url, headers={"Accept-Encoding": "gzip"})

        def cold():
            geojson_cache.clear()
            assert client.get(url).status_code == 200

        out = {
            "size": args.size,
            "features": features,
            "bytes": len(first.data),
            "gzip_bytes": len(gz.data),
            "geojson_cold": timed(cold, args.repeat),
            "geojson_warm": timed(lambda: client.get(url), args.repeat),
            "geojson_warm_gzip": timed(
                lambda: client.get(url, headers={"Accept-Encoding": "gzip"}), args.repeat),
            "geojson_304": timed(
                lambda: client.get(url, headers={"If-None-Match": etag}), args.repeat),
            "geojson_filtered_cold": timed(
                lambda: (geojson_cache.clear(),
                         client.get(url + "?province=Utrecht&area=examineren")),
                args.repeat),
            "map_page": timed(lambda: client.get("/kaart"), args.repeat),
            "province_view": timed(lambda: client.get("/kaart/provincies"), args.repeat),
        }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
