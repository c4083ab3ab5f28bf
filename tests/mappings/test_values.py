"""Edge cases of the value parsers behind the transforms: text, dates, amounts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jnx.mappings.values import (
    DATE_FORMATS,
    HALFWIDTH,
    HALFWIDTH_ALNUM,
    WHITESPACE,
    TransformFailure,
    amount_parser,
    clean,
    cn_parens,
    date_parser,
    halfwidth,
    squeeze,
    trim,
)

ALL_FORMATS = ("YYYY-MM-DD", "YYYY/M/D", "YYYYMMDD", "YYYY年M月D日", "epoch_ms")
parse_date = date_parser(ALL_FORMATS, dt.date(1900, 1, 1), dt.date(2099, 12, 31))
yuan = amount_parser("元")


def rule_of(fn, value) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(TransformFailure) as failure:
        fn(value)
    return failure.value.rule


@pytest.mark.parametrize("value", ["", " ", "\u3000", "\t\n", "\ufeff", "\xa0 \u200b"])
def test_empty_and_whitespace_only_text_is_no_value(value: str) -> None:
    assert trim(value) is None
    assert clean(value) is None
    assert squeeze(value) is None


def test_clean_turns_full_width_digits_and_letters_half_width_but_keeps_chinese_punctuation() -> None:
    assert clean(" ＡＢＣ超市（任城店）\u3000") == "ABC超市（任城店）"
    assert clean("９１３７０８１１ＭＡ３Ｃ") == "91370811MA3C"


def test_squeeze_collapses_newlines_and_runs_of_spaces() -> None:
    assert squeeze("经查，当事人于  2021年1月\n经营") == "经查，当事人于 2021年1月 经营"


def test_halfwidth_and_chinese_parentheses() -> None:
    assert halfwidth("５，０００元") == "5,000元"
    assert cn_parens("济宁某某有限公司(任城分店)") == "济宁某某有限公司（任城分店）"


def test_numbers_become_text_but_other_types_are_errors() -> None:
    assert trim(370811) == "370811"
    assert trim(5000.50) == halfwidth(5000.50) == "5000.5"  # a JSON amount with a fraction, exact
    assert rule_of(trim, ["a"]) == "trim.type"
    assert rule_of(trim, float("nan")) == "trim.type"


def test_a_json_amount_with_a_fraction_is_read_exactly_through_the_text_steps() -> None:
    for value, wan in ((5000.50, "0.500050"), (0.01, "0.000001"), (1234567.89, "123.456789")):
        assert yuan(trim(halfwidth(value))) == Decimal(wan)


@pytest.mark.parametrize("value", [44256, "44256", 44256.5, "44256.5"])
def test_an_excel_serial_date_is_named_as_such_not_read_as_epoch_milliseconds(value: object) -> None:
    for parse in (parse_date, date_parser(("YYYY-MM-DD",), dt.date(1900, 1, 1), dt.date(2099, 12, 31))):
        with pytest.raises(TransformFailure) as failure:
            parse(value)
        assert failure.value.rule == "date.excel_serial"
        assert "Excel serial date? It would be 2021-03-01" in failure.value.message


@pytest.mark.parametrize(
    ("value", "day"),
    [("2021-03-05", dt.date(2021, 3, 5)), ("2021/3/5", dt.date(2021, 3, 5)), ("20210305", dt.date(2021, 3, 5)),
     ("2021年3月5日", dt.date(2021, 3, 5)), (1614873600000, dt.date(2021, 3, 5)), ("1614873600000", dt.date(2021, 3, 5)),
     (dt.date(2021, 3, 5), dt.date(2021, 3, 5))],
)
def test_every_declared_date_format_reads_the_same_day(value: object, day: dt.date) -> None:
    assert parse_date(value) == day


def test_epoch_milliseconds_are_read_in_beijing_time() -> None:
    assert parse_date(1614873600000 - 1) == dt.date(2021, 3, 4)  # 23:59:59.999 the day before, UTC+8


@pytest.mark.parametrize(
    ("value", "rule"),
    [("2021-02-30", "date.invalid"), ("2021/13/1", "date.invalid"), ("1899-12-31", "date.range"),
     ("2100-01-01", "date.range"), ("2021.3.5", "date.format"), ("２０２１-03-05", "date.format"),
     ("yesterday", "date.format"), (10**20, "date.range"), (1.5, "date.type")],
)
def test_bad_dates_say_why(value: object, rule: str) -> None:
    assert rule_of(parse_date, value) == rule


def test_undeclared_formats_are_refused() -> None:
    only_iso = date_parser(("YYYY-MM-DD",), dt.date(1900, 1, 1), dt.date(2099, 12, 31))
    assert rule_of(only_iso, "20210305") == "date.format"
    assert rule_of(only_iso, 1614873600000) == "date.type"


@pytest.mark.parametrize(
    ("value", "wan"),
    [("5,000.00元", "0.500000"), ("5000", "0.500000"), ("5000.35", "0.500035"), ("0.5万元", "0.500000"),
     ("¥5000", "0.500000"), ("5,000 元", "0.500000"), (5000, "0.500000"), (Decimal("0.01"), "0.000001"),
     ("0", "0.000000"), ("-0", "0.000000"), ("1,234,567.89元", "123.456789")],
)
def test_amounts_in_yuan_become_exact_wan_with_six_places(value: object, wan: str) -> None:
    result = yuan(value)
    assert isinstance(result, Decimal)
    assert str(result) == wan


@pytest.mark.parametrize(
    ("value", "rule"),
    [("-300", "amount.negative"), ("5000.001", "amount.places"), ("99999999999999999999元", "amount.range"),
     ("12,34", "amount.format"), ("壹仟元", "amount.format"), ("5 000", "amount.format"), ("", "amount.format"),
     ("NaN", "amount.format"), (Decimal("Infinity"), "amount.format")],
)
def test_bad_amounts_are_errors_never_rounded(value: object, rule: str) -> None:
    assert rule_of(yuan, value) == rule


def test_amounts_declared_in_wan_keep_their_unit() -> None:
    assert str(amount_parser("万元")("0.2")) == "0.200000"
    assert str(amount_parser("万元")("2000元")) == "0.200000"


def test_full_width_digits_need_halfwidth_first() -> None:
    assert rule_of(yuan, "５０００元") == "amount.format"
    assert yuan(halfwidth("５０００元")) == Decimal("0.5")
    assert parse_date(halfwidth("２０２１-03-05")) == dt.date(2021, 3, 5)


# ---------------------------------------------------------------- fast paths agree with the definitions

MESSY_TEXT = st.text(alphabet=st.sampled_from("aZ09 \t\n\u3000\xa0\u200b\ufeff１Ａｚ（），济宁-/.年月日:T"), max_size=24)


@given(MESSY_TEXT)
def test_text_normalisation_is_what_its_definition_says_for_ascii_and_other_text(text: str) -> None:
    assert clean(text) == (" ".join(text.translate(HALFWIDTH_ALNUM).split()).strip("\u200b\ufeff") or None)
    assert squeeze(text) == (" ".join(text.split()).strip("\u200b\ufeff") or None)
    assert halfwidth(text) == text.translate(HALFWIDTH)


DATE_TEXT = st.one_of(
    st.dates(dt.date(1890, 1, 1), dt.date(2110, 12, 31)).flatmap(lambda d: st.sampled_from([
        d.isoformat(), f"{d.year}/{d.month}/{d.day}", d.strftime("%Y%m%d"), f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}-{d.month}-{d.day}", f"{d.isoformat()} 09:12:40", f"{d.year}.{d.month}.{d.day}"])),
    st.text(alphabet=st.sampled_from("0123456789-/年月日 :"), max_size=14),
)


def reference_date(formats: tuple[str, ...], text: str) -> object:
    """The declared formats tried one by one, as the parser is documented to do."""
    for name in formats:
        match = re.fullmatch(DATE_FORMATS[name], text, re.ASCII)
        if match is not None:
            try:
                day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return "date.invalid"
            return day if dt.date(1900, 1, 1) <= day <= dt.date(2099, 12, 31) else "date.range"
    if re.fullmatch(r"[0-9]*\.?[0-9]*", text) and text.strip(".") and 18_264 <= float(text) < 73_051:
        return "date.excel_serial"  # a day number of Excel's, named as such
    return "date.format"


@given(DATE_TEXT, st.permutations([f for f in DATE_FORMATS]).map(lambda fs: tuple(fs[:3])))
def test_dates_are_read_by_the_first_declared_format_that_fits(text: str, formats: tuple[str, ...]) -> None:
    parse = date_parser(formats, dt.date(1900, 1, 1), dt.date(2099, 12, 31))
    try:
        got: object = parse(text)
    except TransformFailure as failure:
        got = failure.rule
    assert got == reference_date(formats, text)


def outcome(fn, value):  # type: ignore[no-untyped-def]
    try:
        return fn(value)
    except TransformFailure as failure:
        return failure.rule


@given(st.integers(min_value=0, max_value=10**20))
def test_a_bare_number_reads_as_the_same_number_with_its_unit_written(yuan_amount: int) -> None:
    assert outcome(yuan, str(yuan_amount)) == outcome(yuan, f"{yuan_amount}元") == outcome(yuan, f"{yuan_amount:,}.00元")


def test_the_whitespace_clean_looks_for_is_exactly_what_str_split_splits_on() -> None:
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE


@given(st.one_of(MESSY_TEXT, st.text(max_size=24)))
def test_clean_of_any_text_is_what_its_definition_says(text: str) -> None:
    assert clean(text) == (" ".join(text.translate(HALFWIDTH_ALNUM).split()).strip("\u200b\ufeff") or None)


@given(st.text(alphabet=st.sampled_from("()（）济宁a1 "), max_size=12))
def test_chinese_parentheses_replace_exactly_the_half_width_ones(text: str) -> None:
    assert cn_parens(text) == text.translate({ord("("): "（", ord(")"): "）"})


ODD_DATE_TEXT = st.one_of(
    DATE_TEXT,
    st.dates(dt.date(1890, 1, 1), dt.date(2110, 12, 31)).flatmap(lambda d: st.sampled_from([
        f"{d.year}/{d.month:03d}/{d.day}", f"{d.year}/{d.month}/{d.day}/1", f"{d.year}年{d.month}月{d.day}日日",
        f"{d.year}年{d.month}月{d.day}月{d.day}日", f"{d.year}-{d.month:02d}-{d.day}", f"{d.year:05d}/{d.month}/{d.day}",
        f"{d.year}/+{d.month}/{d.day}", f"{d.year}/{d.month}/ {d.day}", f"{d.year}.{d.month}.{d.day}日",
        d.strftime("%Y%m%d").replace("0", "٠"), f"{d.year}年{d.month}月{d.day}", f"{d.year}年{d.month:03d}月{d.day}日"])),
    st.text(alphabet=st.sampled_from("0123456789-/.年月日"), min_size=5, max_size=11),
)


@example("1/12/5", ("YYYY/M/D",))  # a separator before the year's fourth digit
@example("2021-3-15", ("YYYY-MM-DD",))  # one-digit month and day need YYYY-M-D
@given(ODD_DATE_TEXT, st.permutations([f for f in DATE_FORMATS]).flatmap(
    lambda fs: st.integers(1, len(fs)).map(lambda n: tuple(fs[:n]))))
def test_dates_read_by_their_separators_are_read_as_the_declared_formats_read_them(text: str, formats: tuple[str, ...]) -> None:
    parse = date_parser(formats, dt.date(1900, 1, 1), dt.date(2099, 12, 31))
    try:
        got: object = parse(text)
    except TransformFailure as failure:
        got = failure.rule
    assert got == reference_date(formats, text)


@given(st.one_of(st.integers(-(10**17), 10**17), st.integers()))
def test_epoch_milliseconds_are_the_day_of_their_beijing_time(ms: int) -> None:
    try:
        expected: object = dt.date(1970, 1, 1) + dt.timedelta(days=(ms + 8 * 3_600_000) // 86_400_000)
    except OverflowError:
        expected = "date.range"
    if isinstance(expected, dt.date) and not dt.date(1900, 1, 1) <= expected <= dt.date(2099, 12, 31):
        expected = "date.range"
    if 0 < ms < 2_958_466:  # the first 49 minutes of 1970: no record's date; an Excel day number of 1950–2099 is named so
        expected = "date.excel_serial" if 18_264 <= ms < 73_051 else "date.range"
    assert outcome(parse_date, ms) == expected
