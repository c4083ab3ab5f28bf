"""XML is parsed with no entities, no DTD, no network and a size limit."""

from __future__ import annotations

import pytest

from jnx.adapters.errors import PayloadError, UnsafeXmlError
from jnx.adapters.xmlsafe import parse_xml, parse_xml_text, plain_reason, zeep_settings

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<r>&xxe;</r>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd">
<r>x</r>"""


def test_a_plain_document_parses() -> None:
    root = parse_xml("<r><xkid>许可1</xkid></r>".encode(), source="test")
    assert root.findtext("xkid") == "许可1"


def test_an_entity_bomb_is_refused_before_expansion() -> None:
    with pytest.raises(UnsafeXmlError, match="DTD") as info:
        parse_xml(BILLION_LAUGHS, source="line primary")
    assert "line primary" in str(info.value)


def test_an_external_entity_is_refused() -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(EXTERNAL_ENTITY, source="t")


def test_an_external_dtd_is_refused_and_never_fetched() -> None:
    with pytest.raises(UnsafeXmlError, match="DTD"):
        parse_xml(EXTERNAL_DTD, source="t")


def test_a_utf16_dtd_the_byte_scan_cannot_see_is_still_refused() -> None:
    data = EXTERNAL_ENTITY.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    with pytest.raises(UnsafeXmlError):
        parse_xml(data, source="t")


def test_an_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeXmlError, match="over the limit of 100"):
        parse_xml(b"<r>" + b"x" * 200 + b"</r>", source="t", max_bytes=100)


def test_malformed_xml_is_a_payload_error_with_the_line_number() -> None:
    with pytest.raises(PayloadError, match=r"malformed XML from t: .*line 2"):
        parse_xml(b"<r>\n<a></r>", source="t")


def test_decoded_text_with_a_declaration_parses() -> None:
    root = parse_xml_text('<?xml version="1.0" encoding="GB18030"?><r>济宁</r>', source="t")
    assert root.text == "济宁"


def test_zeep_is_configured_with_the_same_rules() -> None:
    settings = zeep_settings()
    assert settings.forbid_dtd and settings.forbid_entities and settings.forbid_external
    assert settings.xml_huge_tree  # libxml2's per-node limits lifted: the document's size is bounded by screen()


def test_a_huge_text_node_parses_and_libxml2_s_advice_never_reaches_an_admin() -> None:
    root = parse_xml(b"<r><a>" + b"x" * 12_000_000 + b"</a></r>", source="t")
    assert len(root[0].text or "") == 12_000_000  # a record error later (screening), not a refused document
    with pytest.raises(PayloadError, match="Excessive depth in document") as caught:
        parse_xml(b"<a>" * 3000 + b"</a>" * 3000, source="t")
    assert "XML_PARSE_HUGE" not in str(caught.value)
    assert plain_reason("Resource limit exceeded: Text node too long, try XML_PARSE_HUGE") == (
        "Resource limit exceeded: Text node too long (over a limit of jnx's XML parser; ask the sender to check the document)")
