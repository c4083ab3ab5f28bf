"""The outbox loop of ``jnx serve``: one delivery pass every few seconds, beside the scheduler and the
run workers, so that one ``jnx serve`` does the whole job.

A pass is exactly ``jnx disclosures deliver``: the outbox wired to the registered credit platform
(:func:`jnx.publicity.delivery.credit_outbox`, opened afresh each pass so a changed registration or
an imported key counts at once) and :meth:`~jnx.publicity.delivery.CreditOutbox.deliver` — the same
leases (:data:`jnx.store.leases.DELIVERIES`), so any number of serve processes and a cron
``jnx disclosures deliver`` share the outbox without sending an item twice. A pass that claimed its
whole limit is followed by the next at once; after a run stored new disclosures (:meth:`wake`) the
next pass starts without waiting for the interval.

What cannot be delivered (no credit platform registered, its key not imported, the passphrase not
set) is logged once as a warning with its hint, and again only when the reason changes; the loop goes
on, and delivers as soon as the cause is fixed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from jnx.errors import JnxError
from jnx.ops.logs import log_context
from jnx.publicity.delivery import CreditOutbox
from jnx.publicity.outbox import DeliverySummary

log = logging.getLogger(__name__)

OpenOutbox = Callable[[], AbstractContextManager[CreditOutbox]]
OnPass = Callable[[CreditOutbox, DeliverySummary], None]


class Deliverer:
    """Delivery passes until ``stop`` is set (see the module docstring)."""

    def __init__(self, open_outbox: OpenOutbox, *, every: float = 30.0, limit: int = 10_000,
                 on_pass: OnPass | None = None) -> None:
        self.open_outbox = open_outbox
        self.every = every
        self.limit = limit
        self.on_pass = on_pass
        self._wake = threading.Event()
        self._problem: str | None = None
        self.passes = 0

    def wake(self) -> None:
        """Start the next pass now (a run stored disclosures)."""
        self._wake.set()

    def pass_once(self) -> DeliverySummary | None:
        """One pass; None when the outbox cannot be opened (the reason is logged)."""
        try:
            with self.open_outbox() as wired, log_context(system=wired.system_id, delivery_pass=self.passes + 1):
                summary = wired.deliver(self.limit)
                if self.on_pass is not None:
                    self.on_pass(wired, summary)
                self._said(summary)
        except JnxError as exc:
            problem = str(exc) + (f" — {exc.hint}" if exc.hint else "")
            if problem != self._problem:
                log.warning("outbox delivery cannot run: %s", problem)
                self._problem = problem
            return None
        return summary

    def _said(self, summary: DeliverySummary) -> None:
        """The pass's log lines (inside its log context: they carry the system and the pass number)."""
        if self._problem is not None:
            log.info("outbox delivery runs again")
            self._problem = None
        self.passes += 1
        if summary.claimed or summary.request_retries:
            log.info("delivery pass: claimed %d — %d acknowledged, %d rejected, %d queued, %d to retry, %d failed, "
                     "%d superseded; %d request retries, %d line switches, %d Retry-After waits",
                     summary.claimed, summary.acknowledged, summary.rejected, summary.queued, summary.retried,
                     summary.failed, summary.superseded, summary.request_retries, summary.line_switches,
                     summary.retry_after_waits)
        for error in summary.errors[:3]:
            log.warning("delivery pass: %s", error)

    def loop(self, stop: threading.Event) -> None:
        """Passes until ``stop``: every ``every`` seconds, at once after a full pass or a :meth:`wake`."""
        while not stop.is_set():
            self._wake.clear()
            try:
                summary = self.pass_once()
            except Exception:  # noqa: BLE001 - the loop logs and goes on; leases of a broken pass expire
                log.exception("delivery pass failed unexpectedly")
                summary = None
            if summary is not None and summary.claimed >= self.limit:
                continue
            self._wait(stop)

    def _wait(self, stop: threading.Event) -> None:
        """Until the interval passed, :meth:`wake` was called or ``stop`` is set (checked twice a second)."""
        waited = 0.0
        while waited < self.every and not stop.is_set() and not self._wake.is_set():
            step = min(0.5, self.every - waited)
            self._wake.wait(step)
            waited += step
