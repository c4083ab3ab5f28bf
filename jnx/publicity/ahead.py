"""双公示 plans worked out ahead, in a run's mapping helpers (:mod:`jnx.exchange.premap`).

Deriving a disclosure has a pure half — publication, the outbound mapping (masking natural
persons), the problems, the display period: :meth:`DisclosureDeriver.plan
<jnx.publicity.derive.DisclosureDeriver.plan>` — and the page's writes. The pure half is most of
derivation's cost, and a mapping helper already holds each standard record it maps; so a run whose
helpers are started hands them a :class:`DisclosureAhead`: each helper compiles the same outbound
tables from the same folders and plans every record it maps, and the plan travels back with the
record. The deriver uses a plan from a helper only if it was made with the page's outbound tables
(kind, name, version and content hash of each) and the page's day; otherwise it plans the record
itself, as it does for every record when no helper runs. A plan is the same either way: the same
function of the same record, tables, system settings, policies and day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jnx.exchange.ingest import StoredRecord
from jnx.exchange.registry import RegisteredSystem
from jnx.mappings.model import MappingContext
from jnx.publicity.calendar import Deadline
from jnx.publicity.derive import (
    KIND_OF_RECORD,
    PERIODS_KEPT,
    DisclosureDeriver,
    DisclosureRules,
    context_of,
    pinned_tables,
    table_signature,
)
from jnx.publicity.rules import DisplayPolicy, PublicationPolicy
from jnx.store.models import DisclosureKind


@dataclass(frozen=True)
class _NoCalendar:
    """Plans count no working days (deadlines are the page writer's): a helper needs no calendar."""

    def add_workdays(self, start: dt.date, n: int) -> Deadline:  # pragma: no cover - never asked by a plan
        raise RuntimeError("a plan counts no working days")


@dataclass(frozen=True)
class DisclosureAhead:
    """Picklable (:class:`jnx.exchange.premap.AheadSpec`): what a helper needs to plan as the run's
    deriver plans."""

    folders: tuple[str, ...]
    pinned: tuple[tuple[str, str, int], ...]  # (kind, table name, version)
    context: MappingContext
    today: dt.date
    display: DisplayPolicy
    publication: PublicationPolicy

    def build(self) -> Callable[[str, Mapping[str, Any]], Any]:
        from jnx.codesets import default_registry
        from jnx.mappings.registry import TableRegistry
        from jnx.mappings.standard_dictionary import standard_dictionary

        registry = TableRegistry([Path(f) for f in self.folders], standard_dictionary(), default_registry())
        tables = {DisclosureKind(kind): registry.compiled(name, version) for kind, name, version in self.pinned}
        signature, today, context = table_signature(tables), self.today, self.context
        deriver = DisclosureDeriver(DisclosureRules(calendar=_NoCalendar(), tables=registry, today=lambda: today,
                                                    display=self.display, publication=self.publication))

        def ahead(record_type: str, data: Mapping[str, Any]) -> Any:
            if record_type not in KIND_OF_RECORD:
                return None
            if len(deriver.periods) > PERIODS_KEPT:
                deriver.periods.clear()
            plan = deriver.plan(StoredRecord(0, record_type, "", 0, data), tables, context, today)
            return (signature, today, plan.kind, plan.decision, plan.published, plan.payload, plan.problems,
                    plan.display_until, plan.invalid, plan.changed_on, plan.shortest_until)

        return ahead


def work_ahead(deriver: DisclosureDeriver, session: Session, system: RegisteredSystem) -> DisclosureAhead | None:
    """The plans a run's helpers can make for ``deriver`` (None when its tables have no folders)."""
    folders = getattr(deriver.rules.tables, "folders", None)
    if folders is None:
        return None
    pinned = tuple((kind.value, name, version) for kind, (name, version) in pinned_tables(session).items())
    return DisclosureAhead(tuple(str(f) for f in folders), pinned, context_of(system), deriver.rules.today(),
                           deriver.rules.display, deriver.rules.publication)
