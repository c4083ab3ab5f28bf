"""JSON through orjson where it gives exactly what the standard library gives, and nothing otherwise.

Pulling a page of JSON means decoding it and working out each record's canonical bytes (their
SHA-256 is the record's content hash, kept in staging for years): the standard library spends about
a tenth of a run's time there, orjson a fifth of that. Content hashes must never change with the
library, so each function here is an exact replacement or declines (returns :data:`DECLINED`), and
the caller takes the standard library's path with its errors:

* :func:`loads_utf8` — a JSON document in UTF-8 bytes → the same values as ``json.loads``. Declines
  where orjson would differ or refuse: ``NaN``/``Infinity`` tokens, lone surrogates, a byte-order mark,
  invalid UTF-8, deep nesting, integers beyond 64 bits (orjson reads them as floats), and floats below
  1e-4 or from 1e16 (Python writes ``1e-05``, orjson ``0.00001``: see :func:`canonical`).
* :func:`canonical` — the canonical bytes (keys sorted, no spaces, UTF-8) of a payload that
  :func:`loads_utf8` decoded: the same bytes as :func:`jnx.adapters.base.canonical_bytes`. Every other
  float orjson writes as Python's ``repr`` does (checked over two million values and by property
  tests), and strings are escaped alike. Declines anything that is not plain JSON.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

DECLINED: Final = object()

_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _not_plain(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _unsure_float(document: Any) -> bool:
    """Whether ``document`` holds a float orjson writes otherwise than ``repr`` (an integer beyond 64
    bits read by orjson is such a float too)."""
    stack = [document]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            for item in value.values():
                kind = type(item)
                if kind is float:
                    if item and not 1e-4 <= abs(item) < 1e16:
                        return True
                elif kind is dict or kind is list:
                    stack.append(item)
        elif kind is list:
            stack.extend(value)
        elif kind is float and value and not 1e-4 <= abs(value) < 1e16:
            return True
    return False


def unsure_float(document: Any) -> bool:
    """Whether :func:`canonical` may not write ``document``'s floats as the standard library does."""
    return _unsure_float(document)


def loads_utf8(content: bytes) -> Any:
    """``json.loads(content.decode("utf-8"))`` when orjson reads it the same way, else :data:`DECLINED`."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError:
        return DECLINED
    return DECLINED if _unsure_float(document) else document


def canonical(payload: Any) -> bytes | Any:
    """Sorted-key, UTF-8 JSON of a payload :func:`loads_utf8` decoded, or :data:`DECLINED`."""
    try:
        data = orjson.dumps(payload, default=_not_plain, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a type that is not plain JSON, a lone surrogate, a huge int
        return DECLINED
    # orjson's bytes keep the buffer it wrote into (4 KiB and up): a record keeps an exact copy
    return memoryview(data).tobytes()
