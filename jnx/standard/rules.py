"""Record-level checks: everything about a record that one field alone cannot tell.

Required and conditionally required elements, elements a natural person must not have, elements a
disclosure format never carries, the 双公示 placeholder credit code, ID numbers checked when the ID
type is 身份证 — in clear in the standard's records, masked in the disclosure formats — code values against
the code set version in force on the record's reference date (its decision date), date order and
decisions not in the future (REFERENCE §1.5). :func:`check_record` runs the field checks and these
rules and returns every issue; the generated models call :func:`record_rule_issues` too, so a model
and the validation service never disagree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jnx.codesets import USCC_PLACEHOLDER, CodeSetRegistry, Verdict, check_id_number
from jnx.errors import CodeSetError
from jnx.standard.conditions import as_items
from jnx.standard.dictionary import DataElement, DateOrder, ElementType, ElementUse, NotInFuture, RecordType, Use
from jnx.standard.facets import MASKED_ID_NUMBER_PATTERN
from jnx.standard.fields import FieldCheck, FieldProblem, field_check, scrub
from jnx.standard.report import Issue

RECORD_TYPE_KEY = "record_type"
MASKED_ID_NUMBER = re.compile(MASKED_ID_NUMBER_PATTERN)


def _issue(element: DataElement, rule: str, message: str, severity: str = "error") -> Issue:
    return Issue(field=element.field, rule=rule, message=message, element_id=element.id, name_zh=element.name_zh, severity=severity)


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """Typed values of the fields that passed, and every issue and warning found."""

    values: dict[str, Any]
    issues: list[Issue]
    warnings: list[Issue]

    @property
    def ok(self) -> bool:
        return not self.issues


def use_check(use: ElementUse, registry: CodeSetRegistry) -> FieldCheck:
    return field_check(use.element, registry, allow_placeholder=use.placeholder_when is not None)


#: Bound of the per-(record type, registry) memos of code verdicts and ID number verdicts: a memo
#: that fills up is emptied and starts again, so memory stays bounded on any input.
MEMO_SIZE = 4096


class _Plan:
    """What checking one record type against one registry takes, worked out once.

    The field checks by field; the required elements; the uses that carry a conditional rule (in
    dictionary order, so issues come out in the same order as a walk over every use); the coded
    uses; and bounded memos of the pure verdicts — a code on a day, an ID number on a day.
    """

    __slots__ = ("record_type", "registry", "checks", "required", "ruled", "coded", "code_verdicts", "id_verdicts")

    def __init__(self, record_type: RecordType, registry: CodeSetRegistry) -> None:
        self.record_type = record_type
        self.registry = registry
        self.checks: dict[str, FieldCheck] = {use.field: use_check(use, registry) for use in record_type.uses}
        self.required: tuple[ElementUse, ...] = tuple(use for use in record_type.uses if use.required)
        self.ruled: tuple[ElementUse, ...] = tuple(use for use in record_type.uses if _has_rule(use))
        self.coded: tuple[ElementUse, ...] = tuple(
            use for use in record_type.uses if use.element.type in (ElementType.CODE, ElementType.CODE_LIST)
        )
        self.code_verdicts: dict[tuple[str, str, dt.date], Verdict | str] = {}
        self.id_verdicts: dict[tuple[str, dt.date], Verdict] = {}

    def code_verdict(self, codeset: str, code: str, on: dt.date) -> Verdict | str:
        """``registry.check(codeset, code, on)``, remembered; the message of its CodeSetError when it raises one."""
        key = (codeset, code, on)
        verdict = self.code_verdicts.get(key)
        if verdict is None:
            try:
                verdict = self.registry.check(codeset, code, on)
            except CodeSetError as exc:
                verdict = str(exc)
            if len(self.code_verdicts) >= MEMO_SIZE:
                self.code_verdicts.clear()
            self.code_verdicts[key] = verdict
        return verdict

    def id_verdict(self, value: str, today: dt.date) -> Verdict:
        key = (value, today)
        verdict = self.id_verdicts.get(key)
        if verdict is None:
            verdict = check_id_number(value, today=today)
            if len(self.id_verdicts) >= MEMO_SIZE:
                self.id_verdicts.clear()
            self.id_verdicts[key] = verdict
        return verdict


def _has_rule(use: ElementUse) -> bool:
    return (use.when is not None or use.forbidden_when is not None or use.use is Use.FORBIDDEN or use.placeholder_when is not None
            or use.id_number_when is not None or use.masked_id_number_when is not None)


_PLANS: dict[tuple[int, int], _Plan] = {}


def _plan(record_type: RecordType, registry: CodeSetRegistry) -> _Plan:
    """The plan of a record type, built once per (record type, registry); both are immutable."""
    key = (id(record_type), id(registry))
    plan = _PLANS.get(key)
    if plan is None or plan.record_type is not record_type or plan.registry is not registry:
        plan = _PLANS[key] = _Plan(record_type, registry)
    return plan


def check_record(record_type: RecordType, data: Mapping[str, Any], *, today: dt.date, registry: CodeSetRegistry) -> RecordCheck:
    """Check one record (a mapping of field name → raw value); report every failing field."""
    plan = _plan(record_type, registry)
    checks = plan.checks
    values: dict[str, Any] = {}
    failed: set[str] = set()
    issues: list[Issue] = []
    for key, raw in data.items():
        if key == RECORD_TYPE_KEY:
            if raw != record_type.name:
                issues.append(Issue(key, "record_type.mismatch", f"{raw!r} given for a {record_type.name} record"))
            continue
        check = checks.get(key)
        if check is None:
            issues.append(Issue(key, "unknown_field", f"{key!r} is not an element of {record_type.name} ({record_type.name_zh})"))
            continue
        if raw is None:
            continue
        try:
            values[key] = check(raw)
        except FieldProblem as problem:
            failed.add(key)
            issues.append(_issue(record_type.use(key).element, problem.rule, problem.message))
    for use in plan.required:
        field = use.element.field
        if field not in values and field not in failed:
            issues.append(_issue(use.element, "required", "required element is missing"))
    rule_issues, warnings = _rule_issues(plan, values, failed, today)
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
    return _rule_issues(_plan(record_type, registry), values, failed, today)


def _rule_issues(plan: _Plan, values: Mapping[str, Any], failed: set[str] | frozenset[str], today: dt.date) -> tuple[list[Issue], list[Issue]]:
    record_type = plan.record_type
    issues: list[Issue] = []
    warnings: list[Issue] = []
    for use in plan.ruled:
        field = use.element.field
        present = field in values or field in failed
        if use.when is not None and use.when.holds(values) and not present:
            issues.append(_issue(use.element, "conditional_required", f"required when {use.when.describe()}"))
        if use.forbidden_when is not None and use.forbidden_when.holds(values) and present:
            issues.append(_issue(use.element, "forbidden", f"must be absent when {use.forbidden_when.describe()}"))
        if use.use is Use.FORBIDDEN and present:
            issues.append(_issue(use.element, "forbidden", f"{record_type.name} never carries {field} ({use.element.name_zh}): it is not published; leave it out"))
        value = values.get(field)
        if value is None:
            continue
        if value == USCC_PLACEHOLDER and use.placeholder_when is not None and not use.placeholder_when.holds(values):
            issues.append(_issue(use.element, "uscc.placeholder", f"the placeholder {USCC_PLACEHOLDER} is allowed only when {use.placeholder_when.describe()}"))
        if use.id_number_when is not None and use.id_number_when.holds(values):
            verdict = plan.id_verdict(value, today)
            if not verdict:
                issues.append(_issue(use.element, verdict.rule or "id_number", scrub(f"not a valid resident ID number: {verdict.reason}")))
        if use.masked_id_number_when is not None and use.masked_id_number_when.holds(values):
            problem = masked_id_number_problem(value, today=today)
            if problem is not None:
                issues.append(_issue(use.element, *problem))
    _codes_on_date(plan, values, failed, today, issues, warnings)
    for rule in record_type.rules:
        if isinstance(rule, DateOrder):
            earlier, later = values.get(rule.earlier), values.get(rule.later)
            if earlier is not None and later is not None and earlier > later:
                element = record_type.use(rule.later).element
                issues.append(_issue(element, "date_order", f"{rule.later} {later.isoformat()} is before {rule.earlier} {earlier.isoformat()}"))
        elif isinstance(rule, NotInFuture):
            day = values.get(rule.field)
            if day is not None and day > today:
                issues.append(_issue(record_type.use(rule.field).element, "not_in_future", f"{day.isoformat()} is after today ({today.isoformat()})"))
    return issues, warnings


def masked_id_number_problem(value: str, *, today: dt.date) -> tuple[str, str] | None:
    """(rule, message) when ``value`` is not a masked resident ID number; the message never shows the value.

    A full, valid ID number is the worst case — personal data about to be published — and has a rule
    of its own; anything else that is not 6 digits, 8 ``*``, 3 digits and a digit or X is a format error.
    """
    if MASKED_ID_NUMBER.fullmatch(value):
        return None
    if check_id_number(value, today=today):
        return "id_number.clear_in_disclosure", "a natural person's ID number must be published masked (6 digits, 8 '*', the last 4), never in clear"
    return "id_number.masked_format", "not a masked resident ID number: expected 6 digits, 8 '*', 3 digits and a digit or X (18 characters)"


def _codes_on_date(
    plan: _Plan,
    values: Mapping[str, Any],
    failed: set[str] | frozenset[str],
    today: dt.date,
    issues: list[Issue],
    warnings: list[Issue],
) -> None:
    """Each code against the code set version in force on the reference date (or ``today`` without one)."""
    reference = plan.record_type.reference_date
    if reference is not None and reference in failed:
        return  # the date is broken: judging codes by another day would only add noise
    on = values.get(reference, today) if reference is not None else today
    for use in plan.coded:
        element = use.element
        if element.field not in values:
            continue
        assert element.codeset is not None
        for code in as_items(values[element.field], element.separator):
            verdict = plan.code_verdict(element.codeset, code, on)
            if isinstance(verdict, str):
                issues.append(_issue(element, f"codeset.{element.codeset}.no_version", verdict))
                break
            if not verdict:
                issues.append(_issue(element, verdict.rule or "codeset", f"{verdict.reason} (judged on {on.isoformat()})"))
            for notice in verdict.warnings:
                warnings.append(_issue(element, notice.rule, notice.reason, severity="warning"))
