"""What ``jnx codesets`` shows, as plain data: versions, entries in force, verdicts without values."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jnx.codesets.catalogue import catalogue, describe, judge
from jnx.commands._output import dumps
from jnx.errors import CodeSetError


def test_catalogue_lists_every_code_set_and_validator_as_json_ready_data() -> None:
    data = json.loads(dumps(catalogue()))
    assert {cs["name"] for cs in data["codesets"]} >= {"penalty_type", "region", "id_type"}
    assert all(cs["versions"] for cs in data["codesets"])


def test_describe_picks_the_version_and_marks_entries_in_force() -> None:
    data = describe("region", dt.date(2010, 1, 1))
    entries = {e["code"]: e for e in data["entries"]}
    assert entries["370802"]["in_force"] is True
    assert entries["370812"]["in_force"] is False
    assert describe("region")["entries"][0]["in_force"] is None


def test_describe_shows_prefix_entries_as_such() -> None:
    entries = {e["code"]: e for e in describe("id_type")["entries"]}
    assert entries["其他-"]["match"] == "prefix"


def test_describe_of_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(CodeSetError, match="known: .*penalty_type.*uscc"):
        describe("penalty")


def test_a_judgement_never_carries_the_value() -> None:
    data = judge("id_number", "370811199002150028")
    assert data["rule"] == "id_number.check_digit"
    assert "370811199002150028" not in dumps(data)
