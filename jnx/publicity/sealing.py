"""Sealing envelopes and checking signed receipts in helper processes, a batch at a time.

An envelope costs its sender an ECDSA (or SM2) signature, an ephemeral key, an ECDH agreement and
AES work (≈ 0.3–0.4 ms of CPU on the development machine), and a signed receipt one signature check
— nearly all of an outbox's CPU per disclosure. :class:`EnvelopeHelpers` does that work for one
outbox in a small pool of helper processes: each claimed batch is split in chunks, one per helper,
sealed there (canonical JSON of the item, sign, encrypt) and the envelopes come back in order; the
receipts of a pushed batch are checked the same way. The outbox's own process keeps what must stay
in one place — claiming, the database writes with their leases and audit entry, the HTTP leg — so
on two cores it mostly waits on the network and the helpers.

Nothing about the guarantees changes: every envelope is sealed with the same keys and idempotency
key as :class:`~jnx.publicity.delivery.EnvelopeSealer` would (a fresh ``jti`` per attempt), every
receipt passes :class:`~jnx.publicity.delivery.ReceiptVerifier`'s checks, and the outcomes are
written by the outbox exactly as before. A batch smaller than :data:`MIN_ITEMS` is done in the
outbox's process (a helper's trip costs more), as is everything when helpers cannot be had (a
daemon process may not have children) or stop answering — that only costs speed. The helpers are
started once a pass has sealed :data:`START_AFTER` items itself (a pass of a few batches never pays
their start), batches are sealed in the outbox's process until they have answered, and they stop
with :meth:`EnvelopeHelpers.close` (the outbox's ``close``).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from jnx.adapters.base import Receipt
from jnx.errors import SecurityError
from jnx.publicity.outbox import item_bytes
from jnx.security.envelope import seal
from jnx.security.keys import KeyUse, PrivateKey, PublicKey
from jnx.security.receiver import verify_receipt

log = logging.getLogger(__name__)

DEFAULT_ENVELOPE_TTL = dt.timedelta(hours=24)  # exp − iat of every push's envelope (docs/security.md)


@dataclass(frozen=True)
class EnvelopeSealer:
    """Signs with jnx's key, then encrypts to the platform's (``jnx.security.envelope.seal``)."""

    signer: PrivateKey
    recipient: PublicKey
    ttl: dt.timedelta = DEFAULT_ENVELOPE_TTL

    def seal(self, payload: bytes, *, idempotency_key: str, now: dt.datetime) -> str:
        return seal(payload, signer=self.signer, recipient=self.recipient, now=now, ttl=self.ttl,
                    idempotency_key=idempotency_key)


@dataclass(frozen=True)
class ReceiptVerifier:
    """Checks each receipt's signature against the platform's signing keys (``jnx keys import-peer
    --use sig``): a receipt that carries a signature must verify, be for the item pushed and say what
    the answer says; with ``required`` (``settings.receipts: signed``) an unsigned receipt is refused
    too. What it returns is why a receipt is not an acknowledgement (None: it is)."""

    signers: tuple[PublicKey, ...]
    required: bool = False

    def __call__(self, idempotency_key: str, receipt: Receipt) -> str | None:
        return self.check(idempotency_key, receipt.status.value, self.signature_of(receipt))

    @staticmethod
    def signature_of(receipt: Receipt) -> Any:
        """The receipt's ``signed`` member as the answer gave it (None: unsigned)."""
        return (receipt.raw or {}).get("signed") if isinstance(receipt.raw, dict) else None

    def check(self, idempotency_key: str, status: str, signed: Any) -> str | None:
        """Why a receipt with this status and ``signed`` member is no acknowledgement of the item, or None."""
        if signed is None:
            return "the platform's receipt is not signed (settings.receipts: signed)" if self.required else None
        if not isinstance(signed, str):
            return "the receipt's signature is not a compact JWS"
        if not self.signers:
            return ("the receipt is signed but no platform signing key is imported to check it "
                    "(jnx keys import-peer FILE --use sig)")
        try:
            verified = verify_receipt(signed, list(self.signers))
        except SecurityError as exc:
            return f"its signature does not verify ({exc})"
        if verified.idempotency_key != idempotency_key:
            return f"the signed receipt is for {verified.idempotency_key!r}, not this item"
        if verified.status != status:
            return f"the signed receipt says {verified.status!r}, the answer {status!r}"
        return None

#: Batches smaller than this are sealed (and their receipts checked) in the outbox's own process.
MIN_ITEMS = 20
#: Items an outbox seals in its own process before it starts its helpers (their start costs ≈ 1 s of CPU).
START_AFTER = 200
DEFAULT_PROCESSES = 2

_KeyParts = tuple[str, str, dict[str, Any]]  # (kid, use, public JWK): a PublicKey as it travels


def _public_parts(key: PublicKey) -> _KeyParts:
    return key.kid, key.use.value, dict(key.jwk)


def _public_key(parts: _KeyParts) -> PublicKey:
    return PublicKey(parts[0], KeyUse(parts[1]), parts[2])


# ---------------------------------------------------------------- in the helper process
_sealer: EnvelopeSealer | None = None
_verifier: ReceiptVerifier | None = None


def _start_helper(signer: bytes, recipient: _KeyParts, ttl_s: float, signers: tuple[_KeyParts, ...], required: bool) -> None:
    global _sealer, _verifier
    _sealer = EnvelopeSealer(PrivateKey.from_secret_jwk_bytes(signer), _public_key(recipient), dt.timedelta(seconds=ttl_s))
    _verifier = ReceiptVerifier(tuple(_public_key(p) for p in signers), required)


def _seal_chunk(payloads: list[dict[str, Any]], keys: list[str], now: dt.datetime) -> tuple[list[str], float]:
    assert _sealer is not None
    cpu = time.process_time()
    sealed = [_sealer.seal(item_bytes(payload), idempotency_key=key, now=now) for payload, key in zip(payloads, keys, strict=True)]
    return sealed, time.process_time() - cpu


def _check_chunk(checks: list[tuple[str, str, Any]]) -> tuple[list[str | None], float]:
    assert _verifier is not None
    cpu = time.process_time()
    answers = [_verifier.check(key, status, signed) for key, status, signed in checks]
    return answers, time.process_time() - cpu


def _ping() -> tuple[list[bool], float]:
    return [True], 0.0


# ---------------------------------------------------------------- in the outbox's process
class EnvelopeHelpers:
    """The sealer and receipt check of one outbox, with the work of large batches done in
    ``processes`` helper processes (0: all in this process). Use it as the outbox's ``sealer`` and
    ``receipt_check``; :meth:`close` stops the helpers."""

    def __init__(self, sealer: EnvelopeSealer, verifier: ReceiptVerifier, processes: int = DEFAULT_PROCESSES, *,
                 min_items: int = MIN_ITEMS, start_after: int = START_AFTER, start_method: str = "spawn") -> None:
        self.sealer = sealer
        self.verifier = verifier
        self.processes = processes
        self.min_items = min_items
        self.start_after = start_after  # items sealed here before the helpers are started (a pass of a few: none)
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[Future[Any]] | None = None  # the helpers' first answers, while they start
        self._sealed_here = 0
        self._usable = processes > 0
        self.helper_cpu_s = 0.0  # CPU seconds the helpers spent sealing and checking (for benchmarks)

    # the Sealer protocol, one item
    @property
    def ttl(self) -> dt.timedelta:
        return self.sealer.ttl

    def seal(self, payload: bytes, *, idempotency_key: str, now: dt.datetime) -> str:
        return self.sealer.seal(payload, idempotency_key=idempotency_key, now=now)

    # the receipt check, one item
    def __call__(self, idempotency_key: str, receipt: Receipt) -> str | None:
        return self.verifier(idempotency_key, receipt)

    # a batch
    def seal_many(self, payloads: Sequence[dict[str, Any]], keys: Sequence[str], now: dt.datetime) -> list[str]:
        """One envelope per payload (canonical JSON of it, sealed with its idempotency key), in order."""
        pool = self._helpers(len(payloads))
        if pool is not None:
            answer = self._gather(pool, [(_seal_chunk, list(payloads[a:b]), list(keys[a:b]), now)
                                         for a, b in self._chunks(len(payloads))])
            if answer is not None:
                return answer
        self._sealed_here += len(payloads)
        return [self.sealer.seal(item_bytes(p), idempotency_key=k, now=now) for p, k in zip(payloads, keys, strict=True)]

    def check_many(self, pairs: Sequence[tuple[str, Receipt]]) -> list[str | None]:
        """:class:`ReceiptVerifier`'s answer for each (idempotency key, receipt), in order."""
        checks = [(key, receipt.status.value, self.verifier.signature_of(receipt)) for key, receipt in pairs]
        pool = self._helpers(len(checks)) if any(signed is not None for _, _, signed in checks) else None
        if pool is not None:
            answer = self._gather(pool, [(_check_chunk, checks[a:b]) for a, b in self._chunks(len(checks))])
            if answer is not None:
                return answer
        return [self.verifier.check(key, status, signed) for key, status, signed in checks]

    def start(self) -> bool:
        """Start the helpers now and wait until they answer; whether they are usable."""
        if self._usable and self._pool is None:
            self._launch()
        if self._warming is not None:
            warming, self._warming = self._warming, None
            if self._collect(warming) is None:
                return False
        return self._usable and self._pool is not None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> EnvelopeHelpers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the pool
    def _chunks(self, n: int) -> list[tuple[int, int]]:
        size = -(-n // self.processes)
        return [(a, min(a + size, n)) for a in range(0, n, size)]

    def _helpers(self, n: int) -> ProcessPoolExecutor | None:
        """The pool for a batch of ``n``, or None: do it here (small batch, helpers not wanted yet,
        still starting, or unusable). The helpers are started once this outbox has sealed
        ``start_after`` items itself — a pass of a few batches never pays their start — and batches
        are sealed here until they have answered, so nobody waits for them to start."""
        if not self._usable or n < self.min_items:
            return None
        if self._pool is None:
            if self._sealed_here < self.start_after:
                return None
            self._launch()
        if self._warming is not None:
            if not all(future.done() for future in self._warming):
                return None
            warming, self._warming = self._warming, None
            if self._collect(warming) is None:
                return None
        return self._pool

    def _launch(self) -> None:
        if multiprocessing.current_process().daemon:  # a daemon process may not start children
            self._usable = False
            return
        signers = tuple(_public_parts(k) for k in self.verifier.signers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.processes, mp_context=multiprocessing.get_context(self.start_method),
            initializer=_start_helper,
            initargs=(self.sealer.signer.secret_jwk_bytes(), _public_parts(self.sealer.recipient),
                      self.sealer.ttl.total_seconds(), signers, self.verifier.required))
        try:
            self._warming = [self._pool.submit(_ping) for _ in range(self.processes)]
        except (BrokenProcessPool, OSError) as exc:
            self._retire(exc)

    def _gather(self, pool: ProcessPoolExecutor, jobs: Sequence[tuple[Any, ...]]) -> list[Any] | None:
        """The jobs' (function, *arguments) answers joined in order, or None when the helpers broke
        (then they are retired and the work is done in this process)."""
        try:
            futures: list[Future[tuple[list[Any], float]]] = [pool.submit(*job) for job in jobs]
        except (BrokenProcessPool, OSError) as exc:
            self._retire(exc)
            return None
        return self._collect(futures)

    def _collect(self, futures: Sequence[Future[tuple[list[Any], float]]]) -> list[Any] | None:
        try:
            answers = [future.result() for future in futures]
        except (BrokenProcessPool, OSError, EOFError) as exc:
            self._retire(exc)
            return None
        self.helper_cpu_s += sum(cpu for _, cpu in answers)
        return [item for chunk, _ in answers for item in chunk]

    def _retire(self, exc: BaseException) -> None:
        log.warning("envelope helpers stopped (%s); this outbox seals in its own process", type(exc).__name__)
        self._usable = False
        self._warming = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


__all__ = ["DEFAULT_PROCESSES", "EnvelopeHelpers", "MIN_ITEMS", "START_AFTER"]
