"""The compiled record check (jnx.standard.rules) gives exactly what the definition (jnx.standard.reference) gives.

Records of every type are drawn from the samples' valid bases (a legal person, a natural person, an
individual business), then broken at random: fields dropped, set to None or to values of every kind
the checks tell apart — good and bad text, codes of either list version, aliases, free-text codes,
unknown codes, dates around the code sets' version boundaries, datetimes, amounts in every form,
credit codes, clear, masked and broken ID numbers, wrong types — with unknown keys and a wrong
``record_type``, judged on a random day. Both must give the same values (same keys, order, types),
the same issues and the same warnings, in the same order, every time a record is checked again
(memos filled, key orders compiled).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jnx.codesets import default_registry
from jnx.standard import ElementType, default_dictionary, reference, rules
from jnx.standard.compiled import ORDERS
from jnx.standard.rules import check_record, record_rule_issues
from tests.standard.samples.build import (
    BASES,
    ID_NUMBER,
    MASKED_ID_NUMBER,
    as_individual_business,
    as_natural_person,
    party_names,
)

REGISTRY = default_registry()
DICTIONARY = default_dictionary()


def _codes(codeset: str) -> list[str]:
    """Every code, alias and free-text code of every version, a bare prefix, an unknown code."""
    found: dict[str, None] = {}
    for version in REGISTRY.get(codeset).versions:
        for entry in version.entries.values():
            found[entry.code + ("军官证" if entry.match == "prefix" else "")] = None
            found.update(dict.fromkeys(entry.aliases))
            if entry.match == "prefix":
                found[entry.code] = None
    return [*found, "不存在的代码"]


TEXTS = ["济宁示例科技有限公司", "任城区 示例\u3000小吃店", "第一行\n第二行", "tab\there", "𠀀济宁😀", "", "\x01控制", "\ud800", "孤\udfff",
         "\ufdd0", "\U0010ffff", " ", "长" * 129, "长" * 257, "a" * 4001]
DATES: list[Any] = ["2022-05-01", "2021-07-14", "2021-07-15", "1996-09-30", "1996-10-01", "2020-02-29", "2022-02-30", "20220501",
                    "2022-05-01\n", "2099-12-31", dt.date(2022, 5, 1), dt.date(2021, 7, 15), dt.date(2026, 1, 1),
                    dt.datetime(2022, 5, 1, 8, 0), dt.date(1996, 9, 30)]
AMOUNTS: list[Any] = ["0.2", "12.345678", "0.1234567", "-1", "１２", "1e3", 5, True, 0.2, Decimal("0.2"), Decimal("-0.000000"),
                      Decimal("NaN"), Decimal("1E+13"), Decimal("0.200000"), "999999999999.999999", "1000000000000"]
CREDIT_CODES = ["91370800MA3C00011N", "11370800004180002M", "91370800MA3C00011M", "00000000000000000X", "91370800ma3c00011n",
                "B1370800MA3C00011N", "9137A800MA3C00011N", "91370800MA3C0001", "913708000653327896", 91370800]
ID_NUMBERS = [ID_NUMBER, MASKED_ID_NUMBER, "370811199002300027", "370811210002150021", "370811202502150028", "11010519491231002X",
              "11010519491231002x", "370811900215002", "370811****02150027", "E12345678", "王某某", "370811199002150028"]
ORG_CODES = ["MA3C0001-7", "MA3C00017", "12345678-9", "abc", 7]
OTHERS: list[Any] = [None, 7, 1.5, True, ["x"], {"k": "v"}, b"bytes"]


def _values(element_type: ElementType, codeset: str | None, separator: str | None) -> st.SearchStrategy[Any]:
    if element_type is ElementType.STRING:
        return st.sampled_from(TEXTS + ID_NUMBERS[:-1] + OTHERS)
    if element_type is ElementType.STRING_LIST:
        return st.one_of(st.lists(st.sampled_from(TEXTS), max_size=3), st.sampled_from(TEXTS + OTHERS))
    if element_type is ElementType.CODE:
        assert codeset is not None
        return st.sampled_from(_codes(codeset) + OTHERS)
    if element_type is ElementType.CODE_LIST:
        assert codeset is not None
        codes = st.sampled_from(_codes(codeset) + ["", 7])
        if separator:
            return st.one_of(st.lists(codes.filter(lambda c: isinstance(c, str)), min_size=1, max_size=3).map(separator.join),
                             st.sampled_from(OTHERS))
        return st.one_of(st.lists(codes, max_size=4), st.sampled_from(OTHERS + ["罚款"]))
    if element_type is ElementType.DATE:
        return st.one_of(st.sampled_from(DATES + OTHERS), st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)))
    if element_type is ElementType.DECIMAL_WAN:
        return st.sampled_from(AMOUNTS + OTHERS)
    if element_type is ElementType.INTEGER:
        return st.sampled_from([1, "2", "+3", "x", True, 1.0, None])
    if element_type is ElementType.BOOLEAN:
        return st.sampled_from([True, False, "true", "1", "false", "0", "yes", 1, 0, None])
    if element_type is ElementType.USCC:
        return st.sampled_from(CREDIT_CODES + OTHERS)
    if element_type is ElementType.ORG_CODE:
        return st.sampled_from(ORG_CODES + OTHERS)
    return st.sampled_from(ID_NUMBERS + OTHERS)  # ID_NUMBER


def _bases(name: str) -> list[dict[str, Any]]:
    base = BASES[name]
    f = party_names(name)
    return [base] if f is None else [base, as_natural_person(base, f), as_individual_business(base, f)]


@st.composite
def records(draw: st.DrawFn, names: list[str] = sorted(BASES)) -> tuple[str, dict[str, Any], dt.date]:
    """A record type, a record of it (valid, or broken in up to eight ways) and the day of the check."""
    name = draw(st.sampled_from(names))
    record_type = DICTIONARY.record_type(name)
    record = dict(draw(st.sampled_from(_bases(name))))
    for _ in range(draw(st.integers(0, 8))):
        use = draw(st.sampled_from(record_type.uses))
        action = draw(st.sampled_from(["set", "set", "set", "drop", "none"]))
        if action == "drop":
            record.pop(use.field, None)
        elif action == "none":
            record[use.field] = None
        else:
            record[use.field] = draw(_values(use.element.type, use.element.codeset, use.element.separator))
    if draw(st.booleans()):
        record = dict(draw(st.permutations(list(record.items()))))
    extra = draw(st.sampled_from([None, ("record_type", name), ("record_type", "license"), ("surprise", 1), (7, "x")]))
    if extra is not None:
        record[extra[0]] = extra[1]
    today = draw(st.one_of(st.dates(dt.date(2019, 1, 1), dt.date(2027, 12, 31)), st.just(dt.date.max)))
    return name, record, today


def typed(values: Mapping[Any, Any]) -> list[tuple[Any, type, Any]]:
    return [(key, type(value), value) for key, value in values.items()]


def assert_same(name: str, record: dict[str, Any], today: dt.date) -> None:
    record_type = DICTIONARY.record_type(name)
    expected = reference.check_record(record_type, record, today=today, registry=REGISTRY)
    compiled = rules.compiled_check(record_type, REGISTRY)
    checks = [compiled.check] * 3  # again and again: memos filled, the record's key order seen and written out
    fields = {use.field for use in record_type.uses}
    if all(key in fields for key in record):  # this key order written out afresh (the process keeps only the first ORDERS)
        checks.append(compiled.write_order(tuple(record)))
    for check in checks:
        got = check(record, today)
        assert typed(got.values) == typed(expected.values)
        assert got.issues == expected.issues
        assert got.warnings == expected.warnings


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_the_compiled_check_gives_what_the_definition_gives(drawn: tuple[str, dict[str, Any], dt.date]) -> None:
    assert_same(*drawn)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(names=["penalty"]), st.sampled_from(range(1, 64)))
def test_penalties_the_mapping_sends_are_judged_alike(drawn: tuple[str, dict[str, Any], dt.date], seed: int) -> None:
    """Records shaped as the mapping writes them (typed dates, Decimal amounts, lists), most of them valid."""
    name, record, today = drawn
    shaped = {k: (dt.date.fromisoformat(v) if isinstance(v, str) and k in ("decision_date", "valid_to") and len(v) == 10 and v[4] == "-"
                  and v != "2022-02-30" else Decimal(v).quantize(Decimal("0.000001")) if k == "fine_amount" and v == "0.2" else v)
              for k, v in record.items()}
    assert_same(name, shaped, today)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.data())
def test_the_compiled_rules_give_what_the_definition_gives(drawn: tuple[str, dict[str, Any], dt.date], data: st.DataObject) -> None:
    """record_rule_issues (the models' record rules) over typed values, with some fields taken as failed."""
    name, record, today = drawn
    record_type = DICTIONARY.record_type(name)
    values = reference.check_record(record_type, record, today=today, registry=REGISTRY).values
    failed = set(data.draw(st.lists(st.sampled_from([use.field for use in record_type.uses]), max_size=3)))
    for field in failed:
        values.pop(field, None)
    expected = reference.record_rule_issues(record_type, values, failed=failed, today=today, registry=REGISTRY)
    for _ in range(2):
        assert record_rule_issues(record_type, values, failed=failed, today=today, registry=REGISTRY) == expected


def test_records_in_a_key_order_seen_before_are_checked_by_the_function_written_for_it() -> None:
    record_type = DICTIONARY.record_type("penalty")
    compiled = rules.compiled_check(record_type, REGISTRY)
    record = {**BASES["penalty"], "region": "370871"}  # an alias: a warning
    order = tuple(reversed(record))
    reordered = {key: record[key] for key in order}
    assert check_record(record_type, reordered, today=dt.date(2025, 6, 30), registry=REGISTRY).ok
    if len(compiled.orders) < ORDERS:
        check_record(record_type, reordered, today=dt.date(2025, 6, 30), registry=REGISTRY)
        assert order in compiled.orders and order in compiled.order_sources
    with_unknown = {**reordered, "surprise": 1}
    for _ in range(3):  # an unknown key is never written out: the loop reports it
        assert [i.rule for i in check_record(record_type, with_unknown, today=dt.date(2025, 6, 30), registry=REGISTRY).issues] == ["unknown_field"]
    assert (*order, "surprise") not in compiled.order_sources


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(names=["penalty"]), min_size=0, max_size=6), st.dates(dt.date(2019, 1, 1), dt.date(2027, 12, 31)))
def test_a_page_is_checked_as_its_records_one_by_one(page: list[tuple[str, dict[str, Any], dt.date]], today: dt.date) -> None:
    record_type = DICTIONARY.record_type("penalty")
    data = [record for _, record, _ in page]
    got = rules.check_records(record_type, data, today=today, registry=REGISTRY)
    assert got == [reference.check_record(record_type, record, today=today, registry=REGISTRY) for record in data]


def test_the_generated_source_names_fields_only_as_literals() -> None:
    """No value of the dictionary is spliced into the source: codes, messages and limits are bound names."""
    for record_type in DICTIONARY.record_types.values():
        source = rules.compiled_check(record_type, REGISTRY).source
        for use in record_type.uses:
            if use.element.codeset:
                assert all(f"'{code}'" not in source for code in _codes(use.element.codeset)[:-1] if code != use.field)
        assert "required element is missing" not in source and "罚款" not in source
