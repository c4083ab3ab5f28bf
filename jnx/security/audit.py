"""The audit chain: every registration, publication, push, receipt, withdrawal and admin action,
appended to a SHA-256 hash chain that shows any changed, removed or reordered entry.

``hash = SHA-256(canonical JSON of {seq, at, actor, action, subject, details, prev_hash})`` where
canonical JSON has sorted keys and no spaces, ``at`` is UTC ISO 8601 with microseconds, and the
first entry's ``prev_hash`` is 64 zeros. Dropping the newest entries leaves a valid shorter chain:
compare the head with one recorded elsewhere (``verify_chain(..., expected_head=…)``) to catch that.

Details never hold an ID number in clear: :func:`next_entry` masks every text by content
(:mod:`jnx.security.masking`); other personal values must be masked by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from jnx.security.encoding import canonical_json
from jnx.security.errors import AuditChainBroken
from jnx.security.masking import mask_deep, mask_text

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


def _utc(at: dt.datetime) -> dt.datetime:
    """Aware UTC at microsecond precision; a naive value from a database is UTC by jnx's convention."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def entry_hash(
    *, seq: int, at: dt.datetime, actor: str, action: str, subject: str, details: Mapping[str, Any], prev_hash: str
) -> str:
    body = {
        "seq": seq,
        "at": _utc(at).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": dict(details),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def next_entry(
    last: AuditEntry | None, *, at: dt.datetime, actor: str, action: str, subject: str, details: Mapping[str, Any]
) -> AuditEntry:
    """The entry that follows ``last`` (or starts the chain); ID numbers in its texts are masked
    (:func:`jnx.security.masking.mask_deep`) before it is hashed and stored."""
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS if last is None else last.hash
    at = _utc(at)
    actor, subject, body = mask_text(actor), mask_text(subject), mask_deep(dict(details))
    digest = entry_hash(seq=seq, at=at, actor=actor, action=action, subject=subject, details=body, prev_hash=prev_hash)
    return AuditEntry(seq=seq, at=at, actor=actor, action=action, subject=subject, details=body, prev_hash=prev_hash, hash=digest)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str


def verify_chain(
    entries: Iterable[AuditEntry], *, expected_head: str | None = None, anchors: Mapping[int, str] | None = None,
) -> ChainReport:
    """Walk the chain in ``seq`` order; raise :class:`AuditChainBroken` at the first wrong entry.

    ``anchors`` are heads recorded outside the database by seq (:mod:`jnx.security.audit_anchor`):
    an entry whose hash differs from its anchor, or a chain that ends before the last anchored seq,
    is broken — a rewritten, cut or emptied chain."""
    anchors = anchors or {}
    previous_hash, expected_seq, count = GENESIS, 1, 0
    for entry in entries:
        anchored = anchors.get(entry.seq)
        if anchored is not None and anchored != entry.hash:
            raise AuditChainBroken(
                f"audit chain broken at seq {entry.seq}: its hash is not the one checkpointed outside the database "
                "(the chain was rewritten and its hashes recomputed)", seq=entry.seq)
        if entry.seq != expected_seq:
            raise AuditChainBroken(
                f"audit chain broken at seq {expected_seq}: found seq {entry.seq} next (entries removed or reordered)",
                seq=expected_seq,
            )
        if entry.prev_hash != previous_hash:
            raise AuditChainBroken(
                f"audit chain broken at seq {entry.seq}: prev_hash does not match the entry before it "
                "(an entry was removed, inserted or reordered)",
                seq=entry.seq,
            )
        recomputed = entry_hash(
            seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action,
            subject=entry.subject, details=entry.details, prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            raise AuditChainBroken(f"audit chain broken at seq {entry.seq}: the entry was changed after it was written", seq=entry.seq)
        previous_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    last_anchored = max(anchors, default=0)
    if last_anchored > expected_seq - 1:
        raise AuditChainBroken(
            f"audit chain ends at seq {expected_seq - 1} but a checkpoint outside the database records seq "
            f"{last_anchored}: entries were removed (or the table emptied)", seq=expected_seq)
    if expected_head is not None and previous_hash != expected_head:
        raise AuditChainBroken(
            f"audit chain ends at seq {expected_seq - 1} with a head other than the one recorded (entries cut off)",
            seq=expected_seq,
        )
    return ChainReport(entries=count, head=previous_hash)


class AuditStore(Protocol):
    """Where the chain lives. ``append`` must serialize writers so the chain never forks."""

    def append(self, *, actor: str, action: str, subject: str, details: Mapping[str, Any], at: dt.datetime) -> AuditEntry: ...
    def entries(self) -> Iterator[AuditEntry]: ...


class MemoryAuditStore:
    """An audit store in a list, for tests and tools; thread-safe."""

    def __init__(self) -> None:
        self.rows: list[AuditEntry] = []
        self._lock = threading.Lock()

    def append(self, *, actor: str, action: str, subject: str, details: Mapping[str, Any], at: dt.datetime,
               connection: object = None) -> AuditEntry:
        with self._lock:
            entry = next_entry(self.rows[-1] if self.rows else None, at=at, actor=actor, action=action, subject=subject, details=details)
            self.rows.append(entry)
            return entry

    def entries(self) -> Iterator[AuditEntry]:
        return iter(list(self.rows))
