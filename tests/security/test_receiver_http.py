"""The reference receiver over loopback HTTP: the batch endpoint jnx's outbox can push to, and
several receiver processes on one port sharing one receipt file (real keys, real sockets)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jnx.adapters.base import OutboundItem, ReceiptStatus
from jnx.adapters.config import MappingSecrets, RestConfig
from jnx.adapters.factory import build_adapters
from jnx.errors import ConfigError
from jnx.security.envelope import OpenedEnvelope, seal
from jnx.security.keys import KeyUse, PrivateKey, Suite, generate_private_key
from jnx.security.receiver import Receiver, SqliteReceiptStore, Verdict, verify_receipt
from jnx.security.receiver_http import (
    MAX_BATCH,
    ReceiverProcessError,
    ReceiverProcesses,
    answer_batch,
    make_server,
)

ROOT = Path(__file__).resolve().parents[2]
JNX_SIG = generate_private_key("jnx-sig", Suite.JOSE, KeyUse.SIG)
PLATFORM_ENC = generate_private_key("platform-enc", Suite.JOSE, KeyUse.ENC)
PLATFORM_SIG = generate_private_key("platform-sig", Suite.JOSE, KeyUse.SIG)


def _which_process(opened: OpenedEnvelope) -> Verdict:
    """Accepts, naming the process that stored the receipt (so a test can tell the processes apart)."""
    return Verdict(True, (f"pid {os.getpid()}",))


@dataclass(frozen=True)
class PlatformReceiver:
    """A picklable receiver factory: each spawned process builds its own receiver on ``store``."""

    keys: tuple[bytes, bytes, bytes]
    store: str

    def __call__(self) -> Receiver:
        jnx_sig, platform_enc, platform_sig = (PrivateKey.from_secret_jwk_bytes(k) for k in self.keys)
        return Receiver(decryption_keys=[platform_enc], trusted_signers=[jnx_sig.public()], signing_key=platform_sig,
                        store=SqliteReceiptStore(self.store), handler=_which_process)


def _factory(tmp_path: Path) -> PlatformReceiver:
    keys = (JNX_SIG.secret_jwk_bytes(), PLATFORM_ENC.secret_jwk_bytes(), PLATFORM_SIG.secret_jwk_bytes())
    return PlatformReceiver(keys, str(tmp_path / "receiver.db"))


def _envelope(key: str, payload: bytes = b'{"CF_WSH": "1"}', *, now: dt.datetime | None = None,
              signer: PrivateKey = JNX_SIG) -> str:
    return seal(payload, signer=signer, recipient=PLATFORM_ENC.public(), now=now or dt.datetime.now(dt.UTC),
                idempotency_key=key)


def _post(url: str, body: bytes) -> tuple[int, Any]:
    """One POST on a new connection (urllib does not keep connections)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# ---------------------------------------------------------------- the batch endpoint (one process)
@pytest.fixture
def one_process(tmp_path: Path) -> Iterator[str]:
    server = make_server(_factory(tmp_path)(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_batch_answers_one_result_per_envelope_in_order_with_coded_refusals(one_process: str) -> None:
    first = _envelope("k-1")
    expired = _envelope("k-old", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    stranger = _envelope("k-stranger", signer=generate_private_key("stranger-sig", Suite.JOSE, KeyUse.SIG))
    records = [{"jnx_envelope": first}, {"jnx_envelope": "garbage"}, {"no_envelope": 1}, {"jnx_envelope": first},
               {"jnx_envelope": expired}, {"jnx_envelope": stranger}, {"jnx_envelope": _envelope("k-1")},
               {"jnx_envelope": _envelope("k-2")}]
    status, body = _post(f"{one_process}/envelopes/batch", json.dumps({"batch_no": "B1", "records": records}).encode())
    assert status == 200
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(records)))
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "rejected", "rejected", "rejected",
                                              "accepted", "accepted"]
    assert [r.get("code") for r in results] == [None, "JNX-ENV-MALFORMED", "JNX-ENV-MALFORMED", "JNX-ENV-REPLAYED",
                                                "JNX-ENV-EXPIRED", "JNX-ENV-UNKNOWN-SIGNER", None, None]
    for refused in results[1:6]:
        assert refused["reasons"] == [{"field": "", "code": refused["code"], "message": refused["error"]}]
    # the resealed retry of k-1 in the same batch gets k-1's first receipt; k-2 a new one
    assert results[6]["receipt_id"] == results[0]["receipt_id"] == results[0]["record_id"]
    assert results[7]["receipt_id"] != results[0]["receipt_id"]
    receipt = verify_receipt(results[0]["signed"], [PLATFORM_SIG.public()])
    assert receipt.fields() == {k: results[0][k] for k in receipt.fields()}
    # the same envelope again, alone: refused as a replay by both endpoints, coded alike
    status, single = _post(f"{one_process}/envelopes", first.encode())
    assert status == 409 and single["code"] == "JNX-ENV-REPLAYED"
    again = _post(f"{one_process}/envelopes/batch", json.dumps([first]).encode())[1]["results"][0]
    assert (again["code"], again["error"]) == (single["code"], single["error"])


def test_batch_takes_a_bare_list_of_tokens_or_one_envelope_object(one_process: str) -> None:
    status, body = _post(f"{one_process}/envelopes/batch", json.dumps([_envelope("a"), _envelope("b")]).encode())
    assert status == 200 and [r["idempotency_key"] for r in body["results"]] == ["a", "b"]
    status, body = _post(f"{one_process}/envelopes/batch", json.dumps({"jnx_envelope": _envelope("c")}).encode())
    assert status == 200 and [(r["index"], r["idempotency_key"]) for r in body["results"]] == [(0, "c")]


VALID = [seal(b"{}", signer=JNX_SIG, recipient=PLATFORM_ENC.public(), now=dt.datetime.now(dt.UTC), ttl=dt.timedelta(days=1),
              idempotency_key=f"h-{i}") for i in range(3)]  # sealed at import: valid however long the suite runs
ITEMS = st.one_of(st.sampled_from(VALID), st.text(max_size=40), st.integers(), st.none(),
                  st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(ITEMS, max_size=8))
def test_a_batch_answers_each_item_in_order_and_the_answer_is_always_json(tmp_path: Path, tokens: list[Any]) -> None:
    receiver = _factory(tmp_path)()
    receiver.store = SqliteReceiptStore(":memory:")  # a fresh replay memory per example
    results = answer_batch(receiver, tokens)
    assert [r["index"] for r in results] == list(range(len(tokens)))
    seen: set[str] = set()
    for token, result in zip(tokens, results, strict=True):
        if token in VALID and token not in seen:
            assert result["status"] == "accepted"
            seen.add(token)
        elif token in VALID:
            assert result["code"] == "JNX-ENV-REPLAYED"
        else:
            assert result["status"] == "rejected" and result["code"] == "JNX-ENV-MALFORMED"
    json.dumps({"results": results}, ensure_ascii=False).encode("utf-8")  # what the server sends


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"not json", 400, "BAD-REQUEST"),
    (b'{"batch_no": "B1"}', 400, "BAD-REQUEST"),
    (b'"a string"', 400, "BAD-REQUEST"),
    (json.dumps(["x"] * (MAX_BATCH + 1)).encode(), 413, "TOO-LARGE"),
])
def test_a_body_that_is_no_batch_is_refused_whole(one_process: str, body: bytes, status: int, code: str) -> None:
    answer = _post(f"{one_process}/envelopes/batch", body)
    assert answer[0] == status and answer[1]["code"] == code


def test_jnx_outbox_pusher_reads_the_batch_answer_as_receipts(one_process: str) -> None:
    # the REST pusher jnx's outbox uses, configured like a credit platform taking envelopes
    config = RestConfig.model_validate({
        "lines": [{"url": one_process}],
        "push": {"paths": {"penalty": "/envelopes/batch"}, "batch_extra": {"batch_no": "{batch_no}"}},
    })
    adapters = build_adapters(config, MappingSecrets({}))
    try:
        items = [OutboundItem("d-1", "penalty", {"jnx_envelope": _envelope("d-1")}),
                 OutboundItem("d-2", "penalty", {"jnx_envelope": "tampered"})]
        receipts = adapters.pusher.push(items)  # type: ignore[union-attr]
    finally:
        adapters.close()
    assert [r.status for r in receipts] == [ReceiptStatus.ACCEPTED, ReceiptStatus.REJECTED]
    assert receipts[0].record_id and receipts[0].raw["idempotency_key"] == "d-1"
    assert receipts[1].reasons[0].code == "JNX-ENV-MALFORMED"


def test_jnx_withdrawal_pusher_sends_one_envelope_and_reads_its_receipt(one_process: str) -> None:
    from jnx.publicity.delivery import SingleRecordPusher

    config = RestConfig.model_validate({"lines": [{"url": one_process}],
                                        "push": {"paths": {"penalty_withdrawal": "/envelopes/batch"}}})
    adapters = build_adapters(config, MappingSecrets({}))
    try:
        pusher = SingleRecordPusher(adapters.pusher)  # type: ignore[arg-type]
        [receipt] = pusher.push([OutboundItem("w-1", "penalty_withdrawal", {"jnx_envelope": _envelope("w-1")})])
    finally:
        adapters.close()
    assert receipt.status is ReceiptStatus.ACCEPTED and receipt.raw["idempotency_key"] == "w-1"


# ---------------------------------------------------------------- several processes on one port
@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[str, ReceiverProcesses]]:
    pool = ReceiverProcesses(_factory(tmp_path), processes=2)
    port = pool.start()
    yield f"http://127.0.0.1:{port}", pool
    pids = pool.pids
    pool.stop()
    assert all(_gone(pid) for pid in pids)


def test_two_processes_answer_on_one_port_and_share_the_receipt_store(two_processes: tuple[str, ReceiverProcesses]) -> None:
    url, pool = two_processes
    assert len(set(pool.pids)) == 2
    stored_by = {_post(f"{url}/envelopes", _envelope(f"k-{i}").encode())[1]["reasons"][0] for i in range(40)}
    assert stored_by == {f"pid {pid}" for pid in pool.pids}  # 40 connections: both processes answered

    first = _post(f"{url}/envelopes/batch", json.dumps([_envelope("shared")]).encode())[1]["results"][0]
    # resealed retries over new connections, whichever process takes them, get the first receipt
    retries = [_post(f"{url}/envelopes", _envelope("shared").encode())[1] for _ in range(12)]
    assert {(r["receipt_id"], r["signed"]) for r in retries} == {(first["receipt_id"], first["signed"])}

    replayed = _envelope("replayed")
    assert _post(f"{url}/envelopes", replayed.encode())[0] == 200
    answers = [_post(f"{url}/envelopes/batch", json.dumps([replayed]).encode())[1]["results"][0]["code"] for _ in range(12)]
    assert answers == ["JNX-ENV-REPLAYED"] * 12


def test_a_process_that_ends_is_reported_and_stop_leaves_none_behind(two_processes: tuple[str, ReceiverProcesses]) -> None:
    _, pool = two_processes
    assert pool.wait(0.2) is None
    victim, survivor = pool.pids
    os.kill(victim, signal.SIGKILL)
    ended = pool.wait(30)
    assert ended is not None and ended.pid == victim and ended.exitcode == -signal.SIGKILL
    assert "killed by SIGKILL" in ended.describe()
    pool.stop()
    assert _gone(victim) and _gone(survivor)


def test_a_port_in_use_is_a_clear_error_before_any_process_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        pool = ReceiverProcesses(_factory(tmp_path), processes=2, port=taken.getsockname()[1])
        with pytest.raises(ConfigError, match="cannot listen on 127.0.0.1"):
            pool.start()
        assert pool.pids == []


def test_a_process_that_cannot_start_stops_the_pool(tmp_path: Path) -> None:
    broken = PlatformReceiver((b"{}", b"{}", b"{}"), str(tmp_path / "receiver.db"))
    pool = ReceiverProcesses(broken, processes=2)
    with pytest.raises(ReceiverProcessError, match="could not start"):
        pool.start()
    assert all(_gone(pid) for pid in pool.pids)


# ---------------------------------------------------------------- jnx receiver serve --processes 2
PASSPHRASE = "receiver test passphrase"


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, list[int], PrivateKey, PrivateKey]]:
    """``jnx receiver serve --processes 2`` on a free port, with a home holding the platform's keys
    and jnx's signing key as a peer."""
    from jnx.security.keystore import signing_key
    from jnx.security.operator import key_store

    home = tmp_path / "home"
    home.mkdir()
    now = dt.datetime.now(dt.UTC)
    store = key_store(home, PASSPHRASE)
    store.generate(Suite.JOSE, KeyUse.ENC, now=now)
    store.generate(Suite.JOSE, KeyUse.SIG, now=now)
    store.import_peer(JNX_SIG.public(), now=now, name="jnx")
    enc = next(r.kid for r in store.records() if r.use is KeyUse.ENC)
    recipient, receipt_key = store.public_key(enc), signing_key(store, Suite.JOSE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JNX_HOME": str(home), "JNX_KEY_PASSPHRASE": PASSPHRASE}
    process = subprocess.Popen([sys.executable, "-m", "jnx.cli", "receiver", "serve", "--processes", "2", "--port", str(port)],
                               cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = process.stderr.readline()  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}/envelopes (2 processes, pids " in line, line
        pids = [int(p) for p in line.rsplit("pids ", 1)[1].rstrip(")\n").split(", ")]
        yield process, f"http://127.0.0.1:{port}", pids, recipient, receipt_key  # type: ignore[misc]
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.mark.parametrize(("to_group", "signum"), [(False, signal.SIGTERM), (True, signal.SIGINT), (True, signal.SIGTERM)],
                         ids=["sigterm-to-jnx", "ctrl-c-to-the-group", "sigterm-to-the-group"])
def test_serve_with_two_processes_receives_and_stops_cleanly(serving: Any, to_group: bool, signum: int) -> None:
    process, url, pids, recipient, receipt_key = serving
    token = seal(b"{}", signer=JNX_SIG, recipient=recipient, now=dt.datetime.now(dt.UTC), idempotency_key="cli-1")
    status, body = _post(f"{url}/envelopes/batch", json.dumps({"records": [{"jnx_envelope": token}]}).encode())
    assert status == 200 and body["results"][0]["status"] == "accepted"
    assert verify_receipt(body["results"][0]["signed"], [receipt_key.public()]).idempotency_key == "cli-1"
    if to_group:  # what a terminal's Ctrl-C, or systemd stopping the service, does
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    code, stderr = process.wait(timeout=30), process.stderr.read()
    assert code == 0, stderr
    assert all(_gone(pid) for pid in pids)


def test_serve_exits_non_zero_when_a_process_dies(serving: Any) -> None:
    process, _, pids, _, _ = serving
    os.kill(pids[0], signal.SIGKILL)
    code, stderr = process.wait(timeout=30), process.stderr.read()
    assert code == 5, stderr
    assert f"receiver process {pids[0]} was killed by SIGKILL" in stderr
    assert all(_gone(pid) for pid in pids)
