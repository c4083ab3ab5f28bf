"""What changed between two versions of a table: header, fields added, removed, changed, and codes
re-translated (a source value that now becomes another code, or is newly or no longer translated)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jnx.mappings.table import MappingTable

_HEADER = ("direction", "source_kind", "source_record", "target", "codesets", "effective_from", "description")


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    aspect: str
    """from, const, setting, do, when, default, personal, note"""
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class CodeChange:
    field: str
    source_value: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "re-translated"


@dataclass(frozen=True, slots=True)
class TableDiff:
    old: str
    new: str
    header: tuple[FieldChange, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[FieldChange, ...]
    codes: tuple[CodeChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.header or self.added or self.removed or self.changed or self.codes)


def _code_maps(entry: Mapping[str, Any]) -> dict[str, str]:
    """All source value → code translations of a field's code steps."""
    merged: dict[str, str] = {}
    for step in entry.get("do") or []:
        if isinstance(step, Mapping) and isinstance(step.get("code"), Mapping):
            merged.update(step["code"].get("map") or {})
    return merged


def diff_tables(old: MappingTable, new: MappingTable) -> TableDiff:
    old_doc, new_doc = old.document, new.document
    header = tuple(FieldChange("", key, old_doc.get(key), new_doc.get(key)) for key in _HEADER
                   if old_doc.get(key) != new_doc.get(key))
    old_fields: Mapping[str, Any] = old_doc.get("fields") or {}
    new_fields: Mapping[str, Any] = new_doc.get("fields") or {}
    changed: list[FieldChange] = []
    codes: list[CodeChange] = []
    for name in (n for n in new_fields if n in old_fields):
        before, after = old_fields[name], new_fields[name]
        for aspect in sorted(set(before) | set(after)):
            if before.get(aspect) != after.get(aspect):
                changed.append(FieldChange(name, aspect, before.get(aspect), after.get(aspect)))
        old_codes, new_codes = _code_maps(before), _code_maps(after)
        for value in sorted(set(old_codes) | set(new_codes)):
            if old_codes.get(value) != new_codes.get(value):
                codes.append(CodeChange(name, value, old_codes.get(value), new_codes.get(value)))
    return TableDiff(
        old=str(old.ref), new=str(new.ref), header=header,
        added=tuple(n for n in new_fields if n not in old_fields),
        removed=tuple(n for n in old_fields if n not in new_fields),
        changed=tuple(changed), codes=tuple(codes),
    )
