"""The Jining data standard (``jnx.standard``) as the dictionary mapping tables are checked against.

Field facts come from the data element dictionary; validation of a mapped record is the standard's
own :func:`jnx.standard.check_record` (field types, required and conditional elements, code sets by
decision date, date order, not in the future), so a mapping never judges a record differently from
the rest of jnx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from jnx.codesets import CodeSetRegistry, default_registry
from jnx.mappings.model import FieldFacts, RecordProblem
from jnx.standard import (
    Dictionary,
    ElementType,
    Publication,
    check_record,
    default_dictionary,
)

PERSONAL = frozenset({Publication.MASKED, Publication.NOT_PUBLISHED})


class StandardDictionary:
    """Adapter from :class:`jnx.standard.Dictionary` to the mapping's TargetDictionary protocol."""

    def __init__(self, dictionary: Dictionary, codesets: CodeSetRegistry) -> None:
        self._dictionary = dictionary
        self._codesets = codesets
        self._fields: dict[str, Mapping[str, FieldFacts]] = {}

    def record_types(self) -> Collection[str]:
        return tuple(self._dictionary.record_types)

    def fields(self, record_type: str) -> Mapping[str, FieldFacts]:
        if record_type not in self._fields:
            self._fields[record_type] = {
                use.field: FieldFacts(
                    name=use.field,
                    required=use.required,
                    personal=use.element.publication in PERSONAL or use.element.type is ElementType.ID_NUMBER,
                    multi=use.element.is_list,
                    codeset=use.element.codeset,
                )
                for use in self._dictionary.record_type(record_type)
            }
        return self._fields[record_type]

    def validate(self, record_type: str, record: Mapping[str, Any], today: dt.date) -> list[RecordProblem]:
        checked = check_record(self._dictionary.record_type(record_type), record, today=today, registry=self._codesets)
        return [RecordProblem(issue.field, issue.rule, issue.message) for issue in checked.issues]


@lru_cache(maxsize=1)
def standard_dictionary() -> StandardDictionary:
    """The shipped standard, built once per process."""
    return StandardDictionary(default_dictionary(), default_registry())
