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

Memo per field: real feeds repeat their values (dates, amounts, codes, category lists, authority
names), and every transform is a pure function of the value, so a field whose chain depends on its
source value alone, and costs more than a lookup (not only the one-liners of ``INLINE``), remembers,
per distinct short text, the value the chain gave. The record
function looks a text up in place and runs the field's chain (written in place below the lookup,
no call) only for texts not remembered and for other types (numbers, lists: never remembered,
``True`` and ``1`` differ); no value and issues are worked out each time, so every record carrying
a bad value reports it. Memos are bounded
(``MEMO_SIZE`` texts, emptied when full; texts over ``MEMO_CHARS`` are not kept), list values are
copied out so a caller cannot change what is remembered, and a race between threads can only make
a chain run twice. Fields whose steps read other fields (``when:``) are mapped every time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jnx.codegen import SourceWriter
from jnx.mappings.model import (
    MappingContext,
    MappingIssue,
    MappingResult,
    TableRef,
    TargetDictionary,
)
from jnx.mappings.shapes import shape_test
from jnx.mappings.table import Condition, FieldRule, MappingTable
from jnx.mappings.transforms import TRANSFORMS
from jnx.mappings.values import CLEAN_WORK, INVISIBLE, STRIP_CHARS, TransformFailure
from jnx.security.masking import mask_value

Mapper = Callable[[Mapping[str, Any], MappingContext], tuple[dict[str, Any], list[MappingIssue]]]
SHOWN_VALUE_CHARS = 80
MAY_EMPTY = frozenset({"trim", "clean", "squeeze", "split", "join", "concat", "coalesce", "positions", "remove"})
"""Transforms that may turn a value into no value (every step after it is then skipped); each gives no value
for "" (and never "")."""
KEEP_EMPTY = frozenset({"halfwidth", "upper", "lower", "cn_parens"})
"""Transforms that give "" for "" and never make "" of other text: a chain starting with them and then one of
MAY_EMPTY needs no test of the source value for ""."""
INLINE = {
    "trim": "(v.strip(STRIP) or None) if v.__class__ is str else {fn}(v)",
    "upper": "v.upper() if v.__class__ is str else {fn}(v)",
    "lower": "v.lower() if v.__class__ is str else {fn}(v)",
    "clean": "v if v.__class__ is str and (v.isalnum() if v.isascii() else CLEAN_WORK(v) is None) else {fn}(v)",
    "cn_parens": "(v.replace('(', '（').replace(')', '）') if '(' in v or ')' in v else v) if v.__class__ is str else {fn}(v)",
}
"""The text one-liners written in place (a call saved per field; other types call the transform).
For text with nothing to change (clean: one word, or no character it changes) each costs one or two
C calls, about what a memo lookup costs, so a chain of only these is not remembered: remembering would
add a lookup and a store for every text new to its field (ID numbers, credit codes, names) and save
next to nothing on the texts that repeat. Tested against the transforms."""
IN_PLACE = {
    "squeeze": "(' '.join(v.split()).strip(INVISIBLE) or None) if v.__class__ is str else {fn}(v)",
}
"""Written in place like INLINE, but its chains are still remembered (splitting and joining cost more than a lookup)."""
MEMO_SIZE = 2048
"""Distinct source texts remembered per field; the memo is emptied when it reaches this size."""
MEMO_CHARS = 64
"""Longer texts (facts, addresses) rarely repeat: they are mapped every time and never remembered."""
_MISS = object()  # not in a field's memo


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
class _Emitter(SourceWriter):
    functions: list[str] = field(default_factory=list)
    memos: list[dict[str, Any]] = field(default_factory=list)


def _getter(path: str) -> str:
    keys = tuple(path.split("."))
    return f"get({keys[0]!r})" if len(keys) == 1 else f"dig(src, {keys!r})"


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
    if cond.op == "matches":  # a named shape (shapes.SHAPES), judged by a jnx.codesets validator
        return f"{out.bind('w', shape_test(cond.values))}({subject})"
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


def _emit_steps(rule: FieldRule, out: _Emitter, depth: int, failed: str, present: bool = False) -> None:
    """The chain of ``rule`` on ``v``, at ``depth``; a failure runs ``failed`` (a statement) with ``exc``.
    ``present``: ``v`` is known not to be None here."""
    if not present:
        out.emit(depth, "if v is not None:")
        depth += 1
    out.emit(depth, "try:")
    inner = depth + 1
    for number, step in enumerate(rule.steps, start=1):
        fn = out.bind("s", step.fn)
        template = INLINE.get(step.name) or IN_PLACE.get(step.name, "{fn}(v)")
        if step.name == "code":  # a dict hit in place; misses (aliases, defaults, errors) call the transform
            table = out.bind("t", step.fn.table)  # type: ignore[attr-defined]
            template = f"({table}.get(v) if v.__class__ is str else None) or {{fn}}(v)"
        call = f"v = each({fn}, v)" if step.each else "v = " + template.format(fn=fn)
        if step.when is not None:
            out.emit(inner, f"if {_condition_expr(step.when, out)}:")
            out.emit(inner + 1, call)
        else:
            out.emit(inner, call)
        if (step.each or step.name in MAY_EMPTY) and number < len(rule.steps):
            # No value skips *all* the steps after it, not only the next: they are nested under one test
            # (a step skipped leaves v None, and a step after it must not see that None).
            out.emit(inner, "if v is not None:")
            inner += 1
    out.emit(depth, "except Failure as exc:")
    out.emit(depth + 1, failed)


def _empties_source(rule: FieldRule) -> bool:
    """Whether a source "" becomes no value by the chain itself (a MAY_EMPTY step first, perhaps after steps
    that keep "" as it is); otherwise the compiled field tests the source for "" before its first step."""
    for step in rule.steps:
        if step.when is not None or step.each:
            return False
        if step.name in MAY_EMPTY:
            return True
        if step.name not in KEEP_EMPTY:
            return False
    return False


def _memoised(rule: FieldRule) -> bool:
    """Worth remembering per source text: the result depends on the source value alone (no step reads
    other fields), and the chain does more than the in-place one-liners a lookup would cost as much as."""
    return bool(rule.paths) and rule.setting is None and rule.const is None \
        and all(step.when is None for step in rule.steps) and any(step.name not in INLINE for step in rule.steps)


def _gives_list(rule: FieldRule) -> bool:
    shape = "one"
    for step in rule.steps:
        shape = "list" if step.each else TRANSFORMS[step.name].gives
    return shape == "list"


def _emit_outcome(rule: FieldRule, out: _Emitter, depth: int, memo: str | None = None) -> None:
    """Store ``v`` in the record (and in ``memo`` when it came from short text), or record its issue,
    or report a required value missing."""
    out.emit(depth, "if v is None:")
    if rule.facts.required and rule.when is None:
        out.emit(depth + 1, f"issues.append({out.bind('m', _missing(rule))})")
    else:
        out.emit(depth + 1, "pass")
    if rule.steps:
        out.emit(depth, "elif v.__class__ is Issue:")
        out.emit(depth + 1, "issues.append(v)")
    out.emit(depth, "else:")
    if memo is not None:
        out.emit(depth + 1, "if raw.__class__ is str and len(raw) <= MEMO_CHARS:")
        out.emit(depth + 2, f"if len({memo}) >= MEMO_SIZE:")
        out.emit(depth + 3, f"{memo}.clear()")
        out.emit(depth + 2, f"{memo}[raw] = v")
    out.emit(depth + 1, f"out[{rule.target!r}] = {'[*v]' if _gives_list(rule) else 'v'}")


def _emit_field(rule: FieldRule, out: _Emitter) -> None:
    out.emit(1, f"# {rule.target} (table line {rule.line})")
    if rule.const is not None and not rule.steps and rule.when is None:  # checked non-empty text: stored as it is
        out.emit(1, f"out[{rule.target!r}] = {out.bind('c', rule.const)}")
        return
    memoised = _memoised(rule)
    out.emit(1, f"raw = {_source_expr(rule, out)}" if memoised else f"raw = v = {_source_expr(rule, out)}")
    depth = 1
    if rule.when is not None:
        out.emit(1, f"if {_condition_expr(rule.when, out)}:")
        depth = 2
    memo = None
    present = False
    if memoised:
        found: dict[str, Any] = {}
        out.memos.append(found)
        memo = out.bind("memo", found)
        out.emit(depth, f"if raw.__class__ is str and (v := {out.bind('g', found.get)}(raw)) is not None:  # a text seen before")
        out.emit(depth + 1, f"out[{rule.target!r}] = {'[*v]' if _gives_list(rule) else 'v'}")
        present = rule.default is None and not (rule.facts.required and rule.when is None)
        out.emit(depth, "elif raw is not None:" if present else "else:")
        depth += 1  # the chain below runs only for texts not remembered and for other types
        out.emit(depth, "v = raw")
    if rule.default is not None:
        out.emit(depth, "if v is None or v == '':")
        out.emit(depth + 1, f"v = {out.bind('d', rule.default)}")
    elif rule.paths and rule.steps and not _empties_source(rule):  # "" is no value: never read by a step
        out.emit(depth, "if v == '':")
        out.emit(depth + 1, "v = None")
        present = False
    if rule.steps:
        _emit_steps(rule, out, depth, f"v = {out.bind('i', _issue_factory(rule))}(raw, exc)", present)
    _emit_outcome(rule, out, depth, memo)


def generate(table: MappingTable) -> tuple[str, dict[str, Any], tuple[dict[str, Any], ...]]:
    """The Python source of the mapper of ``table``, the names it needs bound, and its fields' memos."""
    out = _Emitter()
    out.emit(0, "def map_record(src, ctx):")
    out.emit(1, "get = src.get")
    out.emit(1, "out = {}")
    out.emit(1, "issues = []")
    for rule in table.fields:
        _emit_field(rule, out)
    out.emit(1, "return out, issues")
    return "\n\n".join([*out.functions, "\n".join(out.lines)]) + "\n", out.names, tuple(out.memos)


@dataclass(frozen=True, slots=True)
class CompiledTable:
    """A table compiled into ``map_fields`` (the fast path) and ``__call__`` (with the model check)."""

    table: MappingTable
    map_fields: Mapper
    source: str
    dictionary: TargetDictionary | None
    memos: tuple[dict[str, Any], ...] = ()
    """Per memoised field: source text → the value its chain gave. Bounded by MEMO_SIZE."""
    ref: TableRef = field(init=False)
    rules: Mapping[str, Any] = field(init=False)
    """The table's field rules by target field (which source and whether personal, for issues)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", self.table.ref)
        object.__setattr__(self, "rules", {r.target: r for r in self.table.fields})

    def __call__(self, record: Mapping[str, Any], context: MappingContext | None = None, *,
                 validate: bool = True, today: dt.date = dt.date.max) -> MappingResult:
        """Map one source record; never raises for bad data: problems come back as issues.

        ``validate`` checks the result with the target's model; ``today`` is the day "not in the
        future" is judged on (the engine has no clock: the caller passes it).
        """
        if record.__class__ is not dict and not isinstance(record, Mapping):
            issue = MappingIssue("", "", None, None, "record.type", f"a source record is an object, got {type(record).__name__}")
            return MappingResult({}, (issue,), self.ref)
        mapped, issues = self.map_fields(record, context or _NO_CONTEXT)
        if validate and self.dictionary is not None:
            problems = self.dictionary.validate(self.table.target, mapped, today)
            if problems:
                failed = {i.field for i in issues}
                rules = self.rules
                for problem in problems:
                    if problem.field in failed:
                        continue
                    rule = rules.get(problem.field)
                    value = shown(mapped.get(problem.field), rule.personal if rule else False)
                    issues.append(MappingIssue(problem.field, rule.source if rule else "", value, None, problem.rule, problem.message))
        return MappingResult(mapped, tuple(issues), self.ref)


_NO_CONTEXT = MappingContext()


def compile_table(table: MappingTable, dictionary: TargetDictionary | None = None) -> CompiledTable:
    """Compile once; the result maps records until the process ends."""
    source, names, memos = generate(table)
    namespace: dict[str, Any] = {"dig": dig, "each": each, "Failure": TransformFailure, "Issue": MappingIssue, "MISS": _MISS,
                                 "STRIP": STRIP_CHARS,
                                 "CLEAN_WORK": CLEAN_WORK.search, "INVISIBLE": INVISIBLE, "MEMO_SIZE": MEMO_SIZE, "MEMO_CHARS": MEMO_CHARS, **names}
    code = compile(source, f"<mapping {table.name}@{table.version}>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from the checked table only, see module docstring
    return CompiledTable(table, namespace["map_record"], source, dictionary, memos)
