"""What the engine works with and gives back: the target dictionary it checks against, the
context of the registered system, the issues of a record and the result of mapping one record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class FieldFacts:
    """What the mapping needs to know about one field of a record type."""

    name: str
    required: bool = False
    """Required whatever the other fields say (conditional requirements are the model's job)."""
    personal: bool = False
    """Its values are personal (names and ID numbers of natural persons): masked in issues."""
    multi: bool = False
    """Holds a list of values."""
    codeset: str | None = None


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """A problem the standard's model finds in a whole record (a field's type, a conditional rule)."""

    field: str
    rule: str
    message: str


class TargetDictionary(Protocol):
    """The data dictionary a table is checked against (the standard, or a credit-platform format)."""

    def record_types(self) -> Collection[str]: ...

    def fields(self, record_type: str) -> Mapping[str, FieldFacts]: ...

    def validate(self, record_type: str, record: Mapping[str, Any], today: dt.date) -> list[RecordProblem]: ...


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Settings of the registered source system that a table may look up (``setting: NAME``)."""

    department_name: str | None = None
    department_credit_code: str | None = None
    region_code: str | None = None
    system_name: str | None = None


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(MappingContext))


@dataclass(frozen=True, slots=True)
class TableRef:
    """Which table version made a record: name, version and content hash."""

    name: str
    version: int
    content_hash: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class MappingIssue:
    """One field-level failure of one record under one table version, for a reviewer.

    ``value`` is the source value as text, masked when the field is personal.
    """

    field: str
    source: str
    value: str | None
    transform: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field} ← {self.source}" if self.source else self.field
        shown = "" if self.value is None else f" [{self.value}]"
        return f"{where}{shown}: {self.message} ({self.rule})"


@dataclass(frozen=True, slots=True)
class MappingResult:
    """The record a table made from one source record, every issue found, and the table version."""

    record: dict[str, Any]
    issues: tuple[MappingIssue, ...]
    table: TableRef

    @property
    def ok(self) -> bool:
        return not self.issues
