"""Compiling a checked table into one plain Python function, once.

The generated function maps one source record: for each field it reads the source path (or the
constant, or the system setting), runs the built steps, and either stores the value or records an
issue — every field is tried, so a record reports *all* its bad fields. No table parsing, no
lookups by name and no reflection happen per record.

Why generated source and not a loop over closures: a loop pays an interpreter dispatch per step
and per field; the generated function is the code one would write by hand (measured in
benchmarks/bench_mapping.py). Safety: the source is generated only from the checked table, and the
only things of the table that reach it are field names and paths as ``repr()`` string literals;
every transform, constant, condition value and default is bound as a function-level name, never
spliced in as text. The generated source is kept on the result (``CompiledTable.source``) for review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jnx.mappings.model import MappingContext, MappingIssue, MappingResult, TableRef, TargetDictionary
from jnx.mappings.table import Condition, FieldRule, MappingTable
from jnx.mappings.values import STRIP_CHARS, TransformFailure
from jnx.security.masking import mask_value

Mapper = Callable[[Mapping[str, Any], MappingContext], tuple[dict[str, Any], list[MappingIssue]]]
SHOWN_VALUE_CHARS = 80
MAY_EMPTY = frozenset({"trim", "clean", "squeeze", "split", "join", "concat", "coalesce"})
"""Transforms that may turn a value into no value (the next step is then skipped)."""
INLINE = {
    "trim": "(v.strip(STRIP) or None) if v.__class__ is str else {fn}(v)",
    "upper": "v.upper() if v.__class__ is str else {fn}(v)",
    "lower": "v.lower() if v.__class__ is str else {fn}(v)",
}
"""The commonest one-liners written in place for text (a call saved per field); other types call the transform."""
_BAD = object()  # a field whose chain failed: its issue is recorded, it is neither required-checked nor stored


def shown(value: Any, personal: bool) -> str | None:
    """A source value as an issue shows it: text, cut at 80 characters, masked when personal."""
    if value is None:
        return None
    text = str(value) if not isinstance(value, tuple) else " | ".join("" if v is None else str(v) for v in value)
    if personal:
        return mask_value(text)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


def dig(record: Any, keys: tuple[str, ...]) -> Any:
    """The value at a dotted path (``party.name``, ``items.0.code``); None where the path ends early."""
    for key in keys:
        if isinstance(record, Mapping):
            record = record.get(key)
        elif isinstance(record, list) and key.isdigit() and int(key) < len(record):
            record = record[int(key)]
        else:
            return None
    return record


def each(step: Callable[[Any], Any], items: list[Any]) -> list[Any] | None:
    return [y for y in map(step, items) if y is not None] or None


@dataclass
class _Emitter:
    lines: list[str] = field(default_factory=list)
    names: dict[str, Any] = field(default_factory=dict)

    def bind(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _getter(path: str) -> str:
    keys = tuple(path.split("."))
    return f"src.get({keys[0]!r})" if len(keys) == 1 else f"dig(src, {keys!r})"


def _source_expr(rule: FieldRule, out: _Emitter) -> str:
    if rule.setting is not None:
        return f"ctx.{rule.setting}"
    if rule.const is not None:
        return out.bind("c", rule.const)
    if len(rule.paths) == 1:
        return _getter(rule.paths[0])
    return "(" + ", ".join(_getter(p) for p in rule.paths) + ",)"


def _condition_expr(cond: Condition, out: _Emitter) -> str:
    subject = f"out.get({cond.field!r})" if cond.field is not None else _getter(str(cond.path))
    if cond.op == "present":
        return f"{subject} is {'not ' if cond.values[0] == 'true' else ''}None"
    if cond.op == "equals":
        return f"{subject} == {out.bind('w', cond.values[0])}"
    values = out.bind("w", frozenset(cond.values))
    if cond.op == "in":
        return f"{subject} in {values}"
    return f"not {values}.isdisjoint({subject} or ())"  # contains (any of) for a list-valued field


def _issue_factory(rule: FieldRule) -> Callable[[Any, TransformFailure], MappingIssue]:
    target, source, personal = rule.target, rule.source, rule.personal

    def issue(raw: Any, failure: TransformFailure) -> MappingIssue:
        return MappingIssue(target, source, shown(raw, personal), failure.transform, failure.rule, failure.message)

    return issue


def _missing(rule: FieldRule) -> MappingIssue:
    if rule.setting is not None:
        why = f"required, and setting {rule.setting} is not set for this source system"
    elif rule.paths:
        why = f"required, and the source has no value at {rule.source}"
    else:
        why = "required, and the table gives it no value"
    return MappingIssue(rule.target, rule.source, None, None, "required", why)


def _emit_field(rule: FieldRule, out: _Emitter) -> None:
    out.emit(1, f"# {rule.target} (table line {rule.line})")
    out.emit(1, f"raw = v = {_source_expr(rule, out)}")
    depth = 1
    if rule.when is not None:
        out.emit(1, f"if {_condition_expr(rule.when, out)}:")
        depth = 2
    if rule.default is not None:  # stands in for a missing or empty source value, then runs the chain
        out.emit(depth, f"if v is None or v == '':")
        out.emit(depth + 1, f"v = {out.bind('d', rule.default)}")
    if rule.steps:
        issue = out.bind("i", _issue_factory(rule))
        out.emit(depth, "if v is not None:")
        out.emit(depth + 1, "try:")
        maybe_empty = False
        for step in rule.steps:
            fn = out.bind("s", step.fn)
            template = INLINE.get(step.name, "{fn}(v)")
            if step.name == "code":  # a dict hit in place; misses (aliases, defaults, errors) call the transform
                table = out.bind("t", step.fn.table)  # type: ignore[attr-defined]
                template = f"({table}.get(v) if v.__class__ is str else None) or {{fn}}(v)"
            call = f"v = each({fn}, v)" if step.each else "v = " + template.format(fn=fn)
            guards = (["v is not None"] if maybe_empty else []) + (
                [_condition_expr(step.when, out)] if step.when is not None else [])
            if guards:
                out.emit(depth + 2, f"if {' and '.join(guards)}:")
                out.emit(depth + 3, call)
            else:
                out.emit(depth + 2, call)
            maybe_empty = step.each or step.name in MAY_EMPTY or (maybe_empty and step.when is not None)
        out.emit(depth + 1, "except Failure as exc:")
        out.emit(depth + 2, f"issues.append({issue}(raw, exc))")
        out.emit(depth + 2, "v = BAD")
    out.emit(depth, "if v is None:")
    if rule.facts.required and rule.when is None:
        out.emit(depth + 1, f"issues.append({out.bind('m', _missing(rule))})")
    else:
        out.emit(depth + 1, "pass")
    out.emit(depth, "elif v is not BAD:" if rule.steps else "else:")
    out.emit(depth + 1, f"out[{rule.target!r}] = v")


def generate(table: MappingTable) -> tuple[str, dict[str, Any]]:
    """The Python source of the mapper of ``table`` and the names it needs bound."""
    out = _Emitter()
    out.emit(0, "def map_record(src, ctx):")
    out.emit(1, "out = {}")
    out.emit(1, "issues = []")
    for rule in table.fields:
        _emit_field(rule, out)
    out.emit(1, "return out, issues")
    return "\n".join(out.lines) + "\n", out.names


@dataclass(frozen=True, slots=True)
class CompiledTable:
    """A table compiled into ``map_fields`` (the fast path) and ``__call__`` (with the model check)."""

    table: MappingTable
    map_fields: Mapper
    source: str
    dictionary: TargetDictionary | None

    @property
    def ref(self) -> TableRef:
        return self.table.ref

    def __call__(self, record: Mapping[str, Any], context: MappingContext | None = None, *,
                 validate: bool = True, today: dt.date = dt.date.max) -> MappingResult:
        """Map one source record; never raises for bad data: problems come back as issues.

        ``validate`` checks the result with the target's model; ``today`` is the day "not in the
        future" is judged on (the engine has no clock: the caller passes it).
        """
        if not isinstance(record, Mapping):
            issue = MappingIssue("", "", None, None, "record.type", f"a source record is an object, got {type(record).__name__}")
            return MappingResult({}, (issue,), self.table.ref)
        mapped, issues = self.map_fields(record, context or MappingContext())
        if validate and self.dictionary is not None:
            failed = {i.field for i in issues}
            rules = {r.target: r for r in self.table.fields}
            for problem in self.dictionary.validate(self.table.target, mapped, today):
                if problem.field in failed:
                    continue
                rule = rules.get(problem.field)
                value = shown(mapped.get(problem.field), rule.personal if rule else False)
                issues.append(MappingIssue(problem.field, rule.source if rule else "", value, None, problem.rule, problem.message))
        return MappingResult(mapped, tuple(issues), self.table.ref)


def compile_table(table: MappingTable, dictionary: TargetDictionary | None = None) -> CompiledTable:
    """Compile once; the result maps records until the process ends."""
    source, names = generate(table)
    namespace: dict[str, Any] = {"dig": dig, "each": each, "Failure": TransformFailure, "BAD": _BAD, "STRIP": STRIP_CHARS,
                                 **names}
    code = compile(source, f"<mapping {table.name}@{table.version}>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from the checked table only, see module docstring
    return CompiledTable(table, namespace["map_record"], source, dictionary)
