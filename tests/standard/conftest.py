"""Shared fixtures of the standard's tests: the generated schemas, loaded once, and a fixed validation day."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
import xmlschema
from lxml import etree

from jnx.standard.export import ExportFormat, export

TODAY = dt.date(2025, 6, 30)


@pytest.fixture(scope="session")
def xsd_text() -> str:
    return export(ExportFormat.XSD)


@pytest.fixture(scope="session")
def lxml_schema(xsd_text: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(xsd_text.encode("utf-8")))


@pytest.fixture(scope="session")
def xmlschema_schema(xsd_text: str) -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(xsd_text)


@pytest.fixture(scope="session")
def json_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(export(ExportFormat.JSONSCHEMA))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
