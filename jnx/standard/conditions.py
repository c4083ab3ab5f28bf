"""Conditions of the dictionary's conditional rules: ``{field: F, in: [..]}`` or ``{field: F, contains_any: [..]}``.

A condition is evaluated on a record's *parsed* values. A field that is absent (or failed to parse)
never satisfies a condition, so a broken 行政相对人类别 does not also produce a cascade of
conditional-rule errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def as_items(value: Any, separator: str | None) -> list[str]:
    """The items of a list value: a list as is, or a ``separator``-joined text split into its parts."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split(separator) if separator else [value]
    return [str(item) for item in value]


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    values: tuple[str, ...]
    contains: bool = False  # True: the field is a list and holds any of ``values``
    separator: str | None = None  # set for a list kept as one separated text (CF_CFLB)

    def holds(self, values: Mapping[str, Any]) -> bool:
        value = values.get(self.field)
        if value is None:
            return False
        if self.contains:
            return any(item in self.values for item in as_items(value, self.separator))
        return str(value) in self.values

    def describe(self) -> str:
        listed = "、".join(self.values)
        if self.contains:
            return f"{self.field} includes any of {listed}"
        return f"{self.field} is {listed}" if len(self.values) == 1 else f"{self.field} is one of {listed}"
