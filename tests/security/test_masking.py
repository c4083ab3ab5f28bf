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


def test_valid_id_numbers_are_masked_wherever_they_stand_others_kept() -> None:
    from jnx.security.masking import is_valid_id_number, mask_text

    assert is_valid_id_number("370811199002150027") and not is_valid_id_number("370811199002150021")
    assert is_valid_id_number("370811900215002")  # first generation: area code and a real YYMMDD
    assert mask_text("ID370811199002150027号") == "ID370811********0027号"  # letters touching do not hide it
    assert mask_text("旧证370811900215002") == "旧证370811*****5002"
    assert mask_text("00000000000000000X") == "00000000000000000X"  # the credit-code placeholder of a person
    assert mask_text("913708117262000017") == "913708117262000017"  # a credit code of digits: not a date inside
    assert mask_text("3708111990021500271") == "3708111990021500271"  # a longer run of digits is no ID number
    assert mask_text("370811199002150021") == "370811199002150021"  # invalid check digit: left to mask_id_numbers_in


def test_mask_deep_reaches_keys_nested_values_and_keeps_other_types() -> None:
    from decimal import Decimal

    from jnx.security.masking import mask_deep

    data = {"a": ["x 370811199002150027", {"370811199002150027": 1}], "b": Decimal("1.5"), "c": ("370811199002150027",)}
    assert mask_deep(data) == {"a": ["x 370811********0027", {"370811********0027": 1}], "b": Decimal("1.5"),
                               "c": ("370811********0027",)}


def test_log_lines_never_show_a_valid_id_number() -> None:
    import io
    import logging

    from jnx.security.masking import install_log_masking

    logger = logging.getLogger("jnx.test.masking")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    install_log_masking(logger)
    try:
        try:
            raise ValueError("bad party 370811199002150027")
        except ValueError:
            logger.exception("record %s failed", "370811199002150027")
    finally:
        logger.removeHandler(handler)
    assert "370811199002150027" not in stream.getvalue()
    assert "ERROR record 370811********0027 failed" in stream.getvalue()
