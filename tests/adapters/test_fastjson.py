"""orjson on the pull path gives exactly what the standard library gives, or declines."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jnx.adapters import fastjson
from jnx.adapters.base import PayloadEncoding, RawRecord, canonical_bytes
from jnx.adapters.config import RestPullSpec
from jnx.adapters.paging import records_of

SPEC = RestPullSpec(record_type="penalty", path="/p", records_path="items", key_field="id", next_cursor_path="next")

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                         max_leaves=20)


def _stdlib(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


@settings(max_examples=400)
@given(documents)
def test_what_loads_reads_equals_what_json_loads_reads(document: object) -> None:
    content = _stdlib(document)
    read = fastjson.loads_utf8(content)
    if read is not fastjson.DECLINED:
        expected = json.loads(content.decode("utf-8"))
        assert read == expected
        assert json.dumps(read, sort_keys=True) == json.dumps(expected, sort_keys=True)  # 1 and 1.0 differ here


@settings(max_examples=400)
@given(st.dictionaries(st.text(), documents, max_size=6))
def test_canonical_bytes_equal_the_standard_librarys_for_every_document_it_accepts(payload: dict) -> None:
    read = fastjson.loads_utf8(_stdlib(payload))
    if read is fastjson.DECLINED:
        return
    exact = fastjson.canonical(read)
    if exact is not fastjson.DECLINED:
        assert exact == canonical_bytes(read)


@pytest.mark.parametrize("text", [
    '{"a": NaN}', '{"a": -Infinity}', '{"a": 1E400}',
    '{"a": 1234567890123456789012}', '{"a": -9999999999999999999}', '{"a":[123456789012345678901]}',
    '{"a": "\\ud800"}', '\ufeff{"a": 1}', '{"a": 1', '[' * 2000 + ']' * 2000,
])
def test_what_orjson_would_read_differently_or_not_at_all_is_declined(text: str) -> None:
    assert fastjson.loads_utf8(text.encode("utf-8")) is fastjson.DECLINED


def test_integers_that_fit_64_bits_are_read_exactly() -> None:
    for number in (2**64 - 1, -(2**63), 12345678901234567890):
        assert fastjson.loads_utf8(f'{{"a":[{number}]}}'.encode()) == {"a": [number]}


def test_invalid_utf8_is_declined_for_the_standard_librarys_error() -> None:
    assert fastjson.loads_utf8('{"a": "济宁"}'.encode("gb18030")) is fastjson.DECLINED


@pytest.mark.parametrize("value", [1e-05, 2.5e-07, -3.0e-9, 1e16, 1.5e16, 1e300, 5e-324])
def test_documents_with_floats_python_writes_with_an_exponent_are_declined(value: float) -> None:
    for document in ({"a": value}, {"a": [1, -value]}, {"a": {"b": [{"c": value}]}}, [value]):
        assert fastjson.loads_utf8(json.dumps(document).encode()) is fastjson.DECLINED


@pytest.mark.parametrize("value", [0.0001, 0.5, 1.0, -0.0, 100.25, 12345.678, 9999999999999998.0])
def test_everyday_floats_are_written_as_python_writes_them(value: float) -> None:
    assert fastjson.canonical({"a": value}) == canonical_bytes({"a": value})


def test_values_that_are_not_plain_json_are_declined() -> None:
    import datetime as dt
    import decimal

    for value in (dt.date(2024, 1, 2), decimal.Decimal("1.5"), b"x", {1: "int key"}, 2**64, "\ud800"):
        assert fastjson.canonical({"a": value}) is fastjson.DECLINED


def test_control_characters_quotes_and_chinese_are_escaped_as_python_escapes_them() -> None:
    text = "".join(map(chr, range(0x20))) + '"\\/\u2028\u2029\x7f济宁市 𠮷'
    assert fastjson.canonical({text: text}) == canonical_bytes({text: text})


def test_records_hashed_the_fast_way_carry_the_hash_and_bytes_raw_record_works_out_itself() -> None:
    page = {"items": [{"id": "A1", "金额": 5000.5, "z": None, "a": [1, "二"]}, {"id": "A2", "small": 0.0001}]}
    fast, _ = records_of(fastjson.loads_utf8(json.dumps(page).encode()), SPEC, source="t",
                         encoding=PayloadEncoding.JSON, plain_json=True)
    slow, _ = records_of(json.loads(json.dumps(page)), SPEC, source="t", encoding=PayloadEncoding.JSON)
    assert [(r.content_hash, r.canonical) for r in fast] == [(r.content_hash, r.canonical) for r in slow]
    assert fast[0].canonical is not None and fast == slow
    assert RawRecord("A1", "penalty", page["items"][0], PayloadEncoding.JSON, None).content_hash == fast[0].content_hash
    assert not math.isnan(fast[0].payload["金额"])


def test_canonical_bytes_hold_no_more_memory_than_their_length() -> None:
    import tracemalloc

    payload = {"id": "A1", "name": "济宁市任城区某某商店", "amount": 5000.5, "codes": list(range(20))}
    tracemalloc.start()
    try:
        kept = [fastjson.canonical(payload) for _ in range(1000)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2 * sum(len(b) for b in kept) + 100_000  # orjson's own bytes would hold 4 KiB each
