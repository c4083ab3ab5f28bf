"""Building the outbox for the registered credit platform: its pushers, and the sealer when the peer
takes envelopes. The composition for ``jnx disclosures deliver`` and ``jnx demo``.

The credit system is registered like any other (kind ``credit``, a REST adapter with a ``push``
section). Its ``push.paths`` name one path per record type: ``license`` and ``penalty`` take
batches; ``license_withdrawal`` and ``penalty_withdrawal`` take one withdrawal (撤下) request per
call, so they go through :class:`SingleRecordPusher` over the same HTTP client (lines, retries,
failover, auth). Pushes are sealed by default: every item is signed with jnx's active signing key and
encrypted to the platform's encryption key — ``settings.envelope_to: KID`` when given, else the newest
active key imported with ``jnx keys import-peer``; with none, nothing is pushed. ``envelope: none``
sends plain JSON, explicitly, and is warned about at registration and by ``jnx systems check``.
``envelope_ttl_hours`` (default 24, at most 168) is how long an envelope is valid.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from jnx.adapters.base import Adapters, OutboundItem, Receipt
from jnx.adapters.config import SecretResolver
from jnx.adapters.errors import RequestRejectedError
from jnx.adapters.factory import build_adapters
from jnx.adapters.receipts import read_receipts
from jnx.adapters.rest import RestPusher, decode_json
from jnx.errors import ConfigError
from jnx.exchange.registry import RegisteredSystem
from jnx.progress import WorkProgress
from jnx.publicity.outbox import Audit, DeliverySummary, Outbox, RetryPolicy
from jnx.publicity.sealing import (
    DEFAULT_ENVELOPE_TTL,
    DEFAULT_PROCESSES,
    EnvelopeHelpers,
    EnvelopeSealer,
    ReceiptVerifier,
)
from jnx.security.envelope import DEFAULT_MAX_LIFETIME
from jnx.security.keys import KeyUse, PublicKey
from jnx.security.keystore import KeyOwner, KeyState, KeyStore, recipient_key, signing_key, trusted_signers

MAX_ENVELOPE_TTL = DEFAULT_MAX_LIFETIME  # what receivers accept at most (7 days)


class SingleRecordPusher:
    """Pushes each item alone to its record type's path (the platform's withdrawal API takes one
    request per call), with the item's own idempotency key, over a :class:`RestPusher`'s client."""

    def __init__(self, rest: RestPusher) -> None:
        self.http = rest.http
        self.spec = rest.spec

    def push(self, batch: list[OutboundItem]) -> list[Receipt]:
        return [self._send(item) for item in batch]

    def _send(self, item: OutboundItem) -> Receipt:
        path = self.spec.paths.get(item.record_type)
        if path is None:
            raise RequestRejectedError(
                f"the credit system's push paths have no {item.record_type!r}; known: {', '.join(sorted(self.spec.paths))}",
                hint=f"add `{item.record_type}: /api/v1/sgs/…/withdraw` under adapter.push.paths in its registration",
            )
        if isinstance(item.payload, bytes):
            raise RequestRejectedError(f"item {item.idempotency_key} is bytes; the REST pusher sends JSON objects")
        what = f"POST {path}"
        body = json.dumps(dict(item.payload), ensure_ascii=False, sort_keys=True).encode("utf-8")
        response, line = self.http.request(
            "POST", path, data=body, what=what,
            headers={self.spec.idempotency_header: item.idempotency_key, "Content-Type": "application/json; charset=utf-8"},
        )
        answer = decode_json(response, line, what)
        return read_receipts(answer, [item], self.spec.receipt, source=f"{what} on line {line.label}")[0]


ENVELOPE_NONE = "none"
IMPORT_HINT = ("import the platform's key with `jnx keys import-peer FILE --use enc` "
               "(or name one with `settings: {envelope_to: KID}` in the registration)")


def sends_in_clear(system: RegisteredSystem) -> bool:
    """True when the registration says ``settings: {envelope: none}``: pushes travel as plain JSON."""
    return str(system.registration.settings.get("envelope", "")).strip().lower() == ENVELOPE_NONE


def envelope_warnings(system: RegisteredSystem) -> list[str]:
    """What registering or checking a credit system should warn about its envelopes."""
    if system.registration.kind.value != "credit" or not sends_in_clear(system):
        return []
    return [f"system {system.id} pushes 双公示 items in clear (settings.envelope: none): anyone on the way reads "
            "and can change them; remove `envelope: none` to seal every item to the platform's key"]


def peer_encryption_key(keys: KeyStore, system: RegisteredSystem) -> PublicKey:
    """The key the credit system's pushes are sealed to: ``settings.envelope_to``, else the newest
    active encryption key imported from a peer. ConfigError (with the import hint) when there is none."""
    kid = system.registration.settings.get("envelope_to")
    if kid:
        return recipient_key(keys, str(kid))
    peers = [r for r in keys.records() if r.owner is KeyOwner.PEER and r.use is KeyUse.ENC and r.state is KeyState.ACTIVE]
    if not peers:
        raise ConfigError(f"system {system.id!r} seals its pushes, and no platform encryption key is imported: "
                          "nothing was pushed", hint=IMPORT_HINT)
    return keys.public_key(max(peers, key=lambda r: r.created_at).kid)


def envelope_sealer(system: RegisteredSystem, keys: KeyStore | None) -> EnvelopeSealer | None:
    """The sealer of the credit system's pushes — sealed by default; None only for ``envelope: none``.

    Sealed to ``settings.envelope_to`` when given, else to the newest active encryption key imported
    from the platform (``jnx keys import-peer``); signed with jnx's active signing key of that suite.
    Without a key store, or without a platform key, it refuses (ConfigError): nothing goes out in clear."""
    if sends_in_clear(system):
        return None
    if keys is None:
        raise ConfigError(f"system {system.id!r} seals its pushes but no key store is open: nothing was pushed",
                          hint="set the key passphrase variable (JNX_KEY_PASSPHRASE_ENV) so jnx can sign")
    recipient = peer_encryption_key(keys, system)
    hours = system.registration.settings.get("envelope_ttl_hours")
    ttl = dt.timedelta(hours=float(hours)) if hours else DEFAULT_ENVELOPE_TTL
    if ttl > MAX_ENVELOPE_TTL:
        raise ConfigError(f"system {system.id!r}: envelope_ttl_hours {hours} is longer than receivers accept "
                          f"({MAX_ENVELOPE_TTL.days} days)", hint="use at most 168 hours")
    return EnvelopeSealer(signing_key(keys, recipient.suite), recipient, ttl)


def receipt_verifier(system: RegisteredSystem, keys: KeyStore | None, now: dt.datetime) -> ReceiptVerifier:
    """The receipt check of ``system``: the peers' signing keys that may still verify."""
    signers = tuple(trusted_signers(keys, now)) if keys is not None else ()
    required = str(system.registration.settings.get("receipts", "")).strip().lower() == "signed"
    if required and not signers:
        raise ConfigError(f"system {system.id!r} wants signed receipts (settings.receipts: signed) and no platform "
                          "signing key is imported: nothing was pushed",
                          hint="import it with `jnx keys import-peer FILE --use sig` (its key store passphrase set)")
    return ReceiptVerifier(signers, required)


@dataclass
class CreditOutbox:
    """An outbox wired to the credit platform; close it to release the HTTP pool."""

    outbox: Outbox
    adapters: Adapters
    helpers: EnvelopeHelpers | None = None
    system_id: str = ""  # the credit system's id

    def deliver(self, limit: int = 1000, progress: WorkProgress | None = None) -> DeliverySummary:
        """One pass of :meth:`Outbox.deliver_due`, with the retries, line switches and Retry-After
        waits its pushes went through (``jnx disclosures deliver``, ``jnx serve``, ``jnx demo``)."""
        before = self.adapters.traffic.snapshot()
        summary = self.outbox.deliver_due(limit, progress=progress)
        traffic = self.adapters.traffic.snapshot() - before
        summary.request_retries += traffic.retries
        summary.line_switches += traffic.line_switches
        summary.retry_after_waits += traffic.retry_after_waits
        summary.waited_seconds += traffic.waited_seconds
        return summary

    def close(self) -> None:
        if self.helpers is not None:
            self.helpers.close()
        self.adapters.close()

    def __enter__(self) -> CreditOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def credit_outbox(engine: Engine, system: RegisteredSystem, secrets: SecretResolver, *, keys: KeyStore | None = None,
                  policy: RetryPolicy = RetryPolicy(), worker_id: str = "jnx-outbox", batch_size: int = 100,
                  audit: Audit | None = None, sealer: EnvelopeSealer | None = None,
                  seal_processes: int = DEFAULT_PROCESSES, **adapter_options: Any) -> CreditOutbox:
    """The outbox for ``system`` (kind credit): batch pusher, withdrawal pusher, sealer (``sealer``
    when given — ``jnx demo``'s own keys —, else :func:`envelope_sealer` of the registration).
    Sealed pushes seal and check receipts of large batches in ``seal_processes`` helper processes
    (:mod:`jnx.publicity.sealing`; 0: in this process); closing it stops them."""
    sealer = sealer if sealer is not None else envelope_sealer(system, keys)
    check = receipt_verifier(system, keys, dt.datetime.now(dt.UTC))
    adapters = build_adapters(system.registration.adapter, secrets, **adapter_options)
    if adapters.pusher is None:
        adapters.close()
        raise ConfigError(f"system {system.id!r} has no push section", hint="add adapter.push to its registration")
    withdrawals = SingleRecordPusher(adapters.pusher) if isinstance(adapters.pusher, RestPusher) else None
    helpers = EnvelopeHelpers(sealer, check, seal_processes) if sealer is not None else None
    outbox = Outbox(engine, adapters.pusher, withdrawals=withdrawals, sealer=helpers or sealer, policy=policy,
                    worker_id=worker_id, batch_size=batch_size, audit=audit,
                    receipt_check=helpers or check)
    return CreditOutbox(outbox, adapters, helpers, system.id)

