"""Time the obstacle summary cold, and read the peak memory, in a process of its own.

    python -m bench.summary_probe --size 100000            # the cached SQLite file (made
                                                           # by bench.generate when missing)
    python -m bench.summary_probe --database-url postgresql+psycopg://...   # generated there
    python -m bench.summary_probe --size 100000 --repeat 5 --json

For each filter (the national summary and a few filtered ones) and each run: the process's
summary cache and the stored results every worker shares (``shared_result``) are cleared,
then ``compute_summary`` runs as the first request after a change would ("cold": it
computes, stores the result for every worker, keeps it in this process). Then the same
summary is read as another worker would find it ("shared": this process's cache cleared,
the stored result read back). Prints per filter the best and the median of the runs, and
the peak resident memory of the process (VmHWM) after the first summary (the national one,
computed by a fresh process: a worker after a change) and after all runs. A filtered "cold" run also
computes the national table (every summary shows it), as the first filtered request after
a change does. The probe deletes the stored results it made when it ends, so other
benchmarks on the same database compute their own.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from werkzeug.datastructures import MultiDict

from bench.export_probe import _rss_mb

# (label, query string of the filter); "theme" is filled in with the first theme's id.
FILTERS = (
    ("national", {}),
    ("province=Utrecht", {"province": "Utrecht"}),
    ("area=examineren", {"area": "examineren"}),
    ("sector=mbo,vo", {"sector": ["mbo", "vo"]}),
    ("theme", None),
    ("q=tempo", {"q": "tempo"}),
)


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return args.database_url
    from bench.generate import generate_sqlite

    return f"sqlite:///{generate_sqlite(args.size)}"  # generated first when missing (minutes)


def probe(url: str, repeat: int, exact: bool) -> dict:
    from sqlalchemy import func, select

    from registry import create_app
    from registry.cache import clear_shared_results
    from registry.extensions import db
    from registry.moderation.models import Theme
    from registry.published.filters import InitiativeFilter
    from registry.published.sources import PUBLISHED
    from registry.submissions.models import Initiative
    from registry.summary import services
    from registry.taxonomy.services import current as current_taxonomy

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url, SUMMARY_CACHE=True)
    out: dict = {"database": url.split("://")[0], "runs": repeat, "exact": exact,
                 "filters": {}}
    with app.app_context():
        out["initiatives"] = db.session.scalar(
            select(func.count()).select_from(Initiative).where(PUBLISHED.scope))
        theme_id = db.session.scalar(select(func.min(Theme.id)))
        # imports, the taxonomy, connections (a filter that selects nothing: no full pass)
        nothing = InitiativeFilter.from_args(MultiDict({"q": "~~~~"}))
        services.aggregate(services._load(PUBLISHED, nothing, current_taxonomy(), texts=True),
                           [], public=True)
        db.session.rollback()
        out["baseline_rss_mb"] = round(_rss_mb(), 1)
        try:
            for label, args in FILTERS:
                if args is None:
                    args = {"theme": str(theme_id)}
                flt = InitiativeFilter.from_args(MultiDict(args))
                cold, shared, cpu = [], [], []
                for _ in range(repeat):
                    services.summary_cache.clear()
                    clear_shared_results()
                    db.session.rollback()  # a fresh transaction, as a request has
                    started, used = time.perf_counter(), time.process_time()
                    summary = services.compute_summary(flt, PUBLISHED, exact=exact)
                    cold.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - used)
                    out.setdefault("peak_rss_first_mb", round(_rss_mb(), 1))
                    db.session.rollback()
                    services.summary_cache.clear()
                    started = time.perf_counter()
                    again = services.compute_summary(flt, PUBLISHED, exact=exact)
                    shared.append(time.perf_counter() - started)
                    db.session.rollback()
                    if again["totals"] != summary["totals"]:
                        raise AssertionError(f"{label}: the stored summary differs")
                out["filters"][label] = {
                    "initiatives": summary["totals"]["initiatives"],
                    "entries": len(summary["entries"]),
                    "cold_best_s": round(min(cold), 3),
                    "cold_median_s": round(statistics.median(cold), 3),
                    "cold_cpu_best_s": round(min(cpu), 3),
                    "shared_best_s": round(min(shared), 3),
                    "shared_median_s": round(statistics.median(shared), 3),
                }
        finally:
            services.summary_cache.clear()
            clear_shared_results()
    out["peak_rss_mb"] = round(_rss_mb(), 1)  # over all runs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000,
                        help="the generated SQLite file of this size (bench.generate)")
    parser.add_argument("--database-url", help="another database (already generated)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exact", action="store_true", help="staff figures (confidential "
                        "reports counted; texts from the public summary, computed too)")
    parser.add_argument("--json", action="store_true", help="one JSON line only")
    args = parser.parse_args(argv)
    result = probe(_database_url(args), args.repeat, args.exact)
    if args.json:
        print(json.dumps(result))
        return 0
    with open("/proc/loadavg", encoding="ascii") as load:
        loadavg = " ".join(load.read().split()[:3])
    print(f"{result['database']}: {result['initiatives']} published initiatives, "
          f"{result['runs']} runs, exact={result['exact']}, load average {loadavg}")
    print(f"{'filter':<18} {'initiatives':>11} {'cold best':>10} {'median':>8} "
          f"{'(cpu)':>7} {'shared best':>12} {'median':>8}")
    for label, row in result["filters"].items():
        print(f"{label:<18} {row['initiatives']:>11} {row['cold_best_s']:>10.3f} "
              f"{row['cold_median_s']:>8.3f} {row['cold_cpu_best_s']:>7.3f} "
              f"{row['shared_best_s']:>12.3f} {row['shared_median_s']:>8.3f}")
    print("seconds; (cpu): this process's CPU time of the best cold run (PostgreSQL's own "
          "work not included)")
    print(f"peak RSS {result['peak_rss_first_mb']} MB after the first (national) summary, "
          f"{result['peak_rss_mb']} MB after all runs (after start-up "
          f"{result['baseline_rss_mb']} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
