"""The record check as the standard defines it: a plain walk over a record type's uses.

This is the definition :func:`jnx.standard.rules.check_record` must agree with, kept readable rather
than fast: every field checked by its element's check, then for every use of the record type its
required-ness, its conditional rules, its ID number and placeholder rules, then every code against
the code set version in force on the record's reference date, then the date rules — issues and
warnings in that order. :mod:`jnx.standard.compiled` writes the same walk out per
record type; tests/standard/test_compiled_check.py compares the two on generated records, broken
ones included. Nothing in jnx calls this module but those tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from jnx.codesets import USCC_PLACEHOLDER, CodeSetRegistry, check_id_number
from jnx.errors import CodeSetError
from jnx.standard.conditions import as_items
from jnx.standard.dictionary import DateOrder, ElementType, NotInFuture, RecordType, Use
from jnx.standard.fields import FieldCheck, FieldProblem, scrub
from jnx.standard.report import Issue
from jnx.standard.rules import (
    RECORD_TYPE_KEY,
    RecordCheck,
    element_issue,
    masked_id_number_problem,
    use_check,
)


def _checks(record_type: RecordType, registry: CodeSetRegistry) -> dict[str, FieldCheck]:
    return {use.field: use_check(use, registry) for use in record_type.uses}


def check_record(record_type: RecordType, data: Mapping[str, Any], *, today: dt.date, registry: CodeSetRegistry) -> RecordCheck:
    """Check one record (a mapping of field name → raw value); report every failing field."""
    checks = _checks(record_type, registry)
    values: dict[str, Any] = {}
    failed: set[str] = set()
    issues: list[Issue] = []
    for key, raw in data.items():
        if key == RECORD_TYPE_KEY:
            if raw != record_type.name:
                issues.append(Issue(key, "record_type.mismatch", f"{raw!r} given for a {record_type.name} record"))
            continue
        if key not in checks:
            issues.append(Issue(key, "unknown_field", f"{key!r} is not an element of {record_type.name} ({record_type.name_zh})"))
            continue
        if raw is None:
            continue
        try:
            values[key] = checks[key](raw)
        except FieldProblem as problem:
            failed.add(key)
            issues.append(element_issue(record_type.use(key).element, problem.rule, problem.message))
    for use in record_type.uses:
        if use.required and use.field not in values and use.field not in failed:
            issues.append(element_issue(use.element, "required", "required element is missing"))
    rule_issues, warnings = record_rule_issues(record_type, values, failed=failed, today=today, registry=registry)
    return RecordCheck(values=values, issues=issues + rule_issues, warnings=warnings)


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
    for use in record_type.uses:
        present = use.field in values or use.field in failed
        if use.when is not None and use.when.holds(values) and not present:
            issues.append(element_issue(use.element, "conditional_required", f"required when {use.when.describe()}"))
        if use.forbidden_when is not None and use.forbidden_when.holds(values) and present:
            issues.append(element_issue(use.element, "forbidden", f"must be absent when {use.forbidden_when.describe()}"))
        if use.use is Use.FORBIDDEN and present:
            issues.append(element_issue(use.element, "forbidden", f"{record_type.name} never carries {use.field} ({use.element.name_zh}): it is not published; leave it out"))
        value = values.get(use.field)
        if value is None:
            continue
        if value == USCC_PLACEHOLDER and use.placeholder_when is not None and not use.placeholder_when.holds(values):
            issues.append(element_issue(use.element, "uscc.placeholder", f"the placeholder {USCC_PLACEHOLDER} is allowed only when {use.placeholder_when.describe()}"))
        if use.id_number_when is not None and use.id_number_when.holds(values):
            verdict = check_id_number(value, today=today)
            if not verdict:
                issues.append(element_issue(use.element, verdict.rule or "id_number", scrub(f"not a valid resident ID number: {verdict.reason}")))
        if use.masked_id_number_when is not None and use.masked_id_number_when.holds(values):
            problem = masked_id_number_problem(value, today=today)
            if problem is not None:
                issues.append(element_issue(use.element, *problem))
    _codes_on_date(record_type, values, failed, today, registry, issues, warnings)
    for rule in record_type.rules:
        if isinstance(rule, DateOrder):
            earlier, later = values.get(rule.earlier), values.get(rule.later)
            if earlier is not None and later is not None and earlier > later:
                element = record_type.use(rule.later).element
                issues.append(element_issue(element, "date_order", f"{rule.later} {later.isoformat()} is before {rule.earlier} {earlier.isoformat()}"))
        elif isinstance(rule, NotInFuture):
            day = values.get(rule.field)
            if day is not None and day > today:
                issues.append(element_issue(record_type.use(rule.field).element, "not_in_future", f"{day.isoformat()} is after today ({today.isoformat()})"))
    return issues, warnings


def _codes_on_date(
    record_type: RecordType,
    values: Mapping[str, Any],
    failed: set[str] | frozenset[str],
    today: dt.date,
    registry: CodeSetRegistry,
    issues: list[Issue],
    warnings: list[Issue],
) -> None:
    """Each code against the code set version in force on the reference date (or ``today`` without one)."""
    reference = record_type.reference_date
    if reference is not None and reference in failed:
        return  # the date is broken: judging codes by another day would only add noise
    on = values.get(reference, today) if reference is not None else today
    for use in record_type.uses:
        element = use.element
        if element.type not in (ElementType.CODE, ElementType.CODE_LIST) or use.field not in values:
            continue
        assert element.codeset is not None
        for code in as_items(values[use.field], element.separator):
            try:
                verdict = registry.check(element.codeset, element.judged_as(code) if isinstance(code, str) else code, on)
            except CodeSetError as exc:
                issues.append(element_issue(element, f"codeset.{element.codeset}.no_version", str(exc)))
                break
            if not verdict:
                issues.append(element_issue(element, verdict.rule or "codeset", f"{verdict.reason} (judged on {on.isoformat()})"))
            for notice in verdict.warnings:
                warnings.append(element_issue(element, notice.rule, notice.reason, severity="warning"))
