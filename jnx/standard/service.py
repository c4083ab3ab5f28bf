"""The validation service: a JSON or XML record file in, a :class:`Report` of every failing field out.

JSON may be one record (with ``record_type``), a list of records, or a batch
``{"record_type": …, "records": […]}``; XML is a ``<records>`` document as the XSD describes. A
record's type is its own ``record_type``, else the batch's, else the ``record_type`` argument.
Unusable input (too large, undecodable, malformed, a DTD) raises :class:`UnusableInput`; bad records
never raise — they are reported, every field of every record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jnx.codesets import CodeSetRegistry, default_registry
from jnx.standard.dictionary import Dictionary, default_dictionary
from jnx.standard.errors import UnusableInput
from jnx.standard.inputs import (
    DEFAULT_MAX_BYTES,
    parse_json,
    parse_xml,
    read_bytes,
    sniff_format,
)
from jnx.standard.report import Issue, RecordResult, Report
from jnx.standard.rules import RECORD_TYPE_KEY, check_record
from jnx.standard.xmlio import xml_to_records
from jnx.standard.xsd import ROOT

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def beijing_today() -> dt.date:
    """Today in China: decision dates are Beijing dates, whatever the machine's time zone."""
    return dt.datetime.now(BEIJING).date()


def _result(
    index: int, declared: Any, data: Any, fallback: str | None, today: dt.date, dictionary: Dictionary, registry: CodeSetRegistry
) -> RecordResult:
    if not isinstance(data, Mapping):
        return RecordResult(index, "?", (Issue("(record)", "record.not_an_object", f"a record is an object of fields, got {type(data).__name__}", record_index=index),))
    name = declared if declared is not None else data.get(RECORD_TYPE_KEY, fallback)
    if name is None:
        issue = Issue(RECORD_TYPE_KEY, "record_type.missing", "no record_type given; add it to the record or pass --record-type", record_type="?", record_index=index)
        return RecordResult(index, "?", (issue,))
    if not isinstance(name, str):
        issue = Issue(RECORD_TYPE_KEY, "record_type.type", f"record_type must be text such as \"penalty\", got {type(name).__name__}", record_type="?", record_index=index)
        return RecordResult(index, "?", (issue,))
    if name not in dictionary.record_types:
        known = ", ".join(dictionary.record_types)
        return RecordResult(index, name, (Issue(RECORD_TYPE_KEY, "record_type.unknown", f"{name[:60]!r} is not a record type; known: {known}", record_type="?", record_index=index),))
    checked = check_record(dictionary.record_types[name], data, today=today, registry=registry)
    return RecordResult(
        index,
        name,
        tuple(issue.located(name, index) for issue in checked.issues),
        tuple(issue.located(name, index) for issue in checked.warnings),
    )


def _json_records(doc: Any, record_type: str | None) -> tuple[list[Any], str | None]:
    if isinstance(doc, list):
        return doc, record_type
    if isinstance(doc, Mapping) and "records" in doc:
        records = doc["records"]
        if not isinstance(records, list):
            raise UnusableInput("'records' must be a list of records", hint='write {"record_type": …, "records": [ … ]}')
        batch_type = doc.get(RECORD_TYPE_KEY)
        if record_type is not None and batch_type is not None and batch_type != record_type:
            raise UnusableInput(f"the batch says record_type {batch_type!r} but --record-type {record_type!r} was given")
        extra = set(doc) - {"records", RECORD_TYPE_KEY}
        if extra:
            raise UnusableInput(f"unknown key(s) {sorted(extra)} next to 'records'", hint="a batch has only record_type and records")
        return records, batch_type if batch_type is not None else record_type
    if isinstance(doc, Mapping):
        return [doc], record_type
    raise UnusableInput(f"a JSON record file holds an object or a list, got {type(doc).__name__}")


def validate_records(
    source: Path | bytes,
    *,
    record_type: str | None = None,
    today: dt.date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
    dictionary: Dictionary | None = None,
    registry: CodeSetRegistry | None = None,
) -> Report:
    """Validate every record of a JSON or XML file (a path or its bytes) against the standard.

    ``today`` is the validation day (decisions may not be after it; code sets of records without a
    decision date are judged on it); it defaults to today in Beijing.
    """
    dictionary = dictionary if dictionary is not None else default_dictionary()
    registry = registry if registry is not None else default_registry()
    today = today if today is not None else beijing_today()
    label = name or (str(source) if isinstance(source, Path) else "<input>")
    if record_type is not None:
        dictionary.record_type(record_type)  # an unknown name fails now, listing the known ones
    data = read_bytes(source, max_bytes, label)
    kind = sniff_format(data, label)
    results: list[RecordResult] = []
    if kind == "json":
        records, fallback = _json_records(parse_json(data, label), record_type)
        for index, record in enumerate(records):
            results.append(_result(index, None, record, fallback, today, dictionary, registry))
    else:
        root = parse_xml(data, label)
        if root.tag != f"{{{dictionary.namespace}}}{ROOT}":
            raise UnusableInput(f"{label}: the root element is {root.tag!r}, expected <{ROOT} xmlns=\"{dictionary.namespace}\">", hint="see `jnx standard export --format xsd`")
        for index, xml_record in enumerate(xml_to_records(dictionary, root)):
            declared = xml_record.record_type
            if record_type is not None and declared != record_type and declared in dictionary.record_types:
                xml_record.data[RECORD_TYPE_KEY] = declared  # reported as a mismatch against --record-type
                declared = record_type
            result = _result(index, declared, xml_record.data, None, today, dictionary, registry)
            if xml_record.issues:
                xml_issues = tuple(issue.located(result.record_type, index) for issue in xml_record.issues)
                result = RecordResult(index, result.record_type, xml_issues + result.issues, result.warnings)
            results.append(result)
    if not results:
        raise UnusableInput(f"{label} holds no records", hint="a file needs at least one record")
    return Report(source=label, format=kind, records=tuple(results))
