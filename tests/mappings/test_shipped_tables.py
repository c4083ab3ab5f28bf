"""The shipped tables on their sample source records: valid samples map cleanly, messy samples report
every bad field, and a bad record never stops the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.mappings.service import map_samples
from tests.mappings.conftest import CONTEXT, TODAY

SAMPLES = Path(__file__).with_name("samples")


@pytest.fixture(scope="module")
def registry(dictionary, codesets) -> TableRegistry:  # type: ignore[no-untyped-def]
    return TableRegistry([SHIPPED_DIR], dictionary, codesets)


@pytest.mark.parametrize(
    ("table", "version", "sample"),
    [("case_handling.penalty", 1, "case_handling_penalties_valid.json"),
     ("case_handling.penalty", 2, "case_handling_penalties_v2_valid.json"),
     ("licensing.license", 1, "licensing_licenses_valid.json"),
     ("double_random.inspection", 1, "double_random_results_valid.json"),
     ("double_random.inspection", 2, "double_random_results_valid.json")],
)
def test_valid_samples_map_without_errors(registry: TableRegistry, table: str, version: int, sample: str) -> None:
    run = map_samples(registry.compiled(table, version), SAMPLES / sample, CONTEXT, TODAY)
    assert [(o.where, [str(i) for i in o.issues]) for o in run.outcomes if o.issues] == []


def test_the_coercion_feed_routes_measures_and_enforcement_to_their_tables(registry: TableRegistry) -> None:
    measure, enforcement = (map_samples(registry.compiled(name, 1), SAMPLES / "case_handling_coercions_valid.json", CONTEXT, TODAY)
                            for name in ("case_handling.coercive_measure", "case_handling.coercive_enforcement"))
    assert measure.outcomes[0].issues == () and enforcement.outcomes[1].issues == ()
    assert measure.outcomes[0].record["coercive_measure_type"] == "200"
    assert str(enforcement.outcomes[1].record["enforcement_amount"]) == "0.150000"


def test_messy_penalties_report_every_bad_field_and_go_on(registry: TableRegistry) -> None:
    run = map_samples(registry.compiled("case_handling.penalty", 1), SAMPLES / "case_handling_penalties_messy.jsonl", CONTEXT, TODAY)
    rules = [sorted(f"{i.field}:{i.rule}" for i in o.issues) for o in run.outcomes]
    assert rules == [
        [],  # full-width credit code and name, padded amount, 20210305: all repaired
        ["authority_credit_code:uscc.check_char", "decision_date:date.invalid", "fine_amount:amount.negative",
         "party_type:code.unknown", "penalty_types:code.unknown"],
        ["decision_date:date.invalid", "fine_amount:amount.places", "party_id_type:code.unknown"],
        ["fine_amount:amount.format", "party_name:required", "region:code.unknown", "valid_to:date_order"],
        ["decision_date:date.range", "fine_amount:amount.range"],
        [":record.unreadable"],
    ]
    assert run.outcomes[0].record["party_name"] == "ABC超市"


def test_the_abolished_and_the_other_numbering_region_codes_map(registry: TableRegistry) -> None:
    penalty = map_samples(registry.compiled("case_handling.penalty", 1), SAMPLES / "case_handling_penalties_valid.json", CONTEXT, TODAY)
    licence = map_samples(registry.compiled("licensing.license", 1), SAMPLES / "licensing_licenses_valid.json", CONTEXT, TODAY)
    assert penalty.outcomes[2].record["region"] == "370890"  # NBS 370871 → 济宁高新区
    assert licence.outcomes[1].record["region"] == "370812"  # 兖州市 (until 2013) → 兖州区


@pytest.mark.parametrize(
    ("table", "sample", "count"),
    [("licensing.license", "licensing_licenses_messy.json", 2), ("double_random.inspection", "double_random_results_messy.json", 2),
     ("case_handling.coercive_measure", "case_handling_coercions_messy.json", 2)],
)
def test_messy_samples_of_every_source_report_errors(registry: TableRegistry, table: str, sample: str, count: int) -> None:
    run = map_samples(registry.compiled(table, 1), SAMPLES / sample, CONTEXT, TODAY)
    assert len(run.outcomes) == count and run.failed == count
