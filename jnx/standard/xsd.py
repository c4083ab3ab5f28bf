"""The XSD of the standard, generated from the dictionary.

One schema (XSD 1.0, namespace ``urn:jining:jnx:standard:1``) with one simple type per element, one
complex type per record type (an ``xs:all``: any order, each element at most once, required
elements ``minOccurs="1"``) and a root ``<records>`` holding a batch of records of any types. List
elements hold ``<item>`` children. Compiles in both lxml and xmlschema.

An element a disclosure format never carries (use ``forbidden``, e.g. the legal representative's ID
number) is ``maxOccurs="0"``.

Model-only (XSD 1.0 has no co-occurrence constraints): conditional elements, elements a natural
person must not have, the placeholder credit code being allowed only for 法人及非法人组织 and
个体工商户 (with a 工商注册号), ID numbers checked only when the ID type is 身份证 (in clear in the
standard's records, masked in the disclosure formats: the element also holds passport and other
numbers, so its type cannot demand either form),
check characters, code set versions by decision date, date order and "not in the future". The
models and ``jnx standard validate`` enforce them.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from jnx.codesets import CodeSetRegistry
from jnx.standard.dictionary import DataElement, Dictionary, RecordType, Use
from jnx.standard.facets import AMOUNT_MAX, Facets, element_facets, placeholder_fields

ROOT = "records"
ITEM = "item"
XS = "http://www.w3.org/2001/XMLSchema"
BASES = {"string": "xs:string", "date": "xs:date", "decimal": "xs:decimal", "integer": "xs:integer", "boolean": "xs:boolean"}


def simple_type_name(element: DataElement) -> str:
    return f"{element.field}.value"


def record_type_name(record_type: RecordType) -> str:
    return f"{record_type.name}.record"


def _doc(text: str, indent: str) -> str:
    return f"{indent}<xs:annotation><xs:documentation>{escape(text)}</xs:documentation></xs:annotation>\n"


def _simple_type(element: DataElement, facets: Facets) -> str:
    name = simple_type_name(element)
    head = f'  <xs:simpleType name="{name}">\n' + _doc(f"{element.id} {element.name_zh} — {element.name_en}", "    ")
    if facets.enumeration and facets.patterns:  # codes, or free text after a prefix: a union of both
        members = f'jnx:{name}.codes jnx:{name}.prefixed'
        return (
            head + f'    <xs:union memberTypes="{members}"/>\n  </xs:simpleType>\n'
            + _restriction(f"{name}.codes", Facets("string", enumeration=facets.enumeration))
            + _restriction(f"{name}.prefixed", Facets("string", patterns=facets.patterns))
        )
    return head + _restriction_body(facets) + "  </xs:simpleType>\n"


def _restriction(name: str, facets: Facets) -> str:
    return f'  <xs:simpleType name="{name}">\n' + _restriction_body(facets) + "  </xs:simpleType>\n"


def _restriction_body(facets: Facets) -> str:
    lines = [f'    <xs:restriction base="{BASES[facets.base]}">']
    if facets.base == "string":
        lines.append('      <xs:minLength value="1"/>')
    if facets.max_length is not None:
        lines.append(f'      <xs:maxLength value="{facets.max_length}"/>')
    if facets.base == "decimal":
        lines += ['      <xs:totalDigits value="18"/>', '      <xs:fractionDigits value="6"/>', '      <xs:minInclusive value="0"/>', f'      <xs:maxInclusive value="{AMOUNT_MAX}"/>']
    lines += [f"      <xs:pattern value={quoteattr(pattern)}/>" for pattern in facets.patterns]
    lines += [f"      <xs:enumeration value={quoteattr(value)}/>" for value in facets.enumeration]
    lines.append("    </xs:restriction>")
    return "\n".join(lines) + "\n"


def _list_type(element: DataElement) -> str:
    return (
        f'  <xs:complexType name="{element.field}.list">\n'
        f'    <xs:sequence><xs:element name="{ITEM}" type="jnx:{simple_type_name(element)}" maxOccurs="unbounded"/></xs:sequence>\n'
        "  </xs:complexType>\n"
    )


def _record(record_type: RecordType, facets: dict[str, Facets]) -> str:
    out = [f'  <xs:complexType name="{record_type_name(record_type)}">\n', _doc(f"{record_type.name_zh} — {record_type.name_en}", "    "), "    <xs:all>\n"]
    for use in record_type.uses:
        element = use.element
        occurs = 'minOccurs="1"' if use.required else 'minOccurs="0" maxOccurs="0"' if use.use is Use.FORBIDDEN else 'minOccurs="0"'
        note = f"{element.id} {element.name_zh}: {use.describe_use()}"
        if facets[element.field].is_list:
            out.append(f'      <xs:element name="{element.field}" type="jnx:{element.field}.list" {occurs}>\n')
            out.append(_doc(note, "        "))
            if facets[element.field].unique_items:
                out.append(
                    f'        <xs:unique name="{record_type.name}.{element.field}.unique">'
                    f'<xs:selector xpath="jnx:{ITEM}"/><xs:field xpath="."/></xs:unique>\n'
                )
            out.append("      </xs:element>\n")
        else:
            out.append(f'      <xs:element name="{element.field}" type="jnx:{simple_type_name(element)}" {occurs}>\n')
            out.append(_doc(note, "        ") + "      </xs:element>\n")
    out.append("    </xs:all>\n")
    out.append(f'    <xs:attribute name="record_type" type="xs:string" fixed="{record_type.name}"/>\n')
    out.append("  </xs:complexType>\n")
    return "".join(out)


def generate_xsd(dictionary: Dictionary, registry: CodeSetRegistry) -> str:
    """The XSD text of the standard."""
    placeholders = placeholder_fields(dictionary)
    used = {use.field for rt in dictionary.record_types.values() for use in rt.uses}
    facets = {f: element_facets(e, registry, allow_placeholder=f in placeholders) for f, e in dictionary.elements.items() if f in used}
    ns = dictionary.namespace
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<xs:schema xmlns:xs="{XS}" xmlns:jnx="{ns}" targetNamespace="{ns}" elementFormDefault="qualified" version="{dictionary.version}">\n',
        _doc(f"{dictionary.standard} 第{dictionary.version}版 ({dictionary.title_en}). Generated from the data element dictionary; do not edit. "
             "Conditional rules, check characters, code set versions by date and date rules are enforced by the models only.", "  "),
        f'  <xs:element name="{ROOT}">\n    <xs:complexType>\n      <xs:choice maxOccurs="unbounded">\n',
        *[f'        <xs:element name="{name}" type="jnx:{record_type_name(rt)}"/>\n' for name, rt in dictionary.record_types.items()],
        '      </xs:choice>\n      <xs:attribute name="version" type="xs:string"/>\n    </xs:complexType>\n  </xs:element>\n',
    ]
    for record_type in dictionary.record_types.values():
        parts.append(_record(record_type, facets))
    for field, element_facet in facets.items():
        element = dictionary.elements[field]
        parts.append(_simple_type(element, element_facet))
        if element_facet.is_list:
            parts.append(_list_type(element))
    parts.append("</xs:schema>\n")
    return "".join(parts)
