"""double_random.inspection@2 (and its CSV twin): an object known by a 15-digit 注册号 is recorded
with the placeholder credit code and its 注册号, the party type comes from the code, and a bad
credit code is still reported — on the sample files, on the sandbox's feed and through the CSV export."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from jnx.codesets import USCC_PLACEHOLDER
from jnx.mappings.diff import diff_tables
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.mappings.service import map_samples
from jnx.sandbox.doublerandom import export_csv
from jnx.sandbox.inspection_data import inspections
from jnx.sandbox.systems import load as load_registration
from tests.mappings.conftest import CONTEXT, TODAY

SAMPLES = Path(__file__).with_name("samples")
PARTY = ("party_type", "party_credit_code", "business_registration_no")


@pytest.fixture(scope="module")
def registry(dictionary, codesets) -> TableRegistry:  # type: ignore[no-untyped-def]
    return TableRegistry([SHIPPED_DIR], dictionary, codesets)


def test_the_messy_v2_sample_routes_registration_numbers_and_still_reports_bad_credit_codes(registry: TableRegistry) -> None:
    run = map_samples(registry.compiled("double_random.inspection", 2), SAMPLES / "double_random_results_v2_messy.json", CONTEXT, TODAY)
    party = [tuple(o.record.get(f) for f in PARTY) for o in run.outcomes]
    rules = [[f"{i.field}:{i.rule}" for i in o.issues] for o in run.outcomes]
    assert list(zip(party, rules, strict=True)) == [
        (("个体工商户", USCC_PLACEHOLDER, "370811600123456"), []),  # position 7 is 6: a 个体工商户's 注册号
        (("个体工商户", USCC_PLACEHOLDER, "370811601855282"), []),  # full-width and padded: the same number
        # an enterprise's 注册号 (position 7 is 0): the placeholder is for a 法人及非法人组织 too (REFERENCE §1.5 rule 2)
        (("法人及非法人组织", USCC_PLACEHOLDER, "370811000074657"), []),
        (("个体工商户", "92370811MA3C00022M", None), []),  # lower-case credit code of category 92
        (("法人及非法人组织", "92370811MA3C00022N", None), ["party_credit_code:uscc.check_char"]),  # never taken for a 注册号
        (("法人及非法人组织", "37081160012345A", None), ["party_credit_code:uscc.length"]),  # 15 characters, not a 注册号
        ((None, None, None), ["party_type:required"]),  # no code at all: nothing tells the party type
        (("法人及非法人组织", "91370811MA3C00011L", None), []),
    ]


def test_the_v1_samples_under_v2(registry: TableRegistry) -> None:
    valid = map_samples(registry.compiled("double_random.inspection", 2), SAMPLES / "double_random_results_valid.json", CONTEXT, TODAY)
    assert [o.issues for o in valid.outcomes] == [(), ()]
    assert [o.record["party_type"] for o in valid.outcomes] == ["法人及非法人组织", "个体工商户"]  # 91…, 92…
    messy = map_samples(registry.compiled("double_random.inspection", 2), SAMPLES / "double_random_results_messy.json", CONTEXT, TODAY)
    assert [sorted(f"{i.field}:{i.rule}" for i in o.issues) for o in messy.outcomes] == [
        ["inspection_methods:code.unknown", "inspection_results:code.unknown"],  # its 注册号 is no longer one of them
        ["inspection_date:date.invalid", "inspectors:required", "party_name:required"],
    ]
    old = map_samples(registry.compiled("double_random.inspection", 1), SAMPLES / "double_random_results_messy.json", CONTEXT, TODAY)
    assert "party_credit_code:uscc.length" in {f"{i.field}:{i.rule}" for i in old.outcomes[0].issues}


def test_on_the_sandbox_feed_every_object_known_by_a_registration_number_maps_cleanly(registry: TableRegistry) -> None:
    results = inspections(seed=3, results=1500)["results"][0]
    v1, v2 = registry.compiled("double_random.inspection", 1), registry.compiled("double_random.inspection", 2)
    numbers = [r for r in results if len(r.fields["objCode"]) == 15]
    assert len(numbers) > 100
    old = Counter(i.rule for r in numbers for i in v1(r.fields, CONTEXT, today=TODAY).issues if i.field == "party_credit_code")
    assert old == {"uscc.length": len(numbers)}
    outcome = {r.key: v2(r.fields, CONTEXT, today=TODAY) for r in numbers}
    by_kind = Counter((r.fields["objCode"][6] in "6789", outcome[r.key].record.get("party_type"),
                       tuple(f"{i.field}:{i.rule}" for i in outcome[r.key].issues if i.field.startswith(("party", "business"))))
                      for r in numbers)
    assert set(by_kind) == {(True, "个体工商户", ()), (False, "法人及非法人组织", ())}
    assert all(outcome[r.key].record["party_credit_code"] == USCC_PLACEHOLDER for r in numbers)
    assert all(outcome[r.key].record["business_registration_no"] == r.fields["objCode"] for r in numbers)


def test_the_csv_table_reads_the_code_column_as_the_api_table_reads_objcode(registry: TableRegistry, tmp_path: Path) -> None:
    results = inspections(seed=5, results=400)["results"][0]
    export = tmp_path / "results_20250701.csv"
    export.write_bytes(export_csv("results", results))
    from_csv = map_samples(registry.compiled("double_random.inspection_csv", 2), export, CONTEXT, TODAY)
    api = registry.compiled("double_random.inspection", 2)
    assert len(from_csv.outcomes) == len(results)
    for row, record in zip(from_csv.outcomes, results, strict=True):
        assert {f: row.record.get(f) for f in PARTY} == {f: api(record.fields, CONTEXT, today=TODAY).record.get(f) for f in PARTY}
    assert any(o.record.get("business_registration_no") for o in from_csv.outcomes)


def test_the_diff_shows_the_change(registry: TableRegistry) -> None:
    for name in ("double_random.inspection", "double_random.inspection_csv"):
        diff = diff_tables(registry.load(name, 1), registry.load(name, 2))
        assert diff.added == ("business_registration_no",) and diff.removed == ()
        assert {(c.field, c.aspect) for c in diff.changed} >= {("party_type", "const"), ("party_type", "do"), ("party_credit_code", "do")}
        assert {(c.source_value, c.after, c.kind) for c in diff.codes} == {
            (digit, "个体工商户", "added") for digit in ("92", "6", "7", "8", "9")}


def test_the_sandbox_registration_pins_version_2() -> None:
    assert load_registration("double-random.yaml")["mappings"] == {"inspection": "double_random.inspection@2"}
