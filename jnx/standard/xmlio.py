"""Records to and from the standard's XML (the shape the XSD describes).

``<records xmlns="urn:jining:jnx:standard:1">`` holds record elements named by record type
(``<penalty>``…); each child element is a field by name; list fields hold ``<item>`` children.
A field's text is all its text, comments and processing instructions inside it skipped. Parsing safely (no DTD, no entities) is :mod:`jnx.standard.inputs`' job; this module only maps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from jnx.standard.dictionary import Dictionary, ElementType
from jnx.standard.errors import UnusableInput
from jnx.standard.report import Issue
from jnx.standard.rules import RECORD_TYPE_KEY
from jnx.standard.xsd import ITEM, ROOT

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_HINTS = {f"{{{_XSI}}}schemaLocation", f"{{{_XSI}}}noNamespaceSchemaLocation"}

_COLLAPSED = {ElementType.DATE, ElementType.DECIMAL_WAN, ElementType.INTEGER, ElementType.BOOLEAN}


@dataclass(frozen=True, slots=True)
class XmlRecord:
    record_type: str  # the element's local name, possibly not a known record type
    data: dict[str, Any]
    line: int | None
    issues: tuple[Issue, ...] = ()  # XML-level faults (a duplicated field, an attribute…), not located yet


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
    document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return document


def _local(element: etree._Element, ns: str) -> str | None:
    qname = etree.QName(element)
    return qname.localname if qname.namespace == ns else None


def _name(element: etree._Element, ns: str) -> str:
    return _local(element, ns) or etree.QName(element).text


def _elements(parent: etree._Element) -> list[etree._Element]:
    """The child elements, comments and processing instructions left out."""
    return [child for child in parent if isinstance(child.tag, str)]


def _text_between(parent: etree._Element) -> str:
    """The text directly inside ``parent``: before its first child and after each child."""
    return (parent.text or "") + "".join(child.tail or "" for child in parent)


class _Problems:
    """The XML-level faults of one record, as issues naming the field (the XSD rejects each of them)."""

    def __init__(self, dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self.issues: list[Issue] = []

    def add(self, field: str, rule: str, message: str) -> None:
        element = self.dictionary.elements.get(field)
        self.issues.append(Issue(field, rule, message, element.id if element else None, element.name_zh if element else None))

    def attributes(self, element: etree._Element, field: str, tag: str, allowed: Mapping[str, str] | None = None) -> None:
        for key, value in element.attrib.items():
            if key in _SCHEMA_HINTS:
                continue  # xsi:schemaLocation and the like: hints every schema validator allows, nothing to read
            expected = (allowed or {}).get(key)
            if expected is None:
                self.add(field, "xml.attribute", f"<{tag}> has an attribute {etree.QName(key).localname!r} the standard does not define (line {element.sourceline})")
            elif value != expected:
                self.add(field, "xml.attribute", f"<{tag} {key}={value!r}> contradicts the element's name: a <{tag}> record is of type {expected!r}")

    def stray_text(self, parent: etree._Element, field: str, tag: str) -> None:
        if _text_between(parent).strip():
            self.add(field, "xml.stray_text", f"text directly inside <{tag}> (line {parent.sourceline}), which holds elements only")


def _simple(child: etree._Element, ns: str, field: str, kind: ElementType | None, problems: _Problems) -> str:
    tag = _name(child, ns)
    problems.attributes(child, field, tag)
    inner = _elements(child)
    if inner:
        problems.add(field, "xml.child_element", f"<{tag}> holds an element <{_name(inner[0], ns)}> (line {inner[0].sourceline}); this field holds text only")
    text = _text_between(child)  # comments and processing instructions inside the text are skipped, not where it ends
    return text.strip() if kind in _COLLAPSED else text


def _value(child: etree._Element, ns: str, field: str, kind: ElementType | None, is_list: bool, problems: _Problems) -> Any:
    items = _elements(child)
    if not is_list:
        return _simple(child, ns, field, kind, problems)
    problems.attributes(child, field, field)
    problems.stray_text(child, field, field)
    values = []
    for item in items:
        if _local(item, ns) != ITEM:
            problems.add(field, "xml.unexpected_element", f"<{_name(item, ns)}> in <{field}> (line {item.sourceline}); a list holds <{ITEM}> elements only")
            continue
        values.append(_simple(item, ns, field, None, problems))
    return values


def xml_to_records(dictionary: Dictionary, root: etree._Element) -> list[XmlRecord]:
    """The records of a parsed ``<records>`` document; unknown names are kept for the checks to report.

    What the XSD rejects and the checks of values cannot see — a field given twice, an attribute,
    an element inside a text field, text between fields — is an issue of the record (``issues``);
    faults of the ``<records>`` element itself make the file unusable.
    """
    ns = dictionary.namespace
    document = _Problems(dictionary)
    document.attributes(root, "(records)", ROOT, {"version": root.get("version", "")})
    document.stray_text(root, "(records)", ROOT)
    if document.issues:
        raise UnusableInput(f"line {root.sourceline}: {document.issues[0].message}", hint="see `jnx standard export --format xsd`")
    records = []
    for element in _elements(root):
        name = _name(element, ns)
        problems = _Problems(dictionary)
        problems.attributes(element, RECORD_TYPE_KEY, name, {RECORD_TYPE_KEY: name})
        problems.stray_text(element, "(record)", name)
        data: dict[str, Any] = {}
        for child in _elements(element):
            field = _name(child, ns)
            if field == RECORD_TYPE_KEY:
                problems.add(field, "xml.unexpected_element", f"<{field}> at line {child.sourceline}: in XML the record type is the record element's name")
                continue
            if field in data:
                problems.add(field, "xml.duplicate_element", f"<{field}> appears again at line {child.sourceline}; give each field once")
                continue
            known = dictionary.elements.get(field)
            data[field] = _value(child, ns, field, known.type if known else None, bool(known and known.is_list), problems)
        records.append(XmlRecord(record_type=name, data=data, line=element.sourceline, issues=tuple(problems.issues)))
    return records
