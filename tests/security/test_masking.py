"""Masking of personal data: ID numbers are hidden wherever they stand in a text."""

from __future__ import annotations

from jnx.security.masking import mask_id_number, mask_id_numbers_in, mask_name


def test_an_id_number_keeps_its_area_and_last_four_only() -> None:
    assert mask_id_number("370811199002150027") == "370811********0027"
    assert mask_name("张三丰") == "张**"


def test_id_numbers_inside_chinese_text_are_masked_valid_or_not() -> None:
    text = "当事人身份证号码370811199002150027，另一号码37081119900215002X与370811199002150021"
    masked = mask_id_numbers_in(text)
    assert "199002150" not in masked
    assert masked.count("********") == 3


def test_longer_codes_and_credit_codes_are_left_alone() -> None:
    assert mask_id_numbers_in("12370811MB2850011X7") == "12370811MB2850011X7"  # 19 characters, letters inside
    assert mask_id_numbers_in("JN3708111990021500271") == "JN3708111990021500271"
