"""双公示 disclosures pushed end to end to a loopback receiver; prints disclosures per second.

    .venv/bin/python benchmarks/bench_push.py [-n 3000] [--batch 100] [--suite jose|sm] [--store file|file-fast|memory]
                                              [--workers 1] [--seal-processes 2] [--receivers 1] [--open-processes 2] [--json]

The chain measured (wall clock, from the first claim to the last receipt recorded):

    jnx outbox (SQLite, its own process)                 receiver (jnx.security.receiver, another process)
    claim leased deliveries → seal the batch in the      → POST /envelopes/batch     → per item: decrypt,
    sealing helpers (sign with jnx's key, encrypt to       verify, time and replay checks, idempotent
    the platform's) → store the envelopes → RestPusher     store, signed receipt → one JSON answer
    batch POST  ←───────────────────────────────────────── (the batch's receipts in one transaction:
    → signed receipts checked in the helpers → recorded,    Receiver.receive_many)
      disclosures published, audit entry

``--workers`` sender processes lease from the one database, each with ``--seal-processes`` helper
processes (jnx.publicity.sealing; 0: it seals in its own process); ``--receivers`` receiver
processes share the port (SO_REUSEPORT) and the file receipt store. Every receipt is signed by the
platform's key and checked by the sender (``receipts: signed``).

Set-up (not timed): N penalty disclosures derived through ``credit.penalty@1`` into a fresh SQLite
database, keys generated, the receiver and the helpers started. CPU per disclosure is given for the
sender's process, its helpers (the time inside their sealing and checking) and the receiver.

**Receiver alone**: one receiver process answering ``POST /envelopes/batch`` for min(N, 3000)
envelopes sealed beforehand, posted batch after batch — its process CPU per envelope (decrypt,
verify, checks, store, signed receipt, HTTP) and the wall rate. Also ``open_envelope`` alone over
envelopes sealed beforehand, in one process and over ``--open-processes`` warmed processes.
Targets (quiet machine): end to end ≥ 5,000/s; the receiver alone ≥ 5,000/s per process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jnx.adapters.config import MappingSecrets, RestConfig  # noqa: E402
from jnx.adapters.factory import build_adapters  # noqa: E402
from jnx.exchange.ingest import StoredRecord, canonical  # noqa: E402
from jnx.exchange.registry import RegisteredSystem, parse_registration  # noqa: E402
from jnx.mappings.service import open_registry  # noqa: E402
from jnx.publicity.calendar import WorkdayCalendar  # noqa: E402
from jnx.publicity.derive import DisclosureDeriver, DisclosureRules  # noqa: E402
from jnx.publicity.outbox import ENVELOPE_FIELD, Outbox, RetryPolicy, item_bytes  # noqa: E402
from jnx.publicity.sealing import EnvelopeHelpers, EnvelopeSealer, ReceiptVerifier  # noqa: E402
from jnx.security.envelope import open_envelope  # noqa: E402
from jnx.security.keys import KeyUse, PrivateKey, Suite, generate_private_key  # noqa: E402
from jnx.store.db import create_engine_for, session_factory, upgrade  # noqa: E402
from jnx.store.models import StandardRecord  # noqa: E402

PENALTY = {
    "party_name": "济宁示例科技有限公司", "party_type": "法人及非法人组织", "party_credit_code": "91370800MA3C00011N",
    "legal_representative": "张三", "case_number": "济市监案〔2026〕88号", "case_source": "2",
    "illegal_act": "未按规定标明价格", "illegal_facts": "当事人销售商品未明码标价，经责令改正后仍未改正。" * 4,
    "legal_basis": "《价格违法行为行政处罚规定》第十三条", "penalty_types": ["警告", "罚款"],
    "penalty_content": "警告，罚款2000元", "fine_amount": "0.2", "decision_date": "2026-11-02", "valid_to": "2099-12-31",
    "authority_name": "济宁市市场监督管理局", "authority_credit_code": "11370800004180002M",
    "data_source_unit": "济宁市市场监督管理局", "data_source_credit_code": "11370800004180002M", "region": "370800",
}


# ---------------------------------------------------------------- the receiver (its own process)
def serve_receiver(keys: dict[str, Any], store_path: str, ready: Any, stop: Any, used: Any, port: int = 0,
                   durable: bool = True) -> None:
    from jnx.security.receiver import Receiver, SqliteReceiptStore
    from jnx.security.receiver_http import make_server

    jnx_sig, platform_enc, platform_sig = (PrivateKey.from_secret_jwk_bytes(keys[k].encode())
                                           for k in ("jnx_sig", "platform_enc", "platform_sig"))
    receiver = Receiver(decryption_keys=[platform_enc], trusted_signers=[jnx_sig.public()], signing_key=platform_sig,
                        store=SqliteReceiptStore(store_path, durable=durable))
    # jnx receiver serve's server: POST /envelopes/batch, one receive_many transaction per HTTP batch;
    # SO_REUSEPORT, so several receiver processes share one port
    server = make_server(receiver, "127.0.0.1", port, reuse_port=True)
    ready.put(server.server_address[1])
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    cpu = time.process_time()
    stop.wait()
    used.put(time.process_time() - cpu)
    server.shutdown()


# ---------------------------------------------------------------- set-up
def case_system() -> RegisteredSystem:
    """The source system the derivation is told about (only its department matters to the mapping)."""
    registration = parse_registration(
        {"id": "jn-case", "name": "济宁市行政执法网上办案系统", "department": "济宁市司法局",
         "department_credit_code": "11370800004180002M", "region": "370800", "kind": "case_handling",
         "adapter": {"protocol": "rest", "lines": [{"url": "http://127.0.0.1:9/"}]}},
        "bench",
    )
    return RegisteredSystem(registration.id, registration.name, registration.department,
                            registration.department_credit_code, registration.region, registration.kind.value,
                            "rest", {}, None, True, registration, dt.datetime.now(dt.UTC))


def derive_disclosures(url: str, n: int) -> None:
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    rules = DisclosureRules(calendar=WorkdayCalendar.load(), tables=open_registry(None), today=lambda: dt.date(2026, 11, 25))
    deriver = DisclosureDeriver(rules)
    with sessions.begin() as session:
        rows = []
        for i in range(n):
            data = canonical({**PENALTY, "document_number": f"济市监罚〔2026〕B{i:06d}号"})
            rows.append(StandardRecord(record_type="penalty", business_key=f"11370800004180002M|{data['document_number']}",
                                       current_revision=1, content_hash=f"{i:064d}", data=data,
                                       decision_date=dt.date(2026, 11, 2)))
        session.add_all(rows)
        session.flush()
        stored = [StoredRecord(r.id, "penalty", r.business_key, 1, r.data) for r in rows]
        deriver.on_stored(session, case_system(), stored)  # the run's bulk derivation, one page
    engine.dispose()
    assert deriver.summary.new == n, deriver.summary


def push_worker(url: str, port: int, batch: int, keys: dict[str, str], index: int, ready: Any, start: Any, done: Any,
                seal_processes: int = 0) -> None:
    """One sender process: an outbox of its own (worker id), leasing from the shared database, sealing
    and checking the platform's signed receipts in ``seal_processes`` helpers (jnx.publicity.sealing)."""
    jnx_sig, platform_enc, platform_sig = (PrivateKey.from_secret_jwk_bytes(keys[k].encode())
                                           for k in ("jnx_sig", "platform_enc", "platform_sig"))
    config = RestConfig.model_validate({
        "lines": [{"url": f"http://127.0.0.1:{port}"}], "timeouts": {"connect": 5, "read": 120},
        "push": {"paths": {"penalty": "/envelopes/batch"}, "max_batch": batch, "batch_extra": {"batch_no": "{batch_no}"},
                 "receipt": {"batch_id_path": None}},
    })
    adapters = build_adapters(config, MappingSecrets({}))
    engine = create_engine_for(url)
    helpers = EnvelopeHelpers(EnvelopeSealer(jnx_sig, platform_enc.public()),
                              ReceiptVerifier((platform_sig.public(),), required=True), seal_processes)
    outbox = Outbox(engine, adapters.pusher, sealer=helpers, receipt_check=helpers,  # type: ignore[arg-type]
                    batch_size=batch, policy=RetryPolicy(max_attempts=1), worker_id=f"bench-{index}")
    helpers.start()  # the helpers' start-up is not timed
    ready.put(index)
    start.wait()
    cpu = time.process_time()
    summary = outbox.deliver_due(limit=10**9)
    done.put({**summary.as_dict(), "cpu_s": time.process_time() - cpu, "helpers_cpu_s": helpers.helper_cpu_s})
    helpers.close()
    adapters.close()
    engine.dispose()


def _open_worker(keys: tuple[bytes, bytes], now: dt.datetime, jobs: Any, done: Any) -> None:
    """A receiver process's verify+decrypt: opens each chunk it is given, answers (count, its CPU seconds)."""
    recipient, signer = (PrivateKey.from_secret_jwk_bytes(key) for key in keys)
    decryption_keys, trusted = [recipient], [signer.public()]
    while (tokens := jobs.get()) is not None:
        cpu = time.process_time()
        for token in tokens:
            open_envelope(token, decryption_keys=decryption_keys, trusted_signers=trusted, replay_guard=None, now=now)
        done.put((len(tokens), time.process_time() - cpu))


def receiver_open_rate(n: int, suite: Suite, processes: int) -> dict[str, float]:
    """``open_envelope`` over ``n`` envelopes sealed beforehand: in this process, and split in chunks of
    100 over ``processes`` warmed receiver processes (what a receiver with a process pool does)."""
    signer = generate_private_key("s", suite, KeyUse.SIG)
    recipient = generate_private_key("r", suite, KeyUse.ENC)
    now = dt.datetime.now(dt.UTC)
    payload = item_bytes({"CF_" + k: str(v) for k, v in PENALTY.items()})
    sealed = [EnvelopeSealer(signer, recipient.public()).seal(payload, idempotency_key=f"k{i}", now=now) for i in range(n)]
    wall, cpu = time.perf_counter(), time.process_time()
    for token in sealed:
        open_envelope(token, decryption_keys=[recipient], trusted_signers=[signer.public()], replay_guard=None, now=now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rates = {"open_per_s_wall": n / wall, "open_per_s_cpu": n / cpu}
    if processes > 1:
        context = multiprocessing.get_context("spawn")
        jobs, done = context.Queue(), context.Queue()
        keys = (recipient.secret_jwk_bytes(), signer.secret_jwk_bytes())
        pool = [context.Process(target=_open_worker, args=(keys, now, jobs, done), daemon=True) for _ in range(processes)]
        for worker in pool:
            worker.start()
        for _ in pool:  # warm-up: imports done, keys parsed
            jobs.put(sealed[:10])
        for _ in pool:
            done.get(timeout=120)
        chunks = [sealed[i : i + 100] for i in range(0, n, 100)]
        wall = time.perf_counter()
        for chunk in chunks:
            jobs.put(chunk)
        answers = [done.get(timeout=600) for _ in chunks]
        wall = time.perf_counter() - wall
        for _ in pool:
            jobs.put(None)
        for worker in pool:
            worker.join(timeout=10)
        assert sum(count for count, _ in answers) == n
        rates |= {"open_per_s_wall_processes": n / wall, "open_per_s_cpu_processes": n / sum(c for _, c in answers)}
    return rates


def receiver_alone(keys: dict[str, PrivateKey], n: int, batch: int, tmp: str, durable: bool) -> dict[str, float]:
    """One receiver process answering ``POST /envelopes/batch`` for ``n`` envelopes sealed beforehand
    (decrypt, verify, time and replay checks, store, sign each receipt): its CPU per envelope, and the
    wall rate with this process posting the batches one after the other."""
    import requests

    now = dt.datetime.now(dt.UTC)
    sealer = EnvelopeSealer(keys["jnx_sig"], keys["platform_enc"].public())
    payload = {"CF_" + k: str(v) for k, v in PENALTY.items()}
    bodies = []
    for start in range(0, n, batch):
        records = [{ENVELOPE_FIELD: sealer.seal(item_bytes({**payload, "CF_XH": str(i)}), idempotency_key=f"alone-{i}", now=now)}
                   for i in range(start, min(start + batch, n))]
        bodies.append(json.dumps({"records": records}).encode())
    context = multiprocessing.get_context("spawn")
    ready, stop, used = context.Queue(), context.Event(), context.Queue()
    receiver_keys = {k: v.secret_jwk_bytes().decode() for k, v in keys.items()}
    process = context.Process(target=serve_receiver, daemon=True,
                              args=(receiver_keys, f"{tmp}/alone.db", ready, stop, used, 0, durable))
    process.start()
    port = ready.get(timeout=60)
    with requests.Session() as http:
        url = f"http://127.0.0.1:{port}/envelopes/batch"
        http.post(url, data=bodies[0][:0] + b"[]", headers={"Content-Type": "application/json"}, timeout=60)  # warm
        wall = time.perf_counter()
        accepted = 0
        for body in bodies:
            answer = http.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=120).json()
            accepted += sum(1 for r in answer["results"] if r["status"] == "accepted")
        wall = time.perf_counter() - wall
    stop.set()
    cpu = used.get(timeout=30)
    process.join(timeout=10)
    if accepted != n:
        sys.exit(f"the receiver alone accepted {accepted} of {n}")
    return {"receiver_alone_per_s_wall": n / wall, "receiver_alone_cpu_ms_per_item": 1000 * cpu / n,
            "receiver_alone_per_s_cpu": n / cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="disclosures to push")
    parser.add_argument("--batch", type=int, default=100, help="items per POST (and per claim)")
    parser.add_argument("--suite", choices=[s.value for s in Suite], default=Suite.JOSE.value)
    parser.add_argument("--store", choices=["file", "file-fast", "memory"], default="file",
                        help="the receiver's receipt store: file (SQLite, synchronous=FULL), file-fast (synchronous=NORMAL), memory")
    parser.add_argument("--workers", type=int, default=1, help="sender processes (outboxes leasing from one database)")
    parser.add_argument("--seal-processes", type=int, default=2,
                        help="helper processes of each sender that seal envelopes and check signed receipts (0: none)")
    parser.add_argument("--receivers", type=int, default=1,
                        help="receiver processes sharing the port (SO_REUSEPORT) and the file receipt store")
    parser.add_argument("--open-processes", type=int, default=2,
                        help="also measure verify+decrypt over this many receiver processes (0 or 1: one process only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    suite = Suite(args.suite)

    keys = {"jnx_sig": generate_private_key("jnx-sig", suite, KeyUse.SIG),
            "platform_enc": generate_private_key("platform-enc", suite, KeyUse.ENC),
            "platform_sig": generate_private_key("platform-sig", suite, KeyUse.SIG)}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/jnx.db"
        upgrade(url)
        started = time.perf_counter()
        derive_disclosures(url, args.n)
        derive_s = time.perf_counter() - started

        context = multiprocessing.get_context("spawn")
        ready, stop, used = context.Queue(), context.Event(), context.Queue()
        store_path = ":memory:" if args.store == "memory" else f"{tmp}/receipts.db"
        if store_path == ":memory:" and args.receivers > 1:
            sys.exit("several receivers share the file store only: use --store file")
        receiver_keys = {k: v.secret_jwk_bytes().decode() for k, v in keys.items()}
        durable = args.store != "file-fast"
        receivers = [context.Process(target=serve_receiver, daemon=True,
                                     args=(receiver_keys, store_path, ready, stop, used, 0, durable))]
        receivers[0].start()
        port = ready.get(timeout=60)
        for _ in range(args.receivers - 1):  # the others join the first one's port
            receivers.append(context.Process(target=serve_receiver, daemon=True,
                                             args=(receiver_keys, store_path, ready, stop, used, port, durable)))
            receivers[-1].start()
            ready.get(timeout=60)
        secrets = {k: v.secret_jwk_bytes().decode() for k, v in keys.items()}
        go, done, set_up = context.Event(), context.Queue(), context.Queue()
        workers = [context.Process(target=push_worker, args=(url, port, args.batch, secrets, i, set_up, go, done,
                                                             args.seal_processes))
                   for i in range(args.workers)]  # not daemons: a sender has helper processes of its own
        for worker in workers:
            worker.start()
        for _ in workers:  # the clock starts once every worker has imported and built its outbox
            set_up.get(timeout=120)
        started = time.perf_counter()
        go.set()
        results = [done.get(timeout=600) for _ in workers]
        push_s = time.perf_counter() - started
        for worker in workers:
            worker.join(timeout=10)
        stop.set()
        receiver_cpu = sum(used.get(timeout=30) for _ in receivers)
        for receiver in receivers:
            receiver.join(timeout=10)
        alone = receiver_alone(keys, min(args.n, 3000), args.batch, tmp, durable)
    acknowledged = sum(r["acknowledged"] for r in results)
    if acknowledged != args.n:
        sys.exit(f"only {acknowledged} of {args.n} acknowledged: {results}")
    opened = receiver_open_rate(min(args.n, 3000), suite, args.open_processes)
    figures = {
        "disclosures": args.n, "batch": args.batch, "workers": args.workers, "receivers": args.receivers, "suite": suite.value, "receiver_store": args.store,
        "derive_s": round(derive_s, 2), "push_s": round(push_s, 2),
        "end_to_end_per_s": round(args.n / push_s, 1),
        "seal_processes": args.seal_processes,
        "sender_cpu_ms_per_item": round(1000 * sum(r["cpu_s"] for r in results) / args.n, 3),
        "sender_helpers_cpu_ms_per_item": round(1000 * sum(r["helpers_cpu_s"] for r in results) / args.n, 3),
        "receiver_cpu_ms_per_item": round(1000 * receiver_cpu / args.n, 3),
        "receiver_open_per_s_wall": round(opened["open_per_s_wall"], 1),
        "receiver_open_per_s_cpu": round(opened["open_per_s_cpu"], 1),
        **({"receiver_open_processes": args.open_processes,
            "receiver_open_per_s_wall_processes": round(opened["open_per_s_wall_processes"], 1),
            "receiver_open_per_s_cpu_processes": round(opened["open_per_s_cpu_processes"], 1)}
           if "open_per_s_wall_processes" in opened else {}),
        "receiver_alone_per_s_wall": round(alone["receiver_alone_per_s_wall"], 1),
        "receiver_alone_cpu_ms_per_item": round(alone["receiver_alone_cpu_ms_per_item"], 3),
        "receiver_alone_per_s_cpu": round(alone["receiver_alone_per_s_cpu"], 1),
        "targets": {"end_to_end_per_s": 5000, "receiver_alone_per_s": 5000},
    }
    cpu_ms = figures["sender_cpu_ms_per_item"] + figures["sender_helpers_cpu_ms_per_item"] + figures["receiver_cpu_ms_per_item"]  # type: ignore[operator]
    figures["capacity_per_s_two_free_cores"] = round(2000 / cpu_ms, 1)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{args.n} disclosures ({suite.value}, batches of {args.batch}, {args.workers} sender(s), "
              f"{args.receivers} receiver(s), receiver store {args.store}): "
              f"derived in {derive_s:.2f} s; pushed end to end in {push_s:.2f} s = {figures['end_to_end_per_s']:.0f}/s "
              f"(target ≥ 5,000/s)")
        print(f"CPU per disclosure: sender {figures['sender_cpu_ms_per_item']:.3f} ms + its {args.seal_processes} sealing "
              f"helper(s) {figures['sender_helpers_cpu_ms_per_item']:.3f} ms + receiver "
              f"{figures['receiver_cpu_ms_per_item']:.3f} ms ⇒ ≈{figures['capacity_per_s_two_free_cores']:.0f}/s on two free cores")
        print(f"receiver alone (POST /envelopes/batch of envelopes sealed beforehand, one process): "
              f"{figures['receiver_alone_cpu_ms_per_item']:.3f} ms CPU per envelope = "
              f"{figures['receiver_alone_per_s_cpu']:.0f}/s per CPU-second (target ≥ 5,000/s); "
              f"{figures['receiver_alone_per_s_wall']:.0f}/s wall")
        print(f"receiver verify+decrypt alone: {figures['receiver_open_per_s_wall']:.0f}/s wall, "
              f"{figures['receiver_open_per_s_cpu']:.0f}/s per CPU-second in one process (target ≥ 3,000/s)")
        if "receiver_open_per_s_wall_processes" in figures:
            print(f"receiver verify+decrypt over {args.open_processes} receiver processes: "
                  f"{figures['receiver_open_per_s_wall_processes']:.0f}/s wall "
                  f"({figures['receiver_open_per_s_cpu_processes']:.0f} per CPU-second of those processes)")


if __name__ == "__main__":
    main()
