"""``export(format)``: the standard's XSD, JSON Schema or Markdown dictionary as text."""

from __future__ import annotations

import enum
import json

from jnx.codesets import CodeSetRegistry, default_registry
from jnx.standard.dictionary import Dictionary, default_dictionary
from jnx.standard.json_schema import generate_json_schema
from jnx.standard.markdown import generate_markdown
from jnx.standard.xsd import generate_xsd


class ExportFormat(enum.StrEnum):
    XSD = "xsd"
    JSONSCHEMA = "jsonschema"
    MARKDOWN = "markdown"


def export(fmt: ExportFormat, dictionary: Dictionary | None = None, registry: CodeSetRegistry | None = None) -> str:
    dictionary = dictionary if dictionary is not None else default_dictionary()
    registry = registry if registry is not None else default_registry()
    if fmt is ExportFormat.XSD:
        return generate_xsd(dictionary, registry)
    if fmt is ExportFormat.JSONSCHEMA:
        return json.dumps(generate_json_schema(dictionary, registry), ensure_ascii=False, indent=2) + "\n"
    return generate_markdown(dictionary)
