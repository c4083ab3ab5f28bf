"""Acting on a value's shape: ``when: {…, matches: SHAPE}`` over the closed set of named shapes,
the ``const`` and ``positions`` steps, and the 15-digit 工商注册号 validator behind one shape."""

from __future__ import annotations

from typing import Any

import pytest

from jnx.codesets import check_registration_no_15
from jnx.codesets.validators import registration_no_check_digit
from jnx.mappings.errors import MappingTableError
from jnx.mappings.shapes import SHAPES, shape_test
from jnx.mappings.transforms import lookup
from tests.mappings.conftest import CONTEXT

REGISTRATION_NO = "370811600123456"  # 个体工商户 (position 7 is 6), as the double-random feed sends it
USCC_92 = "92370811MA3C00022M"


# ---------------------------------------------------------------- the 工商注册号 validator (GS 15-2006)


def test_a_registration_number_is_15_ascii_digits_starting_with_a_province() -> None:
    assert check_registration_no_15("110108000000016").ok  # the example of GS 15-2006, check digit right
    assert check_registration_no_15("110108000000016").warnings == ()
    assert check_registration_no_15("37081160012345").rule == "registration_no.length"
    assert check_registration_no_15("3708116001234567").rule == "registration_no.length"
    assert check_registration_no_15("37081160012345A").rule == "registration_no.charset"
    assert check_registration_no_15("３７０８１１６００１２３４５６").rule == "registration_no.charset"  # the validator takes ASCII
    assert check_registration_no_15("000000600123456").rule == "registration_no.authority"
    assert check_registration_no_15("990811600123456").rule == "registration_no.authority"


def test_a_wrong_check_digit_of_a_registration_number_only_warns() -> None:
    verdict = check_registration_no_15(REGISTRATION_NO)
    assert verdict.ok
    assert [n.rule for n in verdict.warnings] == ["registration_no.check_digit"]
    body = REGISTRATION_NO[:14]
    assert check_registration_no_15(body + registration_no_check_digit(body)).warnings == ()


def test_the_check_digit_is_iso_7064_mod_11_10() -> None:
    def by_definition(first14: str) -> str:  # ISO 7064 MOD 11,10 as the standard writes it
        product = 10
        for ch in first14:
            total = (product + int(ch)) % 10
            product = (10 if total == 0 else total) * 2 % 11
        return next(str(d) for d in range(10) if (product + d) % 10 == 1)

    for body in ("11010800000001", "37081160012345", "37082600007465", "00000000000000", "99999999999999"):
        assert registration_no_check_digit(body) == by_definition(body)


# ---------------------------------------------------------------- shape tests


@pytest.mark.parametrize(
    ("value", "shapes"),
    [
        (REGISTRATION_NO, {"registration_no_15"}),
        ("３７０８１１６００１２３４５６", {"registration_no_15"}),  # full-width digits: the same number
        (f" {REGISTRATION_NO}\u3000", {"registration_no_15"}),  # padded
        (370811600123456, {"registration_no_15"}),  # a JSON number: judged by its digits
        (USCC_92, {"uscc"}),
        (USCC_92.lower(), {"uscc"}),  # lower case: the same code
        ("９２３７０８１１ＭＡ３Ｃ０００２２Ｍ", {"uscc"}),
        ("92370811MA3C00022N", set()),  # 18 characters, wrong check character: no shape at all
        ("92370811MA3C0002", set()),  # a character dropped
        ("37081160012345A", set()),  # 15 characters, not all digits
        ("000000600123456", set()),  # 15 digits that do not start with a 登记机关代码
        ("3708116001234567", set()),  # 16 digits
        ("00000000000000000X", set()),  # the placeholder is no credit code
        ("370811199002150027", {"id_number"}),
        ("370811199002150027".replace("27", "2x"), set()),
        ("60003734-1", {"org_code"}),
        ("", set()),
        ("  \u3000", set()),
        (None, set()),
        (True, set()),
        ([REGISTRATION_NO], set()),  # a list has no shape
    ],
)
def test_each_value_has_the_shapes_its_validators_say(value: Any, shapes: set[str]) -> None:
    assert {name for name in SHAPES if shape_test([name])(value)} == shapes


def test_a_list_of_shapes_holds_for_any_of_them() -> None:
    either = shape_test(["uscc", "registration_no_15"])
    assert either(REGISTRATION_NO) and either(USCC_92) and not either("92370811MA3C00022N")


# ---------------------------------------------------------------- the steps


def test_positions_count_from_one_and_include_both_ends() -> None:
    spec = lookup("positions")
    assert spec.build({"span": (1, 2)}, None)(USCC_92) == "92"  # type: ignore[arg-type]
    assert spec.build({"span": (7, 7)}, None)(REGISTRATION_NO) == "6"  # type: ignore[arg-type]
    assert spec.build({"span": (17, 20)}, None)(USCC_92) == "2M"  # type: ignore[arg-type]  # fewer if shorter
    assert spec.build({"span": (19, 20)}, None)(USCC_92) is None  # type: ignore[arg-type]  # none: no value


CODE_TABLE = """\
party_type:
  from: code
  do:
    - clean
    - upper
    - {positions: "7", when: {path: code, matches: registration_no_15}}
    - {positions: 1-2, when: {path: code, matches: uscc}}
    - code: {set: party_type, map: {"92": 个体工商户, "6": 个体工商户}, default: 法人及非法人组织, keep_codes: false}
party_credit_code:
  from: code
  do: [clean, upper, {const: "00000000000000000X", when: {path: code, matches: registration_no_15}}]
business_registration_no:
  from: code
  when: {path: code, matches: registration_no_15}
  do: [clean]
"""


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (REGISTRATION_NO, {"party_type": "个体工商户", "party_credit_code": "00000000000000000X", "business_registration_no": REGISTRATION_NO}),
        ("３７０８１１６００１２３４５６", {"party_type": "个体工商户", "party_credit_code": "00000000000000000X",
                                    "business_registration_no": REGISTRATION_NO}),
        ("370826000074657", {"party_type": "法人及非法人组织", "party_credit_code": "00000000000000000X",
                             "business_registration_no": "370826000074657"}),
        (USCC_92.lower(), {"party_type": "个体工商户", "party_credit_code": USCC_92}),
        ("91370811MA3C00011L", {"party_type": "法人及非法人组织", "party_credit_code": "91370811MA3C00011L"}),
        # a bad credit code is not routed: it stays the credit code (for its check to report) and decides no type
        ("92370811MA3C00022N", {"party_type": "法人及非法人组织", "party_credit_code": "92370811MA3C00022N"}),
        ("37081160012345A", {"party_type": "法人及非法人组织", "party_credit_code": "37081160012345A"}),
        ("", {}),
        (" ", {}),
    ],
)
def test_a_table_routes_and_classifies_a_code_by_its_shape(compiled, code: str, expected: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    mapped, issues = compiled(CODE_TABLE).map_fields({"code": code}, CONTEXT)
    assert mapped == expected
    assert [i.rule for i in issues] == ([] if expected else ["required"])  # party_type: nothing to tell it from


def test_a_condition_on_a_mapped_field_judges_its_mapped_value(compiled) -> None:  # type: ignore[no-untyped-def]
    mapper = compiled("""\
        party_credit_code: {from: code, do: [clean, upper]}
        organization_code:
          from: code
          when: {field: party_credit_code, matches: uscc}
          do: [clean, upper, {positions: 9-17}]
        """)
    assert mapper.map_fields({"code": "91370811ma3c00011l"}, CONTEXT)[0]["organization_code"] == "MA3C00011"
    assert "organization_code" not in mapper.map_fields({"code": "91370811MA3C00011X"}, CONTEXT)[0]


# ---------------------------------------------------------------- checked at load


def _problems(load, fields: str) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(MappingTableError) as error:
        load(fields)
    return [str(p) for p in error.value.problems]


def test_an_unknown_shape_fails_the_load_at_its_line_with_the_known_shapes(load) -> None:  # type: ignore[no-untyped-def]
    found = _problems(load, """\
        party_name: {from: dsrmc}
        business_registration_no:
          from: code
          when: {path: code, matches: registration_no}
        """)
    assert found == ["t.yaml:14: when: unknown shape 'registration_no'; known: uscc, registration_no_15, id_number, org_code"]


def test_matches_needs_shape_names(load) -> None:  # type: ignore[no-untyped-def]
    found = _problems(load, "business_registration_no: {from: code, when: {path: code, matches: {uscc: true}}}\n")
    assert found[0].startswith("t.yaml:11: when: matches needs a shape name or a list of them; known: uscc")


def test_a_const_step_needs_a_condition(load) -> None:  # type: ignore[no-untyped-def]
    found = _problems(load, "party_credit_code: {from: code, do: [clean, {const: \"00000000000000000X\"}]}\n")
    assert found == ["t.yaml:11: const as a step needs a when: (a field that is always one text says const: instead)"]


@pytest.mark.parametrize("span", ["0", "2-1", "a", "1-", "１"])
def test_positions_are_counted_from_one_and_written_as_digits(load, span: str) -> None:  # type: ignore[no-untyped-def]
    found = _problems(load, f"party_credit_code: {{from: code, do: [{{positions: \"{span}\"}}]}}\n")
    assert len(found) == 1 and found[0].startswith("t.yaml:11: positions: span must")
