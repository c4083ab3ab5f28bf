"""Records to and from the standard's XML (the shape the XSD describes).

``<records xmlns="urn:jining:jnx:standard:1">`` holds record elements named by record type
(``<penalty>``…); each child element is a field by name; list fields hold ``<item>`` children.
Parsing safely (no DTD, no entities) is :mod:`jnx.standard.inputs`' job; this module only maps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from jnx.standard.dictionary import Dictionary, ElementType
from jnx.standard.xsd import ITEM, ROOT

_COLLAPSED = {ElementType.DATE, ElementType.DECIMAL_WAN, ElementType.INTEGER, ElementType.BOOLEAN}


@dataclass(frozen=True, slots=True)
class XmlRecord:
    record_type: str  # the element's local name, possibly not a known record type
    data: dict[str, Any]
    line: int | None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def records_to_xml(dictionary: Dictionary, records: Iterable[tuple[str, Mapping[str, Any]]]) -> bytes:
    """Serialise (record type, values) pairs as one ``<records>`` document (UTF-8)."""
    ns = dictionary.namespace
    root = etree.Element(f"{{{ns}}}{ROOT}", nsmap={None: ns})
    root.set("version", dictionary.version)
    for record_type, values in records:
        record = etree.SubElement(root, f"{{{ns}}}{record_type}")
        for field, value in values.items():
            if field == "record_type" or value is None:
                continue
            child = etree.SubElement(record, f"{{{ns}}}{field}")
            if isinstance(value, list):
                for item in value:
                    etree.SubElement(child, f"{{{ns}}}{ITEM}").text = _text(item)
            else:
                child.text = _text(value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _local(element: etree._Element, ns: str) -> str | None:
    qname = etree.QName(element)
    return qname.localname if qname.namespace == ns else None


def _value(child: etree._Element, ns: str, kind: ElementType | None, is_list: bool) -> Any:
    items = [c for c in child if isinstance(c.tag, str)]
    if is_list or items:
        # children that are not <item> become None, which the field check reports as not text
        return [(c.text or "") if _local(c, ns) == ITEM else None for c in items]
    text = child.text or ""
    return text.strip() if kind in _COLLAPSED else text


def xml_to_records(dictionary: Dictionary, root: etree._Element) -> list[XmlRecord]:
    """The records of a parsed ``<records>`` document; unknown names are kept for the checks to report."""
    ns = dictionary.namespace
    records = []
    for element in root:
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        name = _local(element, ns) or etree.QName(element).text
        data: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            field = _local(child, ns) or etree.QName(child).text
            known = dictionary.elements.get(field)
            data[field] = _value(child, ns, known.type if known else None, bool(known and known.is_list))
        records.append(XmlRecord(record_type=name, data=data, line=element.sourceline))
    return records
