"""Peak memory of reading a GB18030 file drop, at two sizes (issue 12: "a 200 MB GB18030 drop is
read with peak memory within 1.2× of a 20 MB drop's").

For each size a drop folder gets one GB18030 CSV of that many MB (rows as the double-random
system exports them: CJK names, 、-joined labels, a time), and a fresh interpreter reads it as a
``files`` registration does: :class:`jnx.adapters.files.FileDropPuller` page by page (``--page-size``),
every page acknowledged, the file moved to ``done/`` — or, with ``--run``, the whole of ``jnx run``
(a files registration of the drop, :meth:`RunService.run_now` into a fresh SQLite database: staging,
the shipped ``double_random.inspection_csv@1`` table, storage, errors queued). Its peak resident set
size is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end (interpreter and imports included),
and its CPU time ``time.process_time()`` (wall time on a shared machine is noise).

    python benchmarks/bench_filedrop.py [--mb 20,200] [--page-size 500] [--run] [--json]

The figures are in docs/performance.md; ``ratio`` is the largest size's peak over the smallest's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEADER = "结果编号,检查对象名称,统一社会信用代码,检查方式,检查结果,检查日期,更新时间\r\n"
ROW = "JG{:09d},济宁市任城区{}商贸有限公司（第{}分店）,91370811MA3C{:06d},实地检查、检验检测,未发现问题,2024-03-{:02d},2024-03-{:02d} 08:{:02d}:00\r\n"
NAMES = ("鲁味", "孔府", "微山湖", "𠮷祥", "运河", "太白楼", "曲阜", "䶮华")
TARGET_RATIO = 1.2


def write_drop(folder: Path, megabytes: float) -> int:
    """One GB18030 CSV of about ``megabytes`` MB in ``folder``; its number of rows."""
    folder.mkdir(parents=True, exist_ok=True)
    target = int(megabytes * 1_000_000)
    rows = 0
    with (folder / "results_20240301.csv").open("wb") as handle:
        written = handle.write(HEADER.encode("gb18030"))
        while written < target:
            chunk = "".join(ROW.format(i, NAMES[i % len(NAMES)], i % 97, i % 1_000_000, 1 + i % 28, 1 + i % 28, i % 60)
                            for i in range(rows, rows + 2000))
            written += handle.write(chunk.encode("gb18030"))
            rows += 2000
    return rows


def _read_with_the_puller(folder: Path, page_size: int) -> dict[str, Any]:
    from jnx.adapters.config import FilePullSpec
    from jnx.adapters.files import FileDropPuller

    spec = FilePullSpec(record_type="inspection", pattern="results_*.csv", encoding="gb18030", key_field="结果编号",
                        updated_field="更新时间")
    puller = FileDropPuller(folder, folder / "done", spec, page_size=page_size)
    records = errors = 0
    for page in puller.pull(None):
        records += len(page.records)
        errors += sum(1 for r in page.records if r.defect is not None)
        puller.acknowledge(page)
    return {"records": records, "defects": errors}


def _read_with_jnx_run(folder: Path, page_size: int) -> dict[str, Any]:
    from sqlalchemy.orm import Session

    from jnx.exchange.registry import SystemRegistry, parse_registration
    from jnx.exchange.wiring import Exchange, table_catalog
    from jnx.settings import Settings
    from jnx.store.db import create_engine_for, upgrade

    home = folder.parent / "home"
    url = f"sqlite:///{folder.parent / 'jnx.db'}"
    upgrade(url)
    settings = Settings(home=home, database_url=url)
    registration = parse_registration({
        "format": 1, "id": "jn-double-random-files", "name": "济宁市双随机一公开监管系统（文件交换）",
        "department": "济宁市市场监督管理局", "department_credit_code": "11370800MB2850022B", "region": "370800",
        "kind": "double_random",
        "adapter": {"protocol": "files", "folder": str(folder), "page_size": page_size,
                    "pull": [{"record_type": "inspection", "pattern": "results_*.csv", "format": "csv",
                              "encoding": "gb18030", "key_field": "结果编号", "updated_field": "更新时间"}]},
        "mappings": {"inspection": "double_random.inspection_csv@1"},
    }, "files.yaml", table_catalog(settings))
    engine = create_engine_for(url)
    with Session(engine) as session, session.begin():
        SystemRegistry().register(session, registration)
    engine.dispose()
    exchange = Exchange(settings=settings, engine=create_engine_for(url), environment={}, worker_id="bench")
    try:
        summary = exchange.runs().run_now("jn-double-random-files")
    finally:
        exchange.engine.dispose()
    if summary.error:
        raise SystemExit(f"the run failed: {summary.error}")
    return {"records": summary.counts.pulled, "defects": summary.counts.errors, "status": summary.status.value}


def child(folder: Path, page_size: int, run: bool) -> None:
    """In a fresh interpreter: read the drop, print peak RSS and CPU time as JSON."""
    started = time.process_time()
    figures = (_read_with_jnx_run if run else _read_with_the_puller)(folder, page_size)
    figures["cpu_seconds"] = round(time.process_time() - started, 2)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    print(json.dumps(figures))


def measure(megabytes: float, page_size: int, run: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jnx-bench-drop-") as temporary:
        folder = Path(temporary) / "drop"
        rows = write_drop(folder, megabytes)
        size = (folder / "results_20240301.csv").stat().st_size
        command = [sys.executable, __file__, "--child", str(folder), "--page-size", str(page_size), *(["--run"] if run else [])]
        done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        if figures["records"] != rows:
            raise SystemExit(f"{megabytes} MB: {figures['records']} records read of {rows} rows")
        return {"mb": round(size / 1_000_000, 1), "rows": rows, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", default="20,200", help="drop sizes in MB, comma-separated (default 20,200)")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--run", action="store_true", help="the whole of jnx run into SQLite, not the puller alone")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.page_size, args.run)
        return
    sizes = sorted(float(s) for s in args.mb.split(","))
    results = [measure(mb, args.page_size, args.run) for mb in sizes]
    ratio = results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
    figures = {"mode": "jnx run" if args.run else "puller", "sizes": results, "ratio": round(ratio, 3),
               "within_1_2x": ratio <= TARGET_RATIO, "load_average": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    for result in results:
        print(f"{result['mb']:>7.1f} MB  {result['rows']:>9,} rows  peak RSS {result['peak_rss_mb']:>7.1f} MB  "
              f"CPU {result['cpu_seconds']:>6.1f} s")
    print(f"peak ratio {ratio:.3f} (target ≤ {TARGET_RATIO}); load average {figures['load_average']}")


if __name__ == "__main__":
    main()
