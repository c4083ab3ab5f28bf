"""Transforms of the closed set, one by one (most are covered through compiled tables in
test_compiler.py and test_values.py)."""

from __future__ import annotations

from jnx.mappings.transforms import lookup


def test_remove_deletes_every_listed_character() -> None:
    step = lookup("remove").build({"chars": "-"}, None)  # type: ignore[arg-type]
    assert step("60003734-1") == "600037341"
    assert step("600037341") == "600037341"
    assert lookup("remove").build({"chars": "-/ "}, None)("A-B/C D") == "ABCD"  # type: ignore[arg-type]
