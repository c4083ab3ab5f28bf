"""Mapping the next pages in helper processes while the run stores the page before.

Mapping a raw record and checking the standard record it gives are pure functions of the record
(the table version, the system's settings and the day are fixed for a run) and cost most of a run's
CPU; storing is the database's and stays in the run's process, one transaction per page with its
watermark. So a run sends each page it pulls to a helper process, pulls the next one, and stores a
page when its mapping comes back: on two cores, mapping and storing overlap.

What comes back is only ever a cache. :meth:`PageIngester.ingest <jnx.exchange.ingest.PageIngester.ingest>`
decides inside the page's transaction what is new, exactly as without helpers, takes a record's
:class:`~jnx.exchange.ingest.Prepared` from the helper when it has one (by the adapter's content
hash of the raw record) and maps the others itself. A helper builds its own compiled table from the
same table files (compiled tables are generated code: they do not travel between processes) and
its answer is used only if it names the same table version and content hash as the run's own. A
helper that dies, or answers with an error, only costs speed: the run maps those pages itself.
Helpers exit when their run ends, and on their own when the run's process disappears (SIGKILL).

Records whose content was already staged are not sent (a second run of unchanged data maps
nothing), nor are pages too small to be worth the trip.

The run's stored hook (the 双公示 deriver) may have pure work of its own done ahead too: it hands the
run an :class:`AheadSpec`, each helper builds it once, applies it to every record it maps, and the
answer travels with the record's :class:`~jnx.exchange.ingest.Prepared` to the hook, which checks it
still holds (same tables, same day) before using it.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from jnx.exchange.gcpolicy import THRESHOLD
from jnx.exchange.ingest import PageIngester, Prepared, payload_bytes
from jnx.mappings.model import MappingContext, TableRef

log = logging.getLogger(__name__)

#: Pages smaller than this are mapped in the run's own process (the trip costs more than it saves).
MIN_RECORDS = 50
#: How long a helper waits for work before it checks that its run's process still exists.
_PARENT_CHECK_S = 1.0
#: How long the run waits for a helper's answer before mapping the page itself.
ANSWER_TIMEOUT_S = 300.0


class AheadSpec(Protocol):
    """Picklable: what a helper builds once to work out, for each standard record it maps, what the
    run's stored hook will need (``ahead(record_type, data)``; an exception there only means none)."""

    def build(self) -> Callable[[str, Mapping[str, Any]], Any]: ...


@dataclass(frozen=True, slots=True)
class IngesterSpec:
    """What a helper process needs to build the run's ingester: plain, picklable values."""

    table_folders: tuple[str, ...]
    table_name: str
    table_version: int
    system_id: str
    record_type: str
    context: MappingContext
    today: dt.date
    ahead: AheadSpec | None = None


Work = list[tuple[str, bytes]]  # (adapter content hash, the payload as staged)


def _build(spec: IngesterSpec) -> PageIngester:
    from jnx.codesets import default_registry
    from jnx.mappings.registry import TableRegistry
    from jnx.mappings.standard_dictionary import standard_dictionary
    from jnx.standard.dictionary import default_dictionary

    tables = TableRegistry([Path(f) for f in spec.table_folders], standard_dictionary(), default_registry())
    return PageIngester(system_id=spec.system_id, record_type=spec.record_type, mapper=tables.compiled(spec.table_name, spec.table_version),
                        context=spec.context, dictionary=default_dictionary(), run_id=None, today=spec.today)


def _helper_main(spec: IngesterSpec, conn: Connection, parent: int) -> None:
    """A helper process: build the ingester, answer its ref, then prepare each page it is sent."""
    try:
        _serve(spec, conn, parent)
    except (BrokenPipeError, EOFError, OSError, KeyboardInterrupt):
        pass  # the run is gone or closed the pipe: nothing to answer


def _serve(spec: IngesterSpec, conn: Connection, parent: int) -> None:
    try:
        ingester = _build(spec)
    except Exception as exc:  # noqa: BLE001 - reported to the run, which maps by itself
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    ahead = _build_ahead(spec)
    # this process only maps: what is built so far (modules, compiled tables) is never garbage, and
    # the pages it maps hold no cycles (jnx.exchange.gcpolicy)
    gc.freeze()
    gc.set_threshold(THRESHOLD, *gc.get_threshold()[1:])
    conn.send(("ready", ingester.mapper.ref))
    while True:
        if not conn.poll(_PARENT_CHECK_S):
            if os.getppid() != parent:
                return  # the run's process is gone (killed): nobody will read an answer
            continue
        work: Work | None = conn.recv()
        if work is None:
            return
        try:
            answer: Any = ("done", {digest: _prepared(ingester, payload, ahead) for digest, payload in work})
        except Exception as exc:  # noqa: BLE001 - prepare() already turns a record's failure into an issue
            answer = ("failed", f"{type(exc).__name__}: {exc}")
        conn.send(answer)


def _build_ahead(spec: IngesterSpec) -> Callable[[str, Mapping[str, Any]], Any] | None:
    if spec.ahead is None:
        return None
    try:
        return spec.ahead.build()
    except Exception as exc:  # noqa: BLE001 - the hook then works everything out in the run
        log.warning("mapping helper: the stored hook's work ahead is off (%s: %s)", type(exc).__name__, exc)
        return None


def _prepared(ingester: PageIngester, payload: bytes, ahead: Callable[[str, Mapping[str, Any]], Any] | None) -> Prepared:
    ready = ingester.prepare(payload)
    extra = None
    if ahead is not None and ready.data is not None:
        try:
            extra = ahead(ingester.target_type, ready.data)
        except Exception:  # noqa: BLE001 - nothing ahead for this record: the hook works it out itself
            extra = None
    # the dict of each record stays here: its JSON text carries it, and a tuple pickles cheaply
    return ready._replace(data=None, ahead=extra)


class _Helper:
    """One helper process, and a thread of the run's process that sends it pages.

    The thread is there so that the run never waits on a full pipe: while the helper works on one
    page it does not read the next, and the run goes on storing (the thread waits, without the GIL).
    """

    def __init__(self, spec: IngesterSpec, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_helper_main, args=(spec, child, os.getpid()), daemon=True,
                                       name=f"jnx-map-{spec.system_id}")
        self.process.start()
        child.close()
        self.ref: TableRef | None = None
        self.usable = True
        self.in_flight = 0  # pages sent and not answered yet
        self.outbox: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self.sender = threading.Thread(target=self._send_pages, name=f"jnx-map-send-{spec.system_id}", daemon=True)
        self.sender.start()

    def _send_pages(self) -> None:
        while True:
            work = self.outbox.get()
            try:
                self.conn.send(work)
            except (BrokenPipeError, OSError):
                self.usable = False
                return
            if work is None:
                return

    def send(self, work: Work) -> None:
        self.in_flight += 1
        self.outbox.put(work)

    def answer(self, timeout: float) -> Any:
        if not self.conn.poll(timeout):
            raise TimeoutError("no answer")
        answer = self.conn.recv()
        self.in_flight -= 1
        return answer

    def close(self) -> None:
        if self.in_flight and self.process.is_alive():
            # a run that stops early (lease lost, shutdown, a failed pull) leaves pages nobody will
            # read: the helper may be blocked sending one, so it is stopped rather than waited for
            self.process.kill()
        self.outbox.put(None)
        self.sender.join(timeout=5)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class PageMappers:
    """A small pool of helper processes preparing pages in the order they are submitted.

    ``submit(records, skip)`` sends a page's records (those not in ``skip``) to the next ready helper;
    ``prepared()`` waits for the oldest submitted page's answer: a dict by adapter content hash, empty
    when the page was not sent (too few records, no helper ready yet — they take a second or two to
    start — or none usable) or its helper could not answer. Pages are answered in submission order.
    """

    def __init__(self, spec: IngesterSpec, expected: TableRef, processes: int = 1, *, start_method: str = "spawn") -> None:
        self.spec = spec
        self.expected = expected
        context = multiprocessing.get_context(start_method)
        self.helpers = [_Helper(spec, context) for _ in range(max(1, processes))]
        self._next = 0
        self._pending: deque[_Helper | None] = deque()

    @property
    def depth(self) -> int:
        """How many pages may usefully be in flight: one per helper, plus the one being stored."""
        return len(self.helpers) + 1

    def wait_ready(self, timeout: float = ANSWER_TIMEOUT_S) -> bool:
        """Wait until every helper has started (or failed to); whether any is usable."""
        for helper in self.helpers:
            self._is_ready(helper, timeout)
        return any(h.usable and h.ref is not None for h in self.helpers)

    def submit(self, records: Sequence[Any], skip: frozenset[str] | set[str] = frozenset()) -> None:
        """Send a page's raw records to a helper, leaving out those whose content hash is in ``skip``."""
        work: Work = [(r.content_hash, payload_bytes(r)) for r in records if r.content_hash not in skip]
        helper = self._pick() if len(work) >= MIN_RECORDS else None
        if helper is not None:
            helper.send(work)
        self._pending.append(helper)

    def prepared(self) -> dict[str, Prepared]:
        """The answer for the oldest submitted page (empty: map it in the run's process)."""
        helper = self._pending.popleft()
        if helper is None:
            return {}
        try:
            status, value = helper.answer(ANSWER_TIMEOUT_S)
        except (EOFError, OSError, TimeoutError) as exc:
            self._retire(helper, f"no answer ({type(exc).__name__})")
            return {}
        if status != "done":
            log.warning("mapping helper of %s failed on a page (%s); the run maps it itself", self.spec.system_id, value)
            return {}
        return value  # type: ignore[no-any-return]

    def _is_ready(self, helper: _Helper, timeout: float = 0.0) -> bool:
        """Whether the helper has built its table (the same version and hash as the run's) and is usable."""
        if helper.ref is None and helper.usable:
            try:
                if not helper.conn.poll(timeout):
                    return False  # still starting
                status, value = helper.conn.recv()
            except (EOFError, OSError) as exc:
                self._retire(helper, f"did not start ({type(exc).__name__})")
                return False
            if status != "ready":
                self._retire(helper, f"could not build the table: {value}")
            elif value != self.expected:
                self._retire(helper, f"built {value}, the run uses {self.expected}")
            else:
                helper.ref = value
        return helper.usable and helper.ref is not None

    def _pick(self) -> _Helper | None:
        for _ in range(len(self.helpers)):
            helper = self.helpers[self._next % len(self.helpers)]
            self._next += 1
            if self._is_ready(helper):
                return helper
        return None

    def _retire(self, helper: _Helper, why: str) -> None:
        if helper.usable:
            log.warning("mapping helper of %s stopped: %s; the run maps those pages itself", self.spec.system_id, why)
        helper.usable = False
        # its pages still pending are answered empty: they are mapped by the run
        self._pending = deque(None if h is helper else h for h in self._pending)

    def close(self) -> None:
        for helper in self.helpers:
            helper.close()

    def __enter__(self) -> PageMappers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["IngesterSpec", "MIN_RECORDS", "PageMappers"]
