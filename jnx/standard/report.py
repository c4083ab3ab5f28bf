"""What validation reports: one :class:`Issue` per failing field and rule, gathered in a :class:`Report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Issue:
    """One field of one record breaks one rule (or, as a warning, deserves a look)."""

    field: str
    rule: str
    message: str
    element_id: str | None = None
    name_zh: str | None = None
    record_type: str | None = None
    record_index: int | None = None
    severity: str = "error"

    def located(self, record_type: str, record_index: int | None) -> Issue:
        return Issue(self.field, self.rule, self.message, self.element_id, self.name_zh, record_type, record_index, self.severity)

    def describe(self) -> str:
        where = f"{self.element_id} {self.name_zh} " if self.element_id else ""
        return f"{where}{self.field}: {self.message} [{self.rule}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """Typed values of the fields that passed, and every issue and warning found."""

    values: dict[str, Any]
    issues: list[Issue]
    warnings: list[Issue]

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass(frozen=True, slots=True)
class RecordResult:
    index: int
    record_type: str
    issues: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of validating one file: every record, every failing field."""

    source: str
    format: str
    records: tuple[RecordResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(record.ok for record in self.records)

    @property
    def issues(self) -> list[Issue]:
        return [issue for record in self.records for issue in record.issues]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for record in self.records for issue in record.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "valid": self.ok,
            "records": len(self.records),
            "invalid_records": sum(1 for record in self.records if not record.ok),
            "issues": [issue.to_dict() for issue in self.issues],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }
