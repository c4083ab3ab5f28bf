"""The audit chain shows a changed, removed or reordered entry and says at which seq; concurrent
writers never fork it (in memory, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, text

from jnx.security.audit import GENESIS, MemoryAuditStore, verify_chain
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.errors import AuditChainBroken
from jnx.store.db import SQLITE_BEGIN
from tests.security.conftest import NOW


def _fill(store: MemoryAuditStore | SqlAuditStore, count: int = 5) -> None:
    for i in range(count):
        store.append(
            actor="admin", action="system.register", subject=f"system-{i}",
            details={"department": "济宁市市场监督管理局", "n": i}, at=NOW + dt.timedelta(seconds=i),
        )


def test_a_fresh_chain_verifies_and_starts_from_genesis() -> None:
    store = MemoryAuditStore()
    _fill(store)
    report = verify_chain(store.entries())
    assert report.entries == 5 and report.head == store.rows[-1].hash
    assert store.rows[0].prev_hash == GENESIS


def test_a_changed_entry_is_found_at_its_seq() -> None:
    store = MemoryAuditStore()
    _fill(store)
    store.rows[2] = dataclasses.replace(store.rows[2], details={"department": "someone else", "n": 2})
    with pytest.raises(AuditChainBroken) as caught:
        verify_chain(store.entries())
    assert caught.value.seq == 3 and "changed" in str(caught.value)


def test_a_removed_entry_is_found_where_the_gap_is() -> None:
    store = MemoryAuditStore()
    _fill(store)
    del store.rows[1]
    with pytest.raises(AuditChainBroken) as caught:
        verify_chain(store.entries())
    assert caught.value.seq == 2


def test_reordered_entries_are_found() -> None:
    store = MemoryAuditStore()
    _fill(store)
    a, b = store.rows[1], store.rows[3]
    store.rows[1] = dataclasses.replace(b, seq=a.seq)
    store.rows[3] = dataclasses.replace(a, seq=b.seq)
    with pytest.raises(AuditChainBroken) as caught:
        verify_chain(store.entries())
    assert caught.value.seq == 2


def test_cut_off_newest_entries_are_found_against_a_recorded_head() -> None:
    store = MemoryAuditStore()
    _fill(store)
    head = store.rows[-1].hash
    del store.rows[-1]
    assert verify_chain(store.entries()).entries == 4  # alone, a shorter chain is still a chain
    with pytest.raises(AuditChainBroken):
        verify_chain(store.entries(), expected_head=head)


def _sql_store(engine: Engine) -> SqlAuditStore:
    return SqlAuditStore(engine, writer_options={SQLITE_BEGIN: "IMMEDIATE"})


def test_sql_chain_round_trips_and_verifies(migrated_engine: Engine) -> None:
    store = _sql_store(migrated_engine)
    _fill(store)
    entries = list(store.entries())
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert verify_chain(entries).entries == 5


def test_sql_tampering_by_update_or_delete_is_found(migrated_engine: Engine) -> None:
    store = _sql_store(migrated_engine)
    _fill(store)
    with migrated_engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET subject = 'system-x' WHERE seq = 4"))
    with pytest.raises(AuditChainBroken) as caught:
        verify_chain(store.entries())
    assert caught.value.seq == 4
    with migrated_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    with pytest.raises(AuditChainBroken) as caught:
        verify_chain(store.entries())
    assert caught.value.seq == 2


def test_concurrent_appends_do_not_fork_the_chain(migrated_engine: Engine) -> None:
    store = _sql_store(migrated_engine)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                store.append(actor=f"worker-{n}", action="delivery.push", subject=f"d-{n}-{i}", details={}, at=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_chain(store.entries())
    assert report.entries == 40
