"""Personal data in free text: a natural person's name, phone, ID numbers (15 and 18 digits) and street masked."""

from __future__ import annotations

from jnx.publicity.free_text import mask_free_text, mask_payload_text

FACTS = "当事人于磊（身份证号码370827850306633，联系电话15008328858，住济宁市嘉祥县古槐路158号）经查，当事人于2019年1月未经批准擅自占道经营"


def test_a_natural_persons_name_phone_and_first_generation_id_are_masked() -> None:
    masked = mask_free_text(FACTS, ["于磊"])
    assert masked == ("当事人于*（身份证号码370827*****6633，联系电话150****8858，住济宁市嘉祥县*******）经查，"
                      "当事人于2019年1月未经批准擅自占道经营")


def test_an_18_digit_id_and_a_landline_are_masked_and_dates_and_amounts_stay() -> None:
    masked = mask_free_text("杨博文（370831196509026449，电话0537-2345678）于2023年3月被罚款5000元", ["杨博文"])
    assert masked == "杨**（370831********6449，电话053*****5678）于2023年3月被罚款5000元"


def test_an_organisations_text_keeps_its_registration_number_but_not_a_valid_id_number() -> None:
    text = "注册号370811600123456，法定代表人王建国（370831196509026449）"
    assert mask_free_text(text, ["王建国"], natural_person=False) == "注册号370811600123456，法定代表人王建国（370831********6449）"


def test_fifteen_digits_that_hold_no_birth_date_are_not_an_id_number() -> None:
    assert mask_free_text("编号370827851336633", ["某某"]) == "编号370827851336633"


def test_the_payloads_free_text_fields_are_masked_with_the_records_own_numbers() -> None:
    payload = {"CF_SY": "当事人朱琳（护照H04527343）虚假宣传", "CF_NR": "罚款", "CF_XDR_MC": "朱*"}
    mask_payload_text(payload, {"party_name": "朱琳", "party_id_number": "H04527343"}, natural_person=True)
    assert payload == {"CF_SY": "当事人朱*（护照*********）虚假宣传", "CF_NR": "罚款", "CF_XDR_MC": "朱*"}
