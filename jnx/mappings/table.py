"""A mapping table: its header, its field rules, and loading that is checking.

``load_table`` reads a table file (format 1, YAML) and checks everything it can before any record
is mapped: header values, target fields against the dictionary, transform names and parameters
(each step is built once, so a code not in its code set fails here), shapes (several source paths
must be combined, a list must be joined unless the field is multi-valued), conditions naming
earlier fields, setting names. Every problem is collected with its file and line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from jnx.codesets import CodeSetRegistry
from jnx.mappings import shapes, transforms
from jnx.mappings.errors import MappingTableError, TableProblem
from jnx.mappings.model import SETTING_NAMES, FieldFacts, TableRef, TargetDictionary
from jnx.mappings.transforms import BuildEnv, ParamProblem, Shape, Step, TransformSpec
from jnx.mappings.yamlsource import LocatedList, LocatedMap, load_located, plain

FORMAT = "1"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
HEADER_KEYS = ("format", "name", "version", "direction", "source_kind", "source_record", "target", "codesets",
               "effective_from", "description", "fields")
FIELD_KEYS = ("from", "const", "setting", "do", "when", "default", "personal", "note")
CONDITION_OPS = ("present", "equals", "in", "contains", "matches")


class Direction(str, Enum):
    INBOUND = "inbound"
    """source system record → standard record"""
    OUTBOUND = "outbound"
    """standard record → a target format (the credit platform's)"""


SOURCE_KINDS = ("licensing", "provincial_licensing", "case_handling", "double_random", "credit", "standard", "other")


@dataclass(frozen=True, slots=True)
class Condition:
    """``when:`` — the field gets a value only if another field (or a source path) satisfies this.

    ``matches``: ``values`` are names of ``shapes.SHAPES`` (the value has one of these shapes)."""

    field: str | None
    path: str | None
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BuiltStep:
    """One transform of a field's chain, built: its name, its parameters and the function."""

    name: str
    params: Mapping[str, Any]
    fn: Step
    each: bool
    """Applied to each item of a list."""
    line: int
    when: Condition | None = None
    """Applied only when this holds (e.g. mask a name only for a natural person)."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    target: str
    paths: tuple[str, ...]
    const: str | None
    setting: str | None
    steps: tuple[BuiltStep, ...]
    when: Condition | None
    default: str | None
    facts: FieldFacts
    personal: bool
    line: int

    @property
    def source(self) -> str:
        """Where the value comes from, as a reviewer reads it."""
        if self.setting:
            return f"setting:{self.setting}"
        if self.const is not None:
            return "const"
        return "+".join(self.paths)


@dataclass(frozen=True, slots=True)
class MappingTable:
    name: str
    version: int
    direction: Direction
    source_kind: str
    source_record: str
    target: str
    codesets: Mapping[str, tuple[str, ...]]
    effective_from: dt.date
    description: str
    fields: tuple[FieldRule, ...]
    content_hash: str
    origin: str
    document: Mapping[str, Any]
    """The table as written (plain data), for show and diff."""

    @property
    def ref(self) -> TableRef:
        return TableRef(self.name, self.version, self.content_hash)


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of the table's content (canonical JSON: comments and layout do not count)."""
    canonical = json.dumps(plain(document), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Checker:
    """Collects problems while turning a located document into a MappingTable."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[TableProblem] = []

    def problem(self, line: int | None, reason: str) -> None:
        self.problems.append(TableProblem(self.source, line, reason))

    def text(self, doc: LocatedMap, key: str, *, required: bool = True) -> str | None:
        value = doc.get(key)
        if value is None:
            if required:
                self.problem(doc.line_of(key), f"{key}: is required")
            return None
        if not isinstance(value, str):
            self.problem(doc.line_of(key), f"{key}: must be text")
            return None
        return value

    def choice(self, doc: LocatedMap, key: str, options: tuple[str, ...]) -> str | None:
        value = self.text(doc, key)
        if value is not None and value not in options:
            self.problem(doc.line_of(key), f"{key}: {value!r} is not one of {', '.join(options)}")
            return None
        return value

    def unknown_keys(self, doc: LocatedMap, known: tuple[str, ...], what: str) -> None:
        for key in doc:
            if key not in known:
                self.problem(doc.line_of(key), f"unknown {what} key {key!r}; known: {', '.join(known)}")


def _versions(checker: _Checker, doc: LocatedMap, registry: CodeSetRegistry) -> dict[str, tuple[str, ...]]:
    pinned: dict[str, tuple[str, ...]] = {}
    raw = doc.get("codesets")
    if raw is None:
        return pinned
    if not isinstance(raw, LocatedMap):
        checker.problem(doc.line_of("codesets"), "codesets: must map each code set name to its version(s)")
        return pinned
    for name, versions in raw.items():
        line = raw.line_of(name)
        wanted = (versions,) if isinstance(versions, str) else tuple(versions or ())
        if name not in registry:
            checker.problem(line, f"unknown code set {name!r}; known: {', '.join(registry.names())}")
            continue
        known = [v.version for v in registry.get(name).versions]
        bad = [v for v in wanted if v not in known]
        if bad or not wanted:
            checker.problem(line, f"code set {name} has no version {bad[0] if bad else '(none given)'!r}; known: {', '.join(known)}")
            continue
        pinned[name] = wanted
    return pinned


def _build_step(checker: _Checker, raw: Any, line: int, shape: Shape, env: BuildEnv,
                earlier: set[str]) -> tuple[BuiltStep | None, Shape]:
    when = None
    if isinstance(raw, str):
        name, given, where = raw, None, None
    elif isinstance(raw, LocatedMap) and 1 <= len(raw) - ("when" in raw) == 1:
        name, given = next((k, v) for k, v in raw.items() if k != "when")
        where = raw
        if "when" in raw:
            when = _condition(checker, raw["when"], raw.line_of("when"), earlier)
            if when is None:
                return None, shape
    else:
        checker.problem(line, "a step is a transform name, or one transform name with its parameters (and a when:)")
        return None, shape
    try:
        spec = transforms.lookup(name)
    except LookupError as exc:
        checker.problem(line, str(exc))
        return None, shape
    params = _params(checker, spec, given, where.line_of(name) if where is not None else line)
    if params is None:
        return None, shape
    if name in transforms.NEEDS_WHEN and when is None:
        checker.problem(line, f"{name} as a step needs a when: (a field that is always one text says const: instead)")
        return None, shape
    each = False
    if spec.takes == "many" and shape != "many":
        checker.problem(line, f"{name} combines several source paths; this field has one")
        return None, shape
    if spec.takes == "list" and shape != "list":
        checker.problem(line, f"{name} needs several values (a split before it)")
        return None, shape
    if spec.takes == "one":
        if shape == "many":
            checker.problem(line, f"several source paths: combine them first (concat or coalesce) before {name}")
            return None, shape
        each = shape == "list"
        if each and spec.gives == "list":
            checker.problem(line, f"{name} on values already split")
            return None, shape
    try:
        fn = spec.build(params, env)
    except ParamProblem as exc:
        at = line
        if where is not None and isinstance(given, LocatedMap) and exc.param is not None and exc.param in given:
            at = given.line_of(exc.param)
            inner = given.get(exc.param)
            if exc.key is not None and isinstance(inner, LocatedMap):
                at = inner.line_of(exc.key)
        checker.problem(at, f"{name}: {exc.reason}")
        return None, shape
    gives: Shape = "list" if (each or spec.gives == "list") else spec.gives
    if when is not None and gives != shape:
        checker.problem(line, f"{name}: a step with when: must keep the shape of the value")
        return None, shape
    return BuiltStep(name, params, fn, each, line, when), gives


def _params(checker: _Checker, spec: TransformSpec, given: Any, line: int) -> dict[str, Any] | None:
    if given is None:
        given = {}
    elif not isinstance(given, dict):
        if spec.shorthand is None:
            checker.problem(line, f"{spec.name}: give parameters as a mapping ({', '.join(spec.params) or 'none'})")
            return None
        given = {spec.shorthand: given}
    result: dict[str, Any] = {}
    ok = True
    for key in given:
        if key not in spec.params:
            known = ", ".join(spec.params) or "none"
            checker.problem(_line_in(given, key, line), f"{spec.name}: unknown parameter {key!r}; known: {known}")
            ok = False
    for key, param in spec.params.items():
        if key not in given or given[key] is None:
            if param.required:
                checker.problem(line, f"{spec.name}: parameter {key!r} is required ({param.doc})")
                ok = False
            result[key] = param.default
            continue
        try:
            result[key] = param.read(given[key])
        except ValueError as exc:
            checker.problem(_line_in(given, key, line), f"{spec.name}: {key} {exc}")
            ok = False
    return result if ok else None


def _line_in(container: Any, key: str, fallback: int) -> int:
    return container.line_of(key) if isinstance(container, LocatedMap) else fallback


def _condition(checker: _Checker, raw: Any, line: int, earlier: set[str]) -> Condition | None:
    if not isinstance(raw, LocatedMap):
        checker.problem(line, "when: must be a mapping like {field: party_type, equals: 自然人}")
        return None
    ops = [k for k in raw if k in CONDITION_OPS]
    others = [k for k in raw if k not in (*CONDITION_OPS, "field", "path")]
    if len(ops) != 1 or others or ("field" in raw) == ("path" in raw):
        checker.problem(line, f"when: needs field (or path) and one of {', '.join(CONDITION_OPS)}")
        return None
    op = ops[0]
    target = raw.get("field")
    if target is not None and target not in earlier:
        checker.problem(raw.line_of("field"), f"when: field {target!r} must be a field defined above this one")
        return None
    value = raw[op]
    if op == "matches":
        names = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, LocatedList) else ()
        if not names or not all(isinstance(n, str) for n in names):
            checker.problem(raw.line_of(op), f"when: matches needs a shape name or a list of them; known: {', '.join(shapes.SHAPES)}")
            return None
        for shape in names:
            try:
                shapes.lookup_shape(shape)
            except LookupError as exc:
                checker.problem(raw.line_of(op), f"when: {exc}")
                return None
        return Condition(target, raw.get("path"), op, names)
    if op == "present":
        if value not in ("true", "false"):
            checker.problem(raw.line_of(op), "when: present must be true or false")
            return None
        values: tuple[str, ...] = (value,)
    else:
        values = (value,) if isinstance(value, str) else tuple(value or ())
        if not values or not all(isinstance(v, str) for v in values):
            checker.problem(raw.line_of(op), f"when: {op} needs text values")
            return None
    return Condition(target, raw.get("path"), op, values)


def _field(checker: _Checker, target: str, raw: Any, line: int, facts: FieldFacts, env: BuildEnv,
           source_fields: Mapping[str, FieldFacts] | None, earlier: set[str]) -> FieldRule | None:
    if not isinstance(raw, LocatedMap):
        checker.problem(line, f"{target}: give a mapping with from/const/setting and do")
        return None
    checker.unknown_keys(raw, FIELD_KEYS, f"{target} field")
    origins = [k for k in ("from", "const", "setting") if k in raw]
    if len(origins) != 1:
        checker.problem(line, f"{target}: give exactly one of from, const, setting")
        return None
    paths: tuple[str, ...] = ()
    if "from" in raw:
        value = raw["from"]
        paths = (value,) if isinstance(value, str) else tuple(value or ())
        if not paths or not all(isinstance(p, str) and p for p in paths):
            checker.problem(raw.line_of("from"), f"{target}: from must be a path or a list of paths")
            return None
        if source_fields is not None:
            for path in paths:
                if path not in source_fields:
                    checker.problem(raw.line_of("from"), f"{target}: source field {path!r} is not in the source record type")
    setting = raw.get("setting")
    if setting is not None and setting not in SETTING_NAMES:
        checker.problem(raw.line_of("setting"), f"{target}: unknown setting {setting!r}; known: {', '.join(SETTING_NAMES)}")
    shape: Shape = "many" if len(paths) > 1 else "one"
    if source_fields is not None and len(paths) == 1 and paths[0] in source_fields and source_fields[paths[0]].multi:
        shape = "list"
    steps: list[BuiltStep] = []
    chain = raw.get("do")
    if chain is None:
        chain = LocatedList(line)
    elif not isinstance(chain, LocatedList):
        chain = LocatedList(raw.line_of("do"))
        checker.problem(raw.line_of("do"), f"{target}: do must be a list of steps")
    failed = False
    for index, step in enumerate(chain):
        built, shape = _build_step(checker, step, chain.line_of(index), shape, env, earlier)
        if built is None:
            failed = True
            break
        steps.append(built)
    if not failed and shape == "many":
        checker.problem(line, f"{target}: several source paths need concat or coalesce")
    if not failed and shape == "list" and not facts.multi:
        checker.problem(line, f"{target}: holds one value; join the split values")
    when = _condition(checker, raw["when"], raw.line_of("when"), earlier) if "when" in raw else None
    personal = raw.get("personal")
    if personal not in (None, "true", "false"):
        checker.problem(raw.line_of("personal"), f"{target}: personal must be true or false")
    source_personal = any(source_fields[p].personal for p in paths if p in source_fields) if source_fields else False
    return FieldRule(
        target=target, paths=paths, const=raw.get("const"), setting=setting, steps=tuple(steps), when=when,
        default=raw.get("default"), facts=facts, personal=personal == "true" or facts.personal or source_personal,
        line=line,
    )


def parse_table(text: str, origin: str, dictionary: TargetDictionary, codesets: CodeSetRegistry) -> MappingTable:
    """Check a table's text and build it; MappingTableError lists every problem with its line."""
    doc = load_located(text, origin)
    checker = _Checker(origin)
    checker.unknown_keys(doc, HEADER_KEYS, "header")
    if doc.get("format") != FORMAT:
        checker.problem(doc.line_of("format"), f"format: must be {FORMAT} (got {doc.get('format')!r})")
        raise MappingTableError(checker.problems)
    name = checker.text(doc, "name")
    if name is not None and not NAME_PATTERN.fullmatch(name):
        checker.problem(doc.line_of("name"), f"name: {name!r} must be lower-case words joined by . or _")
    raw_version = checker.text(doc, "version")
    version = int(raw_version) if raw_version and raw_version.isdigit() and int(raw_version) > 0 else None
    if raw_version is not None and version is None:
        checker.problem(doc.line_of("version"), f"version: must be a whole number ≥ 1 (got {raw_version!r})")
    direction = checker.choice(doc, "direction", tuple(d.value for d in Direction))
    source_kind = checker.choice(doc, "source_kind", SOURCE_KINDS)
    source_record = checker.text(doc, "source_record")
    target = checker.text(doc, "target")
    types = dictionary.record_types()
    if target is not None and target not in types:
        checker.problem(doc.line_of("target"), f"target: unknown record type {target!r}; known: {', '.join(sorted(types))}")
        target = None
    source_fields = None
    if direction == Direction.OUTBOUND.value and source_record is not None:
        if source_record not in types:
            checker.problem(doc.line_of("source_record"), f"source_record: an outbound table reads a record type; "
                            f"{source_record!r} is not one of {', '.join(sorted(types))}")
        else:
            source_fields = dictionary.fields(source_record)
    effective = checker.text(doc, "effective_from")
    effective_from = dt.date.min
    try:
        effective_from = dt.date.fromisoformat(effective) if effective else dt.date.min
    except ValueError:
        checker.problem(doc.line_of("effective_from"), f"effective_from: {effective!r} is not a date YYYY-MM-DD")
    pinned = _versions(checker, doc, codesets)
    env = BuildEnv(codesets, pinned)
    rules: list[FieldRule] = []
    raw_fields = doc.get("fields")
    if not isinstance(raw_fields, LocatedMap) or not raw_fields:
        checker.problem(doc.line_of("fields"), "fields: is required, one entry per target field")
    elif target is not None:
        known = dictionary.fields(target)
        earlier: set[str] = set()
        for field_name, raw in raw_fields.items():
            line = raw_fields.line_of(field_name)
            facts = known.get(field_name)
            if facts is None:
                checker.problem(line, f"unknown field {field_name!r} of record type {target}; "
                                f"known: {', '.join(known)}")
                continue
            rule = _field(checker, field_name, raw, line, facts, env, source_fields, earlier)
            if rule is not None:
                rules.append(rule)
            earlier.add(field_name)
    if checker.problems:
        raise MappingTableError(checker.problems)
    assert name and version and direction and source_kind and source_record and target  # guaranteed by the checks
    return MappingTable(
        name=name, version=version, direction=Direction(direction), source_kind=source_kind,
        source_record=source_record, target=target, codesets=pinned, effective_from=effective_from,
        description=str(doc.get("description") or ""), fields=tuple(rules), content_hash=content_hash(doc),
        origin=origin, document=plain(doc),
    )
