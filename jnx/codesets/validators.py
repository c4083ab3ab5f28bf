"""Identifier and value validators: 统一社会信用代码 (GB 32100), 居民身份证号码 (GB 11643),
组织机构代码 (GB 11714), 工商注册号 (GS 15-2006), amounts in 万元 and dates.

Pure functions, no I/O. Each ``check_*`` returns a :class:`Verdict` naming the rule broken, so a
caller (a model, a mapping, the CLI) can report *why* a value is wrong, not only that it is.
Arithmetic per ../shared/domain/REFERENCE.md §5.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from operator import mul

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PLACEHOLDER = "00000000000000000X"
"""双公示 placeholder for a 法人及非法人组织 or 个体工商户 known by its 工商注册号 only (never a 自然人);
fails the checksum, allowed only where the standard says (REFERENCE §1.5 rule 2)."""

# 登记管理部门代码 (position 1) → allowed 机构类别代码 (position 2), GB 32100 annex.
USCC_REGISTRATION_KINDS: dict[str, str] = {
    "1": "1239",
    "2": "129",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}

ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

AMOUNT_PLACES = 6
AMOUNT_QUANTUM = Decimal("0.000001")
AMOUNT_MAX_WAN = Decimal("999999999999.999999")  # decimal(18, 6)

_ORG_BODY = re.compile(r"^[0-9A-Z]{8}$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")  # fullmatch; re's \d would admit "１２"
_DIGITS = re.compile(r"[0-9]+")  # use fullmatch: str.isdigit() also admits "²" and other scripts' digits

# Fast paths: a text known to be ASCII of the right alphabet is weighed in C (bytes.translate to the
# characters' values, map(mul) with the weights) instead of a generator of per-character lookups.
# Anything else takes the definitions below them, so every result and error stays the same.
_ID_CHARS = re.compile(r"[0-9]{17}[0-9X]")  # fullmatch: 17 ASCII digits and a digit or X
_USCC_CHARS = re.compile(r"[0-9A-HJ-NPQRTUWXY]+")  # fullmatch: the characters of USCC_ALPHABET, nothing else
_USCC_BYTE_VALUES = bytes.maketrans(USCC_ALPHABET.encode("ascii"), bytes(range(len(USCC_ALPHABET))))
_DIGIT_BYTE_VALUES = bytes.maketrans(b"0123456789", bytes(range(10)))
_ORG_BYTE_VALUES = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", bytes(range(36)))
_ORG_CHECK_CHARS = "?123456789X0"  # by 11 - (sum mod 11), which is 1..11: 10 is X, 11 is 0


@dataclass(frozen=True, slots=True)
class Notice:
    """Something worth a reviewer's eye that does not make a value invalid (a warning)."""

    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one check: ``ok``, or the ``rule`` broken and a ``reason`` a person understands.

    ``warnings`` holds notices that do not fail the check (a credit code whose embedded
    organisation code fails GB 11714, a region given in another numbering system).
    """

    ok: bool
    rule: str | None = None
    reason: str | None = None
    warnings: tuple[Notice, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


VALID = Verdict(True)


def _fail(rule: str, reason: str) -> Verdict:
    return Verdict(False, rule, reason)


# ---------------------------------------------------------------- 统一社会信用代码 GB 32100


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    if len(first17) == 17 and _USCC_CHARS.fullmatch(first17):
        return _uscc_check_char(first17)
    try:
        total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a credit code character") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _uscc_check_char(first17: str) -> str:
    """:func:`uscc_check_char` of 17 characters known to be of USCC_ALPHABET."""
    total = sum(map(mul, first17.encode("ascii").translate(_USCC_BYTE_VALUES), USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(value: str, *, allow_placeholder: bool = False, check_embedded_org_code: bool = True) -> Verdict:
    """Check a unified social credit code: length, charset, registration kind, region digits, check char.

    ``allow_placeholder`` admits ``00000000000000000X`` (an organisation without a credit code), which
    the 双公示 formats allow for 行政相对人代码_1 only: for a 法人及非法人组织 or 个体工商户, with its
    工商注册号, never for a 自然人 (REFERENCE §1.5 rule 2). The party type is the caller's to judge
    (the standard's ``placeholder_when``). With ``check_embedded_org_code`` a valid code whose
    positions 9–17 (主体标识码) fail GB 11714 passes with a ``uscc.org_code`` warning: some codes
    issued from older registers do not comply, so this is never a failure.
    """
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
    if not _USCC_CHARS.fullmatch(value):
        bad = [ch for ch in value if ch not in USCC_ALPHABET]
        return _fail("uscc.charset", f"character {bad[0]!r} is not allowed (digits and uppercase letters except I, O, S, V, Z)")
    kinds = USCC_REGISTRATION_KINDS.get(value[0])
    if kinds is None or value[1] not in kinds:
        return _fail("uscc.registration_kind", f"{value[:2]!r} is not a known 登记管理部门/机构类别 pair")
    if not _DIGITS.fullmatch(value[2:8]):
        return _fail("uscc.region", "positions 3–8 must be the six digits of a GB/T 2260 region code")
    expected = _uscc_check_char(value[:17])
    if value[17] != expected:
        return _fail("uscc.check_char", f"wrong check character {value[17]!r} (expected {expected!r} for this code)")
    if check_embedded_org_code:
        embedded = check_org_code(value[8:17])
        if not embedded:
            notice = Notice("uscc.org_code", f"the embedded organisation code (positions 9–17) fails GB 11714: {embedded.reason}")
            return Verdict(True, warnings=(notice,))
    return VALID


# ---------------------------------------------------------------- 组织机构代码 GB 11714


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for an 8-character organisation code body."""
    if len(first8) == 8 and _ORG_BODY.match(first8):
        return _org_code_check_char(first8)
    c9 = 11 - sum(_org_value(ch) * w for ch, w in zip(first8, ORG_CODE_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def _org_code_check_char(first8: str) -> str:
    """:func:`org_code_check_char` of 8 characters known to be ASCII digits and uppercase letters."""
    return _ORG_CHECK_CHARS[11 - sum(map(mul, first8.encode("ascii").translate(_ORG_BYTE_VALUES), ORG_CODE_WEIGHTS)) % 11]


def check_org_code(value: str) -> Verdict:
    """Check an organisation code, written ``XXXXXXXXC`` or ``XXXXXXXX-C``."""
    code = value[:8] + value[9:] if len(value) == 10 and value[8] == "-" else value
    if len(code) != 9:
        return _fail("org_code.length", f"an organisation code has 9 characters, this has {len(code)}")
    if not _ORG_BODY.match(code[:8]) or code[8] not in "0123456789X":
        return _fail("org_code.charset", "an organisation code is 8 digits or uppercase letters and a check digit or X")
    expected = _org_code_check_char(code[:8])
    if code[8] != expected:
        return _fail("org_code.check_char", f"wrong check character {code[8]!r} (expected {expected!r})")
    return VALID


# ---------------------------------------------------------------- 工商注册号 GS 15-2006


REGISTRATION_AUTHORITY_PROVINCES = frozenset(
    ["10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]
)
"""First two digits of a 首次登记机关代码: a GB/T 2260 province, or 10 (国家工商行政管理总局, 100000)."""


def registration_no_check_digit(first14: str) -> str:
    """The GS 15-2006 check digit (ISO 7064 MOD 11,10) for the first 14 digits of a 工商注册号."""
    product = 10
    for digit in first14.encode("ascii").translate(_DIGIT_BYTE_VALUES):
        product = ((product + digit) % 10 or 10) * 2 % 11
    return str((11 - product) % 10)


def check_registration_no_15(value: str) -> Verdict:
    """Check a 15-digit 工商注册号 (GS 15-2006, the business licence number before the credit code).

    15 ASCII digits whose first six (the 首次登记机关代码) start with a province of GB/T 2260 or 10.
    Position 7 tells the kind of entity (GS 15-2006 §4.3: 0–3 内资企业, 4–5 外资企业, 6–9 个体工商户).
    The check digit (ISO 7064 MOD 11,10) gives a warning (``registration_no.check_digit``), not a
    failure: the standard keeps 工商注册号 as free text (JN-DE-0004), and what this check is for is
    telling a 注册号 from a credit code or an ID number (the sandbox's feed does not compute the digit).
    """
    if len(value) != 15:
        return _fail("registration_no.length", f"a 工商注册号 has 15 digits, this has {len(value)} characters")
    if not _DIGITS.fullmatch(value):
        return _fail("registration_no.charset", "a 工商注册号 is 15 ASCII digits")
    if value[:2] not in REGISTRATION_AUTHORITY_PROVINCES:
        return _fail("registration_no.authority", f"{value[:2]!r} does not start a 登记机关代码 (a GB/T 2260 province, or 10)")
    expected = registration_no_check_digit(value[:14])
    if value[14] != expected:
        return Verdict(True, warnings=(Notice("registration_no.check_digit",
                                              f"the check digit (position 15) is {value[14]!r}, MOD 11,10 gives {expected!r}"),))
    return VALID


# ---------------------------------------------------------------- 居民身份证号码 GB 11643


def id_check_char(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    if len(first17) == 17 and _DIGITS.fullmatch(first17):
        return _id_check_char(first17)
    return ID_CHECK_CHARS[sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _id_check_char(digits: str) -> str:
    """:func:`id_check_char` of the first 17 characters of ``digits``, known to be ASCII digits."""
    return ID_CHECK_CHARS[sum(map(mul, digits.encode("ascii").translate(_DIGIT_BYTE_VALUES), ID_WEIGHTS)) % 11]


def _id_birth_date(number: str) -> dt.date | None:
    """:func:`id_birth_date` of a number whose positions 7–14 are known to be ASCII digits."""
    try:
        return dt.date.fromisoformat(f"{number[6:10]}-{number[10:12]}-{number[12:14]}")
    except ValueError:
        return None


def id_birth_date(value: str) -> dt.date | None:
    """The birth date in an 18-digit ID number, or None if it is not a real date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def check_id_number(value: str, *, today: dt.date | None = None) -> Verdict:
    """Check an 18-character resident ID number: charset, a real birth date, the check digit.

    No reason quotes the number, any of its digits or its birth date (personal data, DESIGN rule 6).

    The area prefix is deliberately *not* checked against the birth year: numbers keep the area
    code in force at registration, and codes such as 370883 (邹城, from 1992) appear on people born
    before it existed.
    """
    if len(value) != 18 or not _ID_CHARS.fullmatch(value):  # what is not 17 digits and a digit or X, in this order:
        if len(value) == 15 and _DIGITS.fullmatch(value):
            return _fail(
                "id_number.legacy_15",
                "a 15-digit number of the first generation; convert it to 18 characters "
                "(jnx.codesets.upgrade_id_15_to_18) before exchanging it",
            )
        if len(value) != 18:
            return _fail("id_number.length", f"a resident ID number has 18 characters, this has {len(value)}")
        return _fail("id_number.charset", "17 digits then a digit or an uppercase X")
    born = _id_birth_date(value)
    if born is None:
        return _fail("id_number.birth_date", "positions 7–14 (the birth date) are not a real date")
    if born.year < 1880:
        return _fail("id_number.birth_date", "the birth date (positions 7–14) is before 1880")
    if today is not None and born > today:
        return _fail("id_number.birth_date", "the birth date (positions 7–14) is after the day of the check (the record's date)")
    if value[17] != _id_check_char(value):
        return _fail("id_number.check_digit", "the check character (position 18) does not match the first 17 digits (MOD 11-2); a digit is mistyped")
    return VALID


def upgrade_id_15_to_18(value: str) -> str:
    """Convert a first-generation 15-digit ID number to 18 characters (GB 11643-1999 §5).

    The birth year gains the century ``19`` (15-digit numbers were issued 1984–1999, to people born
    in the 1900s) and the MOD 11-2 check character is appended. Raises ValueError with the reason.
    """
    if len(value) != 15 or not _DIGITS.fullmatch(value):
        raise ValueError("a first-generation ID number has exactly 15 digits")
    first17 = value[:6] + "19" + value[6:]
    if id_birth_date(first17) is None:
        raise ValueError("positions 7–12 (the birth date YYMMDD) are not a real date")
    return first17 + id_check_char(first17)


# ---------------------------------------------------------------- amounts and dates


def _shown(value: object) -> str:
    """A value as a message quotes it: its repr, cut short so a megabyte of digits stays out of a log."""
    text = repr(value) if not isinstance(value, Decimal) else str(value)
    return text if len(text) <= 40 else f"{text[:30]}… ({len(text):,} characters)"


def parse_amount_wan(value: str | int | Decimal) -> Decimal:
    """An amount in 万元 as an exact Decimal with six places; raises ValueError with the reason.

    Text must be plain ASCII decimal notation: digits with at most one point (``12``, ``0.2``,
    ``12.345678``) — no sign, exponent, spaces (callers trim), full-width or other scripts' digits.
    More than six decimal places is an error, never a silent rounding.
    """
    if isinstance(value, (float, bool)) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"amounts are text or Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        if value.startswith("-") and _PLAIN_DECIMAL.fullmatch(value[1:]):
            raise ValueError("an amount cannot be negative")
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise ValueError(f"{_shown(value)} is not an amount in plain decimal notation like 0.2 or 12.345678 (ASCII digits, one optional point)")
    amount = value if isinstance(value, Decimal) else Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{_shown(value)} is not a finite number")
    if amount < 0:
        raise ValueError("an amount cannot be negative")
    if amount > AMOUNT_MAX_WAN:
        raise ValueError(f"{_shown(amount)} 万元 exceeds the largest amount the standard holds (decimal 18,6)")
    exact = amount.quantize(AMOUNT_QUANTUM)
    if exact != amount:
        raise ValueError(f"{_shown(amount)} has more than {AMOUNT_PLACES} decimal places (万元)")
    return exact


def yuan_to_wan(yuan: Decimal) -> Decimal:
    """Convert 元 to 万元 exactly (÷ 10,000); raises ValueError if that needs more than six places."""
    return parse_amount_wan(yuan.scaleb(-4))


def check_amount_wan(value: str | int | Decimal) -> Verdict:
    try:
        parse_amount_wan(value)
    except ValueError as exc:
        return _fail("amount.wan", str(exc))
    return VALID


def check_date(value: str) -> Verdict:
    """Check an ISO date ``YYYY-MM-DD`` (the standard's exchange format), and that it is a real date.

    Only that form: ``date.fromisoformat`` alone would also take ``20200501`` and week dates such
    as ``2020-W01-1``.
    """
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return _fail("date.format", f"{value!r} is not a date in the form YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return _fail("date.real", f"{value!r} is not a real calendar date")
    return VALID
