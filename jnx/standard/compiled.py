"""The record check of one record type, written out as Python functions once per (record type, registry).

:mod:`jnx.standard.reference` defines the check as a walk over the record type's uses; this module
writes that walk out, the way the mapping compiler writes out a table (:mod:`jnx.mappings.compiler`),
and :mod:`jnx.standard.rules` runs what it writes:

* ``rules(values, failed, today, issues, warnings)`` — the record rules: uses without a rule are
  never visited, each condition is a direct comparison evaluated once per record (at the point the
  definition first evaluates it), fixed issues are built once, codes are judged through their spans
  of passing days (:mod:`jnx.standard.code_days`), a clean pass read in place.
* ``check(data, today)`` — the field checks in the record's own order, then the required elements,
  then ``rules``: a ``str`` that passes as itself is taken in place (printable text within its
  length, a value the element's check passed before), every other value goes through the element's
  check. A record whose keys, in their order, have been seen before — records from one mapping
  table come in a few dozen key orders — is checked by a function written for that order: its
  values unpacked at once, each field's check written out, the required elements known missing
  from the keys alone. Other records (another key order, an unknown key, ``record_type``, not a
  ``dict``) go through one loop over the record's items.

As in the mapping compiler only field names reach the source, as ``repr()`` literals; every other
value is bound as a name. The source is kept on the result for review.
tests/standard/test_compiled_check.py holds the result to the definition on generated records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from jnx.codegen import SourceWriter
from jnx.codesets import USCC_PLACEHOLDER, CodeSetRegistry, check_id_number
from jnx.standard.code_days import CodeJudge, judge_codes
from jnx.standard.conditions import Condition
from jnx.standard.dictionary import (
    RECORD_TYPE_KEY,
    DataElement,
    DateOrder,
    ElementType,
    NotInFuture,
    RecordType,
    Use,
    element_issue,
)
from jnx.standard.fields import (
    _NOT_TEXT,
    FieldProblem,
    masked_id_number_problem,
    passed_items,
    passed_values,
    scrub,
    text_limit,
    use_check,
)
from jnx.standard.report import Issue, RecordCheck

#: Key orders a record type's check is written out for; records in other orders take the loop.
ORDERS = 64
#: Key orders remembered as seen once (an order is written out when it is seen again); emptied when full.
SEEN = 1024

Check = Callable[[Mapping[str, Any], dt.date], RecordCheck]
Rules = Callable[[Mapping[str, Any], "set[str] | frozenset[str]", dt.date, list[Issue], list[Issue]], None]


class _Source(SourceWriter):
    def run(self, name: str, title: str, base: dict[str, Any]) -> Any:
        namespace = {**base, **self.names}
        exec(compile("\n".join(self.lines) + "\n", title, "exec"), namespace)  # noqa: S102 - generated from the checked dictionary only
        return namespace[name]


class CompiledCheck:
    """The record check of one record type against one registry, as generated functions."""

    def __init__(self, record_type: RecordType, registry: CodeSetRegistry) -> None:
        self.record_type, self.registry = record_type, registry
        judges = {name: CodeJudge(registry, name) for name in sorted({u.element.codeset for u in record_type.uses if u.element.codeset})}
        self.memos: tuple[dict[Any, Any], ...] = tuple(m for j in judges.values() for m in (j.spans, j.clean, j.verdicts))
        """Of each code set judge its spans, clean passes and verdicts by day; all bounded (code_days.MEMO_SIZE)."""
        self._checks = {use.field: use_check(use, registry) for use in record_type.uses}
        self._elements = {use.field: use.element for use in record_type.uses}
        self._base = {"RecordCheck": RecordCheck, "FieldProblem": FieldProblem, "NO_FAILURES": frozenset(), "DATE": dt.date,
                      "BOOL": bool, "INT": int, "not_text": _NOT_TEXT.search}
        out = _Source()
        _emit_rules(record_type, out, judges)
        self.rules: Rules = out.run("rules", f"<record rules {record_type.name}>", self._base)
        self._base["rules"] = self.rules
        general = _Source()
        _emit_loop(self, general)
        self._loop: Check = general.run("check", f"<record check {record_type.name}>", self._base)
        self.source = "\n".join(out.lines) + "\n\n\n" + "\n".join(general.lines) + "\n"
        self.orders: dict[tuple[str, ...], Check] = {}
        """The functions written per key order (or the loop, for an order that cannot be written out)."""
        self.order_sources: dict[tuple[str, ...], str] = {}
        """The source of each function written for a key order."""
        self._seen: set[tuple[str, ...]] = set()
        orders_get, loop, first_seen = self.orders.get, self._loop, self._first_seen

        def check(data: Mapping[str, Any], today: dt.date) -> RecordCheck:
            if data.__class__ is dict:
                written = orders_get(tuple(data))
                if written is not None:
                    return written(data, today)
                return first_seen(data, today)
            return loop(data, today)  # type: ignore[no-any-return]

        self.check: Check = check

    def _first_seen(self, data: dict[str, Any], today: dt.date) -> RecordCheck:
        order = tuple(data)
        if order in self._seen and len(self.orders) < ORDERS:
            fields = self._checks
            writable = all(key.__class__ is str and key in fields and key != RECORD_TYPE_KEY for key in order)
            if writable:
                written, self.order_sources[order] = self._written(order)
            else:
                written = self._loop
            self.orders[order] = written
            self._seen.discard(order)
            return written(data, today)
        if len(self._seen) >= SEEN:
            self._seen.clear()
        self._seen.add(order)
        return self._loop(data, today)

    def write_order(self, order: tuple[str, ...]) -> Check:
        """The check of records whose keys are ``order`` (fields of the record type, each once), written out."""
        return self._written(order)[0]

    def _written(self, order: tuple[str, ...]) -> tuple[Check, str]:
        out = _Source()
        out.emit(0, "def check(data, today):")
        if order:
            out.emit(1, f"{', '.join(f'v{i}' for i in range(len(order)))}, = data.values()")
        out.emit(1, "values = data.copy()  # its keys are fields: a value is replaced by its typed value, or taken out")
        out.emit(1, "issues = []")
        out.emit(1, "failed = NO_FAILURES")
        for i, field in enumerate(order):
            _emit_field(self, out, field, f"v{i}")
        # a value present is either in values or failed: a required element is missing when absent or None
        at = {field: i for i, field in enumerate(order)}
        required = [(use.field, element_issue(use.element, "required", "required element is missing")) for use in self.record_type.uses if use.required]
        absent = out.bind("a", tuple(missing for field, missing in required if field not in at))
        present = frozenset(field for field, _ in required if field in at)
        if present:
            out.emit(1, f"if values.keys() >= {out.bind('q', present)}:  # none of them None nor failed")
            out.emit(2, f"issues += {absent}")
            out.emit(1, "else:")
            for field, missing in required:
                line = f"issues.append({out.bind('m', missing)})"
                out.emit(2, f"if v{at[field]} is None: {line}" if field in at else line)
        else:
            out.emit(1, f"issues += {absent}")
        out.emit(1, "warnings = []")
        out.emit(1, "rules(values, failed, today, issues, warnings)")
        out.emit(1, "return RecordCheck(values, issues, warnings)")
        return out.run("check", f"<record check {self.record_type.name} in one key order>", self._base), "\n".join(out.lines) + "\n"

    def refused(self, field: str) -> Callable[[FieldProblem], Issue]:
        element = self._elements[field]

        def issue(problem: FieldProblem) -> Issue:
            return element_issue(element, problem.rule, problem.message)

        return issue


def _emit_field(compiled: CompiledCheck, out: _Source, field: str, var: str) -> None:
    """One field's check on ``var``, whose value ``values`` holds already (a copy of the record): kept
    when it passes as itself, else replaced by its element's check or taken out (None, a failure)."""
    element, check = compiled._elements[field], compiled._checks[field]
    limit, passed, items = text_limit(element), passed_values(check), passed_items(check)
    if limit is not None:
        bound = out.bind("l", limit)
        fast = f"{var}.__class__ is str and 0 < len({var}) <= {bound} and ({var}.isprintable() or not_text({var}) is None)"
    elif passed is not None:
        fast = f"{var}.__class__ is str and {var} in {out.bind('p', passed)}"
    else:  # a date, a boolean or an integer of its exact type is its own typed value
        kind = {ElementType.DATE: "DATE", ElementType.BOOLEAN: "BOOL", ElementType.INTEGER: "INT"}.get(element.type)
        fast = f"{var}.__class__ is {kind}" if kind else ""
    depth = 1
    if fast:  # None fails the test too (its class is none of these)
        out.emit(1, f"if not ({fast}):  # {field}")
        depth = 2
    out.emit(depth, f"if {var} is None:" + ("" if fast else f"  # {field}"))
    out.emit(depth + 1, f"del values[{field!r}]")
    if items is not None:  # a list of distinct codes its element's check passed before: a copy of the list
        out.emit(depth, f"elif {var}.__class__ is list and {var} and {out.bind('a', _all_in(items))}({var}) and len(set({var})) == len({var}):")
        out.emit(depth + 1, f"values[{field!r}] = [*{var}]")
    out.emit(depth, "else:")
    out.emit(depth + 1, "try:")
    out.emit(depth + 2, f"values[{field!r}] = {out.bind('c', check)}({var})")
    out.emit(depth + 1, "except FieldProblem as problem:")
    out.emit(depth + 2, f"del values[{field!r}]")
    out.emit(depth + 2, "failed = set() if failed is NO_FAILURES else failed")
    out.emit(depth + 2, f"failed.add({field!r})")
    out.emit(depth + 2, f"issues.append({out.bind('r', compiled.refused(field))}(problem))")


def _all_in(passed: set[str]) -> Callable[[list[Any]], bool]:
    def all_in(items: list[Any]) -> bool:
        for item in items:  # noqa: SIM110 - a plain loop is the fast path here
            if item.__class__ is not str or item not in passed:
                return False
        return True

    return all_in


def _emit_loop(compiled: CompiledCheck, out: _Source) -> None:
    """``check(data, today)`` for any mapping: one loop over its items, each value to its field's check."""
    record_type, checks = compiled.record_type, compiled._checks
    # per field: its maximum length (text), the set of values its check passed (codes, credit codes…), else True
    specs: dict[str, Any] = {}
    for use in record_type.uses:
        limit, passed = text_limit(use.element), passed_values(checks[use.field])
        specs[use.field] = limit if limit is not None else passed if passed is not None else True
    specs.pop(RECORD_TYPE_KEY, None)  # the record type's own key is never a field, as in the definition
    refused = {field: compiled.refused(field) for field in checks}
    required = [(use.field, element_issue(use.element, "required", "required element is missing")) for use in record_type.uses if use.required]

    def stray(key: Any, raw: Any, issues: list[Issue]) -> None:
        if key == RECORD_TYPE_KEY:
            if raw != record_type.name:
                issues.append(Issue(key, "record_type.mismatch", f"{raw!r} given for a {record_type.name} record"))
            return
        issues.append(Issue(key, "unknown_field", f"{key!r} is not an element of {record_type.name} ({record_type.name_zh})"))

    for line in (
        "def check(data, today):",
        "    values = {}",
        "    issues = []",
        "    failed = NO_FAILURES",
        "    for key, raw in data.items():",
        f"        spec = {out.bind('spec', specs.get)}(key)",
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
        f"            values[key] = {out.bind('check', checks)}[key](raw)",
        "        except FieldProblem as problem:",
        "            failed = set() if failed is NO_FAILURES else failed",
        "            failed.add(key)",
        f"            issues.append({out.bind('refused', refused)}[key](problem))",
        f"    if not values.keys() >= {out.bind('req', frozenset(field for field, _ in required))}:",
        f"        for field, issue in {out.bind('missing', tuple(required))}:",
        "            if field not in values and field not in failed:",
        "                issues.append(issue)",
        "    warnings = []",
        "    rules(values, failed, today, issues, warnings)",
        "    return RecordCheck(values, issues, warnings)",
    ):
        out.lines.append(line)


def _condition_expr(cond: Condition, out: _Source, var: str) -> str:
    """``cond.holds(values)`` as an expression over ``var`` (the condition field's value); the cases of
    exact ``str`` and ``list`` values inline (``str()`` of a ``str`` is itself), any other value through ``holds``."""
    wanted, holds = out.bind("w", frozenset(cond.values)), out.bind("k", cond.holds)
    if not cond.contains:
        return f"({var} is not None and ({var} in {wanted} if {var}.__class__ is str else {holds}(values)))"
    text = f"not {wanted}.isdisjoint({var}.split({out.bind('s', cond.separator)}))" if cond.separator else f"{var} in {wanted}"
    return (f"({var} is not None and (not {wanted}.isdisjoint(map(str, {var})) if {var}.__class__ is list"
            f" else {text} if {var}.__class__ is str else {holds}(values)))")


def _read_fields(record_type: RecordType, out: _Source) -> dict[str, str]:
    """Every field the rules read, read once into a local (``values`` does not change while they run)."""
    fields: dict[str, None] = {}
    for use in record_type.uses:
        conditions = (use.when, use.forbidden_when, use.placeholder_when, use.id_number_when, use.masked_id_number_when)
        fields.update(dict.fromkeys(cond.field for cond in conditions if cond is not None))
        if use.placeholder_when is not None or use.id_number_when is not None or use.masked_id_number_when is not None:
            fields[use.field] = None
        if use.element.type in (ElementType.CODE, ElementType.CODE_LIST):
            fields[use.field] = None
    for rule in record_type.rules:
        fields.update(dict.fromkeys((rule.earlier, rule.later) if isinstance(rule, DateOrder) else (rule.field,)))
    local = {field: f"f{i}" for i, field in enumerate(fields)}
    for field, name in local.items():
        out.emit(1, f"{name} = get({field!r})")
    return local


def _emit_rules(record_type: RecordType, out: _Source, judges: dict[str, CodeJudge]) -> None:
    out.emit(0, "def rules(values, failed, today, issues, warnings):")
    out.emit(1, "get = values.get")
    local = _read_fields(record_type, out)
    evaluated: dict[Condition, str] = {}

    def held(cond: Condition, always: bool) -> str:
        """The condition's variable (assigned here the first time it is always evaluated), else its expression."""
        if cond in evaluated:
            return evaluated[cond]
        if not always:
            return _condition_expr(cond, out, local[cond.field])
        name = evaluated[cond] = f"c{len(evaluated)}"
        out.emit(1, f"{name} = {_condition_expr(cond, out, local[cond.field])}")
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
        x = local[field]
        out.emit(1, f"if {x} is not None:  # {field}")
        if use.placeholder_when is not None:
            issue = element_issue(element, "uscc.placeholder", f"the placeholder {USCC_PLACEHOLDER} is allowed only when {use.placeholder_when.describe()}")
            out.emit(2, f"if {x} == {out.bind('u', USCC_PLACEHOLDER)} and not {held(use.placeholder_when, False)}: issues.append({out.bind('i', issue)})")
        if use.id_number_when is not None:
            out.emit(2, f"if {held(use.id_number_when, False)}: {out.bind('n', _id_number_issue)}({out.bind('e', element)}, {x}, today, issues)")
        if use.masked_id_number_when is not None:
            out.emit(2, f"if {held(use.masked_id_number_when, False)}: {out.bind('m', _masked_issue)}({out.bind('e', element)}, {x}, today, issues)")
    _emit_codes(record_type, out, judges, local)
    for rule in record_type.rules:
        if isinstance(rule, DateOrder):
            a, b = local[rule.earlier], local[rule.later]
            order = out.bind("o", _date_order_issue(record_type.use(rule.later).element, rule))
            out.emit(1, f"if {a} is not None and {b} is not None and {a} > {b}: issues.append({order}({a}, {b}))")
        elif isinstance(rule, NotInFuture):
            d, future = local[rule.field], out.bind("f", _future_issue(record_type.use(rule.field).element))
            out.emit(1, f"if {d} is not None and {d} > today: issues.append({future}({d}, today))")
    out.emit(1, "return None")


def _emit_codes(record_type: RecordType, out: _Source, judges: dict[str, CodeJudge], local: dict[str, str]) -> None:
    """Every code against the version in force on the reference date: a clean pass in place, else as the definition judges it."""
    coded = [use for use in record_type.uses if use.element.type in (ElementType.CODE, ElementType.CODE_LIST)]
    if not coded:
        return
    reference = record_type.reference_date
    depth = 1
    if reference is not None:
        out.emit(1, f"if {reference!r} not in failed:  # else the date is broken: judging codes by another day would only add noise")
        out.emit(2, f"on = get({reference!r}, today)")
        depth = 2
    else:
        out.emit(1, "on = today")
    out.emit(depth, "day = on.__class__ is DATE")
    for use in coded:
        element = use.element
        assert element.codeset is not None
        judge = judges[element.codeset]
        clean = out.bind("cl", judge.clean.get)
        every_code = f"{out.bind('g', judge_codes)}({out.bind('e', element)}, {out.bind('j', judge)}, x, on, issues, warnings)"
        out.emit(depth, f"x = {local[use.field]}  # codes of {element.codeset}")
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


def _id_number_issue(element: DataElement, value: Any, today: dt.date, issues: list[Issue]) -> None:
    """The issue of a value that is not a valid resident ID number on ``today``.

    Not remembered: a person's number is new to nearly every record, so a memo of verdicts by
    (number, day) costs more in misses than its rare hits save (measured on the mapping benchmark).
    """
    verdict = check_id_number(value, today=today)
    if not verdict:
        issues.append(element_issue(element, verdict.rule or "id_number", scrub(f"not a valid resident ID number: {verdict.reason}")))
