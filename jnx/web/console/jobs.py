"""Long actions started from the console (a replay, a run) go on in a thread; the page watches.

A :class:`Job` is a :class:`jnx.progress.WorkProgress`: the work tells it its step, size and how
far it is, and the job page polls it (``/jobs/<id>``, refreshed by console.js) until it ends with
a result or a message. Jobs live in memory for an hour; the audit log keeps what they did.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jnx.errors import JnxError

KEEP = dt.timedelta(hours=1)


@dataclass
class Job:
    id: str
    title: str
    owner: str
    back: str  # where the user goes when it is over
    label: str = ""
    total: int | None = None
    done: int = 0
    notes: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    hint: str | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None

    def start(self, label: str, total: int | None) -> None:
        self.label, self.total, self.done = label, total, 0

    def advance(self, done: int) -> None:
        self.done += done

    def note(self, text: str) -> None:
        self.notes = [*self.notes[-4:], text]

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None if self.running else 100
        return min(100, int(100 * self.done / self.total))


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, title: str, owner: str, back: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        job = Job(id=uuid.uuid4().hex[:16], title=title, owner=owner, back=back)
        with self._lock:
            now = dt.datetime.now(dt.UTC)
            self._jobs = {k: j for k, j in self._jobs.items() if j.running or (j.finished_at and now - j.finished_at < KEEP)}
            self._jobs[job.id] = job

        def body() -> None:
            try:
                job.result = work(job)
            except JnxError as exc:
                job.error, job.hint = str(exc), exc.hint
            except Exception as exc:  # noqa: BLE001 - a job's failure is shown on its page, never a traceback
                job.error = f"{type(exc).__name__}: the action stopped unexpectedly"
                import logging

                logging.getLogger(__name__).exception("console job %s failed", job.id, exc_info=exc)
            finally:
                job.finished_at = dt.datetime.now(dt.UTC)

        threading.Thread(target=body, name=f"console-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None
