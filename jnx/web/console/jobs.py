"""Long actions started from the console (a replay, a run, a check, a reconciliation) are jobs of
:mod:`jnx.services.jobs` — the same rows and threads as the API's ``/api/v1/jobs``: the work tells
its :class:`~jnx.services.jobs.JobProgress` its step, size and how far it is, and the job page polls
the row (``/jobs/<id>``, refreshed by console.js) until it ends with a result or a message. Any
worker process of ``jnx web`` can show the page; the audit log keeps what the jobs did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine

from jnx.services.jobs import JobProgress, JobRunner, JobView, fresh
from jnx.store.db import session_factory
from jnx.store.models import utcnow


class Jobs:
    def __init__(self, engine: Engine) -> None:
        self.runner = JobRunner(engine)
        self._writes = session_factory(engine, immediate=True)

    def start(self, title: str, owner: str, back: str, work: Callable[[JobProgress], Mapping[str, Any]], *,
              kind: str = "console") -> JobView:
        return self.runner.launch(kind=kind, title=title, subject=back, owner=owner, work=work, back=back)

    def get(self, job_id: str, owner: str) -> JobView | None:
        with self._writes.begin() as session:
            row = fresh(session, job_id[:32], utcnow())
            return JobView.of(row) if row is not None and row.owner == owner else None
