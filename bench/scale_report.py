"""The issue 20 section of docs/benchmarks.md: churn, two app servers, the fair Datasette peer
and the cold figures.

Every run of bench.run merges what it measured into ``bench/results/issue20.json`` (keyed by
part, size and database, each with the date, command and load average of its run), and the
section is rendered from that file, so a run of one part (``--only churn --database
postgresql``) replaces only its own figures and the section stays complete.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from bench.churn import ENDPOINTS, LABELS, VISITORS, WARM_REQUESTS

START, END = "<!-- issue20:start -->", "<!-- issue20:end -->"
# p95 targets of issue 20 under churn, by size
TARGETS_MS = {10_000: 100.0, 100_000: 300.0}
DB_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
STEADY_KEYS = ("geojson", "list", "detail", "knelpunten", "api_list")


def target_for(size: int) -> float | None:
    return TARGETS_MS.get(size)


def _run_meta(meta: dict) -> dict:
    keys = ("date", "command", "workers", "connections", "churn_duration", "churn_warmup",
            "repeat", "submit_every", "publish_every", "loadavg_start", "loadavg_end",
            "duration", "warmup", "nproc", "python", "sqlite", "datasette")
    return {k: meta.get(k) for k in keys}


def update(path: Path, raw: dict) -> dict:
    """Merge the figures of one run (bench.run's raw results) into the store at ``path``."""
    store = json.loads(path.read_text()) if path.exists() else {}
    meta = _run_meta(raw.get("meta", {}))
    for res in raw.get("churn", []):
        store.setdefault("churn", {})[f"{res['size']}/{res['database']}"] = {**res, "meta": meta}
    for res in raw.get("two_servers", []):
        store.setdefault("two_servers", {})[str(res["size"])] = {**res, "meta": meta}
    for res in raw.get("results", []):
        entry = store.setdefault("steady", {}).setdefault(str(res["size"]), {})
        ours = {k: v for k, v in res.get("ours", {}).items() if k in STEADY_KEYS}
        if ours:
            entry["ours"] = ours
            entry["ours_meta"] = meta
        for key in ("datasette", "datasette_default"):
            if res.get(key):
                entry[key] = res[key]
                entry["datasette_meta"] = meta
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2, default=str))
    return store


def _num(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _p95_cell(fig: dict) -> str:
    if fig.get("status") != "ok":
        return str(fig.get("status", "-"))
    cell = _num(fig["p95_ms"])
    if fig.get("runs") and len(fig["runs"]) > 1:
        cell += f" (best {_num(fig['best_p95_ms'])})"
    return cell


def _writes(fig: dict) -> str:
    w = fig.get("writes") or {}
    if not w:
        return "-"
    return f"{w.get('submissions', 0):g} + {w.get('publications', 0):g}"


def _met(fig: dict, target: float | None) -> str:
    if target is None or fig.get("status") != "ok":
        return ""
    return "yes" if fig["p95_ms"] < target else "NO"


def _loads(entries: list[dict]) -> str:
    loads = []
    for e in entries:
        m = e.get("meta", {})
        for key in ("loadavg_start", "loadavg_end"):
            if m.get(key):
                loads.append(m[key][0])
        for per_visitor in e.get("reads", {}).values():  # each measurement's own
            for fig in per_visitor.values():
                loads += [r["loadavg"] for r in fig.get("runs", []) if r.get("loadavg")]
                if fig.get("loadavg"):
                    loads.append(fig["loadavg"])
    return (f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?")


def churn_table(size: int, columns: list[tuple[str, dict]]) -> list[str]:
    """Rows: endpoint x visitor; a column group (p50, p95, p99, writes) per database."""
    target = target_for(size)
    head = "| endpoint | visitor |"
    rule = "|---|---|"
    for name, _res in columns:
        head += f" {name} p50 ms | p95 ms | p99 ms | req/s | writes |"
        rule += "---:|---:|---:|---:|---:|"
    if target:
        head += f" p95 < {target:g} ms |"
        rule += "---|"
    lines = [head, rule]
    for key in ENDPOINTS:
        for visitor in VISITORS:
            label = LABELS[key]
            path = next((r.get("reads", {}).get(key, {}).get(visitor, {}).get("path")
                         for _n, r in columns
                         if r.get("reads", {}).get(key, {}).get(visitor, {}).get("path")), "")
            who = "session cookie" if visitor == "session" else "no cookie"
            row = f"| {label} `{path}` | {who} |"
            mets = []
            for _name, res in columns:
                fig = res.get("reads", {}).get(key, {}).get(visitor, {"status": "-"})
                if fig.get("status") == "ok":
                    row += (f" {_num(fig['p50_ms'])} | {_p95_cell(fig)} | {_num(fig['p99_ms'])}"
                            f" | {fig['rps']:g} | {_writes(fig)} |")
                else:
                    row += f" {fig.get('status', '-')} | | | | |"
                mets.append(_met(fig, target))
            if target:
                row += f" {' / '.join(m or '-' for m in mets)} |"
            lines.append(row)
    return lines


def _cold_rows(entries: list[tuple[str, dict]]) -> list[str]:
    head = "| endpoint | " + " | ".join(name for name, _ in entries) + " |"
    lines = [head, "|---|" + "---:|" * len(entries)]
    for key in ENDPOINTS:
        cells = []
        for _name, res in entries:
            c = res.get("cold_after_publication", {}).get(key, {})
            cells.append(_num(c.get("ms")) if c.get("status") == "ok" else c.get("status", "-"))
        lines.append(f"| {LABELS[key]} | " + " | ".join(cells) + " |")
    return lines


def _writers(name: str, res: dict) -> str:
    w = res.get("writes", {})
    if not w:
        return f"{name}: -"
    return (f"{name}: {w['submissions']} submissions (form GET + POST p50 "
            f"{_num(w.get('submit_p50_ms'))} ms, p95 {_num(w.get('submit_p95_ms'))} ms), "
            f"{w['publications']} publications (entry page + POST p50 "
            f"{_num(w.get('publish_p50_ms'))} ms, p95 {_num(w.get('publish_p95_ms'))} ms), "
            f"failed {w['failures']['submit']} + {w['failures']['publish']}")


def render(store: dict) -> str:
    out: list[str] = []
    churn = store.get("churn", {})
    sizes = sorted({int(k.split("/")[0]) for k in churn})
    dates = sorted({e["meta"]["date"] for part in ("churn", "two_servers")
                    for e in store.get(part, {}).values() if e.get("meta", {}).get("date")})
    commands = sorted({e["meta"]["command"] for part in ("churn", "two_servers")
                       for e in store.get(part, {}).values() if e.get("meta", {}).get("command")})
    out += ["### Reads while the data changes (churn)", ""]
    if not churn:
        out += ["Not measured yet: `python -m bench.run --only churn`.", ""]
    else:
        any_meta = next(iter(churn.values()))["meta"]
        out += [
            f"Measured {', '.join(dates)} with {'; '.join(f'`{c}`' for c in commands)}: "
            f"{any_meta.get('workers')} gunicorn sync workers, wrk "
            f"{any_meta.get('connections')} connections × {any_meta.get('churn_duration')} s "
            f"per endpoint and visitor after {any_meta.get('churn_warmup')} s uncounted, "
            f"{any_meta.get('repeat')} run(s) each (with more than one: the median, and the "
            f"best p95 in brackets). Load average of the machine during these runs "
            f"{_loads(list(churn.values()) + list(store.get('two_servers', {}).values()))} "
            f"(2 cores; wrk, the four workers and the writers share them).",
            "",
            f"While wrk reads, a writer submits one complete form every "
            f"{any_meta.get('submit_every'):g} s through the app (GET `/aanmelden`, parse "
            f"the CSRF token and the hidden anti-spam fields, POST; the entry stays "
            f"unconfirmed, which changes nothing public) and a moderator, created with "
            f"`flask create-user` and logged in through the login form, publishes a pending "
            f"entry every {any_meta.get('publish_every'):g} s (entry page, then its publish "
            f"form): every publication is a new public data version. One worker then "
            f"computes the summary and the GeoJSON for every worker and app server while "
            f"the others serve the previous ones (a publication takes nothing away; after "
            f"an edit or withdrawal they wait instead), and detail pages outlive it for at "
            f"most `DETAIL_PAGE_LAG_SECONDS` (60 s). *writes* = submissions + "
            f"publications accepted during that measurement. *no cookie*: a first-time "
            f"visitor (the cookie-less fast path); *session cookie*: a visitor who opened "
            f"the form before (the app's own cache). The data set holds one snapshot "
            f"(`flask snapshot create`, as a registry in use does), which every summary "
            f"compares with. Target: p95 < 100 ms at 10,000 and < 300 ms at 100,000.",
            "",
        ]
        for size in sizes:
            columns = [(DB_LABELS[db], churn[f"{size}/{db}"]) for db in ("sqlite", "postgresql")
                       if f"{size}/{db}" in churn]
            out += [f"#### {size:,} initiatives", ""]
            out += churn_table(size, columns)
            out.append("")
            for name, res in columns:
                extra = (f"; loaded into PostgreSQL in {res['load_seconds']} s (the same rows "
                         f"as the SQLite file, copied)" if res.get("load_seconds") else "")
                out.append(f"- {_writers(name, res)}{extra}. Measured {res['meta']['date']}.")
                mem = res.get("worker_memory") or {}
                if mem:
                    out.append(f"- {name}: memory of the {mem['workers']} workers after the "
                               f"run: RSS up to {_num(mem['rss_mb'])} MB, peak (VmHWM) up to "
                               f"{_num(mem['peak_mb'])} MB (target < 300 MB).")
            out.append("")
        entries = [(f"{size:,} {DB_LABELS[db]}", churn[f"{size}/{db}"]) for size in sizes
                   for db in ("sqlite", "postgresql") if f"{size}/{db}" in churn]
        out += ["First request after a publication (ms, no cookie, nothing else running): "
                "what the first visitor after a change waits. Each page was requested "
                f"{WARM_REQUESTS} times first (the workers past their start-up, which the "
                "cold figures below measure).", ""]
        out += _cold_rows(entries)
        out.append("")
    out += render_two_servers(store.get("two_servers", {}))
    out += render_datasette(store.get("steady", {}))
    out += render_cold(store.get("steady", {}))
    return "\n".join(out).rstrip() + "\n"


def render_two_servers(two: dict) -> list[str]:
    out = ["### Two app servers on one PostgreSQL + Redis", ""]
    if not two:
        return out + ["Not measured yet: `python -m bench.run --only two-servers`.", ""]
    for _key, res in sorted(two.items(), key=lambda kv: int(kv[0])):
        size, m = res["size"], res["meta"]
        if res.get("status") != "ok":
            out += [f"{size:,} initiatives: {res.get('status')}", ""]
            continue
        b, v, r = res.get("burst", {}), res.get("visibility", {}), res.get("rate_limit", {})
        out += [
            f"{size:,} initiatives, measured {m['date']} (`{m['command']}`; load average "
            f"{_loads([res])}): PostgreSQL and Redis started by the benchmark, the data set "
            f"copied in ({res.get('load_seconds')} s), two gunicorn instances with "
            f"{res['workers_per_server']} sync workers each on two loopback ports, the same "
            f"`DATABASE_URL` and `SECRET_KEY`, rate limits on and counted in Redis "
            f"(`RATELIMIT_STORAGE_URI=redis://...`).",
            "",
        ]
        if b.get("status") == "ok":
            out.append(
                f"- **Burst over both**: {b['attempted']} visitors, each loading the form from "
                f"one server and posting it to the other: {b['accepted']} accepted, "
                f"{b['accepted_per_s']} accepted/s (POST p50 {b['p50_ms']} ms, p95 "
                f"{b['p95_ms']} ms); rows in PostgreSQL {b['stored_in_db']} = accepted "
                f"{b['accepted_incl_warmup']} (incl. warm-up): **{b['lost']} lost**. "
                f"Statuses {b['statuses']}.")
        if v.get("status") == "ok":
            worst = max((c.get("publish_to_all_seen_s", 0) for c in v["checks"]), default=0)
            before = sorted({c.get("detail_before") for c in v["checks"]})
            out.append(
                f"- **A change on A, read on B**: {v['published']} entries published on A "
                f"(B's caches warm; the detail page was HTTP {before} on B before); the "
                f"very next requests to B, one per worker, showed each one on its detail "
                f"page, in the API and on the map: "
                f"**{'yes, every time' if v['all_seen'] else 'NO'}** (publication to the last "
                f"check at most {worst} s).")
        if r.get("status") == "ok":
            out.append(
                f"- **One rate limit across both**: `SCHOOL_LOOKUP_RATE_LIMIT={r['limit']}`, "
                f"{r['requests']} requests to `{r['path']}` alternating A, B: {r['passed']} "
                f"passed (A {r['passed_per_server']['A']}, B {r['passed_per_server']['B']}), "
                f"the rest 429: **{'exactly' if r['exactly_limit'] else 'NOT'} the limit**.")
        out.append(f"- {_writers('Writers during the churn', res)}.")
        out += ["", "Churn with the load spread over both (one wrk per server at the same "
                "time, latency distributions merged; the API goes through the rate limiter "
                "in Redis here):", ""]
        out += churn_table(size, [("A+B", res)])
        out += ["", "First request after a publication on the other server (ms):", ""]
        out += _cold_rows([("A+B", res)])
        out.append("")
    return out


def render_datasette(steady: dict) -> list[str]:
    out = ["### Datasette, the fair peer", ""]
    rows = []
    command_tuned = command_default = ""
    for size_key, entry in sorted(steady.items(), key=lambda kv: int(kv[0])):
        tuned, default = entry.get("datasette", {}), entry.get("datasette_default", {})
        command_tuned = tuned.get("command", command_tuned)
        command_default = default.get("command", command_default)
        for key, label in (("api_list", "API list (one page)"),
                           ("geojson", "map rows (all)")):
            ours = entry.get("ours", {}).get(key, {})
            t, d = tuned.get(key, {}), default.get(key, {})
            if not (t or d):
                continue

            def fig(x: dict) -> str:
                if x.get("status") != "ok":
                    return str(x.get("status", "-"))
                if not x.get("requests"):
                    return f"> {x.get('duration_us', 0) / 1e6:.0f} s (none answered)"
                return f"{x['p95_ms']:.1f} ({x['rps']:g} req/s)"

            def ratio(a: dict, b: dict) -> str:
                if a.get("status") != "ok" or b.get("status") != "ok" or not b.get("requests"):
                    return "-"
                return f"{a['p95_ms'] / b['p95_ms']:.3f}"

            ours_cell = (f"{ours['p95_ms']:.1f} ({ours['rps']:g} req/s)"
                         if ours.get("status") == "ok" else "-")
            rows.append(f"| {int(size_key):,} | {label} | {ours_cell} | {fig(d)} | {fig(t)} | "
                        f"{ratio(ours, t)} | {ratio(ours, d)} |")
    if not rows:
        return out + ["Not measured yet: `python -m bench.run --only reads,datasette`.", ""]
    dates = sorted({e.get("datasette_meta", {}).get("date") for e in steady.values()
                    if e.get("datasette_meta")})
    out += [
        f"Datasette {_version(steady)} on the same SQLite file, measured {', '.join(dates)} "
        f"with the same wrk load as ours (steady state, no churn: it serves a read-only "
        f"file). *Default*: `{command_default}`. *Tuned*, as its documentation recommends "
        f"for a published read-only file: `{command_tuned}` (immutable mode: no locking or "
        f"change detection, table counts once at start-up; no facet suggestions per table "
        f"page). Both with the settings that make it return the same rows: every map row in "
        f"one answer, our API page size. The ratio is our p95 ÷ Datasette's p95 (lower is "
        f"better for us).",
        "",
        "| size | rows | ours p95 ms | Datasette default p95 ms | Datasette tuned p95 ms "
        "| ours ÷ tuned | ours ÷ default |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows, ""]
    return out


def _version(steady: dict) -> str:
    for entry in steady.values():
        v = (entry.get("datasette_meta") or {}).get("datasette") or ""
        if v:
            return re.sub(r"^Datasette\s*", "", v)
    return ""


def render_cold(steady: dict) -> list[str]:
    out = ["### Cold figures", ""]
    sizes = [k for k, e in sorted(steady.items(), key=lambda kv: int(kv[0])) if e.get("ours")]
    if not sizes:
        return out + ["Not measured yet: `python -m bench.run --only reads`.", ""]
    out += ["The first request after the server started (ms; the detail page: the median of "
            "5 pages no worker had rendered), from the steady-state reads part "
            f"({', '.join(sorted({steady[s]['ours_meta']['date'] for s in sizes}))}):", "",
            "| endpoint | " + " | ".join(f"{int(s):,}" for s in sizes) + " |",
            "|---|" + "---:|" * len(sizes)]
    for key in STEADY_KEYS:
        cells = []
        for s in sizes:
            r = steady[s]["ours"].get(key, {})
            cells.append(_num(r.get("cold_ms")) if r.get("status") == "ok" else "-")
        out.append(f"| {LABELS[key]} | " + " | ".join(cells) + " |")
    out.append("")
    return out


def write_section(doc: Path, section: str) -> None:
    """Put ``section`` between the issue 20 markers of ``doc`` (created at the top, after the
    title and the introduction, when missing)."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
    block = f"{START}\n{section}{END}"
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        first = text.find("\n## ")
        insert = len(text) if first < 0 else first + 1
        text = text[:insert] + block + "\n\n" + text[insert:]
    doc.write_text(text)
