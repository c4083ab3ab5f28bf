"""The closed registry of transforms a mapping table may name.

A table names a transform and gives its parameters; nothing in a table is ever executed as code.
At load, each step's parameters are checked and the transform is *built* once into a plain
function ``value -> value`` (formats compiled, translation dicts made, codes checked against the
pinned code set versions). The compiled mapper then only calls those functions.

Shapes: a field's value is ``one`` value, ``many`` values (several source paths, to be combined by
``concat`` or ``coalesce``) or a ``list`` (multi-valued, after ``split``). Transforms of one value
apply to each item of a list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from jnx.codesets import CodeSetRegistry, CodeSetVersion
from jnx.errors import CodeSetError
from jnx.mappings import values
from jnx.mappings.values import TransformFailure
from jnx.security import masking

Shape = Literal["one", "many", "list"]
Step = Callable[[Any], Any]


class ParamProblem(Exception):
    """A step's parameter is wrong; ``key`` points inside a mapping parameter (e.g. one code)."""

    def __init__(self, param: str | None, reason: str, key: str | None = None) -> None:
        super().__init__(reason)
        self.param = param
        self.reason = reason
        self.key = key


@dataclass(frozen=True, slots=True)
class Param:
    read: Callable[[Any], Any]
    required: bool = False
    default: Any = None
    doc: str = ""


@dataclass(frozen=True, slots=True)
class BuildEnv:
    """What building a step may consult: the code sets, and the versions the table pins."""

    codesets: CodeSetRegistry
    pinned: Mapping[str, tuple[str, ...]]

    def versions(self, name: str) -> list[CodeSetVersion]:
        try:
            codeset = self.codesets.get(name)
        except CodeSetError as exc:
            raise ParamProblem("set", str(exc)) from None
        if name not in self.pinned:
            raise ParamProblem("set", f"code set {name!r} is used but not pinned: add it under codesets: in the header")
        return [codeset.version(v) for v in self.pinned[name]]


@dataclass(frozen=True, slots=True)
class TransformSpec:
    name: str
    summary: str
    build: Callable[[Mapping[str, Any], BuildEnv], Step]
    params: Mapping[str, Param] = field(default_factory=dict)
    takes: Shape = "one"
    gives: Shape = "one"
    shorthand: str | None = None
    """The parameter a plain value fills: ``- date: [YYYYMMDD]`` means ``- date: {formats: [YYYYMMDD]}``."""


# ---------------------------------------------------------------- parameter readers


def _text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError("must be non-empty text")
    return raw


def _texts(raw: Any) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise ValueError("must be text or a list of text")
    return tuple(items)


def _text_map(raw: Any) -> Mapping[str, str]:
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) and v for v in raw.values()):
        raise ValueError("must be a mapping of source value: code")
    return raw


def _flag(raw: Any) -> bool:
    if raw in ("true", "false"):
        return bool(raw == "true")
    raise ValueError("must be true or false")


def _day(raw: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(_text(raw))
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None


def _choice(*options: str) -> Callable[[Any], str]:
    def read(raw: Any) -> str:
        if raw not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return str(raw)

    return read


def _choices(*options: str) -> Callable[[Any], tuple[str, ...]]:
    def read(raw: Any) -> tuple[str, ...]:
        items = _texts(raw)
        unknown = [i for i in items if i not in options]
        if unknown:
            raise ValueError(f"unknown {unknown[0]!r}; known: {', '.join(options)}")
        return items

    return read


# ---------------------------------------------------------------- builders


def _simple(fn: Step) -> Callable[[Mapping[str, Any], BuildEnv], Step]:
    return lambda params, env: fn


def _upper(value: Any) -> str:
    return values.as_text(value, "upper").upper()


def _lower(value: Any) -> str:
    return values.as_text(value, "lower").lower()


def _build_date(params: Mapping[str, Any], env: BuildEnv) -> Step:
    if params["earliest"] > params["latest"]:
        raise ParamProblem("earliest", "earliest is after latest")
    return values.date_parser(params["formats"], params["earliest"], params["latest"])


def _build_format_date(params: Mapping[str, Any], env: BuildEnv) -> Step:
    layout = params["format"]
    return lambda value: values.format_date(value, layout)


def _build_amount(params: Mapping[str, Any], env: BuildEnv) -> Step:
    return values.amount_parser(params["unit"])


def _build_code(params: Mapping[str, Any], env: BuildEnv) -> Step:
    name: str = params["set"]
    versions = env.versions(name)
    pinned = "/".join(v.version for v in versions)

    def known(code: str) -> bool:
        return any((entry := v.lookup(code)) is not None and (entry.code == code or entry.match == "prefix")
                   for v in versions)

    for source_value, code in (params["map"] or {}).items():
        if not known(code):
            raise ParamProblem("map", f"{code!r} is not a code of {name} version {pinned}", key=source_value)
    default = params["default"]
    if default is not None and not known(default):
        raise ParamProblem("default", f"{default!r} is not a code of {name} version {pinned}")
    keep: bool = params["keep_codes"]
    named: tuple[str, ...] = tuple(code + "-" for code in params["named"] or ())
    for prefix in named:
        if not known(prefix[:-1]):
            raise ParamProblem("named", f"{prefix[:-1]!r} is not a code of {name} version {pinned}")
    table: dict[str, str] = dict(params["map"] or {})
    if keep:
        table.update({code: code for v in versions for code in v.entries if code not in table})
    shown = ", ".join(sorted(table)[:12]) + (" …" if len(table) > 12 else "")
    message = f"not a known value for code set {name} ({pinned}); known: {shown}"

    def translate(value: Any) -> str:
        text = value if value.__class__ is str else values.as_text(value, "code")
        code = table.get(text)
        if code is not None:
            return code
        if keep:  # an alias (another numbering) or a prefix code (其他-军官证) of the set
            for version in versions:
                entry = version.lookup(text)
                if entry is not None:
                    return text if entry.match == "prefix" else entry.code
        if named and text.startswith(named) and text.partition("-")[2].strip():
            return text  # 其他-取缔: the code with its name
        if default is not None:
            return default  # type: ignore[no-any-return]
        raise TransformFailure("code", "code.unknown", message)

    translate.table = table  # type: ignore[attr-defined]  # the compiler looks hits up in place
    return translate


def _build_replace(params: Mapping[str, Any], env: BuildEnv) -> Step:
    table = dict(params["map"])
    return lambda value: table.get(value, value)


def _build_remove(params: Mapping[str, Any], env: BuildEnv) -> Step:
    table = str.maketrans("", "", str(params["chars"]))
    return lambda value: str(value).translate(table) or None  # all removed ("-", "--"): no value


def _build_const(params: Mapping[str, Any], env: BuildEnv) -> Step:
    value: str = params["value"]
    return lambda _: value


def _span(raw: Any) -> tuple[int, int]:
    """``"7"`` or ``"1-2"``: character positions counted from 1, both ends included, as standards number them."""
    first, dash, last = _text(raw).partition("-")
    last = last if dash else first
    if not (first.isdigit() and first.isascii() and last.isdigit() and last.isascii()):
        raise ValueError("must be a position or a range of positions like 7 or 1-2 (counted from 1)")
    start, end = int(first), int(last)
    if start < 1 or end < start:
        raise ValueError("must count from 1 and end at or after its start (1-2, 7)")
    return start, end


def _build_positions(params: Mapping[str, Any], env: BuildEnv) -> Step:
    start, end = params["span"]
    begin = start - 1

    def positions(value: Any) -> str | None:
        return values.as_text(value, "positions")[begin:end] or None

    return positions


def _build_label(params: Mapping[str, Any], env: BuildEnv) -> Step:
    name: str = params["set"]
    labels = {code: entry.label for version in env.versions(name) for code, entry in version.entries.items()}

    def label(value: Any) -> str:
        text = labels.get(value)
        if text is None:
            raise TransformFailure("label", "label.unknown", f"not a code of code set {name}")
        return text

    return label


def _build_split(params: Mapping[str, Any], env: BuildEnv) -> Step:
    pattern = re.compile("[" + re.escape("".join(params["sep"])) + "]")
    strip = values.STRIP_CHARS

    def split(value: Any) -> list[str] | None:
        parts: list[str] = []
        for part in pattern.split(values.as_text(value, "split")):
            part = part.strip(strip)
            if part and part not in parts:
                parts.append(part)
        return parts or None

    return split


def _build_join(params: Mapping[str, Any], env: BuildEnv) -> Step:
    sep: str = params["sep"]
    return lambda items: sep.join(str(i) for i in items) or None


def _build_concat(params: Mapping[str, Any], env: BuildEnv) -> Step:
    sep: str = params["sep"]

    def concat(parts: Sequence[Any]) -> str | None:
        return sep.join(str(p) for p in parts if p is not None and p != "") or None

    return concat


def _coalesce(parts: Sequence[Any]) -> Any:
    for part in parts:
        if part is not None and part != "":
            return part
    return None


_MASKS: dict[str, Step] = {
    "id_number": masking.mask_id_number,
    "name": masking.mask_name,
    "phone": masking.mask_phone,
    "generic": masking.mask_value,
}


def _build_mask(params: Mapping[str, Any], env: BuildEnv) -> Step:
    mask = _MASKS[params["rule"]]
    return lambda value: mask(values.as_text(value, "mask"))


_SET = {"set": Param(_text, required=True, doc="code set name")}

TRANSFORMS: Mapping[str, TransformSpec] = {
    spec.name: spec
    for spec in (
        TransformSpec("trim", "strip surrounding whitespace (incl. full-width space, NBSP, BOM); empty → no value",
                      _simple(values.trim)),
        TransformSpec("clean", "full-width digits and letters → half-width, whitespace runs → one space, trim",
                      _simple(values.clean)),
        TransformSpec("cn_parens", "half-width ( ) → full-width （ ） as in registered Chinese names",
                      _simple(values.cn_parens)),
        TransformSpec("halfwidth", "full-width letters, digits and punctuation → half-width", _simple(values.halfwidth)),
        TransformSpec("squeeze", "whitespace runs → one space, trim", _simple(values.squeeze)),
        TransformSpec("upper", "upper case", _simple(_upper)),
        TransformSpec("lower", "lower case", _simple(_lower)),
        TransformSpec(
            "date", "read a date in one of the declared formats", _build_date,
            {
                "formats": Param(_choices(*values.DATE_FORMAT_NAMES), required=True, doc="formats tried in order"),
                "earliest": Param(_day, default=dt.date(1900, 1, 1), doc="earliest accepted date"),
                "latest": Param(_day, default=dt.date(2099, 12, 31), doc="latest accepted date"),
            },
            shorthand="formats",
        ),
        TransformSpec("format_date", "write a date as text", _build_format_date,
                      {"format": Param(_choice("YYYY-MM-DD", "YYYY/MM/DD", "YYYYMMDD"), required=True)},
                      shorthand="format"),
        TransformSpec("amount", "read an amount (5,000.00元, 0.5万元, 5000) into exact 万元, six places", _build_amount,
                      {"unit": Param(_choice(*values.UNITS), required=True, doc="unit of a bare number")},
                      shorthand="unit"),
        TransformSpec(
            "code", "translate a source value into a code of a code set", _build_code,
            {
                **_SET,
                "map": Param(_text_map, doc="source value → code"),
                "default": Param(_text, doc="code for any other value; without it other values are errors"),
                "keep_codes": Param(_flag, default=True, doc="a value that already is a code passes unchanged"),
                "named": Param(_texts, doc="codes written with a name after a dash (其他 → 其他-取缔): such a value passes "
                                          "unchanged; the code alone is left to the standard (which may ask for the name)"),
            },
        ),
        TransformSpec("replace", "replace whole values listed in map (e.g. 长期 → 2099-12-31); others pass",
                      _build_replace, {"map": Param(_text_map, required=True, doc="value → replacement")},
                      shorthand="map"),
        TransformSpec("remove", "remove every listed character (e.g. the hyphen of an organisation code)", _build_remove,
                      {"chars": Param(_text, required=True, doc="the characters to remove")}, shorthand="chars"),
        TransformSpec("const", "replace the value by this text (a step with when:, e.g. a placeholder for a 注册号)",
                      _build_const, {"value": Param(_text, required=True, doc="the text")}, shorthand="value"),
        TransformSpec("positions", "the characters at these positions, counted from 1 (1-2: a credit code's category)",
                      _build_positions, {"span": Param(_span, required=True, doc="a position or a range: 7, 1-2")},
                      shorthand="span"),
        TransformSpec("label", "a code's label (its text) in a code set", _build_label, _SET, shorthand="set"),
        TransformSpec("split", "split one text into several values (multi-valued field)", _build_split,
                      {"sep": Param(_texts, default=(";", "；", ",", "，", "、"), doc="separator characters")},
                      gives="list", shorthand="sep"),
        TransformSpec("join", "join several values into one text", _build_join,
                      {"sep": Param(_text, default=";")}, takes="list", shorthand="sep"),
        TransformSpec("concat", "join the values of several source paths (empty ones left out)", _build_concat,
                      {"sep": Param(lambda raw: "" if raw is None else _text(raw), default="")}, takes="many",
                      shorthand="sep"),
        TransformSpec("coalesce", "the first non-empty value of several source paths", _simple(_coalesce), takes="many"),
        TransformSpec("mask", "mask personal data for publication", _build_mask,
                      {"rule": Param(_choice(*_MASKS), required=True)}, shorthand="rule"),
    )
}


NEEDS_WHEN = frozenset({"const"})
"""Transforms meaningful only as a conditional step (without when: the field's own ``const:`` says it)."""


def lookup(name: str) -> TransformSpec:
    """The transform called ``name``; LookupError listing the known names otherwise."""
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise LookupError(f"unknown transform {name!r}; known: {', '.join(sorted(TRANSFORMS))}") from None
