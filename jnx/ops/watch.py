"""One alert pass — evaluate, then notify — for ``jnx alerts check`` (cron) and the loop of ``jnx serve``.

With several ``jnx serve`` processes on PostgreSQL one pass runs at a time: a pass takes a session
advisory lock and a process that cannot get it skips its turn (the other is evaluating), so an event
is not sent twice by two processes. The partial unique index of open alerts keeps them single anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from jnx.adapters.config import MappingSecrets
from jnx.ops.alerts import Evaluation, evaluate
from jnx.ops.checks import LineProber, enabled_checks
from jnx.ops.notify import Channel, channels_from, deliver_pending
from jnx.settings import Settings
from jnx.store.models import AlertKind, utcnow

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x6A6E7801  # "jnx" 1: the alert pass


@contextmanager
def exclusive(engine: Engine) -> Iterator[bool]:
    """True while this process holds the alert pass (always on SQLite: one machine, one writer at a time)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        mine = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
        connection.commit()
        try:
            yield mine
        finally:
            if mine:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                connection.commit()


@dataclass
class AlertWatch:
    """The alert pass of one database and home, with its channels built (and their secrets resolved) once."""

    settings: Settings
    engine: Engine
    channels: list[Channel]
    probe: LineProber | None = None
    last_run: dict[AlertKind, dt.datetime] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, engine: Engine, environment: Mapping[str, str], *,
              probe: LineProber | None = None) -> AlertWatch:
        """``ConfigError`` at once when a channel is half configured (a webhook without its secret)."""
        return cls(settings, engine, channels_from(settings.alerts, MappingSecrets(dict(environment))), probe)

    def check(self, now: dt.datetime | None = None) -> Evaluation | None:
        """One pass; None when another process holds it."""
        with exclusive(self.engine) as mine:
            if not mine:
                return None
            now = now or utcnow()
            checks = {kind: check for kind, check in enabled_checks(self.settings, self.engine, self.probe).items()
                      if self._due(kind, now)}
            evaluation = evaluate(self.engine, checks, now=now, channels=[c.name for c in self.channels])
            self.last_run.update({AlertKind(kind): now for kind in evaluation.checked})
            evaluation.notifications = deliver_pending(self.engine, self.channels, self.settings.alerts)
        for alert_id in evaluation.opened:
            log.warning("alert #%s opened", alert_id)
        for alert_id in evaluation.resolved:
            log.info("alert #%s resolved", alert_id)
        return evaluation

    def _due(self, kind: AlertKind, now: dt.datetime) -> bool:
        """A check with ``every_minutes`` runs again only that long after it last ran (in this process)."""
        every = getattr(self.settings.alerts, kind.value).every_minutes
        last = self.last_run.get(kind)
        return last is None or now - last >= dt.timedelta(minutes=every)

    def loop(self, stop: threading.Event) -> None:
        """Passes every ``alerts.interval_seconds`` until ``stop`` is set (the thread of ``jnx serve``)."""
        while not stop.is_set():
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watch goes on through a database hiccup
                log.exception("alert pass failed")
            stop.wait(self.settings.alerts.interval_seconds)
