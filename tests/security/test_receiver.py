"""The receiving side: one receipt per idempotency key, replays and strangers refused with their
codes, receipts signed by the receiver and checkable by the sender; also over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from jnx.security.envelope import seal
from jnx.security.errors import Replayed, UnknownSigner
from jnx.security.keys import KeyUse, Suite, generate_private_key
from jnx.security.receiver import (
    Receipt,
    Receiver,
    SqliteReceiptStore,
    Verdict,
    verify_receipt,
)
from jnx.security.receiver_http import make_server
from tests.security.conftest import NOW, Parties

PLATFORM_SIGNING = {suite: generate_private_key(f"platform-{suite.value}-sig", suite, KeyUse.SIG) for suite in Suite}


def _receiver(parties: Parties, tmp_path: Path, **kwargs) -> Receiver:  # type: ignore[no-untyped-def]
    return Receiver(
        decryption_keys=[parties.platform_decryption],
        trusted_signers=[parties.jnx_signing.public()],
        signing_key=PLATFORM_SIGNING[parties.platform_decryption.suite],
        store=SqliteReceiptStore(tmp_path / "receiver.db"),
        clock=lambda: NOW,
        **kwargs,
    )


def _envelope(parties: Parties, payload: bytes, key: str) -> str:
    return seal(payload, signer=parties.jnx_signing, recipient=parties.platform_decryption.public(), now=NOW, idempotency_key=key)


def test_same_idempotency_key_gets_the_first_receipt(parties: Parties, tmp_path: Path) -> None:
    receiver = _receiver(parties, tmp_path)
    first = receiver.receive(_envelope(parties, b'{"n":1}', "disclosure-7-r1"))
    again = receiver.receive(_envelope(parties, b'{"n":1}', "disclosure-7-r1"))
    other = receiver.receive(_envelope(parties, b'{"n":1}', "disclosure-7-r2"))
    assert again == first and again.signed == first.signed
    assert other.receipt_id != first.receipt_id
    assert receiver.store.payload_for("disclosure-7-r1") == b'{"n":1}'  # type: ignore[attr-defined]


def test_receipt_is_signed_by_the_receiver_and_verifies_for_the_sender(parties: Parties, tmp_path: Path) -> None:
    receipt = _receiver(parties, tmp_path).receive(_envelope(parties, b"{}", "k1"))
    platform_public = PLATFORM_SIGNING[parties.platform_decryption.suite].public()
    assert verify_receipt(receipt.signed, [platform_public]) == receipt
    with pytest.raises(UnknownSigner):
        verify_receipt(receipt.signed, [parties.jnx_signing.public()])


def test_the_identical_envelope_twice_is_a_replay(parties: Parties, tmp_path: Path) -> None:
    receiver = _receiver(parties, tmp_path)
    token = _envelope(parties, b"{}", "k1")
    receiver.receive(token)
    with pytest.raises(Replayed):
        receiver.receive(token)


def test_replay_memory_survives_a_restart_of_the_receiver(jose_parties: Parties, tmp_path: Path) -> None:
    token = _envelope(jose_parties, b"{}", "k1")
    _receiver(jose_parties, tmp_path).receive(token)
    with pytest.raises(Replayed):
        _receiver(jose_parties, tmp_path).receive(token)


def test_a_rejecting_handler_gives_a_signed_rejection_with_reasons(jose_parties: Parties, tmp_path: Path) -> None:
    receiver = _receiver(jose_parties, tmp_path, handler=lambda opened: Verdict(False, ("XK_XDR_SHXYM: check digit",)))
    receipt = receiver.receive(_envelope(jose_parties, b"{}", "k1"))
    assert receipt.status == "rejected" and receipt.reasons == ("XK_XDR_SHXYM: check digit",)


@pytest.fixture
def http_receiver(jose_parties: Parties, tmp_path: Path) -> Iterator[str]:
    server = make_server(_receiver(jose_parties, tmp_path), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _post(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(f"{url}/envelopes", data=body, headers={"Content-Type": "application/jose"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_http_endpoint_answers_receipts_and_coded_refusals(jose_parties: Parties, http_receiver: str) -> None:
    token = _envelope(jose_parties, b'{"n":1}', "k-http")
    status, body = _post(http_receiver, token.encode())
    assert status == 200 and body["status"] == "accepted" and body["signed"]
    assert _post(http_receiver, token.encode()) == (409, {"code": "JNX-ENV-REPLAYED", "error": f"envelope {body['envelope_jti']!r} was already received"})
    status, body = _post(http_receiver, b"garbage")
    assert status == 400 and body["code"] == "JNX-ENV-MALFORMED"
    expired = seal(b"{}", signer=jose_parties.jnx_signing, recipient=jose_parties.platform_decryption.public(),
                   now=NOW - dt.timedelta(hours=1))
    assert _post(http_receiver, expired.encode())[1]["code"] == "JNX-ENV-EXPIRED"


def test_a_resealed_retry_with_the_same_idempotency_key_gets_the_first_receipt(jose_parties: Parties, tmp_path: Path) -> None:
    # what jnx's outbox does after a lost answer: a new envelope (new jti), the same idempotency key
    receiver = _receiver(jose_parties, tmp_path)
    first = receiver.receive(_envelope(jose_parties, b'{"CF_WSH": "1"}', "k-retry"))
    again = receiver.receive(_envelope(jose_parties, b'{"CF_WSH": "1"}', "k-retry"))
    assert again.receipt_id == first.receipt_id


def test_a_batch_answers_each_envelope_in_order_and_a_refusal_does_not_stop_the_others(jose_parties: Parties, tmp_path: Path) -> None:
    receiver = _receiver(jose_parties, tmp_path)
    first = _envelope(jose_parties, b'{"n":1}', "b-1")
    answers = receiver.receive_many([first, b"garbage", first, _envelope(jose_parties, b'{"n":1}', "b-1"),
                                     _envelope(jose_parties, b'{"n":2}', "b-2")])
    codes = [getattr(a, "code", None) for a in answers]
    assert codes == [None, "JNX-ENV-MALFORMED", "JNX-ENV-REPLAYED", None, None]
    accepted, _, _, retried, second = answers
    assert retried.receipt_id == accepted.receipt_id != second.receipt_id  # type: ignore[union-attr]
    reopened = SqliteReceiptStore(tmp_path / "receiver.db")  # committed: another connection sees them
    assert reopened.receipt_for("b-2") == second and reopened.payload_for("b-1") == b'{"n":1}'


def test_a_batch_that_fails_midway_stores_nothing_so_the_sender_can_resend_it(jose_parties: Parties, tmp_path: Path) -> None:
    def handler(opened):  # type: ignore[no-untyped-def]
        if opened.idempotency_key == "f-2":
            raise RuntimeError("the platform's database went away")
        return Verdict()

    tokens = [_envelope(jose_parties, b"{}", "f-1"), _envelope(jose_parties, b"{}", "f-2")]
    with pytest.raises(RuntimeError):
        _receiver(jose_parties, tmp_path, handler=handler).receive_many(tokens)
    store = SqliteReceiptStore(tmp_path / "receiver.db")
    assert store.receipt_for("f-1") is None
    answers = _receiver(jose_parties, tmp_path).receive_many(tokens)  # the same envelopes are not replays
    assert [a.status for a in answers] == ["accepted", "accepted"]  # type: ignore[union-attr]


def test_expired_envelope_ids_are_swept_through_an_index_and_receipts_are_durable_unless_told(tmp_path: Path) -> None:
    store = SqliteReceiptStore(tmp_path / "receiver.db")
    assert store.first_sighting("old", NOW, NOW)
    later = NOW + dt.timedelta(minutes=6)
    assert store.first_sighting("new", later + dt.timedelta(minutes=10), later)  # sweeps "old"
    assert store.first_sighting("old", NOW, later + dt.timedelta(seconds=30))  # forgotten: swept
    plan = store._db.execute("EXPLAIN QUERY PLAN DELETE FROM seen_envelopes WHERE expires_at < ?", ("x",)).fetchall()
    assert "seen_envelopes_expiry" in str(plan)
    assert store._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL: an answered receipt survives a power loss
    fast = SqliteReceiptStore(tmp_path / "fast.db", durable=False)
    assert fast._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL, chosen explicitly


def test_receipt_fields_are_every_field_but_the_signature() -> None:
    receipt = Receipt("r", "k", "j", "rejected", ("CF_WSH: missing",), "2026-11-25T00:00:00+00:00", "0" * 64, signed="x.y.z")
    assert set(receipt.fields()) == {f.name for f in fields(Receipt)} - {"signed"}
    assert receipt.fields()["reasons"] == ["CF_WSH: missing"]


def test_the_handler_sees_an_envelope_that_passed_every_check_including_replay(jose_parties: Parties, tmp_path: Path) -> None:
    seen: list[tuple[str, ...]] = []
    receiver = _receiver(jose_parties, tmp_path, handler=lambda opened: seen.append(opened.checks) or Verdict())
    token = _envelope(jose_parties, b"{}", "h-1")
    receiver.receive_many([token, token])
    assert len(seen) == 1 and len(seen[0]) == 4 and seen[0][-1] == "not replayed"
