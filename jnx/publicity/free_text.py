"""Personal data inside the free-text fields of a disclosure (违法事实, 处罚内容, 备注…).

The outbound tables mask a natural person by field (name, ID number); case officers also write the
person into the text: “当事人张三（身份证号码370827850306633，联系电话15008328858，住济宁市嘉祥县古槐路158号）…”.
:func:`mask_free_text` replaces, in such text, the party's and the legal representative's names by
their masked forms (surname kept), 18- and 15-digit resident ID numbers (first 6 and last 4 kept),
mobile and fixed-line phone numbers (first 3 and last 4 kept) and the street part of an address
(region kept). The masking formats are :mod:`jnx.security.masking`'s; this module only finds the
values in text. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from jnx.codesets.validators import check_id_number
from jnx.security.masking import ID_NUMBER_LIKE, MASK_CHAR, mask_id_number, mask_id_numbers_in, mask_name, mask_phone

#: The fields of the 双公示 formats that hold free text written by people.
FREE_TEXT_FIELDS: tuple[str, ...] = ("CF_SY", "CF_NR", "CF_WFXW", "CF_YJ", "XK_NR", "BZ")

#: A 15-digit first-generation resident ID number: 6 region digits, YYMMDD, 3 sequence digits.
FIRST_GENERATION_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{5}([0-9]{2})([01][0-9])([0-3][0-9])[0-9]{3}(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}(?![0-9])")
#: The street part of an address after its region (…市…区/县/市), up to its house number.
ADDRESS = re.compile(r"((?:[\u4e00-\u9fff]{2,6}?(?:省|市))?[\u4e00-\u9fff]{2,6}?(?:市|区|县))"
                     r"([\u4e00-\u9fff0-9]{1,20}?(?:路|街|巷|大道|村|社区|小区)[0-9\-]{1,6}(?:号|栋|室)(?:[0-9\-]{1,6}(?:号|栋|室|单元))*)")


#: Words that introduce an address (住济宁市…, 住址：…, 家住…): an address jnx could not find by its shape is reported.
ADDRESS_WORDS = re.compile(r"住址|地址|家住|居住|现住|住所|(?<![居记])住(?![宿房院建户])(?=[\u4e00-\u9fff])")
_SEVEN_DIGITS = re.compile(r"[0-9]{7}")
_HOUSE = re.compile(r"[0-9](?:号|栋|室)")


def _first_generation(match: re.Match[str]) -> str:
    _, month, day = (int(g) for g in match.groups())
    try:
        dt.date(2000 if month == 2 and day == 29 else 1999, month, day)  # a birth date a 15-digit number can hold
    except ValueError:
        return match.group(0)  # not an ID number's shape: 15 digits of something else
    return mask_id_number(match.group(0))


def _mask_address(match: re.Match[str]) -> str:
    return match.group(1) + MASK_CHAR * len(match.group(2))


def mask_free_text(text: str, names: Iterable[str] = (), *, natural_person: bool = True, numbers: Iterable[str] = ()) -> str:
    """``text`` with personal data masked. For a natural person: ``names`` (the party's, the legal
    representative's), every ID-number-shaped run (18 or 15 digits), phone numbers and the street part
    of addresses. For an organisation, whose name, codes and address are public: valid 18-digit ID
    numbers only (an all-digit credit code or a 15-digit 注册号 in its text stays)."""
    if not text:
        return text
    for number in numbers:  # the record's own ID numbers, whatever their kind (passport, 港澳通行证…)
        if number and len(number) >= 6 and number in text:
            text = text.replace(number, mask_id_number(number))
    digits = len(text) >= 7 and _SEVEN_DIGITS.search(text) is not None  # every number masked here has 7 in a row
    if not natural_person:
        if digits and len(text) >= 18 and ID_NUMBER_LIKE.search(text):
            text = ID_NUMBER_LIKE.sub(lambda m: mask_id_number(m.group(0)) if check_id_number(m.group(0).upper()) else m.group(0), text)
        return text
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        if name in text:
            text = text.replace(name, mask_name(name))
    if digits:
        if len(text) >= 15:
            text = mask_id_numbers_in(text)
            text = FIRST_GENERATION_ID.sub(_first_generation, text)
        text = MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
        text = LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)
    if _HOUSE.search(text):  # an address needs a house number
        text = ADDRESS.sub(_mask_address, text)
    return text


def mask_payload_text(payload: dict[str, Any], record: Mapping[str, Any], natural_person: bool) -> list[tuple[str, bool]]:
    """Mask, in place, the free-text fields of a disclosure payload made from the standard ``record``. For a
    natural person, the fields to review (:func:`address_reviews`): (field, True) where an address was masked,
    (field, False) where a word introduces one (住, 地址 …) that had no shape jnx masks."""
    names = [str(record.get("party_name") or "").strip(), str(record.get("legal_representative") or "").strip()]
    numbers = [str(record.get(f) or "").strip() for f in ("party_id_number", "legal_rep_id_number")]
    review = []
    for name in FREE_TEXT_FIELDS:
        value = payload.get(name)
        if value.__class__ is str and value:
            masked = mask_free_text(value, names, natural_person=natural_person, numbers=numbers)
            if masked != value:
                payload[name] = masked
            if natural_person:
                if _HOUSE.search(value) and ADDRESS.search(value):
                    review.append((name, True))
                elif ADDRESS_WORDS.search(value):
                    review.append((name, False))
    return review


#: The review finding of a natural person's address masked in free text (``disclosures.review``).
ADDRESS_REVIEW = "personal_data.address_review"


def address_reviews(payload: Mapping[str, Any], fields: list[tuple[str, bool]]) -> list[dict[str, str]]:
    """One finding per field of ``payload`` to review, quoting what went out: an address jnx masked (check that
    nothing of it is left: a village, a building or a room the pattern did not reach), or a word that introduces
    an address jnx found no address after (check that none went out in clear)."""
    return [{"field": name, "rule": ADDRESS_REVIEW,
             "message": (f"{name}: a natural person's address was masked (region kept, street part replaced): "
                         if masked else
                         f"{name}: the text mentions an address (住, 地址 …) that jnx could not mask by its shape: ")
                        + f"“{str(payload.get(name))[:120]}”; check that no part of the address is left, "
                          "and correct the source's text if it is"}
            for name, masked in fields]


__all__ = ["ADDRESS_REVIEW", "FREE_TEXT_FIELDS", "address_reviews", "mask_free_text", "mask_payload_text"]
