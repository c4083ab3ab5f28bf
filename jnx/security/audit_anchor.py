"""The audit chain's head anchored outside the database: signed checkpoints in a file and the log.

An unkeyed hash chain shows a changed entry, but not a cut: delete the newest entries, empty the
table, or edit an entry and recompute every hash after it, and what is left verifies. So each
committed append also writes a **checkpoint** ``{seq, head, at}`` — signed (compact JWS) with jnx's
active signing key when the key store is open — as one line of ``<home>/audit-anchors.jsonl``
(mode 0600, where the operator keeps jnx's keys and backups) and one INFO line on the
``jnx.audit`` logger (to wherever the logs are shipped). :func:`anchored_heads` reads them back and
:func:`jnx.security.audit.verify_chain` checks the chain against every one: an entry whose hash is not
the one a checkpoint recorded means the chain was rewritten; a chain that ends before a checkpoint's
``seq`` means entries were removed.

A checkpoint is written after its transaction commits (a crash in between leaves the chain one
checkpoint ahead of the file: harmless, the next append anchors it). A signed checkpoint whose
signature does not verify against jnx's signing keys is refused as tampered; unsigned ones (written
when no passphrase was set) still catch a cut made inside the database alone.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from jnx.security.audit import AuditEntry
from jnx.security.encoding import Compact, canonical_json
from jnx.security.errors import AuditChainBroken, EnvelopeError
from jnx.security.keys import PrivateKey, PublicKey

ANCHOR_FILE = "audit-anchors.jsonl"
CHECKPOINT_TYP = "jnx-audit-checkpoint"
log = logging.getLogger("jnx.audit")


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    at: str
    signed: str | None = None  # compact JWS over canonical {seq, head, at}

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "head": self.head, "at": self.at}


class AnchorLog:
    """Where checkpoints are written: a JSON-lines file (and the ``jnx.audit`` log)."""

    def __init__(self, path: Path, signer: PrivateKey | None = None) -> None:
        self.path = path
        self.signer = signer
        self._lock = threading.Lock()

    def write(self, entry: AuditEntry) -> Checkpoint:
        """Anchor ``entry`` (the newest committed one): append its checkpoint and log it."""
        from jnx.security.envelope import PROFILES

        checkpoint = Checkpoint(entry.seq, entry.hash, entry.at.isoformat(timespec="microseconds"))
        if self.signer is not None:
            header = {"alg": self.signer.alg, "kid": self.signer.kid, "typ": CHECKPOINT_TYP}
            signed = PROFILES[self.signer.suite].sign(header, canonical_json(checkpoint.body()), self.signer)
            checkpoint = Checkpoint(checkpoint.seq, checkpoint.head, checkpoint.at, signed)
        line = json.dumps({**checkpoint.body(), "signed": checkpoint.signed}, separators=(",", ":")) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode("ascii"))  # one write per line: lines of processes never interleave
            finally:
                os.close(descriptor)
        log.info("audit checkpoint seq=%d head=%s%s", checkpoint.seq, checkpoint.head,
                 f" signed by {self.signer.kid}" if self.signer is not None else " (unsigned)")
        return checkpoint

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint in the file (none when there is no file); a line that is no checkpoint is
        :class:`AuditChainBroken` (the file was edited)."""
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditChainBroken(f"cannot read the audit checkpoints in {self.path}: {exc}", seq=0) from exc
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                found.append(Checkpoint(int(data["seq"]), str(data["head"]), str(data["at"]), data.get("signed")))
            except (ValueError, KeyError, TypeError) as exc:
                raise AuditChainBroken(f"{self.path}:{number} is not an audit checkpoint (the file was edited)", seq=0) from exc
        return found


@dataclass(frozen=True)
class Anchors:
    """The heads the checkpoints recorded, by seq, and how many were signed."""

    heads: dict[int, str]
    signed: int
    unsigned: int


def anchored_heads(checkpoints: Iterable[Checkpoint], signers: list[PublicKey]) -> Anchors:
    """The recorded heads by seq; a signed checkpoint must verify against one of ``signers`` (jnx's own
    signing keys) and say what its line says, else :class:`AuditChainBroken`."""
    from jnx.security.envelope import PROFILES

    keys = {key.kid: key for key in signers}
    heads: dict[int, str] = {}
    signed = unsigned = 0
    for checkpoint in checkpoints:
        if checkpoint.signed is None:
            unsigned += 1
        else:
            try:
                compact = Compact.parse(checkpoint.signed, 3)
                key = keys.get(compact.header.get("kid"))  # type: ignore[arg-type]
                if key is None or compact.header.get("typ") != CHECKPOINT_TYP:
                    raise AuditChainBroken(f"the checkpoint of seq {checkpoint.seq} is signed by a key that is not jnx's", seq=checkpoint.seq)
                if json.loads(PROFILES[key.suite].verify(compact, key)) != checkpoint.body():
                    raise ValueError("checkpoint line and signed body differ")
            except (ValueError, TypeError, EnvelopeError) as exc:
                raise AuditChainBroken(f"the checkpoint of seq {checkpoint.seq} does not verify: the checkpoint file was edited",
                                       seq=checkpoint.seq) from exc
            signed += 1
        if heads.get(checkpoint.seq, checkpoint.head) != checkpoint.head:
            raise AuditChainBroken(f"two checkpoints of seq {checkpoint.seq} name different heads: the chain was rewritten",
                                   seq=checkpoint.seq)
        heads[checkpoint.seq] = checkpoint.head
    return Anchors(heads, signed, unsigned)


ENTRIES_KEY = "jnx.audit.entries"  # as jnx.security.audit_sql.ENTRIES_KEY (no import circle)


def anchor_session(session: Session, anchors: AnchorLog | Callable[[], AnchorLog | None]) -> Session:
    """Anchor the newest entry ``record_audit`` appended in each transaction of ``session`` once it
    commits (a rolled-back transaction's entries are forgotten). ``anchors`` may be a factory, called
    only when there is something to anchor (opening a key store to sign costs time)."""

    @event.listens_for(session, "after_commit")
    def _committed(committed: Session) -> None:
        entries = committed.info.pop(ENTRIES_KEY, [])
        if entries:
            target = anchors() if callable(anchors) and not isinstance(anchors, AnchorLog) else anchors
            if target is not None:
                try:
                    target.write(entries[-1])
                except OSError as exc:  # the change is committed: say so loudly, do not pretend it failed
                    log.error("audit checkpoint of seq %d not written to %s: %s", entries[-1].seq,
                              getattr(target, "path", "?"), exc)

    @event.listens_for(session, "after_rollback")
    def _rolled_back(rolled_back: Session) -> None:
        rolled_back.info.pop(ENTRIES_KEY, None)

    return session
