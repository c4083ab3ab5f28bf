"""``jnx mappings test`` prints mapped records for a table's author — never a full ID number; ``jnx mappings show``
of a version that does not exist names the ones that do."""

from __future__ import annotations

import re
from pathlib import Path

from tests.commands.conftest import Jnx, assert_error

SAMPLES = Path(__file__).parents[1] / "mappings" / "samples"
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}(?:19|20)[0-9]{9}[0-9Xx](?![0-9A-Za-z])")


def test_the_sample_holds_clear_id_numbers() -> None:
    assert ID_NUMBER.search((SAMPLES / "case_handling_penalties_valid.json").read_text(encoding="utf-8"))


def test_mapped_records_show_id_numbers_masked_in_text_and_json(jnx: Jnx, home: Path) -> None:
    sample = str(SAMPLES / "case_handling_penalties_valid.json")
    for extra in ([], ["--json"]):
        outcome = jnx("mappings", "test", "case_handling.penalty@1", sample, "--department-name", "济宁市司法局",
                      "--department-credit-code", "11370800004180002M", *extra)
        assert outcome.code == 0, outcome.err
        assert not ID_NUMBER.search(outcome.out), ID_NUMBER.search(outcome.out)
        assert "370811********0419" in outcome.out  # masked as the disclosures are: first 6, last 4


def test_the_placeholder_credit_code_of_a_person_is_shown_as_it_is(jnx: Jnx, home: Path) -> None:
    outcome = jnx("mappings", "test", "case_handling.penalty@1", str(SAMPLES / "case_handling_penalties_valid.json"), "--json")
    codes = [o["record"].get("party_credit_code") for o in outcome.json()["outcomes"]]
    assert "00000000000000000X" in codes


def test_json_keeps_its_shape(jnx: Jnx, home: Path) -> None:
    outcome = jnx("mappings", "test", "case_handling.penalty@1", str(SAMPLES / "case_handling_penalties_messy.jsonl"), "--json")
    assert outcome.code == 1  # records with errors
    run = outcome.json()
    assert set(run) == {"table", "content_hash", "outcomes"}
    assert set(run["outcomes"][0]) == {"where", "record", "issues"}


def test_showing_a_version_that_does_not_exist_names_the_versions_that_do(jnx: Jnx, home: Path) -> None:
    outcome = jnx("mappings", "show", "case_handling.penalty@9")
    assert_error(outcome, 3, says="case_handling.penalty has no version 9; versions: 1, 2",
                 hint="use case_handling.penalty@1, case_handling.penalty@2, case_handling.penalty@3 or case_handling.penalty@4; `jnx mappings list`")
