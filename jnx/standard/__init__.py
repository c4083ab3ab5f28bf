"""The Jining data standard, version 1 (济宁市行政执法数据标准): the data element dictionary and what is
generated from it — pydantic models, XSD, JSON Schema, the Markdown data dictionary — and the
validation of record files against it.

Imports nothing of jnx but ``jnx.codesets``, ``jnx.errors`` and the pure ``jnx.security.masking``.
"""

from jnx.standard.dictionary import (
    DataElement,
    Dictionary,
    ElementType,
    ElementUse,
    Publication,
    RecordType,
    Use,
    default_dictionary,
    load_dictionary,
)
from jnx.standard.errors import DictionaryError, RecordInvalid, UnusableInput
from jnx.standard.models import StandardRecord, build_models, model_for
from jnx.standard.report import Issue, RecordResult, Report
from jnx.standard.rules import RecordCheck, check_record

__all__ = [
    "DataElement",
    "Dictionary",
    "DictionaryError",
    "ElementType",
    "ElementUse",
    "Issue",
    "Publication",
    "RecordCheck",
    "RecordInvalid",
    "RecordResult",
    "RecordType",
    "Report",
    "StandardRecord",
    "UnusableInput",
    "Use",
    "build_models",
    "check_record",
    "default_dictionary",
    "load_dictionary",
    "model_for",
]
