"""Reading receipts (回执) out of a receiver's answer, the same way for every push transport."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from jnx.adapters.base import (
    FieldReason,
    OutboundItem,
    Receipt,
    ReceiptStatus,
    dig,
    to_jsonable,
)
from jnx.adapters.config import ReceiptSpec
from jnx.adapters.errors import PayloadError


def batch_key(items: Sequence[OutboundItem]) -> str:
    """The idempotency key of a batch: the same items (same keys, same order) give the same key."""
    digest = hashlib.sha256("\n".join(item.idempotency_key for item in items).encode()).hexdigest()
    return f"jnx-batch-{digest[:40]}"


def status_of(value: Any, spec: ReceiptSpec, *, source: str) -> ReceiptStatus:
    text = str(to_jsonable(value))
    if text in spec.accepted:
        return ReceiptStatus.ACCEPTED
    if text in spec.rejected:
        return ReceiptStatus.REJECTED
    if text in spec.queued:
        return ReceiptStatus.QUEUED
    raise PayloadError(f"{source}: unknown receipt status {text!r}", hint="add it to the registration's receipt spec")


def read_receipts(answer: Any, items: Sequence[OutboundItem], spec: ReceiptSpec, *, source: str) -> list[Receipt]:
    """One receipt per item, in the order of ``items``; an item the answer does not cover is an error."""
    answer = to_jsonable(answer)
    results = dig(answer, spec.receipts_path)
    if isinstance(results, Mapping):
        results = [results]
    if not isinstance(results, list):
        raise PayloadError(f"{source}: no list of receipts at `{spec.receipts_path}`")
    batch_id = dig(answer, spec.batch_id_path) if spec.batch_id_path else None
    by_slot: dict[str, Mapping[str, Any]] = {}
    for position, result in enumerate(results):
        if not isinstance(result, Mapping):
            raise PayloadError(f"{source}: receipt {position} is not an object")
        slot = dig(result, spec.index_path if spec.match == "index" else spec.key_path)
        by_slot[str(position if slot is None and spec.match == "index" else slot)] = result
    receipts: list[Receipt] = []
    for index, item in enumerate(items):
        result = by_slot.get(str(index) if spec.match == "index" else item.idempotency_key)
        if result is None:
            raise PayloadError(f"{source}: the answer has no receipt for item {index} ({item.idempotency_key})")
        receipts.append(
            Receipt(
                idempotency_key=item.idempotency_key,
                status=status_of(dig(result, spec.status_path), spec, source=source),
                receipt_id=None if batch_id is None else str(batch_id),
                record_id=_opt(dig(result, spec.id_path)) if spec.id_path else None,
                reasons=_reasons(result, spec),
                raw=result,
            )
        )
    return receipts


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _reasons(result: Mapping[str, Any], spec: ReceiptSpec) -> tuple[FieldReason, ...]:
    raw = dig(result, spec.reasons_path) if spec.reasons_path else None
    if not raw:
        return ()
    if not isinstance(raw, list):
        raw = [raw]
    return tuple(
        FieldReason(
            field=str(dig(r, spec.reason_field_path) or ""),
            reason=str(dig(r, spec.reason_text_path) or ""),
            code=_opt(dig(r, spec.reason_code_path)) if spec.reason_code_path else None,
        )
        if isinstance(r, Mapping)
        else FieldReason(field="", reason=str(r))
        for r in raw
    )
