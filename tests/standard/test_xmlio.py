"""Reading records from the standard's XML: every piece of text kept, every fault the XSD sees reported."""

from __future__ import annotations

import pytest

from jnx.standard import default_dictionary
from jnx.standard.errors import UnusableInput
from jnx.standard.inputs import parse_xml
from jnx.standard.xmlio import XmlRecord, xml_to_records

NS = "urn:jining:jnx:standard:1"


def read(body: str, root_attributes: str = "") -> list[XmlRecord]:
    data = f'<records xmlns="{NS}" {root_attributes}>{body}</records>'.encode()
    return xml_to_records(default_dictionary(), parse_xml(data, "test.xml"))


def rules(record: XmlRecord) -> list[tuple[str, str]]:
    return [(issue.field, issue.rule) for issue in record.issues]


def test_text_around_comments_and_processing_instructions_is_read_whole() -> None:
    [record] = read("<penalty><party_name>济宁示例<!-- c -->科技<?pi x?>有限公司</party_name></penalty>")
    assert record.data["party_name"] == "济宁示例科技有限公司"
    assert record.issues == ()


def test_list_items_keep_their_whole_text_and_comments_between_them_are_skipped() -> None:
    [record] = read("<penalty><penalty_types><item>警<!-- x -->告</item><!-- y --><item>罚款</item></penalty_types></penalty>")
    assert record.data["penalty_types"] == ["警告", "罚款"]
    assert record.issues == ()


def test_a_field_given_twice_is_an_issue_and_the_first_value_is_kept() -> None:
    [record] = read("<penalty><region>370800</region><region>370811</region></penalty>")
    assert rules(record) == [("region", "xml.duplicate_element")]
    assert record.data["region"] == "370800"
    assert "line 1" in record.issues[0].message and record.issues[0].element_id is not None


def test_an_element_inside_a_text_field_is_an_issue_and_not_read_as_text() -> None:
    [record] = read("<penalty><party_name>济宁<b>示例</b>公司</party_name></penalty>")
    assert rules(record) == [("party_name", "xml.child_element")]
    assert record.data["party_name"] == "济宁公司"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<penalty record_type="license"/>', [("record_type", "xml.attribute")]),
        ('<penalty record_type="penalty"/>', []),
        ('<penalty id="7"/>', [("record_type", "xml.attribute")]),
        ('<penalty><region kind="city">370800</region></penalty>', [("region", "xml.attribute")]),
        ('<penalty><penalty_types><item lang="zh">警告</item></penalty_types></penalty>', [("penalty_types", "xml.attribute")]),
        ("<penalty>备注<region>370800</region></penalty>", [("(record)", "xml.stray_text")]),
        ("<penalty><penalty_types>和<item>警告</item></penalty_types></penalty>", [("penalty_types", "xml.stray_text")]),
        ("<penalty><penalty_types><entry>警告</entry></penalty_types></penalty>", [("penalty_types", "xml.unexpected_element")]),
        ("<penalty><record_type>penalty</record_type></penalty>", [("record_type", "xml.unexpected_element")]),
    ],
)
def test_what_the_xsd_rejects_beyond_values_is_an_issue(body: str, expected: list[tuple[str, str]]) -> None:
    [record] = read(body)
    assert rules(record) == expected


def test_the_contradicting_record_type_attribute_is_named_in_the_message() -> None:
    [record] = read('<penalty record_type="license"/>')
    assert "record_type='license'" in record.issues[0].message and "'penalty'" in record.issues[0].message


@pytest.mark.parametrize(("body", "attributes"), [("<penalty/>stray", ""), ("<penalty/>", 'batch="7"')])
def test_faults_of_the_records_element_make_the_file_unusable(body: str, attributes: str) -> None:
    with pytest.raises(UnusableInput):
        read(body, attributes)
