"""Record-level checks: everything about a record that one field alone cannot tell.

Required and conditionally required elements, elements a natural person must not have, elements a
disclosure format never carries, the 双公示 placeholder credit code, ID numbers checked when the ID
type is 身份证 — in clear in the standard's records, masked in the disclosure formats — code values against
the code set version in force on the record's reference date (its decision date), date order and
decisions not in the future (REFERENCE §1.5). :func:`check_record` runs the field checks and these
rules and returns every issue; the generated models call :func:`record_rule_issues` too, so a model
and the validation service never disagree.

The definition is :mod:`jnx.standard.reference`, a plain walk over the record type's uses. What runs
is that walk written out once per (record type, registry) as one Python function, the way the mapping
compiler writes out a table (:mod:`jnx.mappings.compiler`; the source is kept on the result for
review): uses without a rule are never visited, each condition becomes a direct comparison evaluated
once per record, issues with a fixed text are built once, a text, code or credit code that passes as
itself is taken in place (printable text within its length, a value the element's check passed
before) and every other value goes through its element's check. A code is judged through the days on
which it passes (:func:`_spans`), so a verdict is worked out once per code, not once per code and
day. As in the mapping compiler only field names reach the source, as ``repr()`` literals; every
other value is bound as a name. tests/standard/test_compiled_check.py holds both to the same result
on generated records, broken ones included.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jnx.codesets import USCC_PLACEHOLDER, CodeSet, CodeSetRegistry, CodeSetVersion, Verdict, check_id_number
from jnx.errors import CodeSetError
from jnx.standard.conditions import Condition, as_items
from jnx.standard.dictionary import DataElement, DateOrder, ElementType, ElementUse, NotInFuture, RecordType, Use
from jnx.standard.facets import MASKED_ID_NUMBER_PATTERN
from jnx.standard.fields import _NOT_TEXT, FieldCheck, FieldProblem, field_check, passed_values, scrub, text_limit
from jnx.standard.report import Issue

RECORD_TYPE_KEY = "record_type"
MASKED_ID_NUMBER = re.compile(MASKED_ID_NUMBER_PATTERN)


def element_issue(element: DataElement, rule: str, message: str, severity: str = "error") -> Issue:
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


def check_record(record_type: RecordType, data: Mapping[str, Any], *, today: dt.date, registry: CodeSetRegistry) -> RecordCheck:
    """Check one record (a mapping of field name → raw value); report every failing field."""
    return compiled_check(record_type, registry).check(data, today)


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


#: Bound of each memo of the compiled checks (per code set: codes' spans and verdicts by day; ID
#: number verdicts by day): a memo that fills up is emptied and starts again, so memory stays bounded.
MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    """The record check of one record type against one registry, as generated functions."""

    record_type: RecordType
    registry: CodeSetRegistry
    check: Callable[[Mapping[str, Any], dt.date], RecordCheck]
    rules: Callable[[Mapping[str, Any], set[str] | frozenset[str], dt.date, list[Issue], list[Issue]], None]
    source: str
    memos: tuple[dict[Any, Any], ...]
    """Of each code set judge its spans, clean passes and verdicts by day, then the ID number verdicts; bounded by MEMO_SIZE."""


_COMPILED: dict[tuple[int, int], CompiledCheck] = {}


def compiled_check(record_type: RecordType, registry: CodeSetRegistry) -> CompiledCheck:
    """The check of a record type, compiled once per (record type, registry); both are immutable."""
    key = (id(record_type), id(registry))
    compiled = _COMPILED.get(key)
    if compiled is None or compiled.record_type is not record_type or compiled.registry is not registry:
        compiled = _COMPILED[key] = _compile(record_type, registry)
    return compiled


# ---------------------------------------------------------------- code verdicts by span of days


def _spannable(registry: CodeSetRegistry, codeset: CodeSet) -> bool:
    """Is ``registry.check(name, code, on)`` for a passing code the same on every day of a version and entry?

    True for the registry's own classes with versions that do not overlap (what the loader admits):
    then the version in force is the one whose span holds the day, and a pass depends on the
    version, the entry and the code only (the alias warning), never on the day itself.
    """
    versions = codeset.versions
    return (type(registry) is CodeSetRegistry and type(codeset) is CodeSet and all(type(v) is CodeSetVersion for v in versions)
            and all(a.valid_to is not None and a.valid_to < b.valid_from for a, b in zip(versions, versions[1:])))


def _spans(codeset: CodeSet, code: str) -> tuple[tuple[dt.date, dt.date, Verdict | None], ...]:
    """(first day, last day, verdict) for each span of days on which ``code`` passes; None stands for
    a pass without warnings, and such spans that follow each other are one. The verdict is the code
    set's own, asked for the span's first day."""
    spans: list[tuple[dt.date, dt.date, Verdict | None]] = []
    for version in codeset.versions:
        entry = version.lookup(code)
        if entry is None:
            continue
        first = max(version.valid_from, entry.valid_from or dt.date.min)
        last = min(version.valid_to or dt.date.max, entry.valid_to or dt.date.max)
        if first > last:
            continue
        verdict = codeset.check(code, first)
        if not verdict.ok:
            continue
        kept = verdict if verdict.warnings else None
        if spans and kept is None and spans[-1][2] is None and spans[-1][1] < dt.date.max and spans[-1][1] + dt.timedelta(days=1) == first:
            spans[-1] = (spans[-1][0], last, None)
        else:
            spans.append((first, last, kept))
    return tuple(spans)


class _CodeJudge:
    """Codes of one code set judged on a day: ``judge(code, on)`` is None for a pass without warnings,
    else ``registry.check(name, code, on)`` (a pass with warnings or a failure), or the message of the
    CodeSetError it raises.

    ``clean`` maps a code that passes without warnings on one span of days, and on no other day, to
    (first day, last day): the generated check reads it in place and calls ``judge`` only when the
    code is not there or the day is outside. Both memos, and the verdicts by (code, day) of the
    codes and days no span covers, are bounded by MEMO_SIZE.
    """

    def __init__(self, registry: CodeSetRegistry, name: str) -> None:
        try:
            codeset: CodeSet | None = registry.get(name)
        except CodeSetError:
            codeset = None
        self.registry, self.name, self.codeset = registry, name, codeset
        self.spannable = codeset is not None and _spannable(registry, codeset)
        self.spans: dict[str, tuple[tuple[dt.date, dt.date, Verdict | None], ...]] = {}
        self.clean: dict[str, tuple[dt.date, dt.date]] = {}
        self.verdicts: dict[tuple[str, Any], Verdict | str] = {}

    def __call__(self, code: str, on: Any) -> Verdict | str | None:
        if self.spannable and on.__class__ is dt.date and code.__class__ is str:
            spans = self.spans.get(code)
            if spans is None:
                spans = _spans(self.codeset, code)  # type: ignore[arg-type]
                if len(self.spans) >= MEMO_SIZE:
                    self.spans.clear()
                    self.clean.clear()
                self.spans[code] = spans
                if len(spans) == 1 and spans[0][2] is None:
                    self.clean[code] = spans[0][:2]
            for first, last, verdict in spans:
                if first <= on <= last:
                    return verdict
        key = (code, on)
        found = self.verdicts.get(key)
        if found is None:
            try:
                found = self.registry.check(self.name, code, on)
            except CodeSetError as exc:
                found = str(exc)
            if len(self.verdicts) >= MEMO_SIZE:
                self.verdicts.clear()
            self.verdicts[key] = found
        return found


def _report_code(element: DataElement, verdict: Verdict | str, on: dt.date, issues: list[Issue], warnings: list[Issue]) -> bool:
    """The issue and warnings of one code's verdict; True when the element's other codes are not judged."""
    if isinstance(verdict, str):
        issues.append(element_issue(element, f"codeset.{element.codeset}.no_version", verdict))
        return True
    if not verdict:
        issues.append(element_issue(element, verdict.rule or "codeset", f"{verdict.reason} (judged on {on.isoformat()})"))
    for notice in verdict.warnings:
        warnings.append(element_issue(element, notice.rule, notice.reason, severity="warning"))
    return False


def _codes(element: DataElement, judge: _CodeJudge, value: Any, on: Any, issues: list[Issue], warnings: list[Issue]) -> None:
    """Every code of one element's value judged on ``on``, as the definition does it."""
    for code in as_items(value, element.separator):
        verdict = judge(code, on)
        if verdict is not None and _report_code(element, verdict, on, issues, warnings):
            break


# ---------------------------------------------------------------- the generated functions


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}

    def bind(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _condition_expr(cond: Condition, out: _Source) -> str:
    """``cond.holds(values)`` as an expression over ``values`` and ``get``; the cases of exact ``str``
    and ``list`` values inline (``str()`` of a ``str`` is itself), any other value through ``holds``."""
    subject, wanted, holds = f"get({cond.field!r})", out.bind("w", frozenset(cond.values)), out.bind("k", cond.holds)
    if not cond.contains:
        return f"((v := {subject}) is not None and (v in {wanted} if v.__class__ is str else {holds}(values)))"
    text = f"not {wanted}.isdisjoint(v.split({out.bind('s', cond.separator)}))" if cond.separator else f"v in {wanted}"
    return (f"((v := {subject}) is not None and (not {wanted}.isdisjoint(map(str, v)) if v.__class__ is list"
            f" else {text} if v.__class__ is str else {holds}(values)))")


def _emit_rules(record_type: RecordType, out: _Source, judges: dict[str, _CodeJudge], id_issue: Callable[..., None]) -> None:
    out.emit(0, "def rules(values, failed, today, issues, warnings):")
    out.emit(1, "get = values.get")
    evaluated: dict[Condition, str] = {}

    def held(cond: Condition, always: bool) -> str:
        """The condition's variable (assigned here the first time it is always evaluated), else its expression."""
        if cond in evaluated:
            return evaluated[cond]
        if not always:
            return _condition_expr(cond, out)
        name = evaluated[cond] = f"c{len(evaluated)}"
        out.emit(1, f"{name} = {_condition_expr(cond, out)}")
        return name

    for use in record_type.uses:
        field, element = use.field, use.element
        if use.when is not None or use.forbidden_when is not None or use.use is Use.FORBIDDEN:
            out.emit(1, f"# {field}")
            when = held(use.when, True) if use.when is not None else None
            forbidden_when = held(use.forbidden_when, True) if use.forbidden_when is not None else None
            present = f"({field!r} in values or {field!r} in failed)"
            if when is not None:
                issue = element_issue(element, "conditional_required", f"required when {use.when.describe()}")  # type: ignore[union-attr]
                out.emit(1, f"if {when} and not {present}: issues.append({out.bind('i', issue)})")
            if forbidden_when is not None:
                issue = element_issue(element, "forbidden", f"must be absent when {use.forbidden_when.describe()}")  # type: ignore[union-attr]
                out.emit(1, f"if {forbidden_when} and {present}: issues.append({out.bind('i', issue)})")
            if use.use is Use.FORBIDDEN:
                issue = element_issue(element, "forbidden", f"{record_type.name} never carries {field} ({element.name_zh}): it is not published; leave it out")
                out.emit(1, f"if {present}: issues.append({out.bind('i', issue)})")
        if use.placeholder_when is None and use.id_number_when is None and use.masked_id_number_when is None:
            continue
        out.emit(1, f"x = get({field!r})")
        out.emit(1, "if x is not None:")
        if use.placeholder_when is not None:
            issue = element_issue(element, "uscc.placeholder", f"the placeholder {USCC_PLACEHOLDER} is allowed only when {use.placeholder_when.describe()}")
            out.emit(2, f"if x == {out.bind('u', USCC_PLACEHOLDER)} and not {held(use.placeholder_when, False)}: issues.append({out.bind('i', issue)})")
        if use.id_number_when is not None:
            out.emit(2, f"if {held(use.id_number_when, False)}: {out.bind('n', id_issue)}({out.bind('e', element)}, x, today, issues)")
        if use.masked_id_number_when is not None:
            out.emit(2, f"if {held(use.masked_id_number_when, False)}: {out.bind('m', _masked_issue)}({out.bind('e', element)}, x, today, issues)")
    coded = [use for use in record_type.uses if use.element.type in (ElementType.CODE, ElementType.CODE_LIST)]
    reference = record_type.reference_date
    depth = 1
    if coded and reference is not None:
        out.emit(1, f"if {reference!r} not in failed:  # else the date is broken: judging codes by another day would only add noise")
        out.emit(2, f"on = get({reference!r}, today)")
        depth = 2
    elif coded:
        out.emit(1, "on = today")
    if coded:
        out.emit(depth, "day = on.__class__ is DATE")
    for use in coded:
        element = use.element
        assert element.codeset is not None
        judge = judges[element.codeset]
        clean, every_code = out.bind("cl", judge.clean.get), f"{out.bind('g', _codes)}({out.bind('e', element)}, {out.bind('j', judge)}, x, on, issues, warnings)"
        out.emit(depth, f"x = get({use.field!r})  # codes of {element.codeset}: a clean pass in place, else as the definition judges them")
        out.emit(depth, "if x is not None:")
        if element.type is ElementType.CODE:
            out.emit(depth + 1, f"if not (day and x.__class__ is str and (s := {clean}(x)) is not None and s[0] <= on <= s[1]):")
            out.emit(depth + 2, every_code)
        elif element.separator is None:
            out.emit(depth + 1, "if day and x.__class__ is list:")
            out.emit(depth + 2, "for y in x:")
            out.emit(depth + 3, f"if not (y.__class__ is str and (s := {clean}(y)) is not None and s[0] <= on <= s[1]):")
            out.emit(depth + 4, every_code)
            out.emit(depth + 4, "break")
            out.emit(depth + 1, "else:")
            out.emit(depth + 2, every_code)
        else:
            out.emit(depth + 1, every_code)
    for rule in record_type.rules:
        if isinstance(rule, DateOrder):
            out.emit(1, f"a, b = get({rule.earlier!r}), get({rule.later!r})")
            order = out.bind("o", _date_order_issue(record_type.use(rule.later).element, rule))
            out.emit(1, f"if a is not None and b is not None and a > b: issues.append({order}(a, b))")
        elif isinstance(rule, NotInFuture):
            future = out.bind("f", _future_issue(record_type.use(rule.field).element))
            out.emit(1, f"d = get({rule.field!r})")
            out.emit(1, f"if d is not None and d > today: issues.append({future}(d, today))")
    out.emit(1, "return None")


def _date_order_issue(element: DataElement, rule: DateOrder) -> Callable[[dt.date, dt.date], Issue]:
    def issue(earlier: dt.date, later: dt.date) -> Issue:
        return element_issue(element, "date_order", f"{rule.later} {later.isoformat()} is before {rule.earlier} {earlier.isoformat()}")

    return issue


def _future_issue(element: DataElement) -> Callable[[dt.date, dt.date], Issue]:
    def issue(day: dt.date, today: dt.date) -> Issue:
        return element_issue(element, "not_in_future", f"{day.isoformat()} is after today ({today.isoformat()})")

    return issue


def _masked_issue(element: DataElement, value: str, today: dt.date, issues: list[Issue]) -> None:
    problem = masked_id_number_problem(value, today=today)
    if problem is not None:
        issues.append(element_issue(element, *problem))


def _id_number_issue(memos: list[dict[Any, Any]]) -> Callable[[DataElement, Any, dt.date, list[Issue]], None]:
    """The issue of a value that is not a valid resident ID number on ``today``; verdicts of texts remembered."""
    verdicts: dict[tuple[str, dt.date], Verdict] = {}
    memos.append(verdicts)

    def id_issue(element: DataElement, value: Any, today: dt.date, issues: list[Issue]) -> None:
        if value.__class__ is str:
            key = (value, today)
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = check_id_number(value, today=today)
                if len(verdicts) >= MEMO_SIZE:
                    verdicts.clear()
                verdicts[key] = verdict
        else:
            verdict = check_id_number(value, today=today)
        if not verdict:
            issues.append(element_issue(element, verdict.rule or "id_number", scrub(f"not a valid resident ID number: {verdict.reason}")))

    return id_issue


def _emit_check(record_type: RecordType, registry: CodeSetRegistry, out: _Source) -> None:
    """``check(data, today)``: the field checks in the record's order, the required elements, the rules."""
    checks = {use.field: use_check(use, registry) for use in record_type.uses}
    # per field: its maximum length (text), the set of values its check passed (codes, credit codes…), else True
    specs: dict[str, Any] = {}
    for use in record_type.uses:
        limit, passed = text_limit(use.element), passed_values(checks[use.field])
        specs[use.field] = limit if limit is not None else passed if passed is not None else True
    specs.pop(RECORD_TYPE_KEY, None)  # the record type's own key is never a field, as in the definition
    elements = {use.field: use.element for use in record_type.uses}
    required = [(use.field, element_issue(use.element, "required", "required element is missing")) for use in record_type.uses if use.required]

    def stray(key: Any, raw: Any, issues: list[Issue]) -> None:
        if key == RECORD_TYPE_KEY:
            if raw != record_type.name:
                issues.append(Issue(key, "record_type.mismatch", f"{raw!r} given for a {record_type.name} record"))
            return
        issues.append(Issue(key, "unknown_field", f"{key!r} is not an element of {record_type.name} ({record_type.name_zh})"))

    def refused(key: str, problem: FieldProblem) -> Issue:
        return element_issue(elements[key], problem.rule, problem.message)

    spec_get, check_of = out.bind("spec", specs.get), out.bind("check", checks)
    for line in (
        "def check(data, today):",
        "    values = {}",
        "    issues = []",
        "    failed = NO_FAILURES",
        "    for key, raw in data.items():",
        f"        spec = {spec_get}(key)",
        "        if spec is None:",
        f"            {out.bind('stray', stray)}(key, raw, issues)",
        "            continue",
        "        if raw is None:",
        "            continue",
        "        if raw.__class__ is str:",
        "            if spec.__class__ is int:  # text of at most spec characters",
        "                if 0 < len(raw) <= spec and (raw.isprintable() or not_text(raw) is None):",
        "                    values[key] = raw",
        "                    continue",
        "            elif spec.__class__ is set and raw in spec:  # passed its element's check before",
        "                values[key] = raw",
        "                continue",
        "        try:",
        f"            values[key] = {check_of}[key](raw)",
        "        except FieldProblem as problem:",
        "            if failed is NO_FAILURES:",
        "                failed = set()",
        "            failed.add(key)",
        f"            issues.append({out.bind('refused', refused)}(key, problem))",
        f"    if not values.keys() >= {out.bind('req', frozenset(field for field, _ in required))}:",
        f"        for field, issue in {out.bind('missing', tuple(required))}:",
        "            if field not in values and field not in failed:",
        "                issues.append(issue)",
        "    warnings = []",
        "    rules(values, failed, today, issues, warnings)",
        "    return RecordCheck(values, issues, warnings)",
    ):
        out.lines.append(line)


def _compile(record_type: RecordType, registry: CodeSetRegistry) -> CompiledCheck:
    memos: list[dict[Any, Any]] = []
    codesets = {use.element.codeset for use in record_type.uses if use.element.codeset is not None}
    judges = {name: _CodeJudge(registry, name) for name in sorted(codesets)}
    for judge in judges.values():
        memos += (judge.spans, judge.clean, judge.verdicts)
    out = _Source()
    _emit_rules(record_type, out, judges, _id_number_issue(memos))
    rules_source, out.lines = "\n".join(out.lines), []
    _emit_check(record_type, registry, out)
    source = rules_source + "\n\n\n" + "\n".join(out.lines) + "\n"
    namespace: dict[str, Any] = {"RecordCheck": RecordCheck, "FieldProblem": FieldProblem, "NO_FAILURES": frozenset(),
                                 "DATE": dt.date, "not_text": _NOT_TEXT.search, **out.names}
    exec(compile(source, f"<record check {record_type.name}>", "exec"), namespace)  # noqa: S102 - generated from the checked dictionary only
    return CompiledCheck(record_type, registry, namespace["check"], namespace["rules"], source, tuple(memos))
