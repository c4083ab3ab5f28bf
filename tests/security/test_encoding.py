"""Base64url as RFC 7515 §2 has it: no padding, URL-safe alphabet only, anything else refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jnx.security.encoding import MAX_HEADER_DEPTH, b64url, b64url_decode, canonical_json, read_header


@given(st.binary(max_size=200))
def test_round_trips_and_matches_the_standard_library_without_padding(data: bytes) -> None:
    encoded = b64url(data)
    assert encoded == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64url_decode(encoded) == data


@pytest.mark.parametrize("text", ["ab+c", "ab/c", "YQ==", "YQ=", "ab c", "ab\nc", "abcde", "é", "ab.c"])
def test_padding_standard_alphabet_whitespace_and_strays_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not base64url"):
        b64url_decode(text)


# ---------------------------------------------------------------- fast paths equal their definitions
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(_json_values)
def test_canonical_json_is_json_dumps_sorted_compact_utf8(value: object) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_json(value) == expected


def _depth(node: object) -> int:
    if isinstance(node, dict):
        return 1 + max((_depth(v) for v in node.values()), default=0)
    if isinstance(node, list):
        return 1 + max((_depth(v) for v in node), default=0)
    return 0


@given(st.one_of(
    st.dictionaries(st.text(max_size=8), _json_values, max_size=4).map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.text(max_size=12),
).flatmap(lambda text: st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32-be", "utf-8-sig"]).map(
    lambda codec: text.encode(codec, "surrogatepass"))) | st.binary(max_size=16))
def test_a_header_reads_as_json_loads_of_its_bytes_would(raw: bytes) -> None:
    try:
        expected: object = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        expected = ValueError
    if not isinstance(expected, dict) or _depth(expected) > MAX_HEADER_DEPTH:  # deeper nesting is refused
        expected = ValueError
    try:
        got: object = read_header(b64url(raw))
    except ValueError:
        got = ValueError
    assert got == expected
