"""The case's life cycle and 法制审核 / 集体讨论 / 听证 of the case-handling system's 2026 release, mapped by
case_handling.penalty@4 and case_handling.coercive_measure@3 (docs/source-shapes.md §2.1, §2.2); bare 其他."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.sandbox.case_data import coercions, penalties
from tests.mappings.conftest import CONTEXT

TODAY = dt.date(2026, 12, 7)
LIFECYCLE = ("lasj", "sdrq", "zxwbrq", "jarq", "sffzsh", "sfjttl", "sftz")


@pytest.fixture(scope="module")
def registry(dictionary, codesets) -> TableRegistry:  # type: ignore[no-untyped-def]
    return TableRegistry([SHIPPED_DIR], dictionary, codesets)


@pytest.fixture(scope="module")
def sandbox_penalties() -> list[dict[str, Any]]:
    records, _ = penalties(seed=5, count=300)
    return [dict(r.fields) for r in records]


def _issues(result: Any) -> list[tuple[str, str]]:
    return [(i.field, i.rule) for i in result.issues]


def test_the_life_cycle_of_every_sandbox_penalty_maps_into_the_standard(registry: TableRegistry,
                                                                          sandbox_penalties: list[dict[str, Any]]) -> None:
    table = registry.compiled("case_handling.penalty", 4)
    seen = {"已决定": 0, "执行中": 0, "已结案": 0, "reviewed": 0, "hearing": 0}
    for fields in sandbox_penalties:
        result = table(fields, CONTEXT, today=TODAY)
        issues = _issues(result)
        assert not [i for i in issues if i[0] in ("case_status", "filing_date", "service_date", "execution_date",
                                                  "closing_date", "legal_review", "collective_discussion",
                                                  "hearing_held")], issues
        record = result.record
        if "decision_date" not in record:
            continue
        status = record["case_status"]
        seen[status] += 1
        assert {"20": "已决定", "30": "执行中", "40": "已结案"}[fields["ajzt"]] == status
        assert record["filing_date"] <= record["decision_date"] <= record["service_date"]
        if status == "已结案":
            assert record["decision_date"] <= record["execution_date"] <= record["closing_date"]
        else:
            assert "closing_date" not in record and "execution_date" not in record
        if fields["cfjdsmc"] == "当场行政处罚决定书":  # on the spot: filed, decided and served the same day, no review
            assert record["filing_date"] == record["decision_date"] == record["service_date"]
            assert record["legal_review"] == "false"
        seen["reviewed"] += record["legal_review"] == "true"
        seen["hearing"] += record["hearing_held"] == "true"
    assert all(seen.values()), seen


def test_a_source_of_an_earlier_release_maps_under_version_4_with_the_new_elements_empty(
        registry: TableRegistry, sandbox_penalties: list[dict[str, Any]]) -> None:
    old, new = registry.compiled("case_handling.penalty", 3), registry.compiled("case_handling.penalty", 4)
    for fields in sandbox_penalties[:60]:
        before = {k: v for k, v in fields.items() if k not in (*LIFECYCLE, "ajzt")}
        mapped, reference = new(before, CONTEXT, today=TODAY), old(fields, CONTEXT, today=TODAY)
        assert mapped.record == reference.record
        assert _issues(mapped) == _issues(reference)


@pytest.mark.parametrize(("change", "rule"), [
    ({"lasj": "2099-01-01"}, "date_order"),  # filed after the decision
    ({"sdrq": "2000-01-01"}, "date_order"),  # served before it
    ({"ajzt": "50"}, "code.unknown"),
    ({"sffzsh": "是"}, "type.boolean"),
])
def test_an_impossible_life_cycle_is_reported_on_its_field(registry: TableRegistry, sandbox_penalties: list[dict[str, Any]],
                                                           change: dict[str, str], rule: str) -> None:
    table = registry.compiled("case_handling.penalty", 4)
    fields = next(f for f in sandbox_penalties if not _issues(table(f, CONTEXT, today=TODAY)))
    result = table({**fields, **change}, CONTEXT, today=TODAY)
    assert any(r == rule or r.startswith(rule) for _, r in _issues(result)), _issues(result)


def test_coercive_measures_carry_legal_review_and_collective_discussion(registry: TableRegistry) -> None:
    records, _ = coercions(seed=5, count=200, penalty_keys=[])
    table = registry.compiled("case_handling.coercive_measure", 3)
    flags = set()
    for r in records:
        if r.fields["qzlx"] != "1":
            assert "sffzsh" not in r.fields
            continue
        result = table(dict(r.fields), CONTEXT, today=TODAY)
        assert not [i for i in _issues(result) if i[0] in ("legal_review", "collective_discussion")]
        flags.add((result.record["legal_review"], result.record["collective_discussion"]))
        if r.fields["qzcslx"] in ("300", "400"):  # 冻结存款、汇款 / 限制公民人身自由: 法制审核 always
            assert result.record["legal_review"] == "true"
    assert flags >= {("true", "true"), ("true", "false"), ("false", "false")}
    assert ("false", "true") not in flags


def test_a_bare_other_category_is_refused_with_its_article_and_a_named_one_maps(registry: TableRegistry,
                                                                               sandbox_penalties: list[dict[str, Any]]) -> None:
    table = registry.compiled("case_handling.penalty", 4)
    fields = next(f for f in sandbox_penalties
                  if not _issues(table(f, CONTEXT, today=TODAY)) and str(f["jdrq"]).startswith("2023"))
    bare = table({**fields, "cflb": "警告;其他"}, CONTEXT, today=TODAY)
    problem = next(i for i in bare.issues if i.field == "penalty_types")
    assert problem.rule == "codeset.penalty_type.name_required"
    assert "其他-<name>" in str(problem) and "第九条" in str(problem)
    named = table({**fields, "cflb": "警告;其他-取缔"}, CONTEXT, today=TODAY)
    assert _issues(named) == [] and named.record["penalty_types"] == ["警告", "其他-取缔"]
    assert [f for f, _ in _issues(table({**fields, "cflb": "其他-"}, CONTEXT, today=TODAY))] == ["penalty_types"]


@pytest.mark.parametrize(("table", "version", "kind"), [("case_handling.coercive_measure", 4, "1"),
                                                        ("case_handling.coercive_enforcement", 3, "2")])
def test_the_day_a_coercive_act_was_made_public_maps_as_its_publicity_date(registry: TableRegistry, table: str, version: int,
                                                                           kind: str) -> None:
    records, _ = coercions(seed=6, count=200, penalty_keys=[])
    compiled = registry.compiled(table, version)
    dated = undated = 0
    for r in (r for r in records if r.fields["qzlx"] == kind):
        result = compiled(dict(r.fields), CONTEXT, today=TODAY)
        assert not [i for i in _issues(result) if i[0] == "publicity_date"]
        if "decision_date" not in result.record:
            continue
        if r.fields["gsrq"] is None:
            assert "publicity_date" not in result.record
            undated += 1
        else:
            assert result.record["decision_date"] <= result.record["publicity_date"]
            dated += 1
    assert dated and undated
