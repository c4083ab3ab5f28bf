"""The receiving side, for credit-platform operators: open an envelope, refuse replays, store each
delivery once, and answer with a receipt signed by the receiver.

    receiver = Receiver(decryption_keys=[...], trusted_signers=[...], signing_key=key,
                        store=SqliteReceiptStore(path))
    receipt = receiver.receive(token)        # raises EnvelopeError (with .code) when refused
    answers = receiver.receive_many(tokens)  # a batch in one transaction: a Receipt or an EnvelopeError each

The same idempotency key (from the envelope's signed header, else its jti) always gets the first
receipt back, whatever the payload of the later envelope; a byte-identical envelope sent twice is a
replay (``JNX-ENV-REPLAYED``): a sender retries with a newly sealed envelope and the same key.
See docs/receiving.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from jnx.security.encoding import Compact, canonical_json
from jnx.security.envelope import DEFAULT_MAX_LIFETIME, PROFILES, OpenedEnvelope, open_envelope, refuse_replay
from jnx.security.errors import EnvelopeError, MalformedEnvelope, UnknownSigner
from jnx.security.keys import PrivateKey, PublicKey
from jnx.store.db import ensure_private_file

RECEIPT_TYP = "jnx-receipt+jws"


@dataclass(frozen=True)
class Verdict:
    """What the platform's own checks say about a payload: accepted, or rejected with field reasons."""

    accepted: bool = True
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    idempotency_key: str
    envelope_jti: str
    status: str  # "accepted" | "rejected"
    reasons: tuple[str, ...]
    received_at: str
    payload_sha256: str
    signed: str = field(default="", compare=False)  # compact JWS over the fields above

    def fields(self) -> dict[str, Any]:
        """The signed fields as a JSON-ready dict (``reasons`` a list), without ``signed``."""
        return {
            "receipt_id": self.receipt_id,
            "idempotency_key": self.idempotency_key,
            "envelope_jti": self.envelope_jti,
            "status": self.status,
            "reasons": list(self.reasons),
            "received_at": self.received_at,
            "payload_sha256": self.payload_sha256,
        }


class ReceiptStore(Protocol):
    """Replay memory and first receipts, shared by every worker of a receiver."""

    def first_sighting(self, jti: str, expires_at: dt.datetime, now: dt.datetime) -> bool: ...
    def receipt_for(self, idempotency_key: str) -> Receipt | None: ...
    def keep(self, receipt: Receipt, payload: bytes) -> Receipt:
        """Store ``receipt`` unless one exists for its key; return the one that is stored."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Everything done inside is committed together (or not at all), before any receipt leaves."""
        ...


def _receipt_from_fields(data: dict[str, Any], signed: str) -> Receipt:
    return Receipt(**{**data, "reasons": tuple(data["reasons"])}, signed=signed)


_RECEIPT_JSON = json.JSONEncoder(ensure_ascii=False).encode  # = json.dumps(…, ensure_ascii=False), built once
SWEEP_EVERY = dt.timedelta(minutes=1)
SEEN_KEPT_AFTER_EXPIRY = dt.timedelta(minutes=5)


class SqliteReceiptStore:
    """Receipts and seen envelope ids in one SQLite file (the operator's, not jnx's database).

    WAL journal; :meth:`batch` commits a whole HTTP batch at once, before the receiver answers, so
    the fsync is paid once per batch. ``durable=True`` (the default, ``synchronous=FULL``) keeps every
    answered receipt across a power loss. ``durable=False`` (``synchronous=NORMAL``) skips that fsync:
    still safe against a crash of the receiver process, but after a power loss or OS crash the last
    commits may roll back — receipts already answered would be gone and their envelope ids
    forgotten, so only choose it where the sender's records are the reference. Expired envelope ids
    are swept through an index at most once a minute, not per envelope.
    """

    def __init__(self, path: Path | str, *, durable: bool = True) -> None:
        if str(path) != ":memory:":
            ensure_private_file(Path(path))  # 0600: it names every envelope and receipt
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._in_batch = False
        self._swept_at: dt.datetime | None = None
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("CREATE TABLE IF NOT EXISTS seen_envelopes (jti TEXT PRIMARY KEY, expires_at TEXT NOT NULL)")
            self._db.execute("CREATE INDEX IF NOT EXISTS seen_envelopes_expiry ON seen_envelopes (expires_at)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS receipts (idempotency_key TEXT PRIMARY KEY, receipt TEXT NOT NULL,"
                " signed TEXT NOT NULL, payload BLOB NOT NULL)"
            )

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with self._lock:
            if self._in_batch:  # nested: the outer batch commits
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._in_batch = True
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # also when COMMIT itself failed (busy, disk full)
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._in_batch = False

    def first_sighting(self, jti: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
        with self._lock:
            if self._swept_at is None or now - self._swept_at >= SWEEP_EVERY or now < self._swept_at:
                cutoff = (now - SEEN_KEPT_AFTER_EXPIRY).isoformat()
                self._db.execute("DELETE FROM seen_envelopes WHERE expires_at < ?", (cutoff,))
                self._swept_at = now
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO seen_envelopes (jti, expires_at) VALUES (?, ?)", (jti, expires_at.isoformat())
            ).rowcount
        return inserted == 1

    def receipt_for(self, idempotency_key: str) -> Receipt | None:
        with self._lock:
            row = self._db.execute(
                "SELECT receipt, signed FROM receipts WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
        return None if row is None else _receipt_from_fields(json.loads(row[0]), row[1])

    def keep(self, receipt: Receipt, payload: bytes) -> Receipt:
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO receipts (idempotency_key, receipt, signed, payload) VALUES (?, ?, ?, ?)",
                (receipt.idempotency_key, _RECEIPT_JSON(receipt.fields()), receipt.signed, payload),
            ).rowcount
            if inserted == 1:
                return receipt
            stored = self.receipt_for(receipt.idempotency_key)
        assert stored is not None
        return stored

    def payload_for(self, idempotency_key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT payload FROM receipts WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return None if row is None else bytes(row[0])


def _accept_all(_: OpenedEnvelope) -> Verdict:
    return Verdict()


class Receiver:
    """Verify, decrypt, refuse replays, store once, sign a receipt."""

    def __init__(
        self,
        *,
        decryption_keys: list[PrivateKey],
        trusted_signers: list[PublicKey],
        signing_key: PrivateKey,
        store: ReceiptStore,
        handler: Callable[[OpenedEnvelope], Verdict] = _accept_all,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
    ) -> None:
        self.max_lifetime = max_lifetime  # the longest exp − iat accepted (Settings.envelope_max_lifetime_hours)
        self.decryption_keys = decryption_keys
        self.trusted_signers = trusted_signers
        self.signing_key = signing_key
        self.store = store
        self.handler = handler
        self.clock = clock

    def receive(self, token: str | bytes) -> Receipt:
        return self._answer(self._open(token))

    def receive_many(self, tokens: Sequence[str | bytes]) -> list[Receipt | EnvelopeError]:
        """:meth:`receive` for each of a batch's envelopes, in order, stored in one transaction: each
        answer is its receipt or the refusal (a refused envelope does not affect the others).

        Decrypting and verifying happen before the transaction (they need no store), so another
        thread's batch can commit meanwhile; the replay check and the receipts happen inside it."""
        opened: list[tuple[OpenedEnvelope, dt.datetime] | EnvelopeError] = []
        for token in tokens:
            try:
                opened.append(self._open(token))
            except EnvelopeError as exc:
                opened.append(exc)
        return self._answer_all(opened)

    def _open(self, token: str | bytes) -> tuple[OpenedEnvelope, dt.datetime]:
        now = self.clock()
        return open_envelope(
            token, decryption_keys=self.decryption_keys, trusted_signers=self.trusted_signers, replay_guard=None, now=now,
            max_lifetime=self.max_lifetime,
        ), now

    def _answer(self, opened: tuple[OpenedEnvelope, dt.datetime]) -> Receipt:
        answer = self._answer_all([opened])[0]
        if isinstance(answer, EnvelopeError):
            raise answer
        return answer

    def _answer_all(self, batch: list[tuple[OpenedEnvelope, dt.datetime] | EnvelopeError]) -> list[Receipt | EnvelopeError]:
        answers: list[Receipt | EnvelopeError] = []
        with self.store.batch():  # seen jtis and receipts committed together, before any answer leaves
            for item in batch:
                if isinstance(item, EnvelopeError):
                    answers.append(item)
                    continue
                try:
                    answers.append(self._store_receipt(refuse_replay(item[0], self.store, item[1]), item[1]))
                except EnvelopeError as exc:
                    answers.append(exc)
        return answers

    def _store_receipt(self, opened: OpenedEnvelope, now: dt.datetime) -> Receipt:
        key = opened.idempotency_key or opened.jti
        existing = self.store.receipt_for(key)
        if existing is not None:
            return existing
        verdict = self.handler(opened)
        receipt = Receipt(
            receipt_id=secrets.token_urlsafe(12),
            idempotency_key=key,
            envelope_jti=opened.jti,
            status="accepted" if verdict.accepted else "rejected",
            reasons=tuple(verdict.reasons),
            received_at=now.isoformat(),
            payload_sha256=hashlib.sha256(opened.payload).hexdigest(),
        )
        object.__setattr__(receipt, "signed", _signature(receipt, self.signing_key))  # sign_receipt without the copy
        return self.store.keep(receipt, opened.payload)


def _signature(receipt: Receipt, key: PrivateKey) -> str:
    header = {"alg": key.alg, "kid": key.kid, "typ": RECEIPT_TYP}
    return PROFILES[key.suite].sign(header, canonical_json(receipt.fields()), key)


def sign_receipt(receipt: Receipt, key: PrivateKey) -> Receipt:
    return replace(receipt, signed=_signature(receipt, key))


def verify_receipt(signed: str, trusted: list[PublicKey]) -> Receipt:
    """For the sender: check a receipt's signature against the receiver's public keys and read it."""
    try:
        compact = Compact.parse(signed, 3)
    except ValueError as exc:
        raise MalformedEnvelope(f"receipt is not a compact JWS: {exc}") from exc
    keys = {key.kid: key for key in trusted}
    key = keys.get(compact.header.get("kid"))  # type: ignore[arg-type]
    if key is None:
        raise UnknownSigner(f"receipt signed by kid {compact.header.get('kid')!r}, which is not trusted")
    if compact.header.get("typ") != RECEIPT_TYP or compact.header.get("alg") != key.alg:
        raise MalformedEnvelope("not a jnx receipt (typ or alg)")
    payload = PROFILES[key.suite].verify(compact, key)
    try:
        return _receipt_from_fields(json.loads(payload), signed)
    except (ValueError, TypeError) as exc:
        raise MalformedEnvelope("receipt payload is not a receipt") from exc
