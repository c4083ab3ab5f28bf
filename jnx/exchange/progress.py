"""How long passes report how far they are, for the command line's progress bars."""

from __future__ import annotations

from typing import Protocol


class WorkProgress(Protocol):
    """Told how far a long pass is (``jnx disclosures deliver``, ``jnx errors replay``, ``jnx replay``,
    ``jnx reconcile credit`` draw a bar with it on a terminal): a named step, its size when known, and
    how much of it is done. Optional everywhere; what it is told never changes what the pass does."""

    def start(self, label: str, total: int | None) -> None: ...

    def advance(self, done: int) -> None: ...
