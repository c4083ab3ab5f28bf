"""The outbox checks each receipt's signature against the platform's key: pushed to jnx's reference
receiver (signed receipts), a receipt that verifies is an acknowledgement; one signed by another key,
or signed with no platform key to check it, is not — the delivery is tried again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from jnx.adapters.config import MappingSecrets, RestConfig
from jnx.adapters.factory import build_adapters
from jnx.publicity.outbox import Outbox, RetryPolicy
from jnx.publicity.sealing import EnvelopeSealer, ReceiptVerifier
from jnx.security.keys import KeyUse, Suite, generate_private_key
from tests.exchange.conftest import calendar, derive, rules, sample, sessions, tables  # noqa: F401 - fixtures
from tests.security.test_receiver_http import JNX_SIG, PLATFORM_ENC, PLATFORM_SIG, one_process  # noqa: F401 - fixture

STRANGER_SIG = generate_private_key("stranger-sig", Suite.JOSE, KeyUse.SIG)


def _deliver(engine: Any, url: str, check: ReceiptVerifier) -> dict[str, Any]:
    config = RestConfig.model_validate({"lines": [{"url": url}], "retry": {"attempts": 1},
                                        "push": {"paths": {"penalty": "/envelopes/batch", "license": "/envelopes/batch"},
                                                 "batch_extra": {"batch_no": "{batch_no}"}}})
    adapters = build_adapters(config, MappingSecrets({}))
    try:
        outbox = Outbox(engine, adapters.pusher, sealer=EnvelopeSealer(JNX_SIG, PLATFORM_ENC.public()),  # type: ignore[arg-type]
                        receipt_check=check, policy=RetryPolicy())
        return outbox.deliver_due().as_dict()
    finally:
        adapters.close()


@pytest.mark.parametrize(("signers", "acknowledged"), [((PLATFORM_SIG,), 1), ((STRANGER_SIG,), 0), ((), 0)],
                         ids=["platform key", "another key", "no key"])
def test_only_a_receipt_that_verifies_is_an_acknowledgement(
    sessions: Any, rules: Any, migrated_engine: Any, one_process: str, signers: tuple[Any, ...], acknowledged: int,  # noqa: F811
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    derive(sessions, rules, ("penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}号", decision_date="2026-11-02")))
    summary = _deliver(migrated_engine, one_process, ReceiptVerifier(tuple(k.public() for k in signers)))
    assert summary["acknowledged"] == acknowledged
    assert summary["retried"] == 1 - acknowledged  # not acknowledged: due again later, never "published"


def test_a_required_signature_refuses_unsigned_receipts() -> None:
    from jnx.adapters.base import Receipt, ReceiptStatus

    check = ReceiptVerifier((PLATFORM_SIG.public(),), required=True)
    assert "not signed" in (check("k", Receipt("k", ReceiptStatus.ACCEPTED, raw={"status": "accepted"})) or "")
    assert ReceiptVerifier(())("k", Receipt("k", ReceiptStatus.ACCEPTED, raw={})) is None
