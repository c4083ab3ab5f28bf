"""The outbox: deliveries of disclosure revisions, leased by workers and pushed in batches.

One :meth:`Outbox.deliver_due` pass: claim due deliveries (the same leasing as runs, see
:mod:`jnx.store.leases`), drop those a newer revision superseded, seal each item when the peer
wants envelopes (sign with jnx's key, encrypt to the platform's — the transport never sees a key),
push them through the credit system's :class:`~jnx.adapters.base.Pusher` with the revision's
idempotency key, and record the receipts:

========================  =========================  ==============================================
what happened             delivery                   disclosure (when it is the current revision)
========================  =========================  ==============================================
accepted                  ``acknowledged`` + receipt ``published`` (``withdrawn`` for a withdrawal)
rejected (field reasons)  ``rejected`` + receipt     ``rejected``, ``problems`` = the reasons; a
                                                     corrected revision clears it
queued (answer later)     ``sent`` + receipt         unchanged
transient failure         waiting again, due later   unchanged (retried with back-off)
permanent failure         ``failed`` + reason        unchanged (reviewable: ``jnx disclosures show``)
========================  =========================  ==============================================

Exactly once: a delivery's idempotency key is fixed when its revision is created, so whatever
crashes between push and record, the retry sends the same key again (in a newly sealed envelope:
a receiver refuses a seen ``jti`` as a replay) and the platform answers with its first receipt.
Failover between lines is the transport's business.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from jnx.adapters.base import OutboundItem, Pusher, Receipt, ReceiptStatus
from jnx.errors import JnxError, PermanentError
from jnx.progress import WorkProgress
from jnx.publicity.outbox_store import OutboxStore, Outcome, Work
from jnx.store.leases import DELIVERIES, Lease, Leases
from jnx.store.models import DeliveryStatus, DisclosureAction, DisclosureStatus, utcnow

log = logging.getLogger(__name__)
ENVELOPE_FIELD = "jnx_envelope"  # a sealed item travels as {"jnx_envelope": "<compact JWE>"}
WITHDRAWAL_SUFFIX = "_withdrawal"


class Sealer(Protocol):
    """Seals one item for the peer (:class:`jnx.publicity.delivery.EnvelopeSealer`)."""

    @property
    def ttl(self) -> dt.timedelta: ...

    def seal(self, payload: bytes, *, idempotency_key: str, now: dt.datetime) -> str: ...


class Audit(Protocol):
    """The audit chain (:class:`jnx.security.audit_sql.SqlAuditStore`): a push's entry is appended on
    the connection that writes its outcomes, so both commit together."""

    def append(self, *, actor: str, action: str, subject: str, details: dict[str, Any], at: dt.datetime,
               connection: Connection | None = None) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off of a delivery after a transient failure: doubling from ``initial`` up to ``maximum``,
    given up (``failed``) after ``max_attempts`` claims."""

    initial: dt.timedelta = dt.timedelta(seconds=30)
    maximum: dt.timedelta = dt.timedelta(hours=1)
    max_attempts: int = 12

    def next_attempt(self, attempts: int, now: dt.datetime) -> dt.datetime | None:
        if attempts >= self.max_attempts:
            return None
        wait: dt.timedelta = min(self.initial * (2 ** max(attempts - 1, 0)), self.maximum)
        return now + wait


@dataclass
class DeliverySummary:
    """What one pass did (``jnx disclosures deliver --json``, ``jnx demo``)."""

    claimed: int = 0
    acknowledged: int = 0
    rejected: int = 0
    queued: int = 0
    retried: int = 0
    failed: int = 0
    superseded: int = 0
    lost_leases: int = 0
    batches: int = 0
    # the transport's, for the pass (jnx.adapters.traffic): attempts after a call's first, how many went
    # to another line, how many waited for the server's Retry-After, seconds waited between rounds
    request_retries: int = 0
    line_switches: int = 0
    retry_after_waits: int = 0
    waited_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliverySummary) -> None:
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            setattr(self, f.name, mine + theirs)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["errors"] = self.errors[:20]
        data["waited_seconds"] = round(self.waited_seconds, 3)
        return data


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode  # = json.dumps with these


def item_bytes(payload: dict[str, Any]) -> bytes:
    """The bytes an envelope signs: canonical JSON (sorted keys, UTF-8)."""
    return _CANONICAL(payload).encode("utf-8")


def record_type_of(kind: str, action: DisclosureAction) -> str:
    return kind + WITHDRAWAL_SUFFIX if action is DisclosureAction.WITHDRAWAL else kind


@dataclass
class _Batch:
    """A claimed batch on its way: what was loaded and sealed, and the groups still to push."""

    summary: DeliverySummary
    live: list[Work]
    items: dict[int, OutboundItem]
    groups: list[tuple[list[Work], Pusher]]


_Pushed = list[list[Receipt] | JnxError]  # per group of a batch: its receipts, or why the push failed


class Outbox:
    """Delivers due disclosure revisions through one pusher. One instance per worker."""

    def __init__(
        self,
        engine: Engine,
        pusher: Pusher,
        *,
        withdrawals: Pusher | None = None,
        sealer: Sealer | None = None,
        policy: RetryPolicy = RetryPolicy(),
        worker_id: str = "jnx-outbox",
        lease_for: dt.timedelta = dt.timedelta(minutes=5),
        batch_size: int = 100,
        audit: Audit | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        receipt_check: Callable[[str, Receipt], str | None] | None = None,
    ) -> None:
        self.engine = engine
        self.pusher = pusher
        self.withdrawals = withdrawals or pusher
        self.sealer = sealer
        self.policy = policy
        self.worker_id = worker_id
        self.lease_for = lease_for
        self.batch_size = batch_size
        self.audit = audit
        self.clock = clock
        self.receipt_check = receipt_check  # (idempotency key, receipt) → why it is not verifiable, or None
        self.leases = Leases(engine, DELIVERIES)
        self.store = OutboxStore(engine, worker_id)

    def deliver_due(self, limit: int = 1000, progress: WorkProgress | None = None) -> DeliverySummary:
        """Push what is due now, batch by batch, until nothing is due or ``limit`` deliveries were claimed.

        Pipelined: while one batch's POST is in flight (on a thread of its own: the socket wait releases
        the GIL), the next batch is claimed, sealed and its envelopes kept; then the first batch's
        receipts are recorded, in one transaction as always. At most one batch is in flight, each keeps
        its leases until its outcomes are written, and a claim that finds nothing while a batch is in
        flight is tried again once that batch is recorded (a retry may have become due). ``progress``
        is told each batch's claimed deliveries once they are recorded (how many are due is not known)."""
        total = DeliverySummary()
        if progress is not None:
            progress.start("delivering", None)
        claimed = 0
        in_flight: tuple[_Batch, Future[_Pushed]] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.worker_id}-push") as http:
            try:
                while True:
                    leases = (self.leases.claim(self.worker_id, limit=min(self.batch_size, limit - claimed),
                                                lease_for=self.lease_for, now=self.clock())
                              if claimed < limit else [])
                    if not leases and in_flight is None:
                        break
                    claimed += len(leases)
                    batch = self._prepare(leases) if leases else None
                    if in_flight is not None:
                        total.add(self._recorded(self._record(in_flight[0], in_flight[1].result()), progress))
                        in_flight = None
                    if batch is None:
                        continue
                    if batch.groups:
                        # the push thread logs (retries, line switches) under this pass's log context
                        in_flight = (batch, http.submit(contextvars.copy_context().run, self._push, batch))
                    else:
                        total.add(self._recorded(batch.summary, progress))
            finally:
                if in_flight is not None and not in_flight[1].done():
                    in_flight[1].cancel()
        return total

    @staticmethod
    def _recorded(summary: DeliverySummary, progress: WorkProgress | None) -> DeliverySummary:
        if progress is not None:
            progress.advance(summary.claimed)
        return summary

    # ------------------------------------------------------------------ one batch
    def deliver(self, leases: Sequence[Lease]) -> DeliverySummary:
        """Push one claimed batch and record what happened to each delivery."""
        batch = self._prepare(leases)
        return self._record(batch, self._push(batch)) if batch.groups else batch.summary

    def _prepare(self, leases: Sequence[Lease]) -> _Batch:
        """Load a claimed batch, write off superseded revisions, seal the rest and keep their envelopes."""
        summary = DeliverySummary(claimed=len(leases), batches=1)
        work = self.store.load(leases)
        superseded = [Outcome(w, DeliveryStatus.FAILED, "superseded by a newer revision before it was sent")
                      for w in work if not w.current]
        summary.superseded = len(self._write(superseded, summary))
        live = [w for w in work if w.current]
        if not live:
            return _Batch(summary, live, {}, [])
        try:
            items = self._items(live)
        except JnxError as exc:  # a key missing or unusable: nothing can be sealed, nothing sent
            self._write(self._failures(live, exc, summary), summary)
            return _Batch(summary, live, {}, [])
        groups = [(group, pusher) for group, pusher in (
            ([w for w in live if w.action is not DisclosureAction.WITHDRAWAL], self.pusher),
            ([w for w in live if w.action is DisclosureAction.WITHDRAWAL], self.withdrawals)) if group]
        return _Batch(summary, live, items, groups)

    @staticmethod
    def _push(batch: _Batch) -> _Pushed:
        """The HTTP leg (no database, no clock): each group's receipts, or the error that stopped it."""
        pushed: _Pushed = []
        for group, pusher in batch.groups:
            try:
                pushed.append(pusher.push([batch.items[w.delivery_id] for w in group]))
            except JnxError as exc:
                pushed.append(exc)
        return pushed

    def _record(self, batch: _Batch, pushed: _Pushed) -> DeliverySummary:
        """Write a pushed batch's outcomes in one transaction and audit it."""
        summary = batch.summary
        outcomes: list[Outcome] = []
        for (group, _), answer in zip(batch.groups, pushed, strict=True):
            if isinstance(answer, JnxError):
                outcomes += self._failures(group, answer, summary)
            else:
                problems = self._check_receipts(group, answer)
                outcomes += [self._receipted(w, receipt, problem)
                             for w, receipt, problem in zip(group, answer, problems, strict=True)]

        entries: list[Any] = []

        def counted_and_audited(connection: Connection, written: list[Outcome]) -> None:
            for outcome in written:
                self._count(outcome, summary)
            entries.append(self._audit(connection, batch.live, summary))

        def said(written: list[Outcome]) -> None:
            for outcome in written:  # a disclosure that did not reach the platform, by its id for the logs
                if outcome.status in (DeliveryStatus.REJECTED, DeliveryStatus.FAILED):
                    log.warning("disclosure %d revision %d %s: %s", outcome.work.disclosure_id, outcome.work.revision,
                                outcome.status.value, outcome.error, extra={"disclosure_id": outcome.work.disclosure_id})

        said(self._write(outcomes, summary, then=counted_and_audited))
        committed = getattr(self.audit, "committed", None)
        if committed is not None and entries and entries[-1] is not None:
            committed(entries[-1])  # the outcomes and their entry committed: anchor the chain's head
        return summary

    def _items(self, work: Sequence[Work]) -> dict[int, OutboundItem]:
        if self.sealer is None:
            return {w.delivery_id: OutboundItem(w.key, record_type_of(w.kind, w.action), w.payload) for w in work}
        now = self.clock()
        # every attempt is a new envelope (new jti) with the same idempotency key: a receiver refuses
        # a jti it has seen (replay) and answers a known idempotency key with its first receipt
        seal_many = getattr(self.sealer, "seal_many", None)  # a batch at once (jnx.publicity.sealing)
        if seal_many is not None:
            envelopes: list[str] = seal_many([w.payload for w in work], [w.key for w in work], now)
        else:
            envelopes = [self.sealer.seal(item_bytes(w.payload), idempotency_key=w.key, now=now) for w in work]
        sealed_at = now.isoformat()
        items: dict[int, OutboundItem] = {}
        fresh: dict[int, str] = {}
        for w, envelope in zip(work, envelopes, strict=True):
            fresh[w.delivery_id] = json.dumps({"sealed_at": sealed_at, "envelope": envelope})
            items[w.delivery_id] = OutboundItem(w.key, record_type_of(w.kind, w.action), {ENVELOPE_FIELD: envelope})
        # the last envelope sent is kept with its delivery, for the record
        self.store.keep_envelopes(fresh)
        return items

    # ------------------------------------------------------------------ outcomes
    def _check_receipts(self, group: Sequence[Work], receipts: Sequence[Receipt]) -> list[str | None]:
        """Why each receipt is not verifiable (None: it is), a batch at once when the check can."""
        check = self.receipt_check
        if check is None:
            return [None] * len(receipts)
        check_many = getattr(check, "check_many", None)  # jnx.publicity.sealing.EnvelopeHelpers
        if check_many is not None:
            return list(check_many([(w.key, receipt) for w, receipt in zip(group, receipts, strict=True)]))
        return [check(w.key, receipt) for w, receipt in zip(group, receipts, strict=True)]

    def _receipted(self, w: Work, receipt: Receipt, problem: str | None = None) -> Outcome:
        if problem is not None:  # an unverifiable receipt is no acknowledgement: try again, then give up
            message = f"receipt not verifiable: {problem}"[:2000]
            due = self.policy.next_attempt(w.lease.attempts, self.clock())
            if due is not None:
                return Outcome(w, None, message, due=due)
            return Outcome(w, DeliveryStatus.FAILED, f"gave up after {w.lease.attempts} attempts: {message}")
        reasons = [{"field": r.field, "rule": r.code or "rejected", "message": r.reason} for r in receipt.reasons]
        stored = {"status": receipt.status.value, "receipt_id": receipt.receipt_id, "record_id": receipt.record_id,
                  "reasons": reasons, "raw": receipt.raw, "at": self.clock().isoformat()}
        if receipt.status is ReceiptStatus.ACCEPTED:
            done = DisclosureStatus.WITHDRAWN if w.action is DisclosureAction.WITHDRAWAL else DisclosureStatus.PUBLISHED
            return Outcome(w, DeliveryStatus.ACKNOWLEDGED, None, stored, disclosure_status=done)
        if receipt.status is ReceiptStatus.REJECTED:
            problems = reasons or [{"field": "", "rule": "rejected", "message": "rejected without reasons"}]
            error = "; ".join(f"{r['field']}: {r['message']}" for r in problems)
            return Outcome(w, DeliveryStatus.REJECTED, error, stored, disclosure_status=DisclosureStatus.REJECTED,
                           problems=problems)
        return Outcome(w, DeliveryStatus.SENT, None, stored)

    def _failures(self, work: Sequence[Work], exc: JnxError, summary: DeliverySummary) -> list[Outcome]:
        now = self.clock()
        message = f"{type(exc).__name__}: {exc}"[:2000]
        summary.errors.append(message)
        outcomes = []
        for w in work:
            due = None if isinstance(exc, PermanentError) else self.policy.next_attempt(w.lease.attempts, now)
            if due is not None:
                outcomes.append(Outcome(w, None, message, due=due))
            elif isinstance(exc, PermanentError):
                outcomes.append(Outcome(w, DeliveryStatus.FAILED, message))
            else:
                outcomes.append(Outcome(w, DeliveryStatus.FAILED, f"gave up after {w.lease.attempts} attempts: {message}"))
        return outcomes

    def _write(self, outcomes: Sequence[Outcome], summary: DeliverySummary,
               then: Callable[[Connection, list[Outcome]], None] | None = None) -> list[Outcome]:
        if not outcomes:
            return []
        written = self.store.write(outcomes, self.clock(), then)
        summary.lost_leases += len(outcomes) - len(written)
        return written

    @staticmethod
    def _count(outcome: Outcome, summary: DeliverySummary) -> None:
        if outcome.status is None:
            summary.retried += 1
        else:
            name = {DeliveryStatus.ACKNOWLEDGED: "acknowledged", DeliveryStatus.REJECTED: "rejected",
                    DeliveryStatus.SENT: "queued", DeliveryStatus.FAILED: "failed"}[outcome.status]
            setattr(summary, name, getattr(summary, name) + 1)

    def _audit(self, connection: Connection, work: Sequence[Work], summary: DeliverySummary) -> Any:
        if self.audit is None:
            return None
        details = {"acknowledged": summary.acknowledged, "rejected": summary.rejected, "queued": summary.queued,
                   "retried": summary.retried, "failed": summary.failed, "idempotency_keys": [w.key for w in work]}
        return self.audit.append(actor=self.worker_id, action="disclosure.push", subject=f"deliveries:{len(work)}",
                          details=details, at=self.clock(), connection=connection)


def stored_envelope(text: str | None) -> tuple[str, dt.datetime] | None:
    """``deliveries.envelope`` holds ``{"sealed_at": ISO, "envelope": compact}``; None when absent or unreadable."""
    if not text:
        return None
    try:
        data = json.loads(text)
        return str(data["envelope"]), dt.datetime.fromisoformat(data["sealed_at"])
    except (ValueError, KeyError, TypeError):
        return None


def deliver_due(engine: Engine, pusher: Pusher, *, limit: int = 1000, **options: Any) -> DeliverySummary:
    """One delivery pass (for ``jnx demo`` and cron): see :class:`Outbox`."""
    return Outbox(engine, pusher, **options).deliver_due(limit)
