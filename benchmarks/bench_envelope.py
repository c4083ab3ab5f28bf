"""Seal and open N envelopes of a ~2 KB 双公示 record; print envelopes per second.

    .venv/bin/python benchmarks/bench_envelope.py [-n 3000] [--suite jose|sm] [--processes 2] [--json]

"open" is the receiver's work: decrypt, verify, time checks and the in-memory replay check. Each rate
is given per wall-clock second and per CPU-second of the process (the latter keeps other users' load
on this shared machine out of it). ``cryptography`` holds the GIL while it verifies and agrees keys,
so a receiver uses its cores with processes: ``--processes P`` also opens the same envelopes split
over P worker processes (started and warmed before the clock starts) and reports the wall rate.
Target on the project machine: open ≥ 3,000/s for the jose suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import time
from typing import Any

from jnx.security.envelope import MemoryReplayGuard, open_envelope, seal
from jnx.security.keys import KeyUse, PrivateKey, Suite, generate_private_key

RECORD = {
    "XK_XDR_MC": "济宁市任城区某某餐饮管理有限公司",
    "XK_XDR_LB": "法人及非法人组织",
    "XK_XDR_SHXYM": "91370811MA3C1234X5",
    "XK_FRDB": "张**",
    "XK_XKWS": "食品经营许可证",
    "XK_WSH": "JY13708110012345",
    "XK_XKZS": "食品经营许可证",
    "XK_XKBH": "JY13708110012345",
    "XK_JDRQ": "2026-03-16",
    "XK_YXQZ": "2026-03-16",
    "XK_YXQZI": "2031-03-15",
    "XK_XKJG": "济宁市任城区行政审批服务局",
    "XK_XKJGDM": "11370811MB2834567Q",
    "XK_ZT": "1",
    "XK_LYDW": "济宁市任城区行政审批服务局",
    "XK_LYDWDM": "11370811MB2834567Q",
    "BZ": "",
}


def _payload() -> bytes:
    """The record with its 许可内容 grown until the JSON is about 2 KB (valid UTF-8 JSON)."""
    record = dict(RECORD, XK_NR="")
    while len(json.dumps(record, ensure_ascii=False).encode("utf-8")) < 2000:
        record["XK_NR"] += "预包装食品销售，热食类食品制售；"
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _open_all(tokens: list[str], platform: PrivateKey, signer: PrivateKey, now: dt.datetime) -> None:
    guard, trusted = MemoryReplayGuard(), [signer.public()]
    for token in tokens:
        open_envelope(token, decryption_keys=[platform], trusted_signers=trusted, replay_guard=guard, now=now)


def _open_worker(keys: tuple[bytes, bytes], now: dt.datetime, jobs: Any, done: Any) -> None:
    platform, signer = (PrivateKey.from_secret_jwk_bytes(key) for key in keys)
    while (tokens := jobs.get()) is not None:
        _open_all(tokens, platform, signer, now)
        done.put(len(tokens))


def open_in_processes(tokens: list[str], platform: PrivateKey, signer: PrivateKey, now: dt.datetime, processes: int) -> float:
    """Wall-clock envelopes per second opened by ``processes`` warmed-up workers (tokens sent in chunks)."""
    context = multiprocessing.get_context("spawn")
    jobs, done = context.Queue(), context.Queue()
    keys = (platform.secret_jwk_bytes(), signer.secret_jwk_bytes())
    workers = [context.Process(target=_open_worker, args=(keys, now, jobs, done), daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:  # warm-up: imports done, keys parsed
        jobs.put(tokens[:10])
    for _ in workers:
        done.get(timeout=120)
    chunks = [tokens[i : i + 100] for i in range(0, len(tokens), 100)]
    start = time.perf_counter()
    for chunk in chunks:
        jobs.put(chunk)
    opened = sum(done.get(timeout=600) for _ in chunks)
    seconds = time.perf_counter() - start
    for _ in workers:
        jobs.put(None)
    for worker in workers:
        worker.join(timeout=10)
    assert opened == len(tokens)
    return len(tokens) / seconds


def run(n: int, suite: Suite, processes: int = 0) -> dict[str, object]:
    signer = generate_private_key("jnx-sig", suite, KeyUse.SIG)
    platform = generate_private_key("platform-enc", suite, KeyUse.ENC)
    recipient = platform.public()
    payload = _payload()
    now = dt.datetime.now(dt.UTC)

    start, cpu = time.perf_counter(), time.process_time()
    tokens = [seal(payload, signer=signer, recipient=recipient, now=now, idempotency_key=f"d-{i}") for i in range(n)]
    seal_seconds, seal_cpu = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), time.process_time()
    _open_all(tokens, platform, signer, now)
    open_seconds, open_cpu = time.perf_counter() - start, time.process_time() - cpu
    result: dict[str, object] = {
        "suite": suite.value,
        "envelopes": n,
        "payload_bytes": len(payload),
        "envelope_bytes": len(tokens[0]),
        "seal_per_second": round(n / seal_seconds, 1),
        "seal_per_cpu_second": round(n / seal_cpu, 1),
        "open_per_second": round(n / open_seconds, 1),
        "open_per_cpu_second": round(n / open_cpu, 1),
    }
    if processes:
        result["processes"] = processes
        result["open_per_second_in_processes"] = round(open_in_processes(tokens, platform, signer, now, processes), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=3000, help="envelopes to seal and open")
    parser.add_argument("--suite", choices=[s.value for s in Suite], default="jose")
    parser.add_argument("--processes", type=int, default=0, help="also open the envelopes over this many worker processes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.n, Suite(args.suite), args.processes)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['suite']}: {result['envelopes']} envelopes of {result['payload_bytes']} B "
            f"({result['envelope_bytes']} B sealed): seal {result['seal_per_second']}/s "
            f"({result['seal_per_cpu_second']} per CPU-s), open (decrypt+verify+replay) {result['open_per_second']}/s "
            f"({result['open_per_cpu_second']} per CPU-s)"
        )
        if args.processes:
            print(f"open over {args.processes} processes: {result['open_per_second_in_processes']}/s wall (target ≥ 3,000/s)")


if __name__ == "__main__":
    main()
