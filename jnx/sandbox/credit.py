"""The credit platform (信用济宁 / 信用山东 双公示 receiving interface): pushes in, receipts out,
idempotency keys honoured, held records listed for reconciliation (docs/source-shapes.md §4).

The receive path is ``unwrap(body, headers) -> payload`` then validation; the default unwrap reads
plain UTF-8 JSON, and an envelope receiver (JWS-in-JWE) can be plugged in instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jnx.sandbox.credit_rules import PREFIX, business_key, check_record
from jnx.sandbox.data import BEIJING
from jnx.sandbox.faults import FaultDecision, FaultState
from jnx.sandbox.httpserver import Platform, Request, Response, json_response

Unwrap = Callable[[bytes, Mapping[str, str]], Any]
KINDS = ("xzxk", "xzcf")


class UnwrapError(Exception):
    """The body could not be opened (not JSON, bad envelope); answered with 400."""


def plain_json(body: bytes, headers: Mapping[str, str]) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnwrapError(f"请求体不是 UTF-8 JSON: {exc}") from exc


@dataclass
class HeldRecord:
    record_id: str
    kind: str
    source: str  # push | manual
    status: str  # published | withdrawn
    received_at: str
    updated_at: str
    record: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "source": self.source, "status": self.status,
                "received_at": self.received_at, "updated_at": self.updated_at, "record": self.record}


@dataclass
class CreditStore:
    """What the platform holds: records by (kind, agency code, 文书号), receipts by idempotency key."""

    records: dict[tuple[str, str, str], HeldRecord] = field(default_factory=dict)
    receipts: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # key → (body hash, receipt JSON)
    receipts_by_id: dict[str, bytes] = field(default_factory=dict)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:08d}"


def now_text(clock: Callable[[], dt.datetime]) -> str:
    return clock().astimezone(BEIJING).isoformat(timespec="seconds")


class CreditPlatform(Platform):
    name = "credit"

    def __init__(self, faults: FaultState, token: str, manual: list[tuple[str, dict[str, Any]]],
                 unwrap: Unwrap | None = None, clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(faults)
        self.token = token
        self.unwrap: Unwrap = unwrap or plain_json
        self.clock = clock or (lambda: dt.datetime.now(BEIJING))
        self.store = CreditStore()
        stamp = "2025-06-30T18:00:00+08:00"
        for kind, record in manual:
            held = HeldRecord(self.store.next_id(f"SGS-{kind.upper()}-"), kind, "manual", "published", stamp, stamp, record)
            self.store.records[(kind, *business_key(kind, record))] = held

    def error_response(self, status: int) -> Response:
        return json_response({"error": "SERVICE_UNAVAILABLE", "message": "平台繁忙，请稍后重试 (sandbox fault)"}, status)

    def handle(self, request: Request, decision: FaultDecision) -> Response:
        auth = request.headers.get("Authorization") or ""
        if not hmac.compare_digest(auth.encode(), f"Bearer {self.token}".encode()):
            return json_response({"error": "UNAUTHORIZED", "message": "令牌无效 (invalid bearer token)"}, 401)
        parts = request.path.strip("/").split("/")  # api v1 sgs <kind> [batch|withdraw]
        if len(parts) >= 4 and parts[:3] == ["api", "v1", "sgs"]:
            if parts[3] == "receipts" and len(parts) == 5 and request.method == "GET":
                receipt = self.store.receipts_by_id.get(parts[4])
                return Response(200, receipt) if receipt else json_response({"error": "NOT_FOUND", "message": "no such receipt"}, 404)
            if parts[3] in KINDS and len(parts) <= 5:
                action = parts[4] if len(parts) == 5 else "single"
                if request.method == "GET" and action == "single":
                    return self._list(parts[3], request)
                if request.method == "POST" and action in ("single", "batch", "withdraw"):
                    return self._push(parts[3], action, request)
        return json_response({"error": "NOT_FOUND", "message": f"no such API: {request.method} {request.path}"}, 404)

    # ---------------------------------------------------------------- push
    def _push(self, kind: str, action: str, request: Request) -> Response:
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not 1 <= len(key) <= 128:
            return json_response({"error": "IDEMPOTENCY_KEY_REQUIRED", "message": "请求头 Idempotency-Key 必填（1–128 字符）"}, 400)
        try:
            payload = self.unwrap(request.body, request.headers)
        except UnwrapError as exc:
            return json_response({"error": "BAD_REQUEST", "message": str(exc)}, 400)
        # the same key must carry the same *content*: compared after unwrapping, since a sender's retry
        # reseals its records (new envelopes, new bytes) with the same idempotency key
        digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        with self.store.lock:
            seen = self.store.receipts.get(key)
            if seen is not None:
                if seen[0] != digest:
                    return json_response({"error": "IDEMPOTENCY_CONFLICT",
                                          "message": "该 Idempotency-Key 已用于不同的请求体"}, 409)
                return Response(200, seen[1], headers={"Idempotent-Replay": "true"})
            if action == "batch":
                if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
                    return json_response({"error": "BAD_REQUEST", "message": "批量报送须为 {batch_no, records: [...]} 对象"}, 400)
                batch_no, items = payload.get("batch_no"), payload["records"]
            else:
                batch_no, items = None, [payload]
            results = [self._withdraw(kind, i, item) if action == "withdraw" else self._accept(kind, i, item)
                       for i, item in enumerate(items)]
            accepted = sum(1 for r in results if r["status"] == "accepted")
            receipt: dict[str, Any] = {
                "receipt_id": self.store.next_id("HZ"), "idempotency_key": key, "batch_no": batch_no,
                "received_at": now_text(self.clock),
                "status": "accepted" if accepted == len(results) else "rejected" if accepted == 0 else "partially_accepted",
                "total": len(results), "accepted": accepted, "rejected": len(results) - accepted, "results": results,
            }
            body = json.dumps(receipt, ensure_ascii=False, separators=(",", ":")).encode()
            self.store.receipts[key] = (digest, body)
            self.store.receipts_by_id[receipt["receipt_id"]] = body
        return Response(200, body)

    def _accept(self, kind: str, index: int, record: Any) -> dict[str, Any]:
        today = self.clock().astimezone(BEIJING).date()
        reasons = check_record(kind, record, today)
        wsh = str(record.get(PREFIX[kind] + "WSH") or "") if isinstance(record, dict) else ""
        if reasons:
            return {"index": index, "wsh": wsh, "status": "rejected", "reasons": [r.as_dict() for r in reasons]}
        stamp = now_text(self.clock)
        store_key = (kind, *business_key(kind, record))
        held = self.store.records.get(store_key)
        if held is None:
            held = HeldRecord(self.store.next_id(f"SGS-{kind.upper()}-"), kind, "push", "published", stamp, stamp, dict(record))
            self.store.records[store_key] = held
            action = "created"
        elif held.record == record and held.status == "published":
            action = "unchanged"
        else:
            held.record, held.status, held.updated_at, held.source = dict(record), "published", stamp, "push"
            action = "updated"
        return {"index": index, "wsh": wsh, "status": "accepted", "action": action, "record_id": held.record_id}

    def _withdraw(self, kind: str, index: int, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            return {"index": index, "wsh": "", "status": "rejected", "reasons": [{"field": "", "code": "FORMAT", "message": "须为 JSON 对象"}]}
        agency, wsh = business_key(kind, request)
        held = self.store.records.get((kind, agency, wsh))
        if held is None:
            return {"index": index, "wsh": wsh, "status": "rejected",
                    "reasons": [{"field": PREFIX[kind] + "WSH", "code": "NOT_FOUND", "message": "平台上没有该机关该文书号的记录"}]}
        held.status, held.updated_at = "withdrawn", now_text(self.clock)
        return {"index": index, "wsh": wsh, "status": "accepted", "action": "withdrawn", "record_id": held.record_id}

    # ---------------------------------------------------------------- list
    def _list(self, kind: str, request: Request) -> Response:
        try:
            page = int(request.arg("page") or "1")
            size = int(request.arg("size") or "100")
            if page < 1 or not 1 <= size <= 1000:
                raise ValueError("page ≥ 1, 1 ≤ size ≤ 1000")
        except ValueError as exc:
            return json_response({"error": "BAD_REQUEST", "message": f"参数错误: {exc}"}, 400)
        since = (request.arg("updated_after") or "").strip()
        with self.store.lock:
            held = sorted((h for h in self.store.records.values() if h.kind == kind and h.updated_at >= since),
                          key=lambda h: (h.updated_at, h.record_id))
            rows = [h.as_dict() for h in held[(page - 1) * size: page * size]]
        return json_response({"total": len(held), "page": page, "size": size, "rows": rows}, page=True)
