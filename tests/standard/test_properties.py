"""Hypothesis: records of every type, with every free field drawn at random, are valid in all three;
any resident ID number is accepted masked and refused in clear in a disclosure format."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import jsonschema
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from jnx.codesets import default_registry
from jnx.codesets.validators import id_check_char
from jnx.security.masking import mask_id_number
from jnx.standard import ElementType, RecordType, Use, check_record, default_dictionary
from jnx.standard.xmlio import records_to_xml
from tests.standard.conftest import TODAY
from tests.standard.samples.build import BASES, CREDIT_PARTY, as_natural_person

TEXT = st.text(alphabet=st.sampled_from("济宁市任城区兖州邹城曲阜示例公司ABCxyz0123456789（）-、"), min_size=1, max_size=30)


def _conditioning(record_type: RecordType) -> set[str]:
    fields = set()
    for use in record_type.uses:
        for cond in (use.when, use.forbidden_when, use.placeholder_when, use.id_number_when, use.masked_id_number_when):
            if cond is not None:
                fields |= {cond.field, use.field}
    return fields


def _value(record_type: RecordType, field: str, on: dt.date) -> st.SearchStrategy[Any] | None:
    element = record_type.use(field).element
    if element.type is ElementType.STRING:
        return TEXT.map(lambda s, n=element.max_length: s[:n])
    if element.type is ElementType.STRING_LIST:
        return st.lists(TEXT, min_size=1, max_size=3)
    if element.type is ElementType.DECIMAL_WAN:
        return st.decimals(min_value=0, max_value=Decimal("99999"), places=6).map(str)
    if element.type is ElementType.BOOLEAN:
        return st.booleans()
    if element.type in (ElementType.CODE, ElementType.CODE_LIST) and not element.separator:
        assert element.codeset is not None
        codes = [e.code for e in default_registry().get(element.codeset).version_on(on).entries.values() if e.match == "exact" and e.in_force(on)]
        if element.type is ElementType.CODE:
            return st.sampled_from(codes)
        return st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True)
    return None


@st.composite
def records(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(BASES)))
    record_type = default_dictionary().record_type(name)
    record = dict(BASES[name])
    on = dt.date.fromisoformat(record[record_type.reference_date]) if record_type.reference_date else TODAY
    fixed = _conditioning(record_type) | set(record_type.business_key)
    for use in record_type.uses:
        strategy = None if use.field in fixed or use.use is Use.FORBIDDEN else _value(record_type, use.field, on)
        if strategy is None:
            continue
        if use.required or use.field in record or draw(st.booleans()):
            record[use.field] = draw(strategy)
    return name, record


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records())
def test_generated_valid_records_are_valid_in_models_xsd_and_json_schema(
    lxml_schema: etree.XMLSchema,
    xmlschema_schema: xmlschema.XMLSchema10,
    json_validator: jsonschema.Draft202012Validator,
    drawn: tuple[str, dict[str, Any]],
) -> None:
    name, record = drawn
    checked = check_record(default_dictionary().record_type(name), record, today=TODAY, registry=default_registry())
    assert checked.ok, [issue.describe() for issue in checked.issues]
    document = json.loads(json.dumps({"record_type": name, **record}, ensure_ascii=False))
    assert json_validator.is_valid(document)
    xml = etree.fromstring(records_to_xml(default_dictionary(), [(name, record)]))
    assert lxml_schema.validate(xml), lxml_schema.error_log
    assert xmlschema_schema.is_valid(xml)


@st.composite
def resident_id_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)))
    body = f"{draw(st.sampled_from(['370811', '370883', '110105']))}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + id_check_char(body)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([("credit_license", "XK"), ("credit_penalty", "CF")]), resident_id_numbers())
def test_a_disclosure_accepts_any_id_number_masked_and_refuses_it_in_clear(
    lxml_schema: etree.XMLSchema,
    json_validator: jsonschema.Draft202012Validator,
    disclosure: tuple[str, str],
    number: str,
) -> None:
    name, prefix = disclosure
    f = CREDIT_PARTY[prefix]
    record_type = default_dictionary().record_type(name)
    natural = as_natural_person(BASES[name], f)
    for value, rules in ((mask_id_number(number), []), (number, ["id_number.clear_in_disclosure"])):
        record = {**natural, f["id_no"]: value}
        checked = check_record(record_type, record, today=TODAY, registry=default_registry())
        assert [issue.rule for issue in checked.issues] == rules
        assert all(number not in issue.describe() and number[6:14] not in issue.describe() for issue in checked.issues)
        assert json_validator.is_valid({"record_type": name, **record}) == (not rules)
        assert lxml_schema.validate(etree.fromstring(records_to_xml(default_dictionary(), [(name, record)])))  # model-only in XSD 1.0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(["penalty", "2022-05-01", "0.2", "370811199002150027"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(sorted(BASES)),
    changes=st.dictionaries(st.sampled_from(["record_type", "records", "fine_amount", "decision_date", "party_name", "penalty_types", "region", "x"]), JSON_VALUES, max_size=4),
)
def test_any_json_document_gives_a_report_or_an_input_error_never_a_crash(base: str, changes: dict[str, Any]) -> None:
    from jnx.standard.errors import UnusableInput
    from jnx.standard.service import validate_records

    document = {"record_type": base, **BASES[base], **changes}
    data = json.dumps(document).encode("ascii")  # a lone surrogate arrives escaped, as JSON writes it
    try:
        report = validate_records(data, name="fuzz.json", today=TODAY)
    except UnusableInput:
        return
    json.dumps(report.to_dict(), default=str)  # the --json output can always be written
