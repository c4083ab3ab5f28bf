"""Envelopes sealed and receipts checked in helper processes (jnx.publicity.sealing): the same
envelopes and the same verdicts as in the outbox's own process, a batch at a time, and an outbox
pushing through them to jnx's reference receiver gets every item acknowledged exactly once."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from jnx.adapters.base import Receipt, ReceiptStatus
from jnx.adapters.config import MappingSecrets, RestConfig
from jnx.adapters.factory import build_adapters
from jnx.publicity.outbox import Outbox, RetryPolicy, item_bytes
from jnx.publicity.sealing import EnvelopeHelpers, EnvelopeSealer, ReceiptVerifier
from jnx.security.envelope import open_envelope
from jnx.security.keys import KeyUse, Suite, generate_private_key
from jnx.security.receiver import Receipt as SignedReceipt
from jnx.security.receiver import sign_receipt
from jnx.store.models import Delivery, DeliveryStatus, DisclosureRevision
from tests.exchange.conftest import calendar, derive, rules, sample, sessions, tables  # noqa: F401 - fixtures
from tests.security.test_receiver_http import JNX_SIG, PLATFORM_ENC, PLATFORM_SIG, one_process  # noqa: F401 - fixture

STRANGER_SIG = generate_private_key("stranger-sig", Suite.JOSE, KeyUse.SIG)
NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def helpers() -> Iterator[EnvelopeHelpers]:
    with EnvelopeHelpers(EnvelopeSealer(JNX_SIG, PLATFORM_ENC.public()), ReceiptVerifier((PLATFORM_SIG.public(),)),
                         processes=2, min_items=3) as pool:
        assert pool.start()
        yield pool


def _signed(key: str, status: str, by: Any = PLATFORM_SIG) -> Receipt:
    signed = sign_receipt(SignedReceipt("R1", key, "jti", status, (), NOW.isoformat(), "0" * 64), by).signed
    return Receipt(key, ReceiptStatus(status), receipt_id="R1", raw={"status": status, "signed": signed})


def test_a_batch_sealed_in_helpers_opens_to_its_payloads_and_keys(helpers: EnvelopeHelpers) -> None:
    payloads = [{"CF_XH": str(i), "CF_XDR_MC": "济宁示例科技有限公司"} for i in range(7)]
    keys = [f"key-{i}" for i in range(7)]
    used = helpers.helper_cpu_s
    envelopes = helpers.seal_many(payloads, keys, NOW)

    assert helpers.helper_cpu_s > used  # sealed by the helpers, not here
    jtis = set()
    for payload, key, envelope in zip(payloads, keys, envelopes, strict=True):
        opened = open_envelope(envelope, decryption_keys=[PLATFORM_ENC], trusted_signers=[JNX_SIG.public()],
                               replay_guard=None, now=NOW)
        assert (opened.payload, opened.idempotency_key, opened.signer_kid) == (item_bytes(payload), key, JNX_SIG.kid)
        assert opened.expires_at - opened.issued_at == dt.timedelta(hours=24)
        jtis.add(opened.jti)
    assert len(jtis) == 7  # every envelope its own jti


def test_receipts_checked_in_helpers_get_the_verifiers_verdicts(helpers: EnvelopeHelpers) -> None:
    pairs = [("k1", _signed("k1", "accepted")), ("k2", _signed("other", "accepted")), ("k3", _signed("k3", "accepted", STRANGER_SIG)),
             ("k4", Receipt("k4", ReceiptStatus.ACCEPTED, raw={"status": "accepted"})),
             ("k5", Receipt("k5", ReceiptStatus.REJECTED, raw={"signed": _signed("k5", "accepted").raw["signed"]})),  # type: ignore[index]
             ("k6", Receipt("k6", ReceiptStatus.ACCEPTED, raw={"signed": 12}))]
    answers = helpers.check_many(pairs)

    assert answers == [helpers.verifier(key, receipt) for key, receipt in pairs]  # the same verdicts as in-process
    assert answers[0] is None and answers[3] is None  # verified; unsigned and not required
    assert "not this item" in str(answers[1]) and "does not verify" in str(answers[2])
    assert "says 'accepted'" in str(answers[4]) and "not a compact JWS" in str(answers[5])


def test_small_batches_and_broken_helpers_are_done_in_this_process() -> None:
    pool = EnvelopeHelpers(EnvelopeSealer(JNX_SIG, PLATFORM_ENC.public()), ReceiptVerifier(()), processes=2, min_items=3,
                           start_after=4)
    try:
        assert len(pool.seal_many([{"a": "1"}, {"a": "2"}], ["k1", "k2"], NOW)) == 2
        assert pool._pool is None  # two items: not worth the helpers
        assert len(pool.seal_many([{"a": str(i)} for i in range(4)], [f"k{i}" for i in range(4)], NOW)) == 4
        assert pool._pool is None  # sealed here: only 2 items so far, the helpers start after 4
        pool.seal_many([{"a": str(i)} for i in range(4)], [f"k{i}" for i in range(4)], NOW)  # 6 sealed here: starting
        assert pool._pool is not None
        assert pool.start()
        assert pool._pool is not None
        for process in pool._pool._processes.values():  # the helpers die
            process.kill()
            process.join()
        envelopes = pool.seal_many([{"a": str(i)} for i in range(4)], [f"k{i}" for i in range(4)], NOW)
        assert len(envelopes) == 4 and pool._pool is None  # sealed here instead, helpers retired
        opened = open_envelope(envelopes[3], decryption_keys=[PLATFORM_ENC], trusted_signers=[JNX_SIG.public()],
                               replay_guard=None, now=NOW)
        assert opened.idempotency_key == "k3"
    finally:
        pool.close()


def test_an_outbox_pushing_through_helpers_gets_each_item_acknowledged_once(
    sessions: Any, rules: Any, migrated_engine: Any, one_process: str,  # noqa: F811
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    derive(sessions, rules, *[("penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}{i:03d}号",
                                                 decision_date="2026-11-02")) for i in range(30)])
    config = RestConfig.model_validate({"lines": [{"url": one_process}], "retry": {"attempts": 1},
                                        "push": {"paths": {"penalty": "/envelopes/batch"}, "max_batch": 12,
                                                 "batch_extra": {"batch_no": "{batch_no}"}}})
    adapters = build_adapters(config, MappingSecrets({}))
    pool = EnvelopeHelpers(EnvelopeSealer(JNX_SIG, PLATFORM_ENC.public()), ReceiptVerifier((PLATFORM_SIG.public(),), required=True),
                           processes=2, min_items=5, start_after=0)
    try:
        assert pool.start()  # started and answering (a pass seals here while they start)
        outbox = Outbox(migrated_engine, adapters.pusher, sealer=pool, receipt_check=pool,  # type: ignore[arg-type]
                        batch_size=12, policy=RetryPolicy())
        summary = outbox.deliver_due()
        assert (summary.claimed, summary.acknowledged, summary.retried, summary.batches) == (30, 30, 0, 3)
        assert pool.helper_cpu_s > 0
        assert outbox.deliver_due().claimed == 0
    finally:
        pool.close()
        adapters.close()
    with sessions() as session:
        rows = session.execute(select(Delivery, DisclosureRevision.payload)
                               .join(DisclosureRevision, Delivery.disclosure_revision_id == DisclosureRevision.id)).all()
    mine = [d for d, payload in rows if tag in json.dumps(payload, ensure_ascii=False)]
    assert len(mine) == 30
    assert {d.status for d in mine} == {DeliveryStatus.ACKNOWLEDGED}
    assert all(d.envelope and d.receipt["raw"]["signed"] for d in mine)  # the envelope kept, the receipt signed
    assert len({d.receipt["raw"]["idempotency_key"] for d in mine}) == 30
