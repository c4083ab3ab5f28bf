"""End-to-end ingest: N penalties from the sandbox case-handling API into the exchange.

What is measured, in the run's process and its mapping helper processes (``--map-processes``, default
``JNX_MAP_PROCESSES`` = 1: they map and check the next pages while the run stores the current one);
the sandbox serves from a child process of its own, never counted, though it shares the machine's cores:

* **first run** — ``RunService.run_now`` of a registered system, as ``jnx run`` runs it: signed GETs
  of pages of ``--page-size`` records, JSON parse and hashing (adapters), staging of raw records,
  mapping with ``case_handling.penalty@1`` and the standard's record check, storage by business key
  with revisions and lineage, errors queued, the 双公示 disclosures of the stored penalties derived
  (publication rules, outbound mapping, deadlines, outbox rows), watermark and counters committed
  per page (``--no-derive``: without the disclosures, ingestion alone);
* **second run** — the same system pulled again in full (``--full``): every record unchanged;
* **baseline** — the plainest pipeline that moves the same records: requests + HMAC signing +
  ``json.loads`` + ``sqlite3.executemany`` of (key, payload) rows, no mapping, no checks;
* **peak memory** — the run process's peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``),
  read after the exchange runs and before the baseline, plus the largest helper's
  (``RUSAGE_CHILDREN``: helpers end with their run); each includes its interpreter and imports.

    python benchmarks/bench_exchange.py [--records N] [--page-size P] [--database-url URL] [--map-processes N]
                                        [--no-derive] [--peer] [--systems S] [--workers W]
                                        [--backends sqlite,postgresql] [--first-run-only] [--no-baseline] [--json]

``--systems S`` splits the records over S case-handling systems (feeds ``penalties``, ``penalties-2``
…, one registration each); with ``--workers W`` their runs are queued and executed by W worker
threads as ``jnx serve --workers W`` executes them (Build 6: ``--records 1000000 --backends
postgresql --systems 3 --workers 1|3 --first-run-only``; the peak RSS is the run process's, the
largest helper's beside it).

With ``--database-url`` (or ``JNX_TEST_DATABASE_URL``) pointing at a PostgreSQL server, the two runs
are repeated on a database created for the benchmark there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunSummary
from jnx.exchange.scheduler import Worker
from jnx.exchange.wiring import Exchange
from jnx.sandbox.runner import Credentials
from jnx.settings import Settings
from jnx.store.db import create_engine_for, upgrade
from jnx.store.models import RunStatus

SEED = 7
SYSTEM = "jn-case-handling"
CREDS = Credentials()
TARGET_RATE = 5_000
TARGET_MEMORY_MB = 300
TARGET_SPEEDUP = 3.0
TARGET_OVER_PEER = 2.0  # issue 20: jnx's first run (with disclosures) at least twice dlt's on the same records


# --------------------------------------------------------------------------- the source


def _feed_name(index: int) -> str:
    """The sandbox feed (and API path) of the ``index``-th case-handling system: penalties, penalties-2, …"""
    return "penalties" if index == 0 else f"penalties-{index + 1}"


def _system_id(index: int) -> str:
    return SYSTEM if index == 0 else f"{SYSTEM}-{index + 1}"


def _serve_case_handling(records: int, ready: Any, stop: Any, systems: int = 1) -> None:
    """Child process: the sandbox case-handling platform alone, on ephemeral loopback ports; with
    ``systems`` > 1 the same records split in that many feeds (one per registered system)."""
    from jnx.sandbox import case_data
    from jnx.sandbox.casehandling import CaseHandlingPlatform
    from jnx.sandbox.faults import FaultState
    from jnx.sandbox.feed import Feed
    from jnx.sandbox.httpserver import PlatformServer

    made, revised = case_data.penalties(SEED, records)
    # split by decision document number: records that share a business key (the same decision sent
    # twice under two case numbers) stay in one system, as the single system had them
    feed_of = {r.key: zlib.crc32(str(r.fields.get("cfjdsh") or r.key).encode()) % systems for r in made}
    feeds = {_feed_name(index): Feed([r for r in made if feed_of[r.key] == index],
                                     [r for r in revised if feed_of.get(r.key) == index]) for index in range(systems)}
    first = feeds["penalties"]
    coercions = Feed(*case_data.coercions(SEED, max(1, records // 5), [r.key for r in first.all()[:200]]))
    platform = CaseHandlingPlatform(FaultState(None, seed=SEED), {**feeds, "coercions": coercions},
                                    {CREDS.case_app_key: CREDS.case_secret})
    server = PlatformServer(platform, {"primary": 0, "backup": 0})
    server.start()
    ready.put(server.urls())
    stop.wait()
    server.stop()


def _registration(urls: dict[str, str], page_size: int, index: int = 0) -> dict[str, Any]:
    return {
        "format": 1, "id": _system_id(index), "name": "济宁市行政执法网上办案系统", "department": "济宁市司法局",
        "department_credit_code": "11370800004180002M", "region": "370800", "kind": "case_handling",
        "adapter": {
            "protocol": "rest",
            "lines": [{"url": urls["primary"], "name": "primary"}, {"url": urls["backup"], "name": "backup"}],
            "auth": {"kind": "hmac", "app_key": CREDS.case_app_key, "secret": {"env": "JNX_CASE_SECRET"}},
            "page_size": page_size,
            "pull": [{
                "record_type": "penalty", "path": f"/api/v1/{_feed_name(index)}",
                "params": {"updated_after": "{since}", "cursor": "{cursor}", "limit": "{page_size}"},
                "pagination": "cursor", "records_path": "data.items", "next_cursor_path": "data.next_cursor",
                "ok_path": "code", "key_field": "ajbh", "updated_field": "updated_at", "initial_since": "2000-01-01 00:00:00",
            }],
        },
        "mappings": {"penalty": "case_handling.penalty@1"},
    }


# --------------------------------------------------------------------------- the exchange


Timing = tuple[float, float, float]  # wall seconds, CPU seconds of this process, CPU seconds of its mapping helpers


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its children that have ended (the run's mapping helpers,
    which end with their run; the sandbox ends only after the runs, so it is never counted)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def _timed(run: Any) -> tuple[RunSummary, Timing]:
    started, (cpu, helpers) = time.perf_counter(), _cpu()
    summary = run()
    cpu_after, helpers_after = _cpu()
    return summary, (time.perf_counter() - started, cpu_after - cpu, helpers_after - helpers)


def _by_workers(ex: Exchange, systems: int, workers: int, full: bool) -> RunSummary:
    """One run of each system, queued, then executed by ``workers`` worker threads as ``jnx serve
    --workers`` runs them (each claims a due run, executes it, claims the next); their counts summed."""
    service = ex.runs()
    for index in range(systems):
        service.enqueue(_system_id(index), full=full)
    done: list[RunSummary] = []
    threads = []
    for i in range(workers):
        worker = Worker(ex, name=f"bench-w{i}", on_summary=done.append)
        threads.append(threading.Thread(target=lambda w=worker: [None for _ in iter(w.run_once, None)], name=worker.name))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = RunSummary(0, "all", RunStatus.SUCCEEDED)
    for summary in done:
        if summary.error:
            raise SystemExit(f"run #{summary.run_id} of {summary.system_id} {summary.status.value}: {summary.error}")
        total.counts.add(summary.counts)
    if len(done) != systems:
        raise SystemExit(f"{len(done)} of {systems} runs were executed")
    return total


def _exchange_runs(url: str, home: Path, urls: dict[str, str], page_size: int, map_processes: int,
                   derive: bool = True, systems: int = 1, workers: int = 1,
                   second_run: bool = True) -> tuple[RunSummary, Timing, RunSummary | None, Timing | None, int]:
    upgrade(url)
    engine = create_engine_for(url)
    try:
        with Session(engine) as session, session.begin():
            for index in range(systems):
                SystemRegistry().register(session, parse_registration(_registration(urls, page_size, index), "bench.yaml"))
        ex = Exchange(settings=Settings(home=home, database_url=url, map_processes=map_processes), engine=engine,
                      environment={"JNX_CASE_SECRET": CREDS.case_secret}, worker_id="bench", derive_disclosures=derive)
        service = ex.runs()
        if systems == 1 and workers == 1:
            first, first_s = _timed(lambda: service.run_now(SYSTEM))
            second, second_s = _timed(lambda: service.run_now(SYSTEM, full=True)) if second_run else (None, None)
        else:
            first, first_s = _timed(lambda: _by_workers(ex, systems, workers, full=False))
            second, second_s = _timed(lambda: _by_workers(ex, systems, workers, full=True)) if second_run else (None, None)
    finally:
        engine.dispose()
    for summary in (first, second):
        if summary is not None and summary.error:
            raise SystemExit(f"run #{summary.run_id} {summary.status.value}: {summary.error}")
    return first, first_s, second, second_s, ex.deriver.summary.new if derive else 0


def _postgres_database(base: str) -> tuple[str, Any]:
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"jnx_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


# --------------------------------------------------------------------------- the baseline


def _baseline(urls: dict[str, str], page_size: int, folder: Path) -> tuple[int, float]:
    """requests + json + sqlite3.executemany: pull every page and insert (key, payload) rows."""
    database = sqlite3.connect(folder / "baseline.db")
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("CREATE TABLE penalties (key TEXT PRIMARY KEY, payload TEXT NOT NULL)")
    count = 0
    started = time.perf_counter()
    for items in _pages(urls, page_size):
        rows = [(item["ajbh"], json.dumps(item, ensure_ascii=False)) for item in items]
        with database:
            database.executemany("INSERT OR REPLACE INTO penalties VALUES (?, ?)", rows)
        count += len(rows)
    seconds = time.perf_counter() - started
    database.close()
    return count, seconds


# --------------------------------------------------------------------------- the peer: dlt


def _pages(urls: dict[str, str], page_size: int) -> Any:
    """The case-handling API's pages as the baseline reads them (signed GETs, cursor paging): lists of items."""
    from jnx.sandbox.signing import sign

    path = "/api/v1/penalties"
    with requests.Session() as http:
        cursor: str | None = None
        while True:
            params = {"updated_after": "2000-01-01 00:00:00", "limit": str(page_size)} | ({"cursor": cursor} if cursor else {})
            answer = http.get(urls["primary"] + path, params=params,
                              headers=sign(CREDS.case_app_key, CREDS.case_secret, "GET", path, params), timeout=30)
            answer.raise_for_status()
            data = json.loads(answer.content)["data"]
            yield data["items"]
            cursor = data.get("next_cursor")
            if not cursor:
                return


def _dlt_peer(urls: dict[str, str], page_size: int, folder: Path) -> tuple[int, float]:
    """dlt (a benchmark-only dependency) loading the same pages into SQLite: its sqlalchemy
    destination, merge on the source key — what a user would write to load this feed with dlt. No
    mapping, no checks, no lineage: a first run of the same records, timed from the first GET to the
    load's end (extract → normalize → load)."""
    import dlt  # benchmark-only: pip install dlt

    @dlt.resource(name="penalties", primary_key="ajbh", write_disposition="merge")
    def penalties() -> Any:
        yield from _pages(urls, page_size)

    pipeline = dlt.pipeline(pipeline_name="jnx_bench_peer", pipelines_dir=str(folder / "dlt"),
                            destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{folder / 'dlt.db'}"),
                            dataset_name="main")
    started = time.perf_counter()
    info = pipeline.run(penalties())
    seconds = time.perf_counter() - started
    if info.has_failed_jobs:
        raise SystemExit(f"dlt peer failed: {info}")
    with sqlite3.connect(folder / "dlt.db") as database:
        loaded = database.execute("SELECT count(*) FROM penalties").fetchone()[0]
    return int(loaded), seconds


# --------------------------------------------------------------------------- report


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _backend(name: str, first: RunSummary, first_s: Timing, second: RunSummary | None, second_s: Timing | None,
             disclosures: int) -> dict[str, Any]:
    def figures(summary: RunSummary, timing: Timing) -> dict[str, Any]:
        wall, cpu, helpers = timing
        return {**summary.counts.as_dict(), "seconds": round(wall, 2), "records_per_s": round(summary.counts.pulled / wall),
                "cpu_seconds": round(cpu, 2), "helper_cpu_seconds": round(helpers, 2),
                "records_per_cpu_s": round(summary.counts.pulled / (cpu + helpers))}

    result = {"backend": name, "first_run": {**figures(first, first_s), "disclosures_derived": disclosures},
              "peak_rss_mb": round(_peak_rss_mb())}
    if second is not None and second_s is not None:
        result |= {"second_run": figures(second, second_s), "second_run_speedup": round(first_s[0] / second_s[0], 2)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("JNX_TEST_DATABASE_URL"),
                        help="a PostgreSQL server URL: the runs are repeated on a database created there")
    parser.add_argument("--map-processes", type=int, default=Settings().map_processes,
                        help="mapping helper processes of each run (JNX_MAP_PROCESSES; 0: map in the run's process)")
    parser.add_argument("--no-derive", dest="derive", action="store_false",
                        help="runs without deriving 双公示 disclosures (ingestion alone; jnx run always derives them)")
    parser.add_argument("--peer", action="store_true",
                        help="also load the same pages with dlt into SQLite (pip install dlt) and print jnx/dlt")
    parser.add_argument("--systems", type=int, default=1,
                        help="split the records over this many case-handling systems (one feed and registration each)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker threads executing the systems' queued runs, as `jnx serve --workers N` does")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="which of sqlite,postgresql to run (postgresql needs --database-url)")
    parser.add_argument("--first-run-only", action="store_true", help="no second (unchanged) run")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the requests+sqlite3 baseline")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    backends = {b.strip() for b in args.backends.split(",") if b.strip()}
    if not backends <= {"sqlite", "postgresql"} or not backends:
        parser.error("--backends takes sqlite, postgresql or both")
    if args.systems < 1 or args.workers < 1:
        parser.error("--systems and --workers are at least 1")

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve_case_handling, args=(args.records, ready, stop, args.systems), daemon=True)
    load_before = os.getloadavg()
    generating = time.perf_counter()
    server.start()
    urls = ready.get(timeout=600)
    generated_s = time.perf_counter() - generating
    try:
        with tempfile.TemporaryDirectory(prefix="jnx-bench-") as folder:
            home = Path(folder)
            rss_start = _peak_rss_mb()
            options = {"derive": args.derive, "systems": args.systems, "workers": args.workers,
                       "second_run": not args.first_run_only}
            results = []
            if "sqlite" in backends:
                results.append(_backend("sqlite", *_exchange_runs(f"sqlite:///{home / 'jnx.db'}", home, urls, args.page_size,
                                                                  args.map_processes, **options)))
            if "postgresql" in backends and args.database_url and make_url(args.database_url).get_backend_name() == "postgresql":
                url, drop = _postgres_database(args.database_url)
                try:
                    results.append(_backend("postgresql", *_exchange_runs(url, home, urls, args.page_size, args.map_processes,
                                                                          **options)))
                finally:
                    drop()
            if not results:
                raise SystemExit("nothing ran: --backends postgresql needs --database-url (or JNX_TEST_DATABASE_URL)")
            rss_exchange = _peak_rss_mb()
            rss_helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            baseline_n, baseline_s = _baseline(urls, args.page_size, home) if args.baseline else (0, 0.0)
            peer = _dlt_peer(urls, args.page_size, home) if args.peer else None
    finally:
        stop.set()
        server.join(timeout=30)
    sqlite_first = results[0]["first_run"]  # the first backend's (SQLite's unless --backends postgresql)
    report = {
        "records": args.records,
        "page_size": args.page_size,
        "map_processes": args.map_processes,
        "systems": args.systems,
        "workers": args.workers,
        "derive_disclosures": args.derive,
        "sandbox_data_seconds": round(generated_s, 1),
        "results": results,
        "peak_rss_mb": {"at_start": round(rss_start), "after_exchange_runs": round(rss_exchange), "largest_helper": round(rss_helper),
                        "run_and_helper": round(rss_exchange + rss_helper), "measure": "getrusage ru_maxrss (self; children)"},
        "machine": {"cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0]},
        "targets": {
            f"{results[0]['backend']}_records_per_s": {"target": TARGET_RATE, "met": sqlite_first["records_per_s"] >= TARGET_RATE},
            "peak_rss_mb": {"target": TARGET_MEMORY_MB, "met": rss_exchange + rss_helper < TARGET_MEMORY_MB},
        },
    }
    if "second_run_speedup" in results[0]:
        report["targets"]["second_run_speedup"] = {"target": TARGET_SPEEDUP, "met": results[0]["second_run_speedup"] >= TARGET_SPEEDUP}
    if args.baseline:
        report["baseline"] = {"records": baseline_n, "seconds": round(baseline_s, 2), "records_per_s": round(baseline_n / baseline_s)}
        report["baseline_over_exchange"] = round((baseline_n / baseline_s) / sqlite_first["records_per_s"], 1)
    if peer is not None:
        peer_n, peer_s = peer
        report["peer"] = {"tool": "dlt → SQLite (sqlalchemy destination, merge on ajbh)", "records": peer_n,
                          "seconds": round(peer_s, 2), "records_per_s": round(peer_n / peer_s)}
        report["jnx_over_dlt"] = round(sqlite_first["records_per_s"] / (peer_n / peer_s), 2)
        report["targets"]["jnx_over_dlt"] = {"target": TARGET_OVER_PEER, "met": report["jnx_over_dlt"] >= TARGET_OVER_PEER}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print(report)
    return 0


def _print(report: dict[str, Any]) -> None:
    print(f"records: {report['records']:,} over {report['systems']} system(s), {report['workers']} worker(s) "
          f"(page size {report['page_size']}, mapping helpers {report['map_processes']}, "
          f"disclosures {'derived' if report['derive_disclosures'] else 'not derived'}); "
          f"sandbox data generated in {report['sandbox_data_seconds']} s")
    for r in report["results"]:
        first = r["first_run"]
        print(f"[{r['backend']}] first run:  {first['seconds']:>7.2f} s  {first['records_per_s']:>6,} records/s  "
              f"({first['records_per_cpu_s']:,} per CPU-second of the run and its helpers: {first['cpu_seconds']} + "
              f"{first['helper_cpu_seconds']} s; new {first['new']:,}, "
              f"revised {first['revised']:,}, with errors {first['errors']:,}; disclosures {first['disclosures_derived']:,}); "
              f"peak RSS so far {r['peak_rss_mb']} MB")
        if "second_run" in r:
            second = r["second_run"]
            print(f"[{r['backend']}] second run: {second['seconds']:>7.2f} s  {second['records_per_s']:>6,} records/s  "
                  f"({second['records_per_cpu_s']:,} per CPU-second; unchanged {second['unchanged']:,}) — {r['second_run_speedup']}× faster")
    if "baseline" in report:
        b = report["baseline"]
        print(f"baseline (requests + json + sqlite3 executemany): {b['seconds']:.2f} s  {b['records_per_s']:,} records/s "
              f"— {report['baseline_over_exchange']}× the exchange's first run")
    if "peer" in report:
        peer = report["peer"]
        print(f"peer ({peer['tool']}): {peer['seconds']:.2f} s  {peer['records_per_s']:,} records/s "
              f"— jnx's first run is {report['jnx_over_dlt']}× dlt's")
    rss = report["peak_rss_mb"]
    print(f"peak RSS ({rss['measure']}): {rss['at_start']} MB before the runs, {rss['after_exchange_runs']} MB after them, "
          f"largest helper {rss['largest_helper']} MB")
    m = report["machine"]
    print(f"machine: {m['cpus']} cpus, load average {m['load_average_before']} before, {m['load_average_after']} after")
    for name, t in report["targets"].items():
        print(f"target {name} {t['target']}: {'met' if t['met'] else 'NOT met'}")


if __name__ == "__main__":
    raise SystemExit(main())
