"""What the ``jnx mappings`` commands do, as plain functions the CLI calls (one each) and tests reach
without the CLI: open the registry, validate tables, map a sample file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jnx.codesets import default_registry
from jnx.mappings.compiler import CompiledTable
from jnx.mappings.errors import MappingTableError
from jnx.mappings.model import MappingContext, MappingIssue
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry, read_table
from jnx.mappings.samples import read_samples
from jnx.mappings.standard_dictionary import standard_dictionary


def open_registry(user_folder: Path | None) -> TableRegistry:
    """Shipped tables plus the user's published ones (``<home>/mappings``), which publish writes to."""
    folders = [SHIPPED_DIR] + ([user_folder] if user_folder is not None else [])
    return TableRegistry(folders, standard_dictionary(), default_registry(), publish_to=user_folder)


@dataclass(frozen=True, slots=True)
class Validation:
    """One table file checked: its name@version when it loaded, else every problem."""

    path: str
    table: str | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_tables(registry: TableRegistry, paths: Sequence[Path] = ()) -> list[Validation]:
    """Check the given table files, or (none given) every published table and its recorded hash."""
    results: list[Validation] = []
    if paths:
        for path in paths:
            try:
                table = read_table(path, registry.dictionary, registry.codesets)
            except MappingTableError as exc:
                results.append(Validation(str(path), None, tuple(str(p) for p in exc.problems)))
            else:
                results.append(Validation(str(path), str(table.ref)))
        return results
    for entry in registry.entries():
        try:
            table = registry.load_entry(entry)
        except MappingTableError as exc:
            results.append(Validation(str(entry.path), entry.ref, tuple(str(p) for p in exc.problems)))
        else:
            results.append(Validation(str(entry.path), str(table.ref)))
    return results


@dataclass(frozen=True, slots=True)
class SampleOutcome:
    where: str
    record: dict[str, Any]
    issues: tuple[MappingIssue, ...]


@dataclass(frozen=True, slots=True)
class SampleRun:
    table: str
    content_hash: str
    outcomes: list[SampleOutcome] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.issues)


def map_samples(compiled: CompiledTable, sample: Path, context: MappingContext, today: dt.date,
                encoding: str = "auto") -> SampleRun:
    """Map every record of a sample file; a bad record is reported and the next one mapped."""
    run = SampleRun(str(compiled.ref), compiled.ref.content_hash)
    for item in read_samples(sample, encoding):
        if item.error is not None:
            run.outcomes.append(SampleOutcome(item.where, {}, (MappingIssue("", "", None, None, "record.unreadable", item.error),)))
            continue
        result = compiled(item.record, context, today=today)
        run.outcomes.append(SampleOutcome(item.where, result.record, result.issues))
    return run
