"""Server time of each console page with a large store; prints milliseconds per page.

    .venv/bin/python benchmarks/bench_console.py [--records 100000] [--errors 10000] [--repeat 5] [--json]

Seeds a fresh SQLite database: the four example systems (examples/systems/), ``--records`` raw
records and as many standard records, a disclosure for every second one (with a delivery), and
``--errors`` open mapping errors in 60 groups; then asks each page ``--repeat`` times through the
app in process (routing, the service's queries, rendering; no network) as a logged-in operator
and prints the median and the slowest wall time, and the median CPU time the process spent (what
the wall time would be on an idle machine: on a shared one the wall time includes waiting for a
core). Target (issue 17): every page under 300 ms at 100,000
records and 10,000 errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from jnx.exchange.registry import SystemRegistry, load_registration  # noqa: E402
from jnx.exchange.wiring import table_catalog  # noqa: E402
from jnx.security.accounts import Accounts  # noqa: E402
from jnx.settings import AccountSettings, Settings  # noqa: E402
from jnx.store.db import create_engine_for, session_factory, upgrade  # noqa: E402
from jnx.store.models import (  # noqa: E402
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
    MappingErrorEntry,
    MappingErrorStatus,
    RawRecord,
    RecordLineage,
    Run,
    RunStatus,
    RunTrigger,
    StandardRecord,
)
from jnx.web.console import create_console_app  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "systems"
PASSWORD = "Bench#Console2026"
CHUNK = 5000


def _rows(table: Any, rows: list[dict[str, Any]], session: Any) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start:start + CHUNK])


def seed(settings: Settings, records: int, errors: int) -> dict[str, Any]:
    url = settings.effective_database_url
    upgrade(url)
    engine = create_engine_for(url)
    now = dt.datetime.now(dt.UTC)
    with session_factory(engine).begin() as session:
        catalog = table_catalog(settings)
        systems = [SystemRegistry().register(session, load_registration(path, catalog))[0] for path in sorted(EXAMPLES.glob("*.yaml"))]
        ids = [s.id for s in systems if s.kind != "credit"] or [systems[0].id]
        runs = []
        for n, system_id in enumerate(ids * 10):
            runs.append({"id": n + 1, "system_id": system_id, "status": RunStatus.SUCCEEDED if n % 7 else RunStatus.FAILED,
                         "trigger": RunTrigger.SCHEDULE, "full": False, "due_at": now - dt.timedelta(hours=40 - n), "attempts": 1,
                         "started_at": now - dt.timedelta(hours=40 - n), "finished_at": now - dt.timedelta(hours=40 - n, minutes=-3),
                         "counts": {"pulled": records // 40, "new": 10, "errors": 1}, "created_at": now,
                         "error": None if n % 7 else "all lines down"})
        _rows(Run, runs, session)
        raws, standards, lineage = [], [], []
        for n in range(records):
            system_id = ids[n % len(ids)]
            digest = hashlib.sha256(str(n).encode()).hexdigest()
            payload = json.dumps({"ajbh": f"A{n:09d}", "cflb": "13" if n < errors else "01", "dsrmc": f"当事人{n}"}, ensure_ascii=False)
            raws.append({"id": n + 1, "system_id": system_id, "run_id": (n % len(runs)) + 1, "source_key": f"A{n:09d}",
                         "record_type": "penalty", "content_hash": digest, "payload": payload.encode(), "encoding": "utf-8",
                         "received_at": now - dt.timedelta(minutes=n % 50_000)})
            standards.append({"id": n + 1, "record_type": "penalty", "business_key": f"11370800MB2850125E|济罚〔2026〕{n}号",
                              "current_revision": 1, "content_hash": digest, "data": {"n": n}, "decision_date": dt.date(2026, 11, 1),
                              "created_at": now, "updated_at": now})
            lineage.append({"standard_record_id": n + 1, "raw_record_id": n + 1, "system_id": system_id, "created_at": now})
        _rows(RawRecord, raws, session)
        _rows(StandardRecord, standards, session)
        _rows(RecordLineage, lineage, session)
        disclosures, revisions, deliveries = [], [], []
        for n in range(0, records, 2):
            did = len(disclosures) + 1
            disclosures.append({"id": did, "kind": DisclosureKind.PENALTY, "standard_record_id": n + 1,
                                "business_key": standards[n]["business_key"], "status": DisclosureStatus.PUBLISHED if n % 10 else DisclosureStatus.PENDING,
                                "decision_date": dt.date(2026, 11, 1), "deadline": dt.date(2026, 11, 10) + dt.timedelta(days=n % 40),
                                "deadline_provisional": False, "display_until": dt.date(2027, 11, 1), "current_revision": 1,
                                "created_at": now, "updated_at": now})
            revisions.append({"id": did, "disclosure_id": did, "revision": 1, "action": DisclosureAction.NEW, "payload": {"n": n},
                              "idempotency_key": f"k{did}", "due_date": disclosures[-1]["deadline"], "created_at": now,
                              "acknowledged_at": now if n % 10 else None,  # as the outbox records an acknowledgement
                              "acknowledged_on": now.date() if n % 10 else None})
            deliveries.append({"id": did, "disclosure_revision_id": did,
                               "status": DeliveryStatus.ACKNOWLEDGED if n % 10 else DeliveryStatus.PENDING,
                               "attempts": 1, "next_attempt_at": now, "created_at": now, "updated_at": now})
        _rows(Disclosure, disclosures, session)
        _rows(DisclosureRevision, revisions, session)
        _rows(Delivery, deliveries, session)
        entries = []
        for n in range(errors):
            system_id = ids[n % len(ids)]
            group = n % 60
            entries.append({"raw_record_id": n + 1, "system_id": system_id, "mapping_name": "case_handling.penalty", "mapping_version": "1",
                            "record_type": "penalty", "field": f"field_{group % 12}", "source_path": "cflb", "masked_value": str(group),
                            "rule": "code.unknown" if group % 2 else "date.format", "message": f"cause {group}",
                            "group_key": hashlib.sha256(f"{system_id}{group}".encode()).hexdigest(), "status": MappingErrorStatus.OPEN,
                            "created_at": now})
        _rows(MappingErrorEntry, entries, session)
        notes: list[Any] = []
        Accounts(session, settings.accounts, note=lambda *a: notes.append(a)).add(
            "bench", "op", roles=["operator"], password=PASSWORD, display_name="bench")
        session.flush()
        from jnx.store.models import User

        session.query(User).filter(User.username == "op").update({"must_change_password": False})
    engine.dispose()
    return {"systems": len(systems), "raw_records": records, "disclosures": len(disclosures), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--errors", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    errors = min(args.errors, args.records)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(home=Path(folder), database_url=None,
                            accounts=AccountSettings(argon2_time_cost=1, argon2_memory_kib=1024))
        started = time.perf_counter()
        stored = seed(settings, args.records, errors)
        seeded = time.perf_counter() - started
        client = TestClient(create_console_app(settings, environment={}))
        assert client.post("/login", data={"username": "op", "password": PASSWORD}, follow_redirects=False).status_code == 303
        pages = ["/", "/?partial=1", "/errors", "/errors?sort=system", "/errors/1", "/systems", "/runs", "/runs/1",
                 "/disclosures", "/disclosures?overdue=yes", "/disclosures?sort=deadline&order=desc&page=200", "/disclosures/1",
                 "/records", "/records?page=500", "/records/1", "/me"]
        first_group = client.get("/errors").text.split('/errors/group/', 1)[1].split('"', 1)[0]
        pages.append(f"/errors/group/{first_group}")
        timings: dict[str, dict[str, float]] = {}
        for page in pages:
            spent, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                answer = client.get(page)
                spent.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert answer.status_code == 200, (page, answer.status_code, answer.text[:300])
            timings[page] = {"median_ms": round(statistics.median(spent), 1), "max_ms": round(max(spent), 1),
                             "cpu_median_ms": round(statistics.median(cpu), 1)}
    slowest = max(timings.items(), key=lambda kv: kv[1]["median_ms"])
    figures = {**stored, "load_average": round(os.getloadavg()[0], 1), "seed_seconds": round(seeded, 1), "pages": timings, "slowest_page": slowest[0],
               "slowest_median_ms": slowest[1]["median_ms"], "all_under_300_ms": all(t["median_ms"] < 300 for t in timings.values())}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (CPU ms: this process's CPU time per request)")
    print(f"{stored['raw_records']:,} records, {stored['errors']:,} errors, {stored['disclosures']:,} disclosures (seeded in {seeded:.1f} s)")
    for page, t in timings.items():
        print(f"  {page[:60]:<60} median {t['median_ms']:7.1f} ms   max {t['max_ms']:7.1f} ms   CPU {t['cpu_median_ms']:7.1f} ms")
    print(f"slowest: {slowest[0]} {slowest[1]['median_ms']} ms; all under 300 ms: {figures['all_under_300_ms']}")


if __name__ == "__main__":
    main()
