"""How long work reports how far it is: one protocol for runs and long passes.

``jnx run`` (each stream of each run), ``jnx disclosures deliver``, ``jnx errors replay``, ``jnx replay``
and ``jnx reconcile credit`` tell a :class:`WorkProgress`; the command line draws a bar with it on a
terminal, and a service can keep it for a job's progress. Optional everywhere: what it is told never
changes what the work does.
"""

from __future__ import annotations

from typing import Protocol


class WorkProgress(Protocol):
    """A named step with its size when known (``start``), how much of it is done (``advance``), and a
    line saying where it stands (``note``: a run's counts so far)."""

    def start(self, label: str, total: int | None) -> None: ...

    def advance(self, done: int) -> None: ...

    def note(self, text: str) -> None: ...
