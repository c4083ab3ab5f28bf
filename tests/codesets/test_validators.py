"""The identifier and value validators: valid codes pass, every single-character error is caught."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jnx.codesets.validators import (
    ID_WEIGHTS,
    ORG_CODE_WEIGHTS,
    USCC_ALPHABET,
    USCC_PLACEHOLDER,
    USCC_WEIGHTS,
    _org_value,
    check_amount_wan,
    check_date,
    check_id_number,
    check_org_code,
    check_uscc,
    id_check_char,
    org_code_check_char,
    parse_amount_wan,
    upgrade_id_15_to_18,
    uscc_check_char,
    yuan_to_wan,
)

from .strategies import (
    DIGITS,
    ORG_ALPHABET,
    REGISTRATION_PAIRS,
    substitutions,
    valid_id_numbers,
    valid_org_codes,
    valid_usccs,
)

STRANGERS = "IOSVZaxz -中０²"
"""Characters no identifier may hold: letters GB 32100 leaves out, lowercase, space, CJK, full-width and superscript digits."""


# ---------------------------------------------------------------- 统一社会信用代码 GB 32100


@pytest.mark.parametrize(
    "code",
    ["91110000600037341L", "91350100M000100Y43", "11230500001755309F", "91370800MA3C00011N", "92370811MA3D000202", "12370883493000016G"],
)
def test_published_and_jining_style_credit_codes_are_accepted(code: str) -> None:
    assert check_uscc(code).ok


@given(valid_usccs())
def test_generated_credit_codes_are_accepted(code: str) -> None:
    assert check_uscc(code).ok


@given(valid_usccs(pairs=["N2", "A1", "Y1", "N1", "93"]))
def test_village_collective_army_and_other_kinds_with_letters_are_accepted(code: str) -> None:
    assert check_uscc(code).ok


def test_generator_covers_letter_kinds() -> None:
    assert {"N2", "A1", "Y1", "91", "92", "11"} <= set(REGISTRATION_PAIRS)


@given(valid_usccs())
def test_every_single_substitution_of_a_credit_code_is_rejected(code: str) -> None:
    for position, char, changed in substitutions(code, USCC_ALPHABET + STRANGERS):
        verdict = check_uscc(changed, allow_placeholder=True)
        assert not verdict.ok, f"{changed} (position {position + 1} → {char!r}) was accepted"


def test_gb32100_weights_make_every_substitution_change_the_check_character() -> None:
    # A substitution at position i changes the sum by w_i × d with 0 < |d| < 31; 31 is prime and
    # no weight is a multiple of it, so the sum mod 31 always moves: the property holds for all codes.
    assert all((w * d) % 31 for w in USCC_WEIGHTS for d in range(1, 31))


@given(valid_usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_a_credit_code_with_a_character_removed_or_added_is_rejected(code: str, at: int, char: str) -> None:
    assert check_uscc(code[:at] + code[at + 1 :]).rule == "uscc.length"
    assert check_uscc(code[:at] + char + code[at:]).rule == "uscc.length"


def test_wrong_check_character_names_the_expected_one() -> None:
    verdict = check_uscc("91370800MA3C00011M")
    assert (verdict.ok, verdict.rule) == (False, "uscc.check_char")
    assert verdict.reason == "wrong check character 'M' (expected 'N' for this code)"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("91370800MA3C0001N", "uscc.length"),
        ("91370800MA3C0O011N", "uscc.charset"),
        ("91370800ma3c00011n", "uscc.charset"),
        ("B1370800MA3C00011N", "uscc.registration_kind"),
        ("94370800MA3C00011N", "uscc.registration_kind"),
        ("9137A800MA3C00011N", "uscc.region"),
    ],
)
def test_each_broken_rule_is_named(code: str, rule: str) -> None:
    assert check_uscc(code).rule == rule


def test_placeholder_is_accepted_only_where_allowed() -> None:
    assert check_uscc(USCC_PLACEHOLDER).rule == "uscc.placeholder"
    assert check_uscc(USCC_PLACEHOLDER, allow_placeholder=True).ok
    assert uscc_check_char(USCC_PLACEHOLDER[:17]) != "X"  # it would fail the checksum anyway


def test_refused_placeholder_says_both_organisation_kinds_may_give_it_and_a_natural_person_never() -> None:
    reason = check_uscc(USCC_PLACEHOLDER).reason or ""
    assert "法人及非法人组织" in reason and "个体工商户" in reason  # REFERENCE §1.5 rule 2, not 个体工商户 only
    assert "工商注册号" in reason
    assert "never for a 自然人" in reason


def test_placeholder_with_one_character_changed_is_not_a_placeholder() -> None:
    assert not check_uscc("00000000000000001X", allow_placeholder=True).ok


def test_embedded_organisation_code_failure_is_a_warning_not_a_failure() -> None:
    body = "MA3C0001"  # embedded org code MA3C0001 + wrong GB 11714 char
    first17 = "91370800" + body + "9"
    code = first17 + uscc_check_char(first17)
    verdict = check_uscc(code)
    assert verdict.ok
    assert [w.rule for w in verdict.warnings] == ["uscc.org_code"]
    assert check_uscc(code, check_embedded_org_code=False).warnings == ()
    assert check_uscc("91370800MA3C00011N").warnings == ()


# ---------------------------------------------------------------- 居民身份证号码 GB 11643


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "370811199002150027"])
def test_standard_and_jining_example_id_numbers_are_accepted(number: str) -> None:
    assert check_id_number(number).ok


def test_prefix_that_did_not_exist_in_the_birth_year_is_accepted() -> None:
    # 邹城市 370883 exists from 1992; a resident born in 1985 still carries it.
    assert check_id_number("370883198506301236").ok


@given(valid_id_numbers())
def test_generated_id_numbers_are_accepted(number: str) -> None:
    assert check_id_number(number).ok


@given(valid_id_numbers())
def test_every_single_substitution_of_an_id_number_is_rejected(number: str) -> None:
    for position, char, changed in substitutions(number, DIGITS + "X" + STRANGERS):
        assert not check_id_number(changed).ok, f"position {position + 1} → {char!r} was accepted"


def test_mod_11_2_weights_make_every_digit_substitution_change_the_check_digit() -> None:
    assert all((w * d) % 11 for w in ID_WEIGHTS for d in range(1, 10))


@given(valid_id_numbers(), st.integers(0, 17))
def test_an_id_number_with_a_character_removed_is_rejected(number: str, at: int) -> None:
    assert not check_id_number(number[:at] + number[at + 1 :]).ok
    assert not check_id_number(number[:at] + "1" + number[at:]).ok


@pytest.mark.parametrize(
    ("birth", "ok"),
    [("20000229", True), ("20040229", True), ("19000229", False), ("20230229", False), ("19900230", False), ("19901301", False)],
)
def test_birth_date_must_be_real_including_29_february(birth: str, ok: bool) -> None:
    first17 = "370811" + birth + "002"
    verdict = check_id_number(first17 + id_check_char(first17))
    assert verdict.ok is ok
    if not ok:
        assert verdict.rule == "id_number.birth_date"


def test_birth_after_the_records_date_is_rejected() -> None:
    number = "370811199002150027"
    assert check_id_number(number, today=dt.date(1990, 2, 15)).ok
    assert check_id_number(number, today=dt.date(1990, 2, 14)).rule == "id_number.birth_date"


def test_reasons_never_contain_the_number() -> None:
    for number in ["370811199002150028", "370811199002150027x", "37081119900215002"]:
        assert number not in (check_id_number(number).reason or "")


@pytest.mark.parametrize(
    ("number", "today", "rule"),
    [
        ("370811199002300027", None, "id_number.birth_date"),  # 30 February
        ("370811210002150021", dt.date(2025, 6, 30), "id_number.birth_date"),  # born 2100
        ("370811187002150027", None, "id_number.birth_date"),  # born 1870
        ("370811199002150028", None, "id_number.check_digit"),
    ],
)
def test_reasons_never_show_the_birth_date_nor_the_check_digits(number: str, today: dt.date | None, rule: str) -> None:
    verdict = check_id_number(number, today=today)
    reason = verdict.reason or ""
    assert verdict.rule == rule
    birth = number[6:14]
    for shown in (birth, f"{birth[:4]}-{birth[4:6]}-{birth[6:]}", birth[:4], "'8'", "'7'"):
        assert shown not in reason, reason


def test_the_upgrade_refusal_does_not_show_the_birth_date() -> None:
    with pytest.raises(ValueError) as refused:
        upgrade_id_15_to_18("370811900230002")
    assert "900230" not in str(refused.value)


def test_lowercase_x_and_wrong_check_digit_are_told_apart() -> None:
    assert check_id_number("11010519491231002x").rule == "id_number.charset"
    assert check_id_number("110105194912310021").rule == "id_number.check_digit"


def test_legacy_15_digit_numbers_are_rejected_with_the_way_to_convert() -> None:
    verdict = check_id_number("370811900215002")
    assert verdict.rule == "id_number.legacy_15"
    assert "upgrade_id_15_to_18" in (verdict.reason or "")


@given(valid_id_numbers().filter(lambda n: n[6:8] == "19"))
def test_upgrading_the_15_digit_form_gives_back_the_18_digit_number(number: str) -> None:
    legacy = number[:6] + number[8:17]
    assert upgrade_id_15_to_18(legacy) == number


@pytest.mark.parametrize("legacy", ["37081190021500", "37081190021500A", "370811901315002"])
def test_upgrade_refuses_what_is_not_a_15_digit_number(legacy: str) -> None:
    with pytest.raises(ValueError):
        upgrade_id_15_to_18(legacy)


# ---------------------------------------------------------------- 组织机构代码 GB 11714


@pytest.mark.parametrize("code", ["600037341", "60003734-1", "MA3C00011", "49300001-6"])
def test_organisation_codes_are_accepted_with_or_without_the_dash(code: str) -> None:
    assert check_org_code(code).ok


@given(valid_org_codes())
def test_generated_organisation_codes_are_accepted(code: str) -> None:
    assert check_org_code(code).ok


def _undetectable(original: str, position: int, char: str) -> bool:
    """GB 11714 sums values 0–35 mod 11: a body change by a multiple of 11 leaves the check char as it was."""
    return position < 8 and char in ORG_ALPHABET and (_org_value(char) - _org_value(original[position])) % 11 == 0


@given(valid_org_codes())
def test_single_substitutions_of_an_organisation_code_are_caught_except_by_multiples_of_eleven(code: str) -> None:
    for position, char, changed in substitutions(code, ORG_ALPHABET + STRANGERS):
        assert check_org_code(changed).ok is _undetectable(code, position, char), (code, position, char)


@given(valid_org_codes())
def test_every_digit_substitution_of_an_organisation_code_is_caught(code: str) -> None:
    for position, _char, changed in substitutions(code, DIGITS):
        if code[position].isdigit():
            assert not check_org_code(changed).ok


def test_gb11714_blind_spot_exists_for_letters_eleven_apart() -> None:
    # Not a bug of ours: GB 11714's own arithmetic. 0 and B (11) weigh the same mod 11.
    assert all((w * d) % 11 for w in ORG_CODE_WEIGHTS for d in range(1, 10))
    assert check_org_code("600037341").ok
    assert check_org_code("6B0037341").ok  # '0' → 'B' at position 2 goes unseen
    assert not check_org_code("6A0037341").ok  # '0' → 'A' (10) is caught


@pytest.mark.parametrize(("code", "rule"), [("60003734", "org_code.length"), ("6000373a1", "org_code.charset"), ("60003734Y", "org_code.charset"), ("600037342", "org_code.check_char")])
def test_organisation_code_rules_are_named(code: str, rule: str) -> None:
    assert check_org_code(code).rule == rule


# ---------------------------------------------------------------- amounts and dates


@pytest.mark.parametrize(("value", "ok"), [("0.2", True), ("1.000001", True), (Decimal("12"), True), ("0.0000001", False), ("-1", False), ("NaN", False), ("abc", False), ("1000000000000", False)])
def test_amounts_in_wan_have_at_most_six_places_and_are_never_rounded(value: str, ok: bool) -> None:
    assert check_amount_wan(value).ok is ok


@pytest.mark.parametrize("value", ["１２", "1e3", "1E3", " 1.5 ", "1.5\n", "+1", "1,000", "12.", ".5", "1.2.3", "٣", "Infinity", "0x10", "1_000"])
def test_amount_text_is_plain_ascii_decimal_notation_only(value: str) -> None:
    verdict = check_amount_wan(value)
    assert verdict.rule == "amount.wan" and "plain decimal notation" in (verdict.reason or "")


def test_a_negative_amount_says_so() -> None:
    assert check_amount_wan("-1").reason == "an amount cannot be negative"


def test_an_enormous_amount_is_not_echoed_whole() -> None:
    reason = check_amount_wan("9" * 5000).reason or ""
    assert "exceeds" in reason and len(reason) < 200


def test_amounts_are_exact_decimals_with_six_places() -> None:
    assert parse_amount_wan("0.2") == Decimal("0.200000")
    assert str(parse_amount_wan("0.2")) == "0.200000"
    assert yuan_to_wan(Decimal("2000")) == Decimal("0.2")
    with pytest.raises(ValueError):
        parse_amount_wan(0.2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "rule"),
    [("2020-05-01", None), ("2024-02-29", None), ("2021-02-29", "date.real"), ("20200501", "date.format"), ("2020-W01-1", "date.format"), ("2020/05/01", "date.format"), ("２０２０-05-01", "date.format"), ("2020-05-01\n", "date.format")],
)
def test_dates_are_real_and_written_yyyy_mm_dd(value: str, rule: str | None) -> None:
    assert check_date(value).rule == rule


# ---------------------------------------------------------------- fast paths agree with the definitions
# The checksums of ASCII codes are weighed in C (bytes.translate + map(mul)); the definitions as they
# were, kept here, must give the same verdict, reason and check character for any text.


def _defined_uscc_check_char(first17: str) -> str:
    value = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
    try:
        total = sum(value[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a credit code character") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _defined_org_code_check_char(first8: str) -> str:
    c9 = 11 - sum(_org_value(ch) * w for ch, w in zip(first8, ORG_CODE_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def _defined_id_check_char(first17: str) -> str:
    return "10X98765432"[sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "value", fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the same exception, type and message, is the point
        return type(exc).__name__, str(exc)


ID_TEXT = st.text(DIGITS + "X", min_size=14, max_size=19) | st.text(DIGITS + "Xx０１²٣ -", min_size=17, max_size=18)
USCC_TEXT = st.text(USCC_ALPHABET + STRANGERS, min_size=16, max_size=19) | st.text(USCC_ALPHABET, min_size=17, max_size=18)
ORG_TEXT = st.text(ORG_ALPHABET + "-xa٣²", min_size=7, max_size=11) | st.text(ORG_ALPHABET, min_size=8, max_size=9)


@given(st.one_of(valid_usccs(), USCC_TEXT, valid_usccs().map(lambda c: c[:17])))
def test_the_fast_credit_code_check_character_is_the_defined_one(text: str) -> None:
    assert _outcome(uscc_check_char, text[:17]) == _outcome(_defined_uscc_check_char, text[:17])
    assert _outcome(uscc_check_char, text) == _outcome(_defined_uscc_check_char, text)


@given(st.one_of(valid_org_codes(), ORG_TEXT))
def test_the_fast_organisation_code_check_character_is_the_defined_one(text: str) -> None:
    assert _outcome(org_code_check_char, text[:8]) == _outcome(_defined_org_code_check_char, text[:8])


@given(st.one_of(valid_id_numbers(), ID_TEXT))
def test_the_fast_id_check_character_is_the_defined_one(text: str) -> None:
    assert _outcome(id_check_char, text[:17]) == _outcome(_defined_id_check_char, text[:17])


def _substituted(code: str, at: int, char: str) -> str:
    return code[:at] + char + code[at + 1 :]


@given(st.one_of(valid_usccs(), USCC_TEXT, st.tuples(valid_usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET + STRANGERS)).map(lambda t: _substituted(*t))),
       st.booleans(), st.booleans())
def test_the_credit_code_check_gives_the_defined_verdict(code: str, placeholder: bool, embedded: bool) -> None:
    verdict = check_uscc(code, allow_placeholder=placeholder, check_embedded_org_code=embedded)
    assert verdict == _defined_check_uscc(code, allow_placeholder=placeholder, check_embedded_org_code=embedded)
    # the embedded organisation code only adds a warning to a valid code
    assert (verdict.ok, verdict.rule, verdict.reason) == (lambda v: (v.ok, v.rule, v.reason))(check_uscc(code, allow_placeholder=placeholder, check_embedded_org_code=not embedded))


@given(st.one_of(valid_org_codes(), ORG_TEXT, valid_org_codes().map(lambda c: c[:8] + "-" + c[8:])))
def test_the_organisation_code_check_gives_the_defined_verdict(code: str) -> None:
    assert check_org_code(code) == _defined_check_org_code(code)


@given(st.one_of(valid_id_numbers(), ID_TEXT, st.tuples(valid_id_numbers(), st.integers(0, 17), st.sampled_from(DIGITS + STRANGERS + "X")).map(lambda t: _substituted(*t))),
       st.one_of(st.none(), st.dates(dt.date(1870, 1, 1), dt.date(2030, 1, 1))))
def test_the_id_number_check_gives_the_defined_verdict(number: str, today: dt.date | None) -> None:
    assert check_id_number(number, today=today) == _defined_check_id_number(number, today=today)


def _defined_check_uscc(value: str, *, allow_placeholder: bool = False, check_embedded_org_code: bool = True) -> Any:
    from jnx.codesets.validators import (
        USCC_REGISTRATION_KINDS,
        VALID,
        Notice,
        Verdict,
        _fail,
    )

    if value == USCC_PLACEHOLDER:
        if allow_placeholder:
            return VALID
        return _fail(
            "uscc.placeholder",
            "the placeholder 00000000000000000X is allowed only as the 行政相对人代码_1 of a 法人及非法人组织 "
            "or 个体工商户 without a credit code (with its 工商注册号), never for a 自然人",
        )
    if len(value) != 18:
        return _fail("uscc.length", f"a credit code has 18 characters, this has {len(value)}")
    bad = [ch for ch in value if ch not in USCC_ALPHABET]
    if bad:
        return _fail("uscc.charset", f"character {bad[0]!r} is not allowed (digits and uppercase letters except I, O, S, V, Z)")
    kinds = USCC_REGISTRATION_KINDS.get(value[0])
    if kinds is None or value[1] not in kinds:
        return _fail("uscc.registration_kind", f"{value[:2]!r} is not a known 登记管理部门/机构类别 pair")
    if not (value[2:8].isascii() and value[2:8].isdigit()):
        return _fail("uscc.region", "positions 3–8 must be the six digits of a GB/T 2260 region code")
    expected = _defined_uscc_check_char(value[:17])
    if value[17] != expected:
        return _fail("uscc.check_char", f"wrong check character {value[17]!r} (expected {expected!r} for this code)")
    if check_embedded_org_code:
        embedded = _defined_check_org_code(value[8:17])
        if not embedded:
            notice = Notice("uscc.org_code", f"the embedded organisation code (positions 9–17) fails GB 11714: {embedded.reason}")
            return Verdict(True, warnings=(notice,))
    return VALID


def _defined_check_org_code(value: str) -> Any:
    import re

    from jnx.codesets.validators import VALID, _fail

    code = value[:8] + value[9:] if len(value) == 10 and value[8] == "-" else value
    if len(code) != 9:
        return _fail("org_code.length", f"an organisation code has 9 characters, this has {len(code)}")
    if not re.match(r"^[0-9A-Z]{8}$", code[:8]) or code[8] not in "0123456789X":
        return _fail("org_code.charset", "an organisation code is 8 digits or uppercase letters and a check digit or X")
    expected = _defined_org_code_check_char(code[:8])
    if code[8] != expected:
        return _fail("org_code.check_char", f"wrong check character {code[8]!r} (expected {expected!r})")
    return VALID


def _defined_check_id_number(value: str, *, today: dt.date | None = None) -> Any:
    from jnx.codesets.validators import VALID, _fail, id_birth_date

    def digits(text: str) -> bool:
        return text.isascii() and text.isdigit()

    if len(value) == 15 and digits(value):
        return _fail("id_number.legacy_15", "a 15-digit number of the first generation; convert it to 18 characters "
                     "(jnx.codesets.upgrade_id_15_to_18) before exchanging it")
    if len(value) != 18:
        return _fail("id_number.length", f"a resident ID number has 18 characters, this has {len(value)}")
    if not digits(value[:17]) or value[17] not in "0123456789X":
        return _fail("id_number.charset", "17 digits then a digit or an uppercase X")
    born = id_birth_date(value)
    if born is None:
        return _fail("id_number.birth_date", "positions 7–14 (the birth date) are not a real date")
    if born.year < 1880:
        return _fail("id_number.birth_date", "the birth date (positions 7–14) is before 1880")
    if today is not None and born > today:
        return _fail("id_number.birth_date", "the birth date (positions 7–14) is after the day of the check (the record's date)")
    if value[17] != _defined_id_check_char(value[:17]):
        return _fail("id_number.check_digit", "the check character (position 18) does not match the first 17 digits (MOD 11-2); a digit is mistyped")
    return VALID
