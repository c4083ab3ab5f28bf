"""The outbox against the real sandbox credit platform on loopback, on SQLite and PostgreSQL: batches,
receipts, rejections cleared by corrections, retries and back-off, lost answers, permanent failures,
envelopes, superseded revisions — and exactly once on the platform whatever is killed when."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from sqlalchemy import select

from jnx.adapters.config import MappingSecrets
from jnx.exchange.registry import RegisteredSystem
from jnx.publicity.delivery import credit_outbox
from jnx.publicity.derive import DisclosureRules
from jnx.publicity.outbox import ENVELOPE_FIELD, Outbox, RetryPolicy, stored_envelope
from jnx.publicity.rules import InvalidLicencePublication, PublicationPolicy
from jnx.publicity.sealing import EnvelopeSealer
from jnx.sandbox.credit import CreditPlatform, UnwrapError, plain_json
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.security.envelope import open_envelope
from jnx.security.keys import KeyUse, Suite, generate_private_key
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureRevision,
    DisclosureStatus,
)
from tests.exchange.conftest import (
    CREDIT_SECRETS,
    credit_registration,
    derive,
    register_credit,
    sample,
)


def platform(sandbox: Sandbox) -> CreditPlatform:
    credit = sandbox.servers["credit"].platform
    assert isinstance(credit, CreditPlatform)
    return credit


def held(sandbox: Sandbox, kind: str, wsh: str) -> list[Any]:
    store = platform(sandbox).store
    with store.lock:
        return [h for (k, _, w), h in store.records.items() if k == kind and w == wsh]


def created_results(sandbox: Sandbox, wsh: str) -> int:
    """How many receipts on the platform say a record with this 文书号 was *created*."""
    store = platform(sandbox).store
    with store.lock:
        bodies = [json.loads(body) for _, body in store.receipts.values()]
    return sum(1 for b in bodies for r in b["results"] if r.get("wsh") == wsh and r.get("action") == "created")


@pytest.fixture
def tag() -> str:
    """Document numbers of this test alone (the platform outlives a test: SQLite and PostgreSQL share it)."""
    return uuid.uuid4().hex[:8].upper()


def penalties(n: int, tag: str) -> list[tuple[str, dict[str, Any]]]:
    return [("penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}{i:04d}号", decision_date="2026-11-02"))
            for i in range(n)]


@pytest.fixture
def system(sessions: Any, credit: Sandbox) -> RegisteredSystem:
    return register_credit(sessions, credit)


def outbox_for(migrated_engine: Any, system: RegisteredSystem, **options: Any) -> Iterator[Outbox]:
    with credit_outbox(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None, **options) as wired:
        yield wired.outbox


@pytest.fixture
def outbox(migrated_engine: Any, system: RegisteredSystem) -> Iterator[Outbox]:
    yield from outbox_for(migrated_engine, system, batch_size=7)


def statuses(sessions: Any) -> dict[str, str]:
    with sessions() as session:
        return {d.business_key.split("|")[1]: d.status.value for d in session.scalars(select(Disclosure))}


def test_due_disclosures_go_out_in_batches_and_come_back_acknowledged_with_their_receipts(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, outbox: Outbox, tag: str
) -> None:
    derive(sessions, rules, *penalties(20, tag + "A"), ("license", sample("license.valid", document_number=f"JY1-{tag}")))

    summary = outbox.deliver_due()

    assert (summary.claimed, summary.acknowledged, summary.batches) == (21, 21, 3)
    assert set(statuses(sessions).values()) == {"published"}
    with sessions() as session:
        delivery = session.scalars(select(Delivery)).first()
        assert delivery is not None and delivery.receipt and delivery.receipt["receipt_id"].startswith("HZ")
        assert delivery.receipt["record_id"].startswith("SGS-")
    for i in range(20):
        [record] = held(credit, "xzcf", f"济市监罚〔2026〕{tag}A{i:04d}号")
        assert record.source == "push" and record.record["CF_GSJZQ"] == "2029-11-02"
    assert outbox.deliver_due().claimed == 0


class ProgressLog:
    """A :class:`~jnx.progress.WorkProgress` that writes down what it is told: one
    ``(label, total, [advances…])`` per step."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, int | None, list[int]]] = []
        self.notes: list[str] = []

    def start(self, label: str, total: int | None) -> None:
        self.steps.append((label, total, []))

    def advance(self, done: int) -> None:
        self.steps[-1][2].append(done)

    def note(self, text: str) -> None:
        self.notes.append(text)


def test_a_delivery_pass_reports_each_recorded_batch_to_its_progress(
    sessions: Any, rules: DisclosureRules, outbox: Outbox, tag: str
) -> None:
    derive(sessions, rules, *penalties(17, tag + "G"))
    log = ProgressLog()

    summary = outbox.deliver_due(progress=log)

    assert (summary.claimed, summary.acknowledged, summary.batches) == (17, 17, 3)
    assert log.steps == [("delivering", None, [7, 7, 3])]  # how many are due is not known ahead
    idle = ProgressLog()
    assert outbox.deliver_due(progress=idle).claimed == 0
    assert idle.steps == [("delivering", None, [])]


def test_a_rejection_is_reviewable_and_a_corrected_revision_clears_it(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, outbox: Outbox, tag: str
) -> None:
    # jnx's clock runs ahead of the platform's: a decision "tomorrow" for the platform passes jnx's checks
    today = dt.date.today()
    ahead = DisclosureRules(calendar=rules.calendar, tables=rules.tables, today=lambda: today + dt.timedelta(days=30))
    person = sample("penalty.natural_person", document_number=f"济市监罚〔2026〕{tag}R1号",
                    decision_date=(today + dt.timedelta(days=20)).isoformat())
    derive(sessions, ahead, ("penalty", person))
    summary = outbox.deliver_due()

    assert summary.rejected == 1
    with sessions() as session:
        disclosure = session.scalars(select(Disclosure)).one()
        assert disclosure.status is DisclosureStatus.REJECTED
        assert disclosure.problems == [{"field": "CF_JDRQ", "rule": "RANGE", "message": "决定日期不能晚于今天"}]
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.status is DeliveryStatus.REJECTED and delivery.receipt and delivery.receipt["status"] == "rejected"

    derive(sessions, ahead, ("penalty", {**person, "decision_date": (today - dt.timedelta(days=2)).isoformat()}))
    assert outbox.deliver_due().acknowledged == 1
    with sessions() as session:
        disclosure = session.scalars(select(Disclosure)).one()
        assert disclosure.status is DisclosureStatus.PUBLISHED and disclosure.problems is None
    [record] = held(credit, "xzcf", f"济市监罚〔2026〕{tag}R1号")
    assert record.record["CF_XDR_MC"] == "王**" and record.record["CF_XDR_ZJHM"] == "370811********0027"


def test_a_correction_and_a_withdrawal_reach_the_platform_as_such(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, outbox: Outbox, tag: str
) -> None:
    rules = replace(rules, publication=PublicationPolicy(invalid_licences=InvalidLicencePublication.WITHDRAWN))
    licence = sample("license.valid", document_number=f"JY1-{tag}")
    derive(sessions, rules, ("license", licence))
    outbox.deliver_due()
    derive(sessions, rules, ("license", {**licence, "license_content": "预包装食品销售；散装食品销售"}))
    assert outbox.deliver_due().acknowledged == 1
    [record] = held(credit, "xzxk", f"JY1-{tag}")
    assert record.record["XK_NR"] == "预包装食品销售；散装食品销售" and record.status == "published"

    derive(sessions, rules, ("license", {**licence, "license_content": "预包装食品销售；散装食品销售", "license_status": "2"}))
    assert outbox.deliver_due().acknowledged == 1
    [record] = held(credit, "xzxk", f"JY1-{tag}")
    assert record.status == "withdrawn"
    assert statuses(sessions) == {f"JY1-{tag}": "withdrawn"}
    assert created_results(credit, f"JY1-{tag}") == 1


def test_all_lines_failing_releases_the_batch_with_back_off_then_it_goes_out(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, system: RegisteredSystem, tag: str
) -> None:
    derive(sessions, rules, *penalties(3, tag + "B"))
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    clock = [now]
    policy = RetryPolicy(initial=dt.timedelta(seconds=30), maximum=dt.timedelta(minutes=10), max_attempts=5)
    with credit_outbox(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None, policy=policy) as wired:
        outbox = wired.outbox
        outbox.clock = lambda: clock[0]
        credit.set_faults("credit", error_rate=1.0, error_status=503)
        first = outbox.deliver_due()
        assert (first.retried, first.acknowledged) == (3, 0) and "503" in first.errors[0]
        with sessions() as session:
            delivery = session.scalars(select(Delivery)).first()
            assert delivery is not None and delivery.status is DeliveryStatus.PENDING
            assert delivery.next_attempt_at == now + dt.timedelta(seconds=30) and "503" in (delivery.error or "")
        assert outbox.deliver_due().claimed == 0  # not due yet
        credit.clear_faults()
        clock[0] = now + dt.timedelta(seconds=31)
        assert outbox.deliver_due().acknowledged == 3


def test_a_delivery_that_keeps_failing_is_given_up_with_its_reason(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, system: RegisteredSystem, tag: str
) -> None:
    derive(sessions, rules, *penalties(1, tag + "G"))
    policy = RetryPolicy(initial=dt.timedelta(0), max_attempts=2)
    credit.set_faults("credit", error_rate=1.0)
    for wired_outbox in outbox_for(migrated_engine, system, policy=policy):
        summary = wired_outbox.deliver_due()  # no back-off: the second attempt is due in the same pass
        assert (summary.claimed, summary.retried, summary.failed) == (2, 1, 1)
    with sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.status is DeliveryStatus.FAILED and (delivery.error or "").startswith("gave up after 2 attempts")


def test_a_refused_token_fails_at_once_without_retrying(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, system: RegisteredSystem, tag: str
) -> None:
    derive(sessions, rules, *penalties(2, tag + "T"))
    with credit_outbox(migrated_engine, system, MappingSecrets({"CREDIT_TOKEN": "wrong"}), sleep=lambda _: None) as wired:
        summary = wired.outbox.deliver_due()
    assert (summary.failed, summary.retried) == (2, 0)
    with sessions() as session:
        assert all("AuthenticationError" in (d.error or "") for d in session.scalars(select(Delivery)))


class DroppingProxy:
    """A loopback proxy to the platform that forwards a push, lets the platform store it, and then
    drops the answer ``drops`` times: the classic duplicate risk."""

    def __init__(self, target: str, drops: int) -> None:
        self.drops = drops
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.post(target + self.path, data=body, headers=headers, timeout=10)
                proxy.forwarded += 1
                if proxy.drops > 0:
                    proxy.drops -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(answer.status_code)
                for name in ("Content-Type", "Idempotent-Replay"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_answer_lost_after_the_platform_stored_the_batch_is_answered_by_its_first_receipt(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, tag: str
) -> None:
    proxy = DroppingProxy(credit.url("credit", "primary"), drops=2)
    try:
        registration = credit_registration(credit)
        registration["adapter"]["lines"] = [{"url": proxy.url}]
        registration["adapter"]["health"] = {"failures_before_down": 5, "cooldown": 0}
        from jnx.exchange.registry import SystemRegistry, parse_registration

        with sessions.begin() as session:
            system, _ = SystemRegistry().register(session, parse_registration(registration, "test"))
        derive(sessions, rules, *penalties(4, tag + "D"))
        for outbox in outbox_for(migrated_engine, system):
            summary = outbox.deliver_due()
        assert summary.acknowledged == 4 and proxy.forwarded == 3  # two answers lost, the third a replay
        for i in range(4):
            assert len(held(credit, "xzcf", f"济市监罚〔2026〕{tag}D{i:04d}号")) == 1
            assert created_results(credit, f"济市监罚〔2026〕{tag}D{i:04d}号") == 1
    finally:
        proxy.close()


def test_a_revision_superseded_while_waiting_is_never_pushed(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, outbox: Outbox, tag: str
) -> None:
    record = sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}S1号")
    derive(sessions, rules, ("penalty", record))
    leases = outbox.leases.claim(outbox.worker_id, limit=10, lease_for=dt.timedelta(minutes=1))
    derive(sessions, rules, ("penalty", {**record, "penalty_content": "警告，罚款3000元", "fine_amount": "0.3"}))

    assert outbox.deliver(leases).superseded == 1
    assert held(credit, "xzcf", f"济市监罚〔2026〕{tag}S1号") == []
    assert outbox.deliver_due().acknowledged == 1
    [held_record] = held(credit, "xzcf", f"济市监罚〔2026〕{tag}S1号")
    assert held_record.record["CF_NR_FK"] == "0.3"


# ---------------------------------------------------------------- pipelining
class CountingSealer:
    """Seals nothing for real: counts the items sealed so far (the outbox's side of the pipeline)."""

    ttl = dt.timedelta(hours=1)

    def __init__(self) -> None:
        self.sealed = 0
        self.changed = threading.Condition()

    def seal(self, payload: bytes, *, idempotency_key: str, now: dt.datetime) -> str:
        with self.changed:
            self.sealed += 1
            self.changed.notify_all()
        return f"sealed:{idempotency_key}"


class OverlapPusher:
    """Answers batch k only once the outbox has sealed batch k+1 (or after ``patience`` seconds), and
    notes which batches overlapped; ``fail_batch`` raises a transient error for that batch instead."""

    def __init__(self, sealer: CountingSealer, batch_size: int, total: int, fail_batch: int | None = None,
                 patience: float = 3.0) -> None:
        self.sealer, self.batch_size, self.total = sealer, batch_size, total
        self.fail_batch, self.patience = fail_batch, patience
        self.batches: list[list[str]] = []
        self.overlapped: list[bool] = []

    def push(self, batch: list[Any]) -> list[Any]:
        from jnx.adapters.base import Receipt, ReceiptStatus
        from jnx.errors import TransientError

        self.batches.append([item.idempotency_key for item in batch])
        next_sealed = min(len(self.batches) * self.batch_size + 1, self.total)
        with self.sealer.changed:
            self.overlapped.append(self.sealer.changed.wait_for(lambda: self.sealer.sealed >= next_sealed, self.patience))
        if len(self.batches) == self.fail_batch:
            raise TransientError("line down")
        return [Receipt(item.idempotency_key, ReceiptStatus.ACCEPTED, receipt_id=f"R-{item.idempotency_key}") for item in batch]


def test_the_next_batch_is_sealed_while_the_previous_one_is_in_flight_and_each_is_recorded_once(
    sessions: Any, rules: DisclosureRules, migrated_engine: Any, tag: str
) -> None:
    derive(sessions, rules, *penalties(12, tag + "P"))
    sealer = CountingSealer()
    pusher = OverlapPusher(sealer, batch_size=5, total=12)
    summary = Outbox(migrated_engine, pusher, sealer=sealer, batch_size=5).deliver_due()

    assert (summary.claimed, summary.acknowledged, summary.batches) == (12, 12, 3)
    assert pusher.overlapped == [True, True, True]  # the last batch waited for nothing more to seal
    keys = [key for batch in pusher.batches for key in batch]
    assert len(keys) == len(set(keys)) == 12
    assert set(statuses(sessions).values()) == {"published"}
    with sessions() as session:
        assert {d.receipt["receipt_id"] for d in session.scalars(select(Delivery))} == {f"R-{k}" for k in keys}


def test_a_batch_failing_in_the_pipeline_is_released_alone_with_back_off(
    sessions: Any, rules: DisclosureRules, migrated_engine: Any, tag: str
) -> None:
    derive(sessions, rules, *penalties(12, tag + "Q"))
    sealer = CountingSealer()
    pusher = OverlapPusher(sealer, batch_size=5, total=12, fail_batch=2)
    outbox = Outbox(migrated_engine, pusher, sealer=sealer, batch_size=5)
    summary = outbox.deliver_due()

    assert (summary.claimed, summary.acknowledged, summary.retried) == (12, 7, 5)
    failed = set(pusher.batches[1])
    with sessions() as session:
        for delivery in session.scalars(select(Delivery)):
            waiting = delivery.status is DeliveryStatus.PENDING
            assert waiting == (delivery.disclosure_revision.idempotency_key in failed)
            assert not waiting or "line down" in (delivery.error or "")


# ---------------------------------------------------------------- envelopes
PLATFORM_ENC = generate_private_key("credit-platform-enc-1", Suite.JOSE, KeyUse.ENC)
JNX_SIG = generate_private_key("jnx-sig-1", Suite.JOSE, KeyUse.SIG)


def open_records(body: bytes, headers: Any) -> Any:
    """The platform's receive step with envelopes: every record arrives sealed; open each."""
    document = plain_json(body, headers)
    records = document.get("records") if isinstance(document, dict) and "records" in document else [document]
    opened = []
    for record in records:
        if not isinstance(record, dict) or ENVELOPE_FIELD not in record:
            raise UnwrapError("every record must be an envelope")
        envelope = open_envelope(record[ENVELOPE_FIELD], decryption_keys=[PLATFORM_ENC], trusted_signers=[JNX_SIG.public()],
                                 replay_guard=None, now=dt.datetime.now(dt.UTC))
        opened.append(json.loads(envelope.payload))
    return {**document, "records": opened} if "records" in document else opened[0]


@pytest.fixture(scope="module")
def sealed_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=12, records=30, port_base=0, unwrap=open_records)) as sandbox:
        yield sandbox


def test_sealed_items_are_signed_by_jnx_encrypted_to_the_platform_and_resealed_on_retry(
    sessions: Any, rules: DisclosureRules, sealed_sandbox: Sandbox, migrated_engine: Any, tag: str
) -> None:
    system = register_credit(sessions, sealed_sandbox)
    derive(sessions, rules, ("penalty", sample("penalty.natural_person", document_number=f"济市监罚〔2026〕{tag}E1号",
                                                party_id_type="护照号", party_id_number="E12345678")),
           *penalties(2, tag + "E"))
    sealer = EnvelopeSealer(JNX_SIG, PLATFORM_ENC.public())
    with credit_outbox(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None) as wired:
        wired.outbox.sealer = sealer
        sealed_sandbox.set_faults("credit", fail_next=1, error_status=503)  # first try fails: resealed, same key
        assert wired.outbox.deliver_due().acknowledged == 3
    [record] = held(sealed_sandbox, "xzcf", f"济市监罚〔2026〕{tag}E1号")
    assert record.record["CF_XDR_MC"] == "王**"
    with sessions() as session:
        envelopes = [stored_envelope(d.envelope) for d in session.scalars(select(Delivery))]
    assert all(e is not None and e[0].count(".") == 4 for e in envelopes)  # compact JWE
    assert "王" not in json.dumps([e[0] for e in envelopes if e])  # nothing readable without the platform's key


# ---------------------------------------------------------------- SIGKILL
WORKER = """
import sys, datetime as dt
from jnx.adapters.config import MappingSecrets
from jnx.store.db import create_engine_for, session_factory
from jnx.publicity.delivery import credit_outbox
from jnx.exchange.registry import SystemRegistry
url, token = sys.argv[1], sys.argv[2]
engine = create_engine_for(url)
with session_factory(engine)() as session:
    system = SystemRegistry().get(session, "credit-jn")
with credit_outbox(engine, system, MappingSecrets({"CREDIT_TOKEN": token}), batch_size=3) as wired:
    wired.outbox.lease_for = dt.timedelta(seconds=1)
    while wired.outbox.deliver_due(limit=3).claimed:
        pass
print("done")
"""


@pytest.mark.slow
def test_workers_killed_right_after_a_push_leave_every_disclosure_acknowledged_exactly_once(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, database_url: str, system: RegisteredSystem, tag: str
) -> None:
    from tests.exchange.conftest import Credentials

    derive(sessions, rules, *penalties(40, tag + "K"))
    credit.set_faults("credit", latency_ms=15, error_rate=0.1)
    store = platform(credit).store
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    command = [sys.executable, "-c", WORKER, database_url, Credentials().credit_token]

    def ours_on_platform() -> int:
        with store.lock:
            return sum(1 for (_, _, wsh) in store.records if f"{tag}K" in wsh)

    def acknowledged() -> int:
        with sessions() as session:
            return sum(1 for d in session.scalars(select(Delivery)) if d.status is DeliveryStatus.ACKNOWLEDGED)

    kills = pushed_not_recorded = 0
    for _ in range(5):
        before = ours_on_platform()
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while worker.poll() is None and ours_on_platform() == before and time.monotonic() < deadline:
            time.sleep(0.001)  # kill right after the platform stored a batch: before the worker records it
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            kills += 1
        worker.wait(timeout=30)
        pushed_not_recorded += ours_on_platform() > acknowledged()
        time.sleep(1.1)  # the killed worker's leases expire
    credit.clear_faults()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-2000:]

    assert kills >= 3 and pushed_not_recorded >= 1  # the crash between push and record did happen
    assert set(statuses(sessions).values()) == {"published"}
    with sessions() as session:
        assert {d.status for d in session.scalars(select(Delivery))} == {DeliveryStatus.ACKNOWLEDGED}
        assert all(r.action is DisclosureAction.NEW for r in session.scalars(select(DisclosureRevision)))
    for i in range(40):
        wsh = f"济市监罚〔2026〕{tag}K{i:04d}号"
        assert len(held(credit, "xzcf", wsh)) == 1 and created_results(credit, wsh) == 1


def test_jnx_disclosures_deliver_pushes_what_is_due_for_cron(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, database_url: str, tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch, tag: str
) -> None:
    from tests.exchange.conftest import Credentials
    from tests.publicity.test_derive import jnx

    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JNX_DATABASE_URL", database_url)
    derive(sessions, rules, *penalties(3, tag))
    missing = jnx("disclosures", "deliver", "--json")
    assert missing.exit_code != 0 and "no enabled system of kind `credit`" in str(missing.exception)

    register_credit(sessions, credit)
    monkeypatch.setenv("CREDIT_TOKEN", Credentials().credit_token)
    result = jnx("disclosures", "deliver", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["acknowledged"] == 3
    assert "claimed 0" in jnx("disclosures", "deliver").stdout
    from jnx.security.audit_sql import SqlAuditStore
    from jnx.store.db import create_engine_for

    engine = create_engine_for(database_url)
    [entry] = [e for e in SqlAuditStore(engine).entries() if e.action == "disclosure.push"]
    engine.dispose()
    assert entry.details["acknowledged"] == 3 and len(entry.details["idempotency_keys"]) == 3


@pytest.mark.slow
def test_random_corrections_withdrawals_and_faults_leave_the_platform_holding_exactly_jnxs_latest_state(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, tag: str
) -> None:
    from jnx.exchange.registry import SystemRegistry, parse_registration
    from jnx.publicity.actions import withdraw

    registration = credit_registration(credit)
    registration["adapter"]["health"] = {"failures_before_down": 100, "cooldown": 0}  # faults here are brief
    with sessions.begin() as session:
        system, _ = SystemRegistry().register(session, parse_registration(registration, "test"))

    rng = random.Random(42)  # a fixed sequence of steps (that has corrections, withdrawals and faults)
    numbers = [f"济市监罚〔2026〕{tag}X{i}号" for i in range(4)]
    fines = {wsh: 1 for wsh in numbers}

    def record(wsh: str) -> tuple[str, dict[str, Any]]:
        fine = fines[wsh]
        return ("penalty", sample("penalty.valid", document_number=wsh, decision_date="2026-11-02",
                                  penalty_content=f"警告，罚款{fine}000元", fine_amount=str(fine / 10)))

    derive(sessions, rules, *[record(wsh) for wsh in numbers])
    policy = RetryPolicy(initial=dt.timedelta(0), max_attempts=1000)
    for outbox in outbox_for(migrated_engine, system, policy=policy, batch_size=3):
        for _ in range(25):
            step = rng.random()
            wsh = rng.choice(numbers)
            if step < 0.4:  # the decision is changed at the source: a correction
                fines[wsh] += 1
                derive(sessions, rules, record(wsh))
            elif step < 0.55:  # revoked by hand
                with sessions.begin() as session:
                    disclosure = session.scalars(select(Disclosure).where(Disclosure.business_key.endswith(wsh))).one()
                    if disclosure.status is not DisclosureStatus.WITHDRAWN:
                        withdraw(session, disclosure.id, "决定被撤销", rules.calendar, dt.date(2026, 11, 25))
            else:  # a delivery pass, sometimes against a platform failing a few requests
                if rng.random() < 0.5:
                    credit.set_faults("credit", fail_next=rng.randint(1, 4))
                outbox.deliver_due()
                credit.clear_faults()
        outbox.deliver_due()

    with sessions() as session:
        actions = {r.action for r in session.scalars(select(DisclosureRevision))}
        assert actions == {DisclosureAction.NEW, DisclosureAction.CORRECTION, DisclosureAction.WITHDRAWAL}
        for wsh in numbers:
            disclosure = session.scalars(select(Disclosure).where(Disclosure.business_key.endswith(wsh))).one()
            current = session.scalars(select(DisclosureRevision).where(
                DisclosureRevision.disclosure_id == disclosure.id, DisclosureRevision.revision == disclosure.current_revision)).one()
            deliveries = list(session.scalars(select(Delivery).where(Delivery.disclosure_revision_id == current.id)))
            held_records = held(credit, "xzcf", wsh)
            assert len(held_records) == 1 and created_results(credit, wsh) == 1
            if disclosure.status is DisclosureStatus.WITHDRAWN:
                assert held_records[0].status == "withdrawn"
            else:
                assert disclosure.status is DisclosureStatus.PUBLISHED, (wsh, disclosure.status)
                assert [d.status for d in deliveries] == [DeliveryStatus.ACKNOWLEDGED]
                assert held_records[0].status == "published" and held_records[0].record == current.payload
