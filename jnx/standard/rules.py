"""Record-level checks: everything about a record that one field alone cannot tell.

Required and conditionally required elements, elements a natural person must not have, elements a
disclosure format never carries, the 双公示 placeholder credit code, ID numbers checked when the ID
type is 身份证 — in clear in the standard's records, masked in the disclosure formats — code values against
the code set version in force on the record's reference date (its decision date), date order and
decisions not in the future (REFERENCE §1.5). :func:`check_record` runs the field checks and these
rules and returns every issue; the generated models call :func:`record_rule_issues` too, so a model
and the validation service never disagree.

The definition is :mod:`jnx.standard.reference`, a plain walk over the record type's uses; what runs
is that walk written out once per (record type, registry) by :mod:`jnx.standard.compiled`, which
gives the same values, issues and warnings in the same order (tests/standard/test_compiled_check.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from jnx.codesets import CodeSetRegistry
from jnx.standard.compiled import CompiledCheck
from jnx.standard.dictionary import RECORD_TYPE_KEY, RecordType, element_issue
from jnx.standard.fields import masked_id_number_problem, use_check
from jnx.standard.report import Issue, RecordCheck

__all__ = [
    "RECORD_TYPE_KEY",
    "CompiledCheck",
    "RecordCheck",
    "check_record",
    "check_records",
    "compiled_check",
    "element_issue",
    "masked_id_number_problem",
    "record_rule_issues",
    "use_check",
]


def check_record(record_type: RecordType, data: Mapping[str, Any], *, today: dt.date, registry: CodeSetRegistry) -> RecordCheck:
    """Check one record (a mapping of field name → raw value); report every failing field."""
    return compiled_check(record_type, registry).check(data, today)


def check_records(record_type: RecordType, records: Iterable[Mapping[str, Any]], *, today: dt.date, registry: CodeSetRegistry) -> list[RecordCheck]:
    """:func:`check_record` of each record of a page, in order; the check is looked up once per page."""
    check = compiled_check(record_type, registry).check
    return [check(data, today) for data in records]


def record_rule_issues(
    record_type: RecordType,
    values: Mapping[str, Any],
    *,
    failed: set[str] | frozenset[str] = frozenset(),
    today: dt.date,
    registry: CodeSetRegistry,
) -> tuple[list[Issue], list[Issue]]:
    """The conditional, code-set-by-date and date rules over typed ``values`` (fields in ``failed`` are skipped)."""
    issues: list[Issue] = []
    warnings: list[Issue] = []
    compiled_check(record_type, registry).rules(values, failed, today, issues, warnings)
    return issues, warnings


_COMPILED: dict[tuple[int, int], CompiledCheck] = {}


def compiled_check(record_type: RecordType, registry: CodeSetRegistry) -> CompiledCheck:
    """The check of a record type, compiled once per (record type, registry); both are immutable."""
    key = (id(record_type), id(registry))
    compiled = _COMPILED.get(key)
    if compiled is None or compiled.record_type is not record_type or compiled.registry is not registry:
        compiled = _COMPILED[key] = CompiledCheck(record_type, registry)
    return compiled
