"""Diff of two versions: what a reviewer must see before a system is moved to the new one."""

from __future__ import annotations

from jnx.mappings.diff import diff_tables
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry


def test_version_2_of_the_penalty_table_shows_the_renamed_field_and_the_changed_code_list(dictionary, codesets) -> None:  # type: ignore[no-untyped-def]
    registry = TableRegistry([SHIPPED_DIR], dictionary, codesets)
    diff = diff_tables(registry.load("case_handling.penalty", 1), registry.load("case_handling.penalty", 2))
    assert (diff.old, diff.new) == ("case_handling.penalty@1", "case_handling.penalty@2")
    assert diff.added == () and diff.removed == ()
    assert [(c.field, c.aspect, c.before, c.after) for c in diff.changed if c.aspect == "from"] == [
        ("document_number", "from", "cfjdsh", "jdswh")]
    assert {(c.source_value, c.before, c.after, c.kind) for c in diff.codes} == {
        ("3", "个体工商户", "法人及非法人组织", "re-translated"),
        ("4", None, "个体工商户", "added"),
        ("9", "法人及非法人组织", None, "removed"),
    }
    assert {c.aspect for c in diff.header} == {"effective_from", "description"}


def test_a_table_against_itself_has_no_differences(dictionary, codesets) -> None:  # type: ignore[no-untyped-def]
    table = TableRegistry([SHIPPED_DIR], dictionary, codesets).load("credit.penalty", 1)
    assert diff_tables(table, table).empty


def test_added_and_removed_fields(load) -> None:  # type: ignore[no-untyped-def]
    old = load("party_name: {from: a}\ncase_number: {from: b}\n")
    new = load("party_name: {from: a, do: [trim]}\nremarks: {from: c}\n")
    diff = diff_tables(old, new)
    assert diff.added == ("remarks",) and diff.removed == ("case_number",)
    assert [(c.field, c.aspect) for c in diff.changed] == [("party_name", "do")]
