"""Named shapes: the closed set of identifier shapes a ``when: {…, matches: NAME}`` condition may test.

Each shape is backed by a validator of :mod:`jnx.codesets`, so a table routes a value by what it is —
a credit code, a 15-digit 注册号 — without a regular expression and without code of its own. The
loader checks the names (``lookup_shape``); the compiler binds one ``shape_test`` per condition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jnx.codesets import (
    Verdict,
    check_id_number,
    check_org_code,
    check_registration_no_15,
    check_uscc,
)
from jnx.mappings import values


@dataclass(frozen=True, slots=True)
class ShapeSpec:
    name: str
    summary: str
    judge: Callable[[str], Verdict]


SHAPES: Mapping[str, ShapeSpec] = {
    spec.name: spec
    for spec in (
        ShapeSpec("uscc", "统一社会信用代码 passing GB 32100 (check character included; not the placeholder)",
                  lambda text: check_uscc(text, check_embedded_org_code=False)),
        ShapeSpec("registration_no_15", "15-digit 工商注册号 of GS 15-2006 (a wrong check digit only warns)",
                  check_registration_no_15),
        ShapeSpec("id_number", "18-character 居民身份证号码 passing GB 11643 (birth date, check digit)", check_id_number),
        ShapeSpec("org_code", "组织机构代码 passing GB 11714, with or without the hyphen", check_org_code),
    )
}


def shape_test(names: Sequence[str]) -> Callable[[Any], bool]:
    """A test that holds when a value has one of the named shapes (each name from ``SHAPES``).

    A value is judged as ``clean`` then ``upper`` leave it: full-width digits and letters, surrounding
    whitespace and lower case do not change what a value is. Whole numbers are judged by their digits;
    no value, empty text, lists and other types have no shape.

    One test per set of names, shared by every condition naming them: it remembers its last value
    (by identity), so the conditions of one record on one source path judge it once.
    """
    return _shape_test(tuple(names))


@functools.cache
def _shape_test(names: tuple[str, ...]) -> Callable[[Any], bool]:
    judges = tuple(SHAPES[name].judge for name in names)
    last: list[tuple[Any, bool]] = [(_NOTHING, False)]  # one (value, verdict) pair, replaced whole: safe across threads

    def matches(value: Any) -> bool:
        seen = last[0]
        if seen[0] is value:
            return seen[1]
        result = _judged(value, judges)
        last[0] = (value, result)
        return result

    return matches


_NOTHING = object()


def _judged(value: Any, judges: tuple[Callable[[str], Verdict], ...]) -> bool:
    if value.__class__ is not str:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return False
        value = str(value)
    text = values.clean(value)
    if text is None:
        return False
    text = text.upper()
    return any(judge(text).ok for judge in judges)


def lookup_shape(name: str) -> ShapeSpec:
    """The shape called ``name``; LookupError listing the known names otherwise."""
    try:
        return SHAPES[name]
    except KeyError:
        raise LookupError(f"unknown shape {name!r}; known: {', '.join(SHAPES)}") from None
