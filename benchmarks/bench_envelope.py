"""Seal and open N envelopes of a ~2 KB 双公示 record; print envelopes per second.

    .venv/bin/python benchmarks/bench_envelope.py [-n 3000] [--suite jose|sm] [--json]

"open" is the receiver's work: decrypt, verify, time checks and the in-memory replay check.
Target on the project machine: open ≥ 3,000/s for the jose suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

from jnx.security.envelope import MemoryReplayGuard, open_envelope, seal
from jnx.security.keys import KeyUse, Suite, generate_private_key

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


def run(n: int, suite: Suite) -> dict[str, object]:
    signer = generate_private_key("jnx-sig", suite, KeyUse.SIG)
    platform = generate_private_key("platform-enc", suite, KeyUse.ENC)
    recipient, trusted = platform.public(), [signer.public()]
    payload = _payload()
    now = dt.datetime.now(dt.UTC)

    start = time.perf_counter()
    tokens = [seal(payload, signer=signer, recipient=recipient, now=now, idempotency_key=f"d-{i}") for i in range(n)]
    seal_seconds = time.perf_counter() - start

    guard = MemoryReplayGuard()
    start = time.perf_counter()
    for token in tokens:
        open_envelope(token, decryption_keys=[platform], trusted_signers=trusted, replay_guard=guard, now=now)
    open_seconds = time.perf_counter() - start
    return {
        "suite": suite.value,
        "envelopes": n,
        "payload_bytes": len(payload),
        "envelope_bytes": len(tokens[0]),
        "seal_per_second": round(n / seal_seconds, 1),
        "open_per_second": round(n / open_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=3000, help="envelopes to seal and open")
    parser.add_argument("--suite", choices=[s.value for s in Suite], default="jose")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.n, Suite(args.suite))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['suite']}: {result['envelopes']} envelopes of {result['payload_bytes']} B "
            f"({result['envelope_bytes']} B sealed): seal {result['seal_per_second']}/s, "
            f"open (decrypt+verify+replay) {result['open_per_second']}/s"
        )


if __name__ == "__main__":
    main()
