"""The source's changes of a decision (《行政处罚法》第四十八条): which records are revoked.

Shared by the 双公示 derivation and the 执法公示 tracking (:mod:`jnx.publicity.enforcement`), so both read
撤销 the same way. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REVOKING = frozenset({"撤销", "确认违法", "确认无效"})  # change types that end a decision (《行政处罚法》第四十八条)
TRUE_TEXTS = frozenset({"true", "1"})


def revocation(data: Mapping[str, Any]) -> str | None:
    """Why the source's record is no longer a decision to publish — revoked (``revoked``), or its
    change type 撤销 / 确认违法 / 确认无效 — or None. The text is the withdrawal's reason."""
    change = data.get("change_type")
    revoked = data.get("revoked")
    if change not in REVOKING and not (revoked is True or (revoked.__class__ is str and revoked.lower() in TRUE_TEXTS)):
        return None
    what = change if change in REVOKING else "撤销"
    details = "，".join(str(v) for v in (data.get("change_date"), data.get("change_document_number")) if v)
    return f"决定被{what}" + (f"（{details}）" if details else "") + "：《行政处罚法》第四十八条"


__all__ = ["REVOKING", "revocation"]
