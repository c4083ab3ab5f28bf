"""What no standard text may hold, whichever adapter brought it: checked per record, so one bad
record is queued as an error and the rest of its page goes on.

* a lone surrogate (``"\\ud800"`` from a Java system that cut an emoji in half, or a byte that did
  not decode, kept by ``surrogateescape``) — it cannot be stored as UTF-8;
* a private-use code point (U+E000–U+F8FF, planes 15–16): what UTF-8 bytes read as GB18030, or a
  vendor's own glyph, become; it would be disclosed as a box;
* NUL, which PostgreSQL refuses in JSON (the whole page's transaction would fail);
* nesting deeper than :data:`MAX_DEPTH` (no standard field is nested that deep).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 64
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
            match = _BAD.search(item)
            if match:
                return _describe(match.group(), path)
            continue
        if depth >= MAX_DEPTH and isinstance(item, Mapping | list | tuple):
            return f"`{path}` is nested deeper than {MAX_DEPTH} levels"
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
