"""The fakes behave like the real adapters: protocols, watermarks, idempotent receipts, failures."""

from __future__ import annotations

import pytest

from jnx.adapters.base import OutboundItem, Puller, Pusher, ReceiptStatus
from jnx.adapters.errors import AuthenticationError, TransportError
from jnx.adapters.testing import FakePuller, FakePusher, fake_record

RECORDS = [fake_record(f"K{i}", f"2024-01-0{1 + i // 2}") for i in range(5)]


def test_the_fakes_satisfy_the_protocols() -> None:
    assert isinstance(FakePuller(RECORDS), Puller) and isinstance(FakePusher(), Pusher)


def test_the_fake_puller_pages_and_resumes_from_a_watermark() -> None:
    puller = FakePuller(RECORDS, page_size=2)
    pages = list(puller.pull(None))
    assert [[r.source_key for r in p.records] for p in pages] == [["K0", "K1"], ["K2", "K3"], ["K4"]]
    again = list(puller.pull(pages[0].watermark))
    assert [r.source_key for p in again for r in p.records] == ["K2", "K3", "K4"]


def test_the_fake_puller_fails_on_the_page_asked_once() -> None:
    puller = FakePuller(RECORDS, page_size=2, fail_on_page=2)
    with pytest.raises(TransportError):
        list(puller.pull(None))
    assert len(list(puller.pull(None))) == 3


def test_the_fake_pusher_answers_the_first_receipt_for_a_key_again() -> None:
    pusher = FakePusher(reject=lambda item: "CF_WSH 必填" if not item.payload else None, fail_calls=1)
    items = [OutboundItem("a", "penalty", {"x": 1}), OutboundItem("b", "penalty", {})]
    with pytest.raises(TransportError):
        pusher.push(items)
    first = pusher.push(items)
    assert [r.status for r in first] == [ReceiptStatus.ACCEPTED, ReceiptStatus.REJECTED]
    assert pusher.push(items) == first and len(pusher.held()) == 2


def test_the_failure_is_switchable_to_a_permanent_one() -> None:
    pusher = FakePusher(fail_calls=1, failure=AuthenticationError("wrong password"))
    with pytest.raises(AuthenticationError):
        pusher.push([OutboundItem("a", "penalty", {})])
