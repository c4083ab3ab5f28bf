"""Shared pieces of the mapping tests: the real standard and code sets, and table text helpers."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from jnx.codesets import CodeSetRegistry, default_registry
from jnx.mappings.compiler import CompiledTable, compile_table
from jnx.mappings.model import MappingContext
from jnx.mappings.standard_dictionary import StandardDictionary, standard_dictionary
from jnx.mappings.table import MappingTable, parse_table

TODAY = dt.date(2025, 7, 1)
CONTEXT = MappingContext(department_name="济宁市司法局", department_credit_code="11370800004180002M")

HEADER = """\
format: 1
name: test.penalty
version: 1
direction: inbound
source_kind: case_handling
source_record: penalties
target: penalty
codesets: {penalty_type: ["2017", "2021"], party_type: "2019", region: gbt2260-jining}
effective_from: 2024-01-01
fields:
"""


def table_text(fields: str, header: str = HEADER) -> str:
    return header + textwrap.indent(textwrap.dedent(fields), "  ")


@pytest.fixture(scope="session")
def dictionary() -> StandardDictionary:
    return standard_dictionary()


@pytest.fixture(scope="session")
def codesets() -> CodeSetRegistry:
    return default_registry()


@pytest.fixture
def load(dictionary: StandardDictionary, codesets: CodeSetRegistry):  # type: ignore[no-untyped-def]
    def load(fields: str, header: str = HEADER) -> MappingTable:
        return parse_table(table_text(fields, header), "t.yaml", dictionary, codesets)

    return load


@pytest.fixture
def compiled(load, dictionary: StandardDictionary):  # type: ignore[no-untyped-def]
    def build(fields: str, header: str = HEADER) -> CompiledTable:
        return compile_table(load(fields, header), dictionary)

    return build
