"""p95 latency of the API's list pages with a large store; prints milliseconds per list.

    .venv/bin/python benchmarks/bench_api.py [--records 100000] [--errors 10000] [--pages 20] [--limit 100] [--json]

Seeds a fresh SQLite database as benchmarks/bench_console.py does (the four example systems,
``--records`` raw and standard records, a disclosure for every second one with its delivery,
``--errors`` open mapping errors in 60 groups, 40 runs), makes a bearer token of the server's
service account, then walks each list ``--pages`` pages deep, ``--limit`` items a page, following
``next_cursor`` — errors, error groups, disclosures, runs, records, jobs — through the app in process
(routing, authentication, the service's queries, JSON; no network). Prints each list's p50 and p95
wall time and the p95 of this process's CPU time per request (the wall time on an idle machine),
with the load average. Target (issue 15): p95 under 300 ms at 100,000 records.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import seed  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from jnx.security.accounts import Accounts  # noqa: E402
from jnx.security.tokens import Tokens  # noqa: E402
from jnx.settings import AccountSettings, Settings  # noqa: E402
from jnx.store.db import create_engine_for, session_factory  # noqa: E402
from jnx.web.app import create_app  # noqa: E402

LISTS = {
    "errors": "/api/v1/errors",
    "error groups": "/api/v1/errors/groups",
    "disclosures": "/api/v1/disclosures",
    "overdue disclosures": "/api/v1/disclosures?overdue=true",
    "runs": "/api/v1/runs",
    "records": "/api/v1/records",
    "jobs": "/api/v1/jobs",
}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def token(settings: Settings, engine: Any) -> str:
    with session_factory(engine).begin() as session:
        accounts = Accounts(session, settings.accounts, note=lambda *a: None)
        accounts.add("bench", "bench-server", roles=["operator", "credit-operator", "supervisor"], password=None, service=True)
        issued = Tokens(session, settings.accounts, note=lambda *a: None).create("bench", "bench-server", "bench", scopes=["*"], days=1)
    return str(issued.token)


def walk(client: TestClient, path: str, headers: dict[str, str], pages: int, limit: int) -> tuple[list[float], list[float], int]:
    wall, cpu, items, cursor = [], [], 0, None
    separator = "&" if "?" in path else "?"
    for _ in range(pages):
        url = f"{path}{separator}limit={limit}" if "groups" not in path else path
        if cursor:
            url += f"&cursor={cursor}"
        t0, c0 = time.perf_counter(), time.process_time()
        answer = client.get(url, headers=headers)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        body = answer.json()
        items += sum(len(v) for v in body.values() if isinstance(v, list))
        cursor = body.get("next_cursor")
        if not cursor:
            cursor = None
            if "groups" in path or "/errors" in path:
                continue  # one page lists: ask it again (the same work each time)
            break
    return wall, cpu, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--errors", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    errors = min(args.errors, args.records)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(home=Path(folder), database_url=None, accounts=AccountSettings(argon2_time_cost=1, argon2_memory_kib=1024))
        started = time.perf_counter()
        stored = seed(settings, args.records, errors)
        seeded = time.perf_counter() - started
        engine = create_engine_for(settings.effective_database_url)
        headers = {"Authorization": f"Bearer {token(settings, engine)}"}
        client = TestClient(create_app(settings, engine=engine))
        client.get("/api/v1/systems", headers=headers)  # warm up: imports, the first connection
        timings: dict[str, dict[str, float]] = {}
        for name, path in LISTS.items():
            wall, cpu, items = walk(client, path, headers, args.pages, args.limit)
            timings[name] = {"requests": len(wall), "items": items, "p50_ms": round(statistics.median(wall), 1),
                             "p95_ms": round(_p(wall, 0.95), 1), "cpu_p95_ms": round(_p(cpu, 0.95), 1)}
        engine.dispose()
    slowest = max(timings.items(), key=lambda kv: kv[1]["p95_ms"])
    figures = {**stored, "load_average": round(os.getloadavg()[0], 1), "cores": os.cpu_count(), "seed_seconds": round(seeded, 1),
               "lists": timings, "slowest_list": slowest[0], "slowest_p95_ms": slowest[1]["p95_ms"],
               "all_p95_under_300_ms": all(t["p95_ms"] < 300 for t in timings.values())}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(f"load average {figures['load_average']} on {os.cpu_count()} cores (CPU: this process's CPU time per request)")
    print(f"{stored['raw_records']:,} records, {stored['errors']:,} errors, {stored['disclosures']:,} disclosures (seeded in {seeded:.1f} s); "
          f"{args.pages} pages of {args.limit}")
    for name, t in timings.items():
        print(f"  {name:<22} {t['requests']:>3} requests  p50 {t['p50_ms']:7.1f} ms   p95 {t['p95_ms']:7.1f} ms   CPU p95 {t['cpu_p95_ms']:7.1f} ms")
    print(f"slowest: {slowest[0]} p95 {slowest[1]['p95_ms']} ms; every p95 under 300 ms: {figures['all_p95_under_300_ms']}")


if __name__ == "__main__":
    main()
