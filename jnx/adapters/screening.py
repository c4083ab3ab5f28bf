"""What no standard text may hold, whichever adapter brought it: checked per record, so one bad
record is queued as an error and the rest of its page goes on.

* a lone surrogate (``"\\ud800"`` from a Java system that cut an emoji in half, or a byte that did
  not decode, kept by ``surrogateescape``) — it cannot be stored as UTF-8;
* a private-use code point (U+E000–U+F8FF, planes 15–16): what UTF-8 bytes read as GB18030, or a
  vendor's own glyph, become; it would be disclosed as a box;
* NUL, which PostgreSQL refuses in JSON (the whole page's transaction would fail);
* nesting deeper than :data:`MAX_DEPTH` (no standard field is nested that deep);
* a JSON number with a fraction or an exponent that a float cannot hold as written
  (:class:`InexactNumber`: more than 15 significant digits, or out of range) — read on, it would
  be a rounded amount;
* a text value longer than :data:`MAX_TEXT_CHARS` (no standard field holds more than 4,000
  characters: a 12 MB text node in a SOAP answer is an error of its record, not of its page).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

MAX_DEPTH = 64
MAX_TEXT_CHARS = 1 << 20


class InexactNumber(float):
    """A JSON number a float does not hold as written (``12345678901234.567``, ``1e400``): the
    record holding it is an error of its own, never a silently rounded value."""

    literal: str


#: What stands, in a decoded JSON document, for a value nested past :data:`CUT_DEPTH` levels: this
#: prefix and the value's own JSON text, kept whole; the record holding it is nested deeper than
#: :data:`MAX_DEPTH`, so it is an error of its own, kept raw.
TOO_DEEP = "\x00jnx:nested-too-deep:"
CUT_DEPTH = 512
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def cut_deep_values(text: str) -> str | None:
    """``text`` with every value nested past :data:`CUT_DEPTH` levels replaced by a JSON string
    (:data:`TOO_DEEP` + its JSON text), or None when nothing is that deep or brackets do not match.
    The way to read, record by record, a page one record of which nests deeper than Python reads."""
    parts: list[str] = []
    depth, start, done = 0, -1, 0
    for token in _STRUCTURE.finditer(text):
        mark = token.group()
        if mark in ("[", "{"):
            depth += 1
            if depth == CUT_DEPTH and start < 0:
                start = token.start()
        elif mark in ("]", "}"):
            if depth == CUT_DEPTH and start >= 0:
                parts += [text[done:start], json.dumps(TOO_DEEP + text[start:token.end()], ensure_ascii=False)]
                done, start = token.end(), -1
            depth -= 1
            if depth < 0:
                return None
    if not parts or depth != 0:
        return None
    return "".join(parts) + text[done:]


def json_number(literal: str) -> float:
    """``parse_float`` of a strict JSON read: the float of ``literal`` when it is exactly the value
    written (so ``5000.50`` is 5000.5 and its shortest digits are the sender's), else an :class:`InexactNumber`."""
    value = float(literal)
    if len(literal) <= 16 and "e" not in literal and "E" not in literal:
        return value  # at most 15 significant digits: a double holds them exactly as written
    if math.isfinite(value) and Decimal(repr(value)) == Decimal(literal):
        return value
    marked = InexactNumber(value)
    marked.literal = literal
    return marked
_BAD = re.compile("[\x00\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]")


def _describe(char: str, path: str) -> str:
    code = ord(char)
    where = f"`{path}`" if path else "the record"
    if 0xDC80 <= code <= 0xDCFF:
        return f"{where} holds byte 0x{code - 0xDC00:02X}, which is not valid UTF-8"
    if 0xD800 <= code <= 0xDFFF:
        return f"{where} holds a lone surrogate U+{code:04X} (half of a character cut in two)"
    if code == 0:
        return f"{where} holds a NUL character"
    return f"{where} holds private-use code point U+{code:04X} (mojibake, or a glyph of the sender's own)"


def text_problem(value: Any) -> str | None:
    """Why ``value`` (a decoded record) cannot be stored as standard text, or None when it can."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_TEXT_CHARS:
                return (f"`{path or 'the record'}` holds {len(item):,} characters of text, over the limit of {MAX_TEXT_CHARS:,} "
                        "(no standard field holds more than 4,000)")
            match = _BAD.search(item)
            if match:
                return _describe(match.group(), path)
            continue
        if isinstance(item, InexactNumber):
            return (f"`{path or 'the record'}` holds the number {item.literal[:60]}, which cannot be read exactly (more than 15 "
                    "significant digits, or out of range): it would be rounded; ask the sender to send it as text")
        if depth >= MAX_DEPTH and isinstance(item, Mapping | list | tuple):
            return f"`{path.split('.', 1)[0]}` is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, Mapping):
            twice = getattr(item, "duplicates", None)
            if twice:
                names = ", ".join(repr(n) for n in twice)
                return f"`{path or 'the record'}` names member(s) {names} more than once; which value is meant cannot be told"
            for key, child in item.items():
                name = str(key)
                match = _BAD.search(name)
                if match:
                    return _describe(match.group(), f"{path}.{name!r}" if path else repr(name))
                stack.append((child, f"{path}.{name}" if path else name, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}.{i}", depth + 1) for i, child in enumerate(item))
    return None
