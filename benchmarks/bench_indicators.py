"""All indicators of one month over a large store; prints seconds per computation.

    .venv/bin/python benchmarks/bench_indicators.py [--records 1000000] [--database-url URL] [--repeat 3] [--json]

Builds the store with set-based SQL (``INSERT … SELECT`` over a number series — not through the
exchange): ``--records`` standard records over three years (2023-07 … 2026-06) by 200 执法主体 in 12
regions — 40 % licences, 40 % penalties, 10 % inspections, 10 % coercive measures — a disclosure
for every licence and penalty (2 % blocked, 1 % rejected), its revision (some acknowledged late) and
delivery, as many raw records from 20 systems, a mapping error for every 20th raw record and a
daily run per system. Then computes every indicator of 2025-06 (today 2025-06-20) ``--repeat``
times after VACUUM ANALYZE (parallel on PostgreSQL unless ``--sequential``) and prints the median
and slowest wall time, the load average beside it, and on PostgreSQL the server's own time: each
statement once more under EXPLAIN (ANALYZE), summed. Target (issue 18): under 2 s at 1,000,000
records on PostgreSQL. Without ``--database-url``: a fresh SQLite file in a temporary folder; with
a PostgreSQL URL, a fresh database ``jnx_bench_indicators`` is created beside it and dropped after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, event, make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from jnx.indicators.compute import compute, make_scope  # noqa: E402
from jnx.indicators.definitions import Month  # noqa: E402
from jnx.publicity.calendar import WorkdayCalendar  # noqa: E402
from jnx.store.db import create_engine_for, session_factory, upgrade  # noqa: E402

DAYS = 1096  # 2023-07-01 … 2026-06-30
MONTH = Month(2025, 6)
TODAY = dt.date(2025, 6, 20)
NOW = dt.datetime(2025, 6, 20, 4, tzinfo=dt.UTC)

PG = {
    "series": "generate_series(1, {n}) AS s(n)",
    "with": "",
    "day": "(DATE '2023-07-01' + ({e})::int)",
    "instant": "(TIMESTAMPTZ '2023-07-01 00:00:00+00' + ({e}) * INTERVAL '1 minute')",
    "pad": "lpad(({e})::text, {w}, '0')",
    "json": "({e})::json",
    "bytes": "convert_to('{{}}', 'UTF8')",
    "text": "({e})::text",
}
LITE = {
    "series": "seq",
    "with": "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) ",
    "day": "date('2023-07-01', '+' || ({e}) || ' days')",
    "instant": "strftime('%Y-%m-%d %H:%M:%f', '2023-07-01', '+' || ({e}) || ' minutes')",
    "pad": "printf('%0{w}d', {e})",
    "json": "({e})",
    "bytes": "CAST('{{}}' AS BLOB)",
    "text": "CAST(({e}) AS TEXT)",
}


def _department(d: dict[str, str], n: str) -> str:
    """An 18-character 执法主体 code: '11', a region 3708xx, 'MB', 8 digits of the department number."""
    region = d["pad"].format(e=f"800 + (({n}) % 200) % 12 + 11", w=4)
    return f"('11' || '37' || {region} || 'MB' || {d['pad'].format(e=f'({n}) % 200', w=8)})"


def build(engine: Engine, records: int) -> float:
    started = time.perf_counter()
    d = PG if engine.dialect.name == "postgresql" else LITE
    n, w = "s.n" if d is PG else "n", d["with"].format(n=records)
    series = d["series"].format(n=records)
    dep = _department(d, n)
    decided = d["day"].format(e=f"(CAST({n} AS BIGINT) * 7919) % {DAYS}")
    kind = f"CASE WHEN {n} % 10 < 4 THEN 'license' WHEN {n} % 10 < 8 THEN 'penalty' WHEN {n} % 10 = 8 THEN 'inspection' ELSE 'coercive_measure' END"
    data = d["json"].format(e=(
        f"'{{\"decision_date\": \"' || {d['text'].format(e=decided)} || '\", \"authority_name\": \"执法主体' || ({n} % 200) || "
        f"'\", \"penalty_types\": [\"' || CASE WHEN {n} % 3 = 0 THEN '警告' ELSE '罚款' END || '\"], \"fine_amount\": \"' || "
        f"(({n} % 5000) / 100.0) || '\", \"inspection_results\": [\"' || CASE WHEN {n} % 4 = 0 THEN 'A' ELSE '1' END || '\"]}}'"))
    statements = [
        "INSERT INTO source_systems (id, department_name, department_credit_code, region_code, kind, protocol, registration, "
        "mapping_name, mapping_version, enabled, created_at, updated_at) "
        + (f"{d['with'].format(n=20)}SELECT 'sys' || {n}, '部门' || {n}, {_department(d, n)}, '370800', "
           f"CASE WHEN {n} % 2 = 0 THEN 'case_handling' ELSE 'licensing' END, 'rest', {d['json'].format(e=repr('{}'))}, 'm', '1', "
           f"true, {d['instant'].format(e='0')}, {d['instant'].format(e='0')} FROM {d['series'].format(n=20)}"),
        f"INSERT INTO standard_records (id, record_type, business_key, current_revision, content_hash, data, decision_date, "
        f"created_at, updated_at) {w}SELECT {n}, {kind}, {dep} || '|DOC' || {n}, 1, {d['pad'].format(e=n, w=64)}, {data}, "
        f"{decided}, {d['instant'].format(e='0')}, {d['instant'].format(e='0')} FROM {series}",
        "INSERT INTO disclosures (id, kind, standard_record_id, business_key, status, decision_date, deadline, "
        "deadline_provisional, current_revision, created_at, updated_at) "
        "SELECT id, record_type, id, business_key, CASE WHEN id % 50 = 0 THEN 'blocked' WHEN id % 97 = 0 THEN 'rejected' "
        "ELSE 'published' END, decision_date, " + ("decision_date + 10" if d is PG else "date(decision_date, '+10 days')")
        + ", false, CASE WHEN id % 50 = 0 THEN 0 ELSE 1 END, created_at, updated_at FROM standard_records "
        "WHERE record_type IN ('license', 'penalty')",
        "INSERT INTO disclosure_revisions (id, disclosure_id, revision, action, payload, idempotency_key, due_date, "
        "acknowledged_at, acknowledged_on, created_at) SELECT id, id, 1, 'new', " + d["json"].format(e="'{}'")
        + ", 'k' || id, deadline, "
        + ("CASE WHEN id % 7 = 0 THEN NULL ELSE deadline - 2 + (id % 4)::int END::timestamptz, "
           "CASE WHEN id % 7 = 0 THEN NULL ELSE deadline - 2 + (id % 4)::int END, " if d is PG else
           "CASE WHEN id % 7 = 0 THEN NULL ELSE datetime(deadline, '+' || (id % 4 - 2) || ' days') END, "
           "CASE WHEN id % 7 = 0 THEN NULL ELSE date(deadline, '+' || (id % 4 - 2) || ' days') END, ")
        + "created_at FROM disclosures WHERE current_revision = 1",
        "INSERT INTO deliveries (id, disclosure_revision_id, status, attempts, next_attempt_at, created_at, updated_at) "
        "SELECT id, id, CASE WHEN acknowledged_on IS NULL THEN 'pending' ELSE 'acknowledged' END, 1, created_at, created_at, "
        "created_at FROM disclosure_revisions",
        f"INSERT INTO raw_records (id, system_id, source_key, record_type, content_hash, payload, encoding, received_at) "
        f"{w}SELECT {n}, 'sys' || ({n} % 20 + 1), 'k' || {n}, 'penalty', {d['pad'].format(e=n, w=64)}, {d['bytes']}, 'utf-8', "
        f"{d['instant'].format(e=f'(CAST({n} AS BIGINT) * 7919) % ({DAYS} * 1440)')} FROM {series}",
        "INSERT INTO mapping_errors (id, raw_record_id, system_id, mapping_name, mapping_version, record_type, field, rule, "
        "message, group_key, status, created_at, resolved_at) SELECT id, id, system_id, 'm', '1', 'penalty', 'penalty_types', "
        "CASE WHEN id % 3 = 0 THEN 'codeset.unknown' ELSE 'required' END, 'x', " + d["pad"].format(e="id % 60", w=64)
        + ", CASE WHEN id % 2 = 0 THEN 'open' ELSE 'replayed' END, received_at, CASE WHEN id % 2 = 0 THEN NULL ELSE received_at END "
        "FROM raw_records WHERE id % 20 = 0",
        f"INSERT INTO runs (system_id, status, trigger, \"full\", due_at, attempts, counts, created_at, finished_at) "
        f"{d['with'].format(n=20 * DAYS)}SELECT 'sys' || ({n} % 20 + 1), 'succeeded', 'schedule', false, "
        f"{d['instant'].format(e=f'({n} / 20) * 1440 + {n} % 20')}, 1, {d['json'].format(e=repr('{}'))}, "
        f"{d['instant'].format(e='0')}, {d['instant'].format(e=f'({n} / 20) * 1440 + {n} % 20 + 5')} "
        f"FROM {d['series'].format(n=20 * DAYS)}",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if d is PG else "ANALYZE"))  # as autovacuum would (visibility map)
    return time.perf_counter() - started


def measure(engine: Engine, repeat: int, parallel: bool) -> tuple[list[float], dict[str, Any]]:
    calendar = WorkdayCalendar.load()
    times, result = [], {}
    for _ in range(repeat):
        with session_factory(engine)() as session:
            started = time.perf_counter()
            result = compute(session, make_scope(session, month=MONTH, today=TODAY, now=NOW, calendar=calendar),
                             parallel=parallel)
            times.append(time.perf_counter() - started)
    return times, result


def server_time(engine: Engine) -> dict[str, Any]:
    """Each statement of one computation again, on the server alone: its planning and execution
    milliseconds under EXPLAIN (ANALYZE), and the CPU seconds its backend used (user + system, from
    ``log_statement_stats`` sent to the client; parallel workers off so that the one backend does
    all the work) — figures the machine's load moves far less than wall time."""
    statements: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "pg_export_snapshot" not in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        measure(engine, 1, parallel=False)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    each = []
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        usage: list[float] = []
        pattern = re.compile(r"([0-9.]+) s user, ([0-9.]+) s system")

        def notice(diagnostic: Any) -> None:
            found = pattern.search(diagnostic.message_detail or "")
            if found:
                usage.append(float(found.group(1)) + float(found.group(2)))

        raw.add_notice_handler(notice)
        cursor = raw.cursor()
        cursor.execute("SET jit = off")
        cursor.execute("SET random_page_cost = 1.1")
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0][0]
            cursor.execute("SET max_parallel_workers_per_gather = 0")
            cursor.execute("SET client_min_messages = log")
            cursor.execute("SET log_statement_stats = on")
            usage.clear()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            cursor.execute("RESET log_statement_stats")
            cursor.execute("RESET client_min_messages")
            cursor.execute("RESET max_parallel_workers_per_gather")
            each.append((round(plan["Planning Time"] + plan["Execution Time"], 1), round(sum(usage) * 1000, 1),
                         " ".join(statement.split())[:90]))
        raw.remove_notice_handler(notice)
    return {"server_ms": round(sum(ms for ms, _, _ in each), 1), "server_cpu_ms": round(sum(cpu for _, cpu, _ in each), 1),
            "statements": len(each),
            "slowest": [f"{ms} ms ({cpu} ms CPU) {sql}" for ms, cpu, sql in sorted(each, reverse=True)[:5]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (jnx_bench_indicators)")
    parser.add_argument("--existing", action="store_true",
                        help="measure the database an earlier --keep kept (no build; --records is then what it holds)")
    parser.add_argument("--sequential", action="store_true", help="one connection (default: parallel on PostgreSQL)")
    args = parser.parse_args()
    admin = None
    with tempfile.TemporaryDirectory() as folder:
        if args.database_url and args.existing:
            url = make_url(args.database_url).set(database="jnx_bench_indicators").render_as_string(hide_password=False)
        elif args.database_url:
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            with admin.connect() as c:
                c.execute(text('DROP DATABASE IF EXISTS "jnx_bench_indicators" WITH (FORCE)'))
                c.execute(text('CREATE DATABASE "jnx_bench_indicators"'))
            url = make_url(args.database_url).set(database="jnx_bench_indicators").render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
        try:
            if not args.existing:
                upgrade(url)
            engine = create_engine_for(url)
            build_seconds = 0.0 if args.existing else build(engine, args.records)
            cpu = time.process_time()
            times, result = measure(engine, args.repeat, parallel=not args.sequential)
            cpu = (time.process_time() - cpu) / args.repeat
            server = server_time(engine) if engine.dialect.name == "postgresql" else {}
            engine.dispose()
        finally:
            if admin is not None and not (args.keep or args.existing):
                with admin.connect() as c:
                    c.execute(text('DROP DATABASE IF EXISTS "jnx_bench_indicators" WITH (FORCE)'))
            if admin is not None:
                admin.dispose()
    total = result["total"]
    figures = {
        "database": make_url(url).get_backend_name(), "records": args.records, "month": str(MONTH),
        "build_seconds": round(build_seconds, 1), "seconds": [round(t, 3) for t in times],
        "median_seconds": round(statistics.median(times), 3), "slowest_seconds": round(max(times), 3),
        "under_2_s": max(times) < 2.0, "parallel": not args.sequential and make_url(url).get_backend_name() == "postgresql",
        "client_cpu_seconds": round(cpu, 3), "load_average": [round(x, 2) for x in os.getloadavg()], **server,
        "departments": len(result["departments"]),
        "came_due": total["came_due"], "timeliness": total["timeliness"], "records_decided": total["records"],
        "penalties": total["penalties"], "received": result["collection"]["received"],
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        for key, value in figures.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
