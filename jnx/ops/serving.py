"""What ``jnx serve`` runs beside its scheduler and workers: the worker registry's heartbeat, the alert
watch, the NOTIFY listener that wakes idle workers, and the settings of fair, leased claiming."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jnx.exchange.wiring import Exchange
from jnx.ops.watch import AlertWatch
from jnx.ops.workers import Waker, WorkerRegistry


@contextmanager
def serve_operations(ex: Exchange, workers: int, stop: threading.Event) -> Iterator[dict[str, Any]]:
    """The keyword arguments of :func:`jnx.exchange.scheduler.serve` for this process; its row of the
    worker registry is written first and marked stopped at the end. A half-configured alert channel is a
    ``ConfigError`` here, before anything starts."""
    settings = ex.settings
    watch = AlertWatch.build(settings, ex.engine, ex.environment) if settings.alerts.enabled else None
    registry = WorkerRegistry(ex.engine, ex.worker_id, workers, settings.worker_heartbeat_seconds)
    registry.register()
    waker = Waker(ex.engine, poll=settings.idle_poll_seconds)
    waker.start(stop)
    loops = [registry.loop] + ([watch.loop] if watch is not None else [])
    try:
        yield {"stop": stop, "lease_for": dt.timedelta(seconds=settings.run_lease_seconds),
               "department_cap": settings.department_run_cap, "wakeup": waker, "doing": registry.doing, "loops": loops,
               "idle": settings.idle_poll_seconds}
    finally:
        stop.set()
        waker.release()
