"""The JSON Schema (draft 2020-12) of the standard, generated from the dictionary.

A document is one record (with ``record_type``), a list of records, or a batch
``{"record_type": …, "records": […]}``. Each record type is a ``$defs`` entry and a record is
``oneOf`` them. The conditional rules that JSON Schema can express are ``if``/``then``: conditional
and forbidden elements, the placeholder credit code only where allowed, and the shape of an ID
number when the ID type is 身份证 — a full one in the standard's records, the masked form
(``370811********0027``) in the disclosure formats. Elements a format never carries are ``not
required``. Model-only: check characters and birth dates (so whether a wrong value in a disclosure
is a clear ID number or a malformed mask), code set versions by decision date, date order, "not in
the future", more than six decimals in a JSON *number*.
"""

from __future__ import annotations

from typing import Any

from jnx.codesets import USCC_PLACEHOLDER, CodeSetRegistry
from jnx.standard.conditions import Condition
from jnx.standard.dictionary import DataElement, Dictionary, ElementUse, RecordType, Use
from jnx.standard.facets import (
    AMOUNT_MAX,
    ID_NUMBER_PATTERN,
    MASKED_ID_NUMBER_PATTERN,
    Facets,
    element_facets,
    placeholder_fields,
    regex_literal,
)
from jnx.standard.fields import CONTROL_CHARS
from jnx.standard.rules import RECORD_TYPE_KEY

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NO_CONTROL_CHARS = "^[^" + CONTROL_CHARS.pattern[1:-1] + "]*$"


def _anchored(pattern: str) -> str:
    return f"^({pattern})$"


def _value_schema(facets: Facets) -> dict[str, Any]:
    if facets.base == "date":
        return {"type": "string", "format": "date", "pattern": _anchored(facets.patterns[0])}
    if facets.base == "decimal":
        return {"anyOf": [{"type": "string", "pattern": _anchored(facets.patterns[0])}, {"type": "number", "minimum": 0, "maximum": float(AMOUNT_MAX)}]}
    if facets.base == "integer":
        return {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[+-]?[0-9]+$"}]}
    if facets.base == "boolean":
        return {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false", "1", "0"]}]}
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if facets.max_length is not None:
        schema["maxLength"] = facets.max_length
    alternatives: list[dict[str, Any]] = [{"pattern": _anchored(p)} for p in facets.patterns]
    if facets.enumeration:
        alternatives.insert(0, {"enum": list(facets.enumeration)})
    if len(alternatives) == 1:
        schema.update(alternatives[0])
    elif alternatives:
        schema["anyOf"] = alternatives
    if not facets.enumeration and not facets.patterns:
        schema["pattern"] = NO_CONTROL_CHARS
    return schema


def element_schema(element: DataElement, facets: Facets) -> dict[str, Any]:
    value = _value_schema(facets)
    if facets.is_list:
        schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": value}
        if facets.unique_items:
            schema["uniqueItems"] = True
    else:
        schema = value
    return {"title": f"{element.id} {element.name_zh}", "description": element.name_en + (f". {element.description}" if element.description else ""), **schema}


def _condition(condition: Condition) -> dict[str, Any]:
    if condition.contains and condition.separator:
        listed = "|".join(regex_literal(v) for v in condition.values)
        sep = regex_literal(condition.separator)
        test: dict[str, Any] = {"type": "string", "pattern": f"(^|{sep})({listed})({sep}|$)"}
    elif condition.contains:
        test = {"type": "array", "contains": {"enum": list(condition.values)}}
    else:
        test = {"enum": list(condition.values)}
    return {"required": [condition.field], "properties": {condition.field: test}}


def _use_rules(use: ElementUse) -> list[dict[str, Any]]:
    field = use.field
    rules: list[dict[str, Any]] = []
    if use.use is Use.FORBIDDEN:
        rules.append({"not": {"required": [field]}})
    if use.when is not None:
        rules.append({"if": _condition(use.when), "then": {"required": [field]}})
    if use.forbidden_when is not None:
        rules.append({"if": _condition(use.forbidden_when), "then": {"not": {"required": [field]}}})
    if use.placeholder_when is not None:
        rules.append({"if": {"not": _condition(use.placeholder_when)}, "then": {"properties": {field: {"not": {"const": USCC_PLACEHOLDER}}}}})
    if use.id_number_when is not None:
        rules.append({"if": _condition(use.id_number_when), "then": {"properties": {field: {"pattern": _anchored(ID_NUMBER_PATTERN)}}}})
    if use.masked_id_number_when is not None:
        rules.append({"if": _condition(use.masked_id_number_when), "then": {"properties": {field: {"pattern": _anchored(MASKED_ID_NUMBER_PATTERN)}}}})
    return rules


def record_schema(record_type: RecordType) -> dict[str, Any]:
    properties: dict[str, Any] = {RECORD_TYPE_KEY: {"const": record_type.name}}
    for use in record_type.uses:
        properties[use.field] = {"$ref": f"#/$defs/element.{use.field}", "description": use.describe_use()}
    schema: dict[str, Any] = {
        "title": f"{record_type.name_zh} — {record_type.name_en}",
        "type": "object",
        "properties": properties,
        "required": [use.field for use in record_type.uses if use.required],
        "additionalProperties": False,
    }
    rules = [rule for use in record_type.uses for rule in _use_rules(use)]
    if rules:
        schema["allOf"] = rules
    return schema


def generate_json_schema(dictionary: Dictionary, registry: CodeSetRegistry) -> dict[str, Any]:
    """The JSON Schema of the standard as a dict (``json.dumps`` it to write it)."""
    placeholders = placeholder_fields(dictionary)
    used = {use.field for rt in dictionary.record_types.values() for use in rt.uses}
    defs: dict[str, Any] = {}
    for field in sorted(used, key=lambda f: dictionary.elements[f].id):
        element = dictionary.elements[field]
        defs[f"element.{field}"] = element_schema(element, element_facets(element, registry, allow_placeholder=field in placeholders))
    names = list(dictionary.record_types)
    for name, record_type in dictionary.record_types.items():
        defs[f"record.{name}"] = record_schema(record_type)
    defs["record"] = {
        "type": "object",
        "required": [RECORD_TYPE_KEY],
        "properties": {RECORD_TYPE_KEY: {"enum": names}},
        "oneOf": [{"$ref": f"#/$defs/record.{name}"} for name in names],
    }
    defs["batch"] = {
        "type": "object",
        "required": [RECORD_TYPE_KEY, "records"],
        "additionalProperties": False,
        "properties": {RECORD_TYPE_KEY: {"enum": names}, "records": {"type": "array", "minItems": 1}},
        "allOf": [
            {"if": {"properties": {RECORD_TYPE_KEY: {"const": name}}}, "then": {"properties": {"records": {"items": {"$ref": f"#/$defs/record.{name}"}}}}}
            for name in names
        ],
    }
    return {
        "$schema": DRAFT,
        "$id": f"{dictionary.namespace}:json-schema",
        "title": f"{dictionary.standard} 第{dictionary.version}版 — {dictionary.title_en}",
        "description": "Generated from the data element dictionary; do not edit. A record, a list of records, or a batch {record_type, records}.",
        "oneOf": [
            {"$ref": "#/$defs/record"},
            {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/record"}},
            {"$ref": "#/$defs/batch"},
        ],
        "$defs": defs,
    }
