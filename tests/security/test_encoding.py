"""Base64url as RFC 7515 §2 has it: no padding, URL-safe alphabet only, anything else refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jnx.security.encoding import b64url, b64url_decode


@given(st.binary(max_size=200))
def test_round_trips_and_matches_the_standard_library_without_padding(data: bytes) -> None:
    encoded = b64url(data)
    assert encoded == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64url_decode(encoded) == data


@pytest.mark.parametrize("text", ["ab+c", "ab/c", "YQ==", "YQ=", "ab c", "ab\nc", "abcde", "é", "ab.c"])
def test_padding_standard_alphabet_whitespace_and_strays_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not base64url"):
        b64url_decode(text)
